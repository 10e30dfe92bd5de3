"""Sitemaps (sitemaps.org): ``urlset`` and ``sitemapindex`` files, plain or gzipped."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from lxml import etree

from connectors.web.urls import normalise_url

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the protocol's own limit for one uncompressed file
_GZIP_MAGIC = b"\x1f\x8b"


class NotASitemap(ValueError):
    """The bytes are not a sitemap (often a soft-404 HTML page at /sitemap.xml)."""


class SitemapMissing(Exception):
    """The sitemap URL answered 404/410: the site has no sitemap there."""


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    lastmod: datetime | None = None


@dataclass(frozen=True)
class SitemapFile:
    pages: tuple[SitemapEntry, ...]
    sitemaps: tuple[SitemapEntry, ...]


@dataclass(frozen=True)
class SitemapFailure:
    url: str
    reason: str
    missing: bool  # 404/410 or not a sitemap, as opposed to broken right now


@dataclass
class SitemapListing:
    """Every page listed by a set of sitemaps, first listing first, no duplicates."""

    pages: list[SitemapEntry] = field(default_factory=list)
    failures: list[SitemapFailure] = field(default_factory=list)

    def missing(self, url: str) -> bool:
        return any(f.url == url and f.missing for f in self.failures)


def parse_sitemap(content: bytes) -> SitemapFile:
    """Parse one sitemap file; gzip is recognised by its magic bytes, not the URL."""
    if content.startswith(_GZIP_MAGIC):
        content = _gunzip_capped(content)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise NotASitemap(f"not a sitemap: {exc}") from exc
    kind = etree.QName(root).localname if root is not None else ""
    if kind == "urlset":
        return SitemapFile(pages=_entries(root, "url"), sitemaps=())
    if kind == "sitemapindex":
        return SitemapFile(pages=(), sitemaps=_entries(root, "sitemap"))
    raise NotASitemap(f"not a sitemap: root element {kind or 'missing'}")


def parse_lastmod(text: str | None) -> datetime | None:
    """W3C datetime (``2024-05-01``, ``2024-05-01T10:00:00+02:00``, ``...Z``) as an aware
    datetime; a date or a time without zone is taken as UTC."""
    if not text or not text.strip():
        return None
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def collect_sitemap_pages(
    roots: Sequence[str],
    fetch: Callable[[str], bytes],
    *,
    on_site: Callable[[str], bool],
    max_depth: int = 3,
) -> SitemapListing:
    """Walk sitemap indexes down to ``max_depth`` levels and list their pages.

    ``fetch`` returns a file's bytes or raises ``SitemapMissing`` or a ``WebFetchError``
    (anything with a ``reason``). Sitemaps and pages that are not ``on_site`` are ignored.
    A file that cannot be read is a failure in the listing; the walk goes on.
    """
    listing = SitemapListing()
    listed: set[str] = set()
    visited: set[str] = set()
    pending = [(url, 0) for url in roots]
    while pending:
        url, depth = pending.pop(0)
        if url in visited:
            continue
        visited.add(url)
        sitemap = _read_sitemap(url, fetch)
        if isinstance(sitemap, SitemapFailure):
            listing.failures.append(sitemap)
            continue
        for entry in sitemap.pages:
            if on_site(entry.url) and entry.url not in listed:
                listed.add(entry.url)
                listing.pages.append(entry)
        for child in sitemap.sitemaps:
            if not on_site(child.url):
                continue
            if depth + 1 > max_depth:
                reason = f"sitemap index nested deeper than {max_depth} levels"
                listing.failures.append(SitemapFailure(child.url, reason, missing=False))
                continue
            pending.append((child.url, depth + 1))
    return listing


def _read_sitemap(url: str, fetch: Callable[[str], bytes]) -> SitemapFile | SitemapFailure:
    try:
        return parse_sitemap(fetch(url))
    except SitemapMissing:
        return SitemapFailure(url, "sitemap not found", missing=True)
    except NotASitemap as exc:
        return SitemapFailure(url, str(exc), missing=True)
    except Exception as exc:  # a WebFetchError, or gzip data that will not inflate
        reason = getattr(exc, "reason", None) or f"unreadable sitemap: {exc}"
        return SitemapFailure(url, reason, missing=False)


def _entries(root: etree._Element, item_name: str) -> tuple[SitemapEntry, ...]:
    entries: list[SitemapEntry] = []
    for item in root:
        if not isinstance(item.tag, str) or etree.QName(item).localname != item_name:
            continue
        fields = {
            etree.QName(child).localname: (child.text or "").strip()
            for child in item
            if isinstance(child.tag, str)
        }
        url = normalise_url(fields.get("loc", ""))
        if url is not None:
            entries.append(SitemapEntry(url, parse_lastmod(fields.get("lastmod"))))
    return tuple(entries)


def _gunzip_capped(content: bytes) -> bytes:
    # Capped so a small "gzip bomb" cannot expand into gigabytes in memory.
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(content, MAX_SITEMAP_BYTES)
    except zlib.error as exc:
        raise ValueError(f"bad gzip data ({exc})") from exc
    if inflater.unconsumed_tail:
        raise ValueError(f"over {MAX_SITEMAP_BYTES} bytes uncompressed")
    return data
