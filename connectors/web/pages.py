"""Fetching one page of a site and turning the answer into sync items."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from datetime import datetime

from connectors.base import KnownDocument, SyncItem
from connectors.http_headers import parse_http_date
from connectors.web.client import (
    FetchResult,
    RedirectRefused,
    UnsupportedContent,
    WebClient,
    WebFetchError,
)
from connectors.web.config import WebRunStats, WebSourceConfig
from connectors.web.html_page import HtmlPageSignals, header_only_signals, read_html_page
from connectors.web.robots import RobotsRules
from connectors.web.urls import UrlScope, normalise_url
from knowledge.documents import ItemFailure, SourceDocument, Tombstone, Unchanged

HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PDF_MEDIA_TYPE = "application/pdf"


@dataclass(frozen=True)
class PageVisit:
    """How a visit went, for the crawler: did the page arrive, and where does it link."""

    loaded: bool
    links: tuple[str, ...] = ()
    final_url: str | None = None
    document_uri: str | None = None


class PageVisitor:
    """Visits pages of one site for one run; never yields the same document uri twice."""

    def __init__(
        self,
        config: WebSourceConfig,
        client: WebClient,
        scope: UrlScope,
        robots: RobotsRules,
        known: Mapping[str, KnownDocument],
        stats: WebRunStats,
    ) -> None:
        self._config = config
        self._client = client
        self._scope = scope
        self._robots = robots
        self._known = known
        self._stats = stats
        self._accept_types = HTML_MEDIA_TYPES | (
            {PDF_MEDIA_TYPE} if config.include_pdfs else set()
        )
        # "JourneyAssistantBot/0.1 (+...)" -> "JourneyAssistantBot", for <meta name=...>.
        self._robot_name = config.user_agent.split("/")[0].split()[0]
        self._emitted: set[str] = set()

    def visit(
        self,
        url: str,
        *,
        conditional: bool,
        lastmod: datetime | None = None,
        must_load: bool = False,
    ) -> Generator[SyncItem, None, PageVisit]:
        """Fetch ``url`` and yield what it became. ``conditional`` sends the stored
        validators (a 304 then yields ``Unchanged``); ``must_load`` turns quiet skips
        (unknown 404, unsupported type, refused redirect) into failures, for start URLs.
        """
        self._stats.pages_fetched += 1
        known = self._known.get(url) if conditional else None
        try:
            result = self._client.get(
                url,
                headers=_conditional_headers(known),
                may_follow=self._may_follow,
                accept_types=self._accept_types,
            )
        except (RedirectRefused, UnsupportedContent) as exc:
            return (yield from self._skip(url, exc.reason, must_load))
        except WebFetchError as exc:
            yield self._failure(url, exc.reason)
            return PageVisit(loaded=False)
        if result.status == 304 and known is not None:
            self._stats.unchanged += 1
            self._emitted.add(url)
            yield Unchanged(url)
            return PageVisit(loaded=True, document_uri=url)
        if result.status in (404, 410) and not must_load:
            return (yield from self._gone(url, result.status))
        if not 200 <= result.status < 300:
            yield self._failure(url, f"HTTP {result.status}")
            return PageVisit(loaded=False)
        return (yield from self._deliver(url, result, lastmod, must_load))

    def _may_follow(self, target: str) -> bool:
        return self._scope.on_site(target) and self._robots.allows(target)

    def _deliver(
        self, url: str, result: FetchResult, lastmod: datetime | None, must_load: bool
    ) -> Generator[SyncItem, None, PageVisit]:
        final_url = normalise_url(result.url) or url
        if not self._scope.contains(final_url):
            reason = f"redirected out of scope to {final_url}"
            return (yield from self._skip(url, reason, must_load))
        is_pdf = result.media_type == PDF_MEDIA_TYPE
        signals = self._signals(result, final_url, is_pdf)
        canonical = signals.canonical
        document_uri = canonical if canonical and self._scope.admits(canonical) else final_url
        visit = PageVisit(
            loaded=True,
            links=() if signals.nofollow else signals.links,
            final_url=final_url,
            document_uri=document_uri,
        )
        if signals.noindex:
            self._stats.noindex += 1
        elif document_uri in self._emitted:
            self._stats.duplicates += 1
        elif self._scope.admits(document_uri):
            # A start page outside the include globs is read for its links only.
            self._emitted.add(document_uri)
            self._stats.documents += 1
            yield self._document(document_uri, final_url, result, lastmod, is_pdf)
        return visit

    def _signals(self, result: FetchResult, final_url: str, is_pdf: bool) -> HtmlPageSignals:
        robots_header = result.headers.get("X-Robots-Tag", "")
        if is_pdf:
            return header_only_signals(robots_header)
        return read_html_page(
            result.content, final_url, robots_header=robots_header, robot_name=self._robot_name
        )

    def _document(
        self,
        uri: str,
        final_url: str,
        result: FetchResult,
        lastmod: datetime | None,
        is_pdf: bool,
    ) -> SourceDocument:
        last_modified = result.headers.get("Last-Modified")
        return SourceDocument(
            uri=uri,
            content=result.content,
            media_type=PDF_MEDIA_TYPE if is_pdf else "text/html",
            title=None,
            updated_at=parse_http_date(last_modified) or lastmod,
            visibility=self._config.visibility,
            etag=result.headers.get("ETag"),
            last_modified=last_modified,
            metadata={"url": final_url, "status": result.status},
        )

    def _gone(self, url: str, status: int) -> Generator[SyncItem, None, PageVisit]:
        if url in self._known:
            self._stats.tombstones += 1
            self._emitted.add(url)
            yield Tombstone(url)
        else:
            self._stats.skipped += 1  # a broken link to a page we never had
        return PageVisit(loaded=False)

    def _skip(
        self, url: str, reason: str, must_load: bool
    ) -> Generator[SyncItem, None, PageVisit]:
        if must_load:
            yield self._failure(url, reason)
        else:
            self._stats.skipped += 1
        return PageVisit(loaded=False)

    def _failure(self, url: str, reason: str) -> ItemFailure:
        self._stats.failures += 1
        return ItemFailure(url, reason)


def _conditional_headers(known: KnownDocument | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if known is not None and known.etag:
        headers["If-None-Match"] = known.etag
    if known is not None and known.last_modified:
        headers["If-Modified-Since"] = known.last_modified
    return headers
