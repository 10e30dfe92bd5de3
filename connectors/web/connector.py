"""The web connector: a website read through its sitemap or by following its links."""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Mapping
from datetime import datetime, timezone
from typing import ClassVar, Literal

import httpx

from connectors.base import Connector, KnownDocument, LoadResult, SyncItem
from connectors.web.client import RetryPolicy, WebClient, WebFetchError
from connectors.web.config import WebCursor, WebRunStats, WebSourceConfig
from connectors.web.pages import PageVisitor
from connectors.web.robots import RobotsRules
from connectors.web.sitemap import (
    MAX_SITEMAP_BYTES,
    SitemapEntry,
    SitemapMissing,
    collect_sitemap_pages,
)
from connectors.web.urls import (
    NON_PAGE_EXTENSIONS,
    UrlScope,
    is_sitemap_url,
    normalise_url,
    site_root,
    url_extension,
)
from knowledge.documents import ItemFailure

MAX_SITEMAP_NESTING = 3


class WebConnector(Connector[WebCursor]):
    """Indexes one website, politely (robots.txt, one rate limit per run).

    Document uris are normalised URLs (after redirects, or the page's canonical URL).
    Sitemap runs send the stored ETag/Last-Modified, so unchanged pages cost a 304.
    Crawl runs fetch every page in full: a 304 has no body, hence no links, and the
    pages behind it would be missed; the runner's hash-diff keeps re-fetched unchanged
    pages cheap downstream.

    ``complete`` is True only when the listing was fully determined: every sitemap
    loaded, or the crawl ran out of links (not of ``max_pages``) after loading its start
    page. A known page that failed this run is yielded as an ``ItemFailure``; this
    relies on the runner counting failed uris as seen, so it does not delete them.
    """

    kind: ClassVar[str] = "web"
    cursor_model: ClassVar[type[WebCursor]] = WebCursor

    def __init__(
        self, config: WebSourceConfig, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.config = config
        self._transport = transport

    def load(
        self, cursor: WebCursor | None, known: Mapping[str, KnownDocument]
    ) -> Generator[SyncItem, None, LoadResult[WebCursor]]:
        started = datetime.now(timezone.utc)
        stats = WebRunStats()
        with self._open_client() as client:
            site = _SiteSync(self.config, client, known, stats)
            complete = yield from site.run()
        next_cursor = WebCursor(
            last_run_started=started,
            last_run_finished=datetime.now(timezone.utc),
            listing=site.listing,
            complete=complete,
            stats=stats,
        )
        return LoadResult(next_cursor, complete)

    def _open_client(self) -> WebClient:
        config = self.config
        return WebClient(
            user_agent=config.user_agent,
            timeout_seconds=config.timeout_seconds,
            requests_per_second=config.requests_per_second,
            max_bytes=config.max_bytes,
            retry=RetryPolicy(
                attempts=config.retry_attempts,
                backoff_seconds=config.retry_backoff_seconds,
                max_wait_seconds=config.max_retry_wait_seconds,
            ),
            transport=self._transport,
        )


class _SiteSync:
    """One run over one site: robots.txt, then the sitemap listing or a crawl."""

    def __init__(
        self,
        config: WebSourceConfig,
        client: WebClient,
        known: Mapping[str, KnownDocument],
        stats: WebRunStats,
    ) -> None:
        self.config = config
        self.client = client
        self.known = known
        self.stats = stats
        self.start_url = config.start_url
        self.scope = UrlScope.for_start_url(config.start_url, config.include, config.exclude)
        self.robots = RobotsRules.allow_all(config.user_agent)
        self.listing: Literal["sitemap", "crawl"] | None = None
        self._robots_disallowed: set[str] = set()

    def run(self) -> Generator[SyncItem, None, bool]:
        robots_problem = self._load_robots()
        if robots_problem is not None:
            # Crawling a site whose robots.txt we cannot read would be impolite, and a
            # host that is down answers nothing else either.
            yield self._failure(self.start_url, f"{robots_problem} (reading robots.txt)")
            return False
        complete = yield from self._sync_listing()
        self.stats.robots_disallowed = len(self._robots_disallowed)
        return complete

    def _load_robots(self) -> str | None:
        """Read robots.txt; return why it could not be read, or None."""
        try:
            result = self.client.get(site_root(self.start_url) + "/robots.txt")
        except WebFetchError as exc:
            return exc.reason
        if 200 <= result.status < 300:
            text = result.content.decode("utf-8", errors="replace")
            self.robots = RobotsRules(text, self.config.user_agent)
        # Any other answer (404, 403...) means there are no rules for us: all is allowed.
        if self.robots.crawl_delay:
            self.client.rate_limiter.slow_down_to(self.robots.crawl_delay)
        return None

    def _sync_listing(self) -> Generator[SyncItem, None, bool]:
        """Use the sitemap when there is one (the start URL, robots.txt's ``Sitemap:``
        lines, else /sitemap.xml), otherwise crawl. In auto mode a missing sitemap means
        "crawl"; a sitemap that exists but fails is reported and makes the run partial."""
        explicit = is_sitemap_url(self.start_url)
        roots = self._sitemap_roots(explicit)
        if not roots:
            return (yield from self._crawl())
        listing = collect_sitemap_pages(
            roots,
            self._fetch_sitemap,
            on_site=self.scope.on_site,
            max_depth=MAX_SITEMAP_NESTING,
        )
        auto = self.config.mode == "auto" and not explicit
        if auto and not listing.pages and all(listing.missing(r) for r in roots):
            return (yield from self._crawl())  # the site simply has no sitemap
        for failure in listing.failures:
            yield self._failure(failure.url, failure.reason)
        if listing.pages or not listing.failures:
            self.listing = "sitemap"
            all_listed = yield from self._sync_listed_pages(listing.pages)
            return all_listed and not listing.failures
        if auto:
            # The sitemap exists but is broken right now: still index what links reach,
            # but a crawl cannot stand in for the sitemap's listing, so never complete.
            yield from self._crawl()
        return False

    def _sitemap_roots(self, explicit: bool) -> list[str]:
        if explicit:
            return [self.start_url]
        if self.config.mode == "crawl":
            return []
        advertised = [normalise_url(url) for url in self.robots.sitemaps]
        on_site = [url for url in advertised if url and self.scope.on_site(url)]
        return list(dict.fromkeys(on_site)) or [site_root(self.start_url) + "/sitemap.xml"]

    def _fetch_sitemap(self, url: str) -> bytes:
        result = self.client.get(url, may_follow=self.scope.on_site, max_bytes=MAX_SITEMAP_BYTES)
        if result.status in (404, 410):
            raise SitemapMissing(url)
        if not 200 <= result.status < 300:
            raise WebFetchError(f"HTTP {result.status}")
        return result.content

    def _sync_listed_pages(
        self, entries: list[SitemapEntry]
    ) -> Generator[SyncItem, None, bool]:
        """Visit sitemap pages; False when ``max_pages`` cut the listing short."""
        visitor = self._visitor()
        fetched = 0
        for entry in entries:
            if not self._worth_fetching(entry.url):
                continue
            if fetched >= self.config.max_pages:
                return False
            fetched += 1
            yield from visitor.visit(entry.url, conditional=True, lastmod=entry.lastmod)
        return True

    def _crawl(self) -> Generator[SyncItem, None, bool]:
        """Breadth-first over same-site links; True when every reachable page was
        visited and the start page loaded."""
        self.listing = "crawl"
        start = self.start_url
        if not self.robots.allows(start):
            yield self._failure(start, "start URL disallowed by robots.txt")
            return False
        visitor = self._visitor()
        queue: deque[tuple[str, int]] = deque([(start, 0)])
        queued = {start}
        fetched = 0
        start_loaded = False
        while queue:
            url, depth = queue.popleft()
            if fetched >= self.config.max_pages:
                return False
            fetched += 1
            visit = yield from visitor.visit(url, conditional=False, must_load=url == start)
            start_loaded = start_loaded or (url == start and visit.loaded)
            queued.update(u for u in (visit.final_url, visit.document_uri) if u)
            if depth >= self.config.max_depth:
                continue
            for link in visit.links:
                if link not in queued and self._worth_fetching(link):
                    queued.add(link)
                    queue.append((link, depth + 1))
        return start_loaded

    def _worth_fetching(self, url: str) -> bool:
        """In scope, a page by its extension, and allowed by robots.txt."""
        if not self.scope.admits(url):
            return False
        extension = url_extension(url)
        if extension in NON_PAGE_EXTENSIONS or (
            extension == ".pdf" and not self.config.include_pdfs
        ):
            return False
        if not self.robots.allows(url):
            self._robots_disallowed.add(url)
            return False
        return True

    def _visitor(self) -> PageVisitor:
        return PageVisitor(
            self.config, self.client, self.scope, self.robots, self.known, self.stats
        )

    def _failure(self, uri: str, reason: str) -> ItemFailure:
        self.stats.failures += 1
        return ItemFailure(uri, reason)
