"""What a crawler needs from an HTML page: its links, canonical URL and robots directives.

Text extraction is not done here; that is the HTML loader's job further down the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from connectors.web.urls import normalise_url


@dataclass(frozen=True)
class HtmlPageSignals:
    links: tuple[str, ...]
    canonical: str | None
    noindex: bool
    nofollow: bool


def read_html_page(
    content: bytes, page_url: str, *, robots_header: str = "", robot_name: str = ""
) -> HtmlPageSignals:
    """Links (absolute, normalised, http(s) only, in page order, deduplicated), the
    canonical URL and the robots directives from ``<meta name=robots>``, a meta tag for
    ``robot_name`` and the ``X-Robots-Tag`` header value."""
    directives = _directives(robots_header)
    try:
        root = lxml.html.document_fromstring(content)
    except (etree.ParserError, ValueError):
        # An empty or unparsable body has no links; the loader will report its content.
        return header_only_signals(robots_header)
    base = _base_url(root, page_url)
    for meta in root.iter("meta"):
        name = (meta.get("name") or "").strip().lower()
        if name == "robots" or (robot_name and name == robot_name.lower()):
            directives |= _directives(meta.get("content") or "")
    return HtmlPageSignals(
        links=_links(root, base),
        canonical=_canonical(root, base),
        noindex=bool(directives & {"noindex", "none"}),
        nofollow=bool(directives & {"nofollow", "none"}),
    )


def header_only_signals(robots_header: str) -> HtmlPageSignals:
    """Signals for a non-HTML document (a PDF): only ``X-Robots-Tag`` can speak for it."""
    directives = _directives(robots_header)
    return HtmlPageSignals(
        links=(),
        canonical=None,
        noindex=bool(directives & {"noindex", "none"}),
        nofollow=bool(directives & {"nofollow", "none"}),
    )


def _directives(value: str) -> set[str]:
    # "noindex, nofollow", or in headers "otherbot: noindex": directives aimed at other
    # bots are honoured too, erring on the side of what the site asked for.
    return {part.split(":")[-1].strip().lower() for part in value.split(",") if part.strip()}


def _base_url(root: lxml.html.HtmlElement, page_url: str) -> str:
    for base in root.iter("base"):
        href = (base.get("href") or "").strip()
        if href:
            return urljoin(page_url, href)
    return page_url


def _links(root: lxml.html.HtmlElement, base: str) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        try:
            absolute = normalise_url(urljoin(base, href))
        except ValueError:  # e.g. a malformed IPv6 host in an href
            continue
        if absolute is not None:
            found.setdefault(absolute, None)
    return tuple(found)


def _canonical(root: lxml.html.HtmlElement, base: str) -> str | None:
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        href = (link.get("href") or "").strip()
        if "canonical" in rel and href:
            return normalise_url(urljoin(base, href))
    return None
