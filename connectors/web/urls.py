"""URL normalisation and the rules for which URLs of a site a sync may visit."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from connectors.globs import matches

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Links to these are never fetched: we could not index them, and a crawl should not
# spend its page budget and the site's bandwidth on images or downloads.
NON_PAGE_EXTENSIONS = frozenset(
    """
    .png .jpg .jpeg .gif .svg .webp .ico .bmp .tif .tiff .avif
    .zip .gz .tgz .tar .rar .7z .bz2 .xz .exe .dmg .iso .msi .apk .bin
    .mp3 .mp4 .m4a .avi .mov .wmv .webm .wav .ogg .flac .mkv
    .css .js .mjs .json .map .woff .woff2 .ttf .eot .otf
    .doc .docx .xls .xlsx .ppt .pptx .odt .ods .odp .csv .rtf
    .xml .rss .atom .txt
    """.split()
)


def normalise_url(url: str) -> str | None:
    """The form a URL is known by: lowercase scheme and host, no default port, no
    fragment, "/" for an empty path. Query strings and path case are kept as they are
    (servers may treat them as significant). None for anything but http(s)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def url_extension(url: str) -> str:
    """``/files/Report.PDF`` -> ``.pdf``; "" when the last path segment has none."""
    return posixpath.splitext(urlsplit(url).path)[1].lower()


def is_sitemap_url(url: str) -> bool:
    """A start URL ending in .xml or .xml.gz names a sitemap rather than a page."""
    return urlsplit(url).path.lower().endswith((".xml", ".xml.gz"))


def site_root(url: str) -> str:
    """``https://example.com/docs/a`` -> ``https://example.com``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


@dataclass(frozen=True)
class UrlScope:
    """Which URLs belong to a web source: the start URL's host, under its path prefix,
    passing the include/exclude globs (matched against the URL path; ``*`` also matches
    ``/``, so ``/blog/*`` covers the whole blog)."""

    netloc: str
    path_prefix: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def for_start_url(
        cls, start_url: str, include: Sequence[str] = (), exclude: Sequence[str] = ()
    ) -> UrlScope:
        parts = urlsplit(start_url)
        path = parts.path or "/"
        # "/docs/index.html" and "/docs/sitemap.xml" scope to "/docs/"; "/docs" to itself.
        if "." in path.rsplit("/", 1)[-1]:
            path = path.rsplit("/", 1)[0] + "/"
        return cls(parts.netloc, path, tuple(include), tuple(exclude))

    def on_site(self, url: str) -> bool:
        return urlsplit(url).netloc == self.netloc

    def contains(self, url: str) -> bool:
        """Same host and under the start path (a glob filter is not applied here)."""
        parts = urlsplit(url)
        if parts.netloc != self.netloc:
            return False
        path = parts.path or "/"
        base = self.path_prefix.rstrip("/")
        return path == base or path.startswith(base + "/")

    def admits(self, url: str) -> bool:
        """In scope and wanted by the include/exclude globs."""
        if not self.contains(url):
            return False
        path = urlsplit(url).path or "/"
        if self.include and not matches(path, self.include):
            return False
        return not matches(path, self.exclude)
