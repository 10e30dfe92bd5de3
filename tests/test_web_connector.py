"""The web connector against a real HTTP server on loopback (a fake website)."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from connectors.base import KnownDocument, LoadResult
from connectors.web import WebConnector, WebCursor, WebSourceConfig
from connectors.web.client import RateLimiter, WebClient, WebFetchError
from connectors.web.sitemap import NotASitemap, parse_lastmod, parse_sitemap
from connectors.web.urls import UrlScope, normalise_url
from knowledge.documents import ItemFailure, SourceDocument, Tombstone, Unchanged, Visibility

LAST_MODIFIED = "Wed, 01 May 2024 10:00:00 GMT"


# --- the fake website -------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    send_length: bool = True
    delay: float = 0.0


@dataclass(frozen=True)
class SeenRequest:
    path: str
    host: str
    headers: dict[str, str]
    at: float


class FakeSite:
    """Routes by exact path (with query). A list of replies is served in order, the last
    one repeating, for servers that fail once and then recover."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.routes: dict[str, Reply | list[Reply]] = {}
        self.requests: list[SeenRequest] = []
        self.lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def page(self, path: str, title: str, links: Iterable[str] = (), head: str = "", **kw) -> None:
        self.routes[path] = Reply(body=html_page(title, links, head), **kw)

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def record(self, handler: BaseHTTPRequestHandler) -> Reply:
        with self.lock:
            earlier = self.hits(handler.path)
            self.requests.append(
                SeenRequest(handler.path, handler.headers.get("Host", ""),
                            dict(handler.headers), time.monotonic())
            )
        route = self.routes.get(handler.path, Reply(404, "not found", "text/plain"))
        return route[min(earlier, len(route) - 1)] if isinstance(route, list) else route


def html_page(title: str, links: Iterable[str] = (), head: str = "") -> str:
    nav = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return f"""<!doctype html><html><head><title>{title}</title>{head}</head>
<body><header><a href="/">Acme</a><nav><ul>{nav}</ul></nav></header>
<main><h1>{title}</h1><p>All about {title}.</p></main>
<footer><a href="mailto:sales@acme.test">Mail us</a> <a href="tel:+49301234">Call</a>
<a href="javascript:void(0)">Cookies</a> <a href="#top">Top</a></footer></body></html>"""


class _FakeSiteHandler(BaseHTTPRequestHandler):
    server: _FakeSiteServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        reply = self.server.site.record(self)
        if reply.delay:
            time.sleep(reply.delay)
        try:
            self._answer(reply)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def _answer(self, reply: Reply) -> None:
        validators_match = (reply.etag and self.headers.get("If-None-Match") == reply.etag) or (
            reply.last_modified and self.headers.get("If-Modified-Since") == reply.last_modified
        )
        status = 304 if reply.status == 200 and validators_match else reply.status
        body = reply.body.encode() if isinstance(reply.body, str) else reply.body
        self.send_response(status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.etag:
            self.send_header("ETag", reply.etag)
        if reply.last_modified:
            self.send_header("Last-Modified", reply.last_modified)
        if status == 304:
            self.end_headers()
            return
        self.send_header("Content-Type", reply.content_type)
        if reply.send_length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _FakeSiteServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    site: FakeSite


@pytest.fixture
def site() -> Iterable[FakeSite]:
    server = _FakeSiteServer(("127.0.0.1", 0), _FakeSiteHandler)
    server.site = FakeSite(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield server.site
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


# --- helpers ----------------------------------------------------------------------------


def web_config(start_url: str, **overrides: object) -> WebSourceConfig:
    fast = {
        "requests_per_second": 1000.0,
        "timeout_seconds": 2.0,
        "retry_backoff_seconds": 0.0,
        "max_bytes": 100_000,
    }
    return WebSourceConfig(start_url=start_url, **{**fast, **overrides})


def run_load(
    connector: WebConnector,
    known: dict[str, KnownDocument] | None = None,
    cursor: WebCursor | None = None,
) -> tuple[list[object], LoadResult[WebCursor]]:
    items: list[object] = []
    generator = connector.load(cursor, known or {})
    while True:
        try:
            items.append(next(generator))
        except StopIteration as stop:
            return items, stop.value


def uris(items: list[object], kind: type) -> set[str]:
    return {item.uri for item in items if isinstance(item, kind)}


def failures(items: list[object]) -> dict[str, str]:
    return {item.uri: item.reason for item in items if isinstance(item, ItemFailure)}


def known_doc(uri: str, **kw: str) -> KnownDocument:
    return KnownDocument(uri=uri, content_hash="old", **kw)


def build_company_site(site: FakeSite) -> None:
    site.routes["/robots.txt"] = Reply(body="User-agent: *\nDisallow: /private/\n",
                                       content_type="text/plain")
    site.page("/", "Home", ["/about", "/about#team", "/products/", "/private/secret",
                            "/logo.png", f"http://localhost:{site.port}/elsewhere",
                            "HTTP://127.0.0.1:%d/about" % site.port],
              etag='"home-1"', last_modified=LAST_MODIFIED)
    site.page("/about", "About us", ["/", "/products/"])
    site.page("/products/", "Products", ["/products/widget", "/products/widget?ref=nav"])
    canonical = f'<link rel="canonical" href="{site.url("/products/widget")}">'
    site.page("/products/widget", "Widget", ["/products/"], head=canonical)
    site.page("/products/widget?ref=nav", "Widget", ["/products/"], head=canonical)
    site.page("/private/secret", "Secret")
    site.routes["/logo.png"] = Reply(body=b"\x89PNG", content_type="image/png")


# --- crawling ---------------------------------------------------------------------------


def test_crawl_indexes_the_linked_pages_of_the_site_only(site: FakeSite) -> None:
    build_company_site(site)
    items, result = run_load(WebConnector(web_config(site.url("/"))))

    assert uris(items, SourceDocument) == {
        site.url("/"), site.url("/about"), site.url("/products/"), site.url("/products/widget")
    }
    assert not failures(items)
    assert result.complete is True
    home = next(i for i in items if isinstance(i, SourceDocument) and i.uri == site.url("/"))
    assert home.media_type == "text/html" and home.title is None
    assert b"<h1>Home</h1>" in home.content
    assert home.visibility == Visibility.PUBLIC
    assert home.etag == '"home-1"' and home.last_modified == LAST_MODIFIED
    assert home.updated_at == datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
    assert home.metadata == {"url": site.url("/"), "status": 200}
    # robots.txt, non-pages and other hosts are never fetched; each page only once
    assert site.hits("/private/secret") == 0 and site.hits("/logo.png") == 0
    assert not [r for r in site.requests if r.host.startswith("localhost")]
    assert site.hits("/about") == 1
    assert all(r.headers["User-Agent"].startswith("JourneyAssistantBot/") for r in site.requests)
    cursor = result.cursor
    assert cursor.listing == "crawl" and cursor.complete is True
    assert cursor.stats.robots_disallowed == 1 and cursor.stats.duplicates == 1
    assert cursor.last_run_started is not None and cursor.last_run_started.tzinfo is not None


def test_crawl_cut_short_by_max_pages_is_incomplete(site: FakeSite) -> None:
    build_company_site(site)
    items, result = run_load(WebConnector(web_config(site.url("/"), max_pages=2)))

    assert len(uris(items, SourceDocument)) == 2
    assert result.complete is False


def test_crawl_does_not_go_deeper_than_max_depth(site: FakeSite) -> None:
    build_company_site(site)
    items, result = run_load(WebConnector(web_config(site.url("/"), max_depth=1)))

    assert site.url("/products/widget") not in uris(items, SourceDocument)
    assert site.url("/products/") in uris(items, SourceDocument)
    assert result.complete is True  # the depth limit is a scope, not a truncation


def test_crawl_stays_under_the_start_path(site: FakeSite) -> None:
    build_company_site(site)
    items, _ = run_load(WebConnector(web_config(site.url("/products/"))))

    assert uris(items, SourceDocument) == {site.url("/products/"), site.url("/products/widget")}
    assert site.hits("/about") == 0


def test_noindex_pages_are_not_yielded_but_their_links_are_followed(site: FakeSite) -> None:
    site.page("/", "Home", ["/hidden", "/nofollow"])
    site.page("/hidden", "Hidden", ["/behind-hidden"],
              head='<meta name="robots" content="noindex">')
    site.page("/behind-hidden", "Behind hidden")
    site.page("/nofollow", "No follow", ["/behind-nofollow"],
              headers={"X-Robots-Tag": "nofollow"})
    site.page("/behind-nofollow", "Behind nofollow")
    items, result = run_load(WebConnector(web_config(site.url("/"))))

    assert uris(items, SourceDocument) == {
        site.url("/"), site.url("/behind-hidden"), site.url("/nofollow")
    }
    assert site.hits("/behind-nofollow") == 0
    assert result.cursor.stats.noindex == 1


def test_include_and_exclude_globs_choose_the_pages(site: FakeSite) -> None:
    site.page("/", "Home", ["/docs/a", "/docs/internal/b", "/blog/c"])
    for path in ("/docs/a", "/docs/internal/b", "/blog/c"):
        site.page(path, path)
    config = web_config(site.url("/"), include=["/docs/*"], exclude=["/docs/internal/*"])
    items, result = run_load(WebConnector(config))

    # the start page is read for its links but is outside the include globs
    assert uris(items, SourceDocument) == {site.url("/docs/a")}
    assert site.hits("/blog/c") == 0 and site.hits("/docs/internal/b") == 0
    assert result.complete is True


def test_crawl_refetches_known_pages_in_full_to_find_their_links(site: FakeSite) -> None:
    site.page("/", "Home", ["/new"], etag='"v1"')
    site.page("/new", "New page")
    known = {site.url("/"): known_doc(site.url("/"), etag='"v1"')}
    items, result = run_load(WebConnector(web_config(site.url("/"))), known)

    assert uris(items, SourceDocument) == {site.url("/"), site.url("/new")}
    home_request = next(r for r in site.requests if r.path == "/")
    assert "If-None-Match" not in home_request.headers
    assert result.complete is True


def test_pdf_is_a_document_and_other_media_types_are_skipped(site: FakeSite) -> None:
    site.page("/", "Home", ["/datasheet.pdf", "/draft.pdf", "/download"])
    site.routes["/datasheet.pdf"] = Reply(body=b"%PDF-1.4 fake", content_type="application/pdf")
    site.routes["/draft.pdf"] = Reply(body=b"%PDF-1.4 draft", content_type="application/pdf",
                                      headers={"X-Robots-Tag": "noindex"})
    site.routes["/download"] = Reply(body=b"PK\x03\x04", content_type="application/zip")
    items, result = run_load(WebConnector(web_config(site.url("/"))))

    pdf = next(i for i in items if isinstance(i, SourceDocument) and i.uri.endswith(".pdf"))
    assert pdf.media_type == "application/pdf" and pdf.content == b"%PDF-1.4 fake"
    assert site.url("/download") not in uris(items, SourceDocument)
    assert site.url("/draft.pdf") not in uris(items, SourceDocument)
    assert not failures(items) and result.complete is True


# --- sitemaps and incremental sync ------------------------------------------------------


def sitemap_urlset(entries: Iterable[tuple[str, str | None]]) -> str:
    urls = "".join(
        f"<url><loc>{loc}</loc>{f'<lastmod>{lastmod}</lastmod>' if lastmod else ''}</url>"
        for loc, lastmod in entries
    )
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>')


def sitemap_index(locations: Iterable[str]) -> str:
    items = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locations)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}'
            "</sitemapindex>")


def test_sitemap_index_lists_the_pages_with_their_lastmod(site: FakeSite) -> None:
    site.routes["/robots.txt"] = Reply(body="User-agent: *\nDisallow: /private/\n",
                                       content_type="text/plain")
    site.routes["/sitemap.xml"] = Reply(
        body=sitemap_index([site.url("/sitemap-pages.xml"), site.url("/sitemap-docs.xml.gz"),
                            "http://other.test/sitemap.xml"]),
        content_type="application/xml")
    site.routes["/sitemap-pages.xml"] = Reply(
        body=sitemap_urlset([(site.url("/"), "2024-03-01"), (site.url("/pricing"), None),
                             (site.url("/private/x"), None), ("http://other.test/", None)]),
        content_type="application/xml")
    docs = sitemap_urlset([(site.url("/docs/start"), "2024-04-02T08:30:00+02:00")])
    site.routes["/sitemap-docs.xml.gz"] = Reply(body=gzip.compress(docs.encode()),
                                                content_type="application/gzip")
    site.page("/", "Home", ["/not-in-sitemap"])
    site.page("/pricing", "Pricing", last_modified=LAST_MODIFIED)
    site.page("/docs/start", "Getting started")
    site.page("/not-in-sitemap", "Orphan")
    items, result = run_load(WebConnector(web_config(site.url("/"))))

    documents = {i.uri: i for i in items if isinstance(i, SourceDocument)}
    assert set(documents) == {site.url("/"), site.url("/pricing"), site.url("/docs/start")}
    assert documents[site.url("/")].updated_at == datetime(2024, 3, 1, tzinfo=timezone.utc)
    assert documents[site.url("/docs/start")].updated_at == datetime(
        2024, 4, 2, 6, 30, tzinfo=timezone.utc)
    # a Last-Modified header wins over the sitemap
    assert documents[site.url("/pricing")].updated_at.month == 5
    assert site.hits("/not-in-sitemap") == 0 and site.hits("/private/x") == 0
    assert result.complete is True
    assert result.cursor.listing == "sitemap" and result.cursor.stats.robots_disallowed == 1


def test_sitemap_advertised_in_robots_txt_is_used(site: FakeSite) -> None:
    site.routes["/robots.txt"] = Reply(body=f"Sitemap: {site.url('/maps/main.xml')}\n",
                                       content_type="text/plain")
    site.routes["/maps/main.xml"] = Reply(body=sitemap_urlset([(site.url("/a"), None)]),
                                          content_type="text/xml")
    site.page("/a", "A")
    items, result = run_load(WebConnector(web_config(site.url("/"))))

    assert uris(items, SourceDocument) == {site.url("/a")}
    assert site.hits("/sitemap.xml") == 0 and result.complete is True


def test_unchanged_pages_answer_304_to_the_stored_validators(site: FakeSite) -> None:
    site.routes["/sitemap.xml"] = Reply(
        body=sitemap_urlset([(site.url(p), None) for p in ("/etag", "/dated", "/changed")]),
        content_type="application/xml")
    site.page("/etag", "ETag page", etag='"e1"')
    site.page("/dated", "Dated page", last_modified=LAST_MODIFIED)
    site.page("/changed", "Changed page", etag='"c2"')
    known = {
        site.url("/etag"): known_doc(site.url("/etag"), etag='"e1"'),
        site.url("/dated"): known_doc(site.url("/dated"), last_modified=LAST_MODIFIED),
        site.url("/changed"): known_doc(site.url("/changed"), etag='"c1"'),
    }
    items, result = run_load(WebConnector(web_config(site.url("/sitemap.xml"))), known)

    assert uris(items, Unchanged) == {site.url("/etag"), site.url("/dated")}
    assert uris(items, SourceDocument) == {site.url("/changed")}
    etag_request = next(r for r in site.requests if r.path == "/etag")
    assert etag_request.headers["If-None-Match"] == '"e1"'
    dated_request = next(r for r in site.requests if r.path == "/dated")
    assert dated_request.headers["If-Modified-Since"] == LAST_MODIFIED
    assert result.complete is True and result.cursor.stats.unchanged == 2


def test_known_page_that_is_gone_becomes_a_tombstone(site: FakeSite) -> None:
    site.routes["/sitemap.xml"] = Reply(
        body=sitemap_urlset([(site.url(p), None) for p in ("/kept", "/deleted", "/never")]),
        content_type="application/xml")
    site.page("/kept", "Kept")
    site.routes["/deleted"] = Reply(410, "gone", "text/plain")
    known = {site.url("/deleted"): known_doc(site.url("/deleted"))}
    items, result = run_load(WebConnector(web_config(site.url("/"))), known)

    assert uris(items, Tombstone) == {site.url("/deleted")}
    assert uris(items, SourceDocument) == {site.url("/kept")}
    assert not failures(items)  # an unknown 404 (/never) is a broken link, not a failure
    assert result.complete is True


# --- failures ---------------------------------------------------------------------------


def test_transient_errors_are_retried(site: FakeSite) -> None:
    site.page("/", "Home", ["/flaky", "/busy"])
    site.routes["/flaky"] = [Reply(500, "oops"), Reply(body=html_page("Flaky"))]
    site.routes["/busy"] = [Reply(429, "slow down", headers={"Retry-After": "0"}),
                            Reply(body=html_page("Busy"))]
    items, result = run_load(WebConnector(web_config(site.url("/"))))

    assert {site.url("/flaky"), site.url("/busy")} <= uris(items, SourceDocument)
    assert site.hits("/flaky") == 2 and site.hits("/busy") == 2
    assert not failures(items) and result.complete is True


def test_broken_pages_are_item_failures_and_the_sync_goes_on(site: FakeSite) -> None:
    site.page("/", "Home", ["/broken", "/loop-a", "/away", "/forbidden", "/fine"])
    site.routes["/broken"] = Reply(500, "always broken", "text/plain")
    site.routes["/loop-a"] = Reply(302, headers={"Location": "/loop-b"})
    site.routes["/loop-b"] = Reply(302, headers={"Location": "/loop-a"})
    site.routes["/away"] = Reply(301, headers={"Location": f"http://localhost:{site.port}/fine"})
    site.routes["/forbidden"] = Reply(403, "no", "text/plain")
    site.page("/fine", "Fine")
    known = {site.url("/broken"): known_doc(site.url("/broken"))}
    items, result = run_load(WebConnector(web_config(site.url("/"))), known)

    assert failures(items) == {
        site.url("/broken"): "HTTP 500 after 3 attempts",
        site.url("/loop-a"): "redirect loop",
        site.url("/forbidden"): "HTTP 403",
    }
    assert site.hits("/broken") == 3
    assert uris(items, SourceDocument) == {site.url("/"), site.url("/fine")}
    # the off-site redirect is not followed, so the other host sees nothing
    assert not [r for r in site.requests if r.host.startswith("localhost")]
    assert result.complete is True  # failed known pages are "seen": nothing is deleted


@pytest.mark.parametrize("send_length", [True, False], ids=["content-length", "streamed"])
def test_page_over_max_bytes_is_an_item_failure(site: FakeSite, send_length: bool) -> None:
    site.page("/", "Home", ["/huge"])
    site.routes["/huge"] = Reply(body=html_page("Huge") + "x" * 200_000, send_length=send_length)
    items, _ = run_load(WebConnector(web_config(site.url("/"), max_bytes=50_000)))

    assert failures(items)[site.url("/huge")].startswith("page too large")
    assert site.url("/") in uris(items, SourceDocument)


def test_slow_page_times_out(site: FakeSite) -> None:
    site.page("/", "Home", ["/slow"])
    site.routes["/slow"] = Reply(body=html_page("Slow"), delay=1.0)
    config = web_config(site.url("/"), timeout_seconds=0.2, retry_attempts=2)
    items, _ = run_load(WebConnector(config))

    assert failures(items) == {site.url("/slow"): "timeout"}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_start_url_fails_fast_and_is_incomplete() -> None:
    start = f"http://127.0.0.1:{closed_port()}/"
    began = time.monotonic()
    items, result = run_load(WebConnector(web_config(start)))

    assert time.monotonic() - began < 3
    assert list(failures(items)) == [start]
    assert failures(items)[start].startswith("unreachable: connection refused")
    assert result.complete is False and not uris(items, SourceDocument)


def test_start_page_server_error_is_incomplete(site: FakeSite) -> None:
    site.routes["/"] = Reply(503, "maintenance", "text/plain")
    items, result = run_load(WebConnector(web_config(site.url("/"))))

    assert failures(items) == {site.url("/"): "HTTP 503 after 3 attempts"}
    assert result.complete is False


def test_start_page_redirecting_off_site_is_incomplete(site: FakeSite) -> None:
    site.routes["/"] = Reply(301, headers={"Location": f"http://localhost:{site.port}/"})
    items, result = run_load(WebConnector(web_config(site.url("/"), mode="crawl")))

    assert failures(items)[site.url("/")].startswith("redirect not followed: http://localhost")
    assert result.complete is False


def test_broken_sitemap_in_auto_mode_still_crawls_but_never_completes(site: FakeSite) -> None:
    site.routes["/sitemap.xml"] = Reply(502, "bad gateway", "text/plain")
    site.page("/", "Home", ["/a"])
    site.page("/a", "A")
    items, result = run_load(WebConnector(web_config(site.url("/"))))

    assert failures(items) == {site.url("/sitemap.xml"): "HTTP 502 after 3 attempts"}
    assert uris(items, SourceDocument) == {site.url("/"), site.url("/a")}
    assert result.complete is False and result.cursor.listing == "crawl"


def test_broken_sitemap_is_incomplete(site: FakeSite) -> None:
    site.routes["/sitemap.xml"] = Reply(500, "broken", "text/plain")
    items, result = run_load(WebConnector(web_config(site.url("/sitemap.xml"))))

    assert failures(items) == {site.url("/sitemap.xml"): "HTTP 500 after 3 attempts"}
    assert result.complete is False


def test_sitemap_mode_without_a_sitemap_is_incomplete(site: FakeSite) -> None:
    site.page("/", "Home")
    items, result = run_load(WebConnector(web_config(site.url("/"), mode="sitemap")))

    assert failures(items) == {site.url("/sitemap.xml"): "sitemap not found"}
    assert site.hits("/") == 0 and result.complete is False


def test_unreadable_robots_txt_stops_the_run(site: FakeSite) -> None:
    site.routes["/robots.txt"] = Reply(500, "broken", "text/plain")
    site.page("/", "Home")
    items, result = run_load(WebConnector(web_config(site.url("/"))))

    assert list(failures(items)) == [site.url("/")]
    assert "robots.txt" in failures(items)[site.url("/")]
    assert site.hits("/") == 0 and result.complete is False


# --- politeness -------------------------------------------------------------------------


def test_robots_crawl_delay_slows_the_run_down(site: FakeSite, monkeypatch: pytest.MonkeyPatch) -> None:
    site.routes["/robots.txt"] = Reply(body="User-agent: *\nCrawl-delay: 0.1\n",
                                       content_type="text/plain")
    site.page("/", "Home", ["/a", "/b"])
    site.page("/a", "A")
    site.page("/b", "B")
    clients: list[WebClient] = []
    open_client = WebConnector._open_client

    def capture(self: WebConnector) -> WebClient:
        clients.append(open_client(self))
        return clients[-1]

    monkeypatch.setattr(WebConnector, "_open_client", capture)
    run_load(WebConnector(web_config(site.url("/"), mode="crawl", requests_per_second=100)))

    assert len([r for r in site.requests if r.path in ("/", "/a", "/b")]) == 3
    # The crawl delay governs the run's limiter; its spacing is checked with a fake clock
    # in test_rate_limiter_spaces_request_starts (wall-clock gaps flake on a busy machine).
    assert clients[0].rate_limiter.interval == pytest.approx(0.1)


def test_rate_limiter_spaces_request_starts() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    limiter = RateLimiter(4.0, clock=lambda: now[0], sleep=sleep)
    limiter.wait()
    limiter.wait()
    now[0] += 1.0  # idle time is not banked into a burst
    limiter.wait()
    limiter.slow_down_to(2.0)
    limiter.wait()
    assert slept == [0.25, 2.0]


def test_a_transport_can_stand_in_for_the_network() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/":
            return httpx.Response(200, html=html_page("Home"))
        return httpx.Response(404)

    connector = WebConnector(web_config("https://acme.test/"),
                             transport=httpx.MockTransport(handler))
    items, result = run_load(connector)

    assert uris(items, SourceDocument) == {"https://acme.test/"}
    assert result.complete is True


def test_client_names_endless_redirect_chains() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        hop = int(request.url.path.strip("/r") or 0)
        return httpx.Response(302, headers={"Location": f"/r{hop + 1}"})

    client = WebClient(user_agent="test", timeout_seconds=1, requests_per_second=1000,
                       max_bytes=1000, transport=httpx.MockTransport(handler))
    with client, pytest.raises(WebFetchError, match="too many redirects"):
        client.get("https://acme.test/r0")


# --- value types and helpers ------------------------------------------------------------


def test_cursor_round_trips_through_json(site: FakeSite) -> None:
    build_company_site(site)
    _, result = run_load(WebConnector(web_config(site.url("/"))))

    restored = WebCursor.model_validate_json(result.cursor.model_dump_json())
    assert restored == result.cursor
    assert restored.stats.pages_fetched >= 4


def test_config_rejects_non_http_start_urls() -> None:
    with pytest.raises(ValueError):
        WebSourceConfig(start_url="ftp://acme.test/")
    assert WebSourceConfig(start_url="HTTPS://Acme.TEST:443").start_url == "https://acme.test/"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("HTTP://Example.COM:80/a/B?x=1#frag", "http://example.com/a/B?x=1"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/p", "https://example.com:8443/p"),
        ("mailto:sales@example.com", None),
        ("javascript:void(0)", None),
        ("https://example.com:notaport/", None),
    ],
)
def test_normalise_url(raw: str, normalised: str | None) -> None:
    assert normalise_url(raw) == normalised


def test_scope_matches_path_prefixes_by_segment() -> None:
    scope = UrlScope.for_start_url("https://acme.test/docs")
    assert scope.contains("https://acme.test/docs/a") and scope.contains("https://acme.test/docs")
    assert not scope.contains("https://acme.test/docsearch")
    assert not scope.contains("https://other.test/docs/a")
    assert UrlScope.for_start_url("https://acme.test/docs/index.html").path_prefix == "/docs/"


def test_parse_sitemap_and_lastmod() -> None:
    xml = sitemap_urlset([("HTTPS://Acme.test/a#x", "2024-01-02T03:04:05Z")]).encode()
    parsed = parse_sitemap(xml)
    assert parsed.pages[0].url == "https://acme.test/a"
    assert parsed.pages[0].lastmod == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert parse_lastmod("not a date") is None
    with pytest.raises(NotASitemap):
        parse_sitemap(b"<html><body>Not found</body></html>")
