"""The Segment-compatible event API through real HTTP: uvicorn on a loopback socket, the real
app and container, SQLite and PostgreSQL; processing by the worker process or a thread."""

from __future__ import annotations

import gzip
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from assistant.api import create_app
from assistant.container import Container, build_container
from assistant.settings import DatabaseSettings, EventsSettings, Settings
from connectors.events import EventIngestor
from knowledge.models import SyncRun
from knowledge.profiles import ProfileRecord
from knowledge.profiles.models import Consent, Contact, EventInboxItem, Touchpoint

KEY = "test-write-key"
MAX_BYTES = 64 * 1024


@contextmanager
def running(container: Container) -> Iterator[httpx.Client]:
    """The app on a real uvicorn server in a thread, on a socket bound before it starts."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(container), log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def make_container(tmp_path: Path, database_url: str, keys: list[str] | None = None) -> Container:
    return build_container(Settings(
        workspace=tmp_path / "workspace", database=DatabaseSettings(url=database_url),
        events=EventsSettings(write_keys=[KEY] if keys is None else keys, max_batch_bytes=MAX_BYTES),
    ))


@pytest.fixture
def container(tmp_path: Path, database_url: str) -> Iterator[Container]:
    """The production wiring: events are processed by the worker process."""
    built = make_container(tmp_path, database_url)
    yield built
    built.events.close()
    built.close()


@pytest.fixture
def threaded(tmp_path: Path, database_url: str) -> Iterator[Container]:
    """The same, with processing in a thread of the test process (starts faster)."""
    built = make_container(tmp_path, database_url)
    built.__dict__["events"] = EventIngestor(built.db, built.sync_state, built.profiles, "events")
    yield built
    built.events.close()
    built.close()


def count(container: Container, model: type[Any], **where: Any) -> int:
    with container.db.session() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return session.scalar(query) or 0


def page(n: int, anonymous_id: str = "anon-1", **extra: Any) -> dict[str, Any]:
    return {"type": "page", "messageId": f"page-{n}", "anonymousId": anonymous_id, "name": "Preise",
            "context": {"page": {"url": f"https://www.example.de/preise?n={n}", "title": "Preise"}}, **extra}


def test_page_track_identify_join_the_anonymous_visit_to_the_crm_person(container: Container) -> None:
    container.profiles.write("crm", [ProfileRecord("contact", "51", {"email": "jane@acme.com", "full_name": "Jane Doe"})])
    crm_person = container.profiles.identity.person_for("email", "jane@acme.com")
    with running(container) as client:
        reply = client.post("/v1/page", auth=(KEY, ""), json={
            "anonymousId": "anon-7", "messageId": "p1", "name": "Start", "timestamp": "2024-05-01T09:00:00Z",
            "context": {"page": {"url": "https://www.example.de/?utm_source=google", "referrer": "https://www.google.de/"},
                        "campaign": {"source": "google", "medium": "cpc", "name": "brand"}}})
        assert reply.status_code == 200 and reply.json() == {"success": True, "accepted": 1, "duplicates": 0, "rejected": []}
        assert client.post("/v1/track", json={"writeKey": KEY, "anonymousId": "anon-7", "messageId": "t1",
                                              "event": "Webinar Registered", "properties": {"title": "Tickets 101"}}).status_code == 200
        assert client.post("/v1/identify", auth=(KEY, ""), json={
            "anonymousId": "anon-7", "userId": "u-1", "messageId": "i1",
            "traits": {"email": "Jane@Acme.com", "name": "Jane Doe", "title": "CTO", "consent": {"marketing_email": True}}}).status_code == 200
        assert container.events.wait_processed(60)
        status = client.get("/v1/events/status", auth=(KEY, "")).json()
    assert (status["stored"], status["waiting"], status["last_run"]) == (3, 0, "succeeded")
    with container.db.session() as session:
        visit = session.get(Touchpoint, "events:touchpoint:p1")
        webinar = session.get(Touchpoint, "events:touchpoint:t1")
        contact = session.get(Contact, "events:contact:u-1")
        consent = session.scalars(select(Consent)).one()
    assert (visit.type, visit.channel, visit.kind, visit.world, visit.campaign) == ("page_view", "paid_search", "paid", "online", "brand")
    assert visit.content_uri == "https://www.example.de/?utm_source=google" and visit.occurred_at == datetime(2024, 5, 1, 9, tzinfo=UTC)
    assert (webinar.type, webinar.title, webinar.kind) == ("webinar", "Tickets 101", "owned")
    assert (contact.email, contact.full_name, contact.job_title) == ("Jane@Acme.com", "Jane Doe", "CTO")
    assert (consent.purpose, consent.status, consent.contact_id) == ("marketing_email", "granted", "events:contact:u-1")
    assert container.profiles.identity.person_for("anonymous_id", "anon-7") == crm_person
    assert visit.person_id == webinar.person_id == contact.person_id == consent.person_id == crm_person


def test_a_batch_with_invalid_items_stores_the_valid_ones_and_reports_the_rest(threaded: Container) -> None:
    batch = [page(1), {"type": "track", "anonymousId": "a"}, {"type": "shout", "anonymousId": "a"}, "not an event",
             {"type": "identify", "traits": {"email": "x@y.de"}}, {"type": "identify", "userId": "u-9", "traits": {"email": "x@y.de"}}]
    with running(threaded) as client:
        reply = client.post("/v1/batch", auth=(KEY, ""), json={"batch": batch})
    assert reply.status_code == 200
    assert reply.json() == {"success": True, "accepted": 2, "duplicates": 0, "rejected": [
        {"index": 1, "reason": "event: Field required"},
        {"index": 2, "reason": "unknown type 'shout' (expected one of track, identify, page, screen, group, alias)"},
        {"index": 3, "reason": "an event must be a JSON object"},
        {"index": 4, "reason": "userId or anonymousId is required"},
    ]}
    assert threaded.events.wait_processed(30)
    assert count(threaded, Touchpoint) == 1 and count(threaded, Contact) == 1


def test_replayed_message_ids_store_nothing_new(threaded: Container) -> None:
    batch = [page(n) for n in range(20)] + [page(3)]  # one repeated inside the batch
    anonymous = {"type": "track", "anonymousId": "a", "event": "Demo Requested", "timestamp": "2024-05-02T10:00:00Z"}
    with running(threaded) as client:
        first = client.post("/v1/batch", auth=(KEY, ""), json={"batch": batch}).json()
        again = client.post("/v1/batch", auth=(KEY, ""), json={"batch": batch}).json()
        no_id = [client.post("/v1/track", auth=(KEY, ""), json=anonymous).json() for _ in range(2)]
    assert (first["accepted"], first["duplicates"]) == (20, 1)
    assert (again["accepted"], again["duplicates"]) == (0, 21)
    assert [(r["accepted"], r["duplicates"]) for r in no_id] == [(1, 0), (0, 1)]  # recognised by its content
    assert threaded.events.wait_processed(30)
    assert count(threaded, EventInboxItem) == 21 and count(threaded, Touchpoint) == 21


def test_write_keys_by_basic_auth_or_body_and_clear_401s(threaded: Container, tmp_path: Path) -> None:
    event = {"anonymousId": "a", "event": "Signed Up", "messageId": "m"}
    with running(threaded) as client:
        assert client.post("/v1/track", auth=(KEY, ""), json=event).status_code == 200
        assert client.post("/v1/track", json={**event, "writeKey": KEY}).json()["duplicates"] == 1
        missing = client.post("/v1/track", json=event)
        wrong = client.post("/v1/track", auth=("nope", ""), json={**event, "writeKey": KEY})  # the header decides
        bearer = client.post("/v1/track", headers={"Authorization": f"Bearer {KEY}"}, json=event)
        status = client.get("/v1/events/status")
    assert missing.status_code == 401 and "write key" in missing.json()["error"]
    assert missing.headers["www-authenticate"].startswith("Basic")
    assert (wrong.status_code, wrong.json()) == (401, {"success": False, "error": "unknown write key"})
    assert bearer.status_code == 401 and "Basic" in bearer.json()["error"]
    assert status.status_code == 401
    closed = make_container(tmp_path / "closed", f"sqlite:///{tmp_path / 'closed.db'}", keys=[])
    with running(closed) as client:
        refused = client.post("/v1/track", auth=(KEY, ""), json=event)
    closed.close()
    assert refused.status_code == 401 and "no write keys are configured" in refused.json()["error"]


def test_too_large_malformed_and_gzipped_bodies(threaded: Container) -> None:
    big = json.dumps({"batch": [page(n, properties={"pad": "x" * 1000}) for n in range(80)]}).encode()
    assert len(big) > MAX_BYTES
    bomb = gzip.compress(json.dumps({"batch": [page(1, properties={"pad": " " * (MAX_BYTES * 4)})]}).encode())
    small = gzip.compress(json.dumps({"batch": [page(1), page(2)]}).encode())
    headers = {"Content-Type": "application/json"}
    with running(threaded) as client:
        declared = client.post("/v1/batch", auth=(KEY, ""), content=big, headers=headers)
        chunked = client.post("/v1/batch", auth=(KEY, ""), content=iter([big[:40_000], big[40_000:]]), headers=headers)
        inflated = client.post("/v1/batch", auth=(KEY, ""), content=bomb, headers={**headers, "Content-Encoding": "gzip"})
        zipped = client.post("/v1/batch", auth=(KEY, ""), content=small, headers={**headers, "Content-Encoding": "gzip"})
        broken = client.post("/v1/batch", auth=(KEY, ""), content=b'{"batch": [', headers=headers)
        listed = client.post("/v1/batch", auth=(KEY, ""), json=[page(1)])
        unbatched = client.post("/v1/batch", auth=(KEY, ""), json={"events": [page(1)]})
        invalid = client.post("/v1/page", auth=(KEY, ""), json={"name": "no one"})
    assert [r.status_code for r in (declared, chunked, inflated)] == [413, 413, 413]
    assert "larger than 65536 bytes" in declared.json()["error"]
    assert zipped.status_code == 200 and zipped.json()["accepted"] == 2
    assert broken.status_code == 400 and broken.json()["error"].startswith("malformed JSON")
    assert listed.status_code == 400 and unbatched.status_code == 400 and "batch" in unbatched.json()["error"]
    assert invalid.status_code == 400
    assert invalid.json()["error"] == "invalid page event: userId or anonymousId is required"


def test_batch_defaults_and_clock_skew_correction(threaded: Container) -> None:
    now = datetime.now(UTC)
    skewed = {"type": "track", "anonymousId": "a", "messageId": "skew", "event": "Demo Requested",
              "timestamp": (now + timedelta(hours=2)).isoformat(), "sentAt": (now + timedelta(hours=2, minutes=5)).isoformat()}
    with running(threaded) as client:
        client.post("/v1/batch", auth=(KEY, ""), json={
            "batch": [skewed, page(1)], "context": {"campaign": {"source": "newsletter", "medium": "email", "name": "mai"}}})
    assert threaded.events.wait_processed(30)
    with threaded.db.session() as session:
        demo = session.get(Touchpoint, "events:touchpoint:skew")
        visit = session.get(Touchpoint, "events:touchpoint:page-1")
        stored = session.scalars(select(EventInboxItem.payload).where(EventInboxItem.message_id == "skew")).one()
    assert abs((demo.occurred_at - (now - timedelta(minutes=5))).total_seconds()) < 30  # the sender's clock was 2 h ahead
    assert stored["originalTimestamp"].startswith(skewed["timestamp"][:16])
    assert (visit.channel, visit.kind, visit.campaign) == ("email", "owned", "mai")  # context from the batch


KILLED_WORKER = """
import os, signal, sys
from assistant.settings import IdentitySettings
from connectors.events import EventIngestor
from knowledge.db import Database
from knowledge.profiles import ProfileStore
from knowledge.profiles.identity import IdentityResolver
from knowledge.sync_state import SyncState

db = Database(sys.argv[1])
store = ProfileStore(db, identity=IdentityResolver(db, IdentitySettings()))
original, calls = ProfileStore.write, []

def dies_on_the_third_write(self, *args, **kwargs):
    calls.append(1)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, *args, **kwargs)

ProfileStore.write = dies_on_the_third_write
EventIngestor(db, SyncState(db), store, "events", batch_records=500).process_all()
"""


def test_processing_killed_mid_run_resumes_without_loss_or_duplicates(threaded: Container, database_url: str) -> None:
    events = [page(n, anonymous_id=f"anon-{n % 700}") for n in range(3000)]
    with running(threaded) as client:
        threaded.events.trigger = lambda: None  # type: ignore[method-assign]  # processed by the process below
        for start in range(0, 3000, 250):
            assert client.post("/v1/batch", auth=(KEY, ""), json={"batch": events[start : start + 250]}).json()["accepted"] == 250
    killed = subprocess.run([sys.executable, "-c", KILLED_WORKER, database_url], capture_output=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    assert threaded.events.processed_seq() == 0 and count(threaded, Touchpoint) == 1000  # two batches written, no cursor

    reports = threaded.events.process_all()

    assert reports[0].resumed and reports[0].records.entities["touchpoint"].unchanged == 1000
    assert count(threaded, Touchpoint) == 3000 and threaded.events.waiting() == 0
    assert count(threaded, Touchpoint, person_id=None) == 0
    with threaded.db.session() as session:
        runs = session.scalars(select(SyncRun.status).where(SyncRun.source_name == "events").order_by(SyncRun.id)).all()
        persons = session.scalar(select(func.count(func.distinct(Touchpoint.person_id))))
    assert runs == ["interrupted", "succeeded"] and persons == 700
