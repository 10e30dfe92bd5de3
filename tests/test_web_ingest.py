"""`journey ingest URL` end to end against a real static web server on loopback."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
JOURNEY = str(Path(sys.executable).parent / "journey")

NAV = "<nav><a href='/index.html'>Home</a> <a href='/pricing.html'>Pricing</a> <a href='/sla.html'>SLA</a></nav>"
FOOTER = "<footer>© Example GmbH · Impressum · Datenschutz · Cookie settings</footer>"


def page(title: str, body: str) -> str:
    return f"<html><head><title>{title}</title></head><body>{NAV}<main><h1>{title}</h1>{body}</main>{FOOTER}</body></html>"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text(page("Example Helpdesk", "<p>The helpdesk for teams. See <a href='/pricing.html'>pricing</a>.</p>"))
    (root / "pricing.html").write_text(page("Pricing", "<h2>Plans</h2><p>The Professional plan costs 19 euros per agent and month, billed yearly.</p>"))
    (root / "sla.html").write_text(page("Service levels", "<h2>Escalation</h2><p>Tickets breaching the first response time escalate to the team lead.</p>"))
    (root / "broken.html").write_text("never served as a page")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html", root
    server.shutdown()
    server.server_close()


def journey(*args: str, workspace: Path) -> dict:
    result = subprocess.run([JOURNEY, *args, "--workspace", str(workspace), "--json"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_crawl_index_search_and_delete(site: tuple[str, Path], tmp_path: Path) -> None:
    start, root = site
    ws = tmp_path / "ws"
    first = journey("ingest", start, "--source", "website", workspace=ws)
    assert first["added"] == 3 and first["failed"] == []

    hits = journey("search", "how much does it cost per agent", "--k", "3", workspace=ws)
    assert hits[0]["uri"].endswith("/pricing.html") and hits[0]["source"] == "website"
    assert "Impressum" not in hits[0]["text"] and "Cookie" not in hits[0]["text"]  # boilerplate removed

    again = journey("sync", "website", workspace=ws)
    assert (again["unchanged"], again["added"], again["updated"], again["embedded"]) == (3, 0, 0, 0)

    (root / "sla.html").unlink()
    (root / "index.html").write_text(page("Example Helpdesk", "<p>The helpdesk for teams.</p><a href='/pricing.html'>pricing</a>"))
    after = journey("sync", "website", workspace=ws)
    assert after["deleted"] == 1 and after["updated"] == 1
    uris = [h["uri"] for h in journey("search", "escalation first response time team lead", "--k", "5", workspace=ws)]
    assert not any(uri.endswith("/sla.html") for uri in uris)


def test_unreachable_site_is_reported_and_deletes_nothing(site: tuple[str, Path], tmp_path: Path) -> None:
    start, _root = site
    ws = tmp_path / "ws"
    journey("ingest", start, "--source", "website", workspace=ws)
    dead = "http://127.0.0.1:9/index.html"  # discard port: connection refused
    subprocess.run([JOURNEY, "ingest", dead, "--source", "website", "--workspace", str(ws)], capture_output=True, timeout=120)
    sources = journey("sources", workspace=ws)
    assert sources[0]["documents"] == 3  # an unreachable site is not an empty site
    assert sources[0]["failed_items"] == 1
