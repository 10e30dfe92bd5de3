"""The HubSpot connector against a fake HubSpot portal on loopback.

The portal serves the recorded real CRM v3 responses in
``../shared/datasets/crm_api_fixtures/hubspot_nango`` (companies, contacts, deals, owners, the
deal pipeline, a note) over a real threaded ``http.server`` and answers list, search and
association requests from them the way HubSpot does: ``after`` paging, the GTE filter on
the modification time, ascending sort, the search ceiling, archived listings. Where the
recordings have no data (calls, meetings, e-mails, deal associations) a few objects are
added in the recorded shapes; each is marked ``not recorded``.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from assistant.container import Container
from assistant.settings import Settings
from connectors.base import LoadResult
from connectors.hubspot import HubSpotAuthError, HubSpotConnector, HubSpotCursor, HubSpotError, HubSpotSourceConfig
from connectors.hubspot.client import epoch_millis
from connectors.hubspot.mapping import StageBook, parse_time
from connectors.runner import SyncReport, SyncRunner
from knowledge.documents import SearchFilters, SourceDocument, Visibility
from knowledge.models import Document
from knowledge.profiles import ProfileRecord, Ref
from knowledge.profiles.models import Account, Contact, Deal, DealContact, Owner, Touchpoint

pytestmark = pytest.mark.realdata

TOKEN = "pat-eu1-test-token"
MODIFIED = {"contacts": "lastmodifieddate"}
NOTE_ID, NOTE_CONTACT, NOTE_COMPANY = "478016441536", "713492963559", "406260751575"
HUBSPOT_COMPANY, BRIAN, MARIA, NO_COMPANY_CONTACT = "406597029111", "713802347732", "713903210728", "713940736216"
UNAUTHORIZED = {  # HubSpot's answer to a request without a valid token
    "status": "error",
    "message": "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
    "correlationId": "4d0c2b4a-0000-0000-0000-000000000000",
    "category": "INVALID_AUTHENTICATION",
}


def _mod_property(object_type: str) -> str:
    return MODIFIED.get(object_type, "hs_lastmodifieddate")


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- the fake portal --------------------------------------------------------------------


@dataclass
class Fault:
    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    times: int


@dataclass
class SeenRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class FakePortal:
    objects: dict[str, dict[str, dict[str, Any]]]
    owners: list[dict[str, Any]]
    pipelines: dict[str, Any]
    links: set[tuple[str, str, str, str]] = field(default_factory=set)
    clock: datetime = datetime(2026, 3, 18, 12, 0, tzinfo=timezone.utc)
    ceiling: int = 10_000
    requests: list[SeenRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_request: Callable[[SeenRequest], None] | None = None  # "someone edits HubSpot" while a sync runs

    # changes made "in HubSpot" between syncs
    def tick(self, seconds: float = 60) -> datetime:
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def modify(self, object_type: str, object_id: str, at: datetime | None = None, **properties: Any) -> None:
        obj = self.objects[object_type][object_id]
        when = _iso(at or self.tick())
        obj["properties"].update(properties, **{_mod_property(object_type): when})
        obj["updatedAt"] = when

    def add(self, object_type: str, object_id: str, **properties: Any) -> None:
        when = _iso(self.tick())
        self.objects[object_type][object_id] = {
            "id": object_id, "createdAt": when, "updatedAt": when, "archived": False,
            "properties": {"hs_object_id": object_id, "hs_createdate": when, _mod_property(object_type): when, **properties},
        }

    def archive(self, object_type: str, object_id: str) -> None:
        obj = self.objects[object_type][object_id]
        obj["archived"], obj["archivedAt"] = True, _iso(self.tick())

    def link(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        self.links |= {(from_type, from_id, to_type, to_id), (to_type, to_id, from_type, from_id)}

    def fail(self, method: str, path: str, status: int, times: int = 1, headers: dict[str, str] | None = None,
             body: dict[str, Any] | None = None) -> None:
        self.faults.append(Fault(method, path, status, headers or {}, body or {"status": "error", "message": "boom"}, times))

    def seen(self, method: str, path: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # answers
    def answer(self, method: str, path: str, query: dict[str, str], body: Any, auth: str) -> tuple[int, dict[str, str], Any]:
        if auth != f"Bearer {TOKEN}":
            return 401, {}, UNAUTHORIZED
        for fault in self.faults:
            if fault.times > 0 and (fault.method, fault.path) == (method, path):
                fault.times -= 1
                return fault.status, fault.headers, fault.body
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/crm/v3/pipelines/deals":
            return 200, {}, self.pipelines
        if method == "GET" and path == "/crm/v3/owners":
            owners = [] if query.get("archived") == "true" else self.owners
            return 200, {}, _offset_page(owners, int(query.get("after", 0)), int(query.get("limit", 100)))
        if method == "GET" and parts[:3] == ["crm", "v3", "objects"] and len(parts) == 4:
            return 200, {}, self._list(parts[3], query)
        if method == "POST" and parts[:3] == ["crm", "v3", "objects"] and parts[4:] == ["search"]:
            return self._search(parts[3], body)
        if method == "POST" and parts[:3] == ["crm", "v3", "associations"] and parts[5:] == ["batch", "read"]:
            return self._associations(parts[3], parts[4], body)
        return 404, {}, {"status": "error", "message": f"no route {method} {path}"}

    def _shape(self, object_type: str, obj: dict[str, Any], properties: list[str], associations: list[str]) -> dict[str, Any]:
        always = {"hs_object_id", "createdate", _mod_property(object_type)}
        shaped = {k: v for k, v in obj.items() if k != "properties"}
        shaped["properties"] = {k: v for k, v in obj["properties"].items() if k in always or k in properties}
        found = {
            to_type: {"results": [{"id": to_id, "type": f"{object_type[:-1]}_to_{to_type[:-1]}"}
                                  for (f_type, f_id, t_type, to_id) in sorted(self.links)
                                  if (f_type, f_id, t_type) == (object_type, obj["id"], to_type)]}
            for to_type in associations
        }
        if any(block["results"] for block in found.values()):
            shaped["associations"] = {t: b for t, b in found.items() if b["results"]}
        return shaped

    def _list(self, object_type: str, query: dict[str, str]) -> dict[str, Any]:
        archived = query.get("archived") == "true"
        limit = min(int(query.get("limit", 10)), 100)
        rows = sorted((o for o in self.objects.get(object_type, {}).values() if o["archived"] == archived),
                      key=lambda o: int(o["id"]))
        start = int(query["after"]) if "after" in query else 0
        rows = [o for o in rows if int(o["id"]) >= start]
        properties = query.get("properties", "").split(",")
        associations = [a for a in query.get("associations", "").split(",") if a]
        page: dict[str, Any] = {"results": [self._shape(object_type, o, properties, associations) for o in rows[:limit]]}
        if len(rows) > limit:
            page["paging"] = {"next": {"after": rows[limit]["id"]}}  # HubSpot's list cursor is the next id
        return page

    def _search(self, object_type: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        (group,) = body["filterGroups"]
        (condition,) = group["filters"]
        if condition["propertyName"] != _mod_property(object_type) or condition["operator"] != "GTE":
            return 400, {}, {"status": "error", "message": f"unexpected filter {condition}", "category": "VALIDATION_ERROR"}
        since = int(condition["value"])
        limit, offset = min(int(body["limit"]), 200), int(body.get("after", 0))
        if offset + limit > self.ceiling:
            return 400, {}, {"status": "error", "category": "VALIDATION_ERROR",
                             "message": f"The search API cannot page past {self.ceiling} results"}

        def modified(o: dict[str, Any]) -> int:
            return epoch_millis(parse_time(o["properties"][_mod_property(object_type)]))

        rows = sorted((o for o in self.objects[object_type].values() if not o["archived"] and modified(o) >= since),
                      key=lambda o: (modified(o), int(o["id"])))
        shown = rows[offset : offset + limit]
        page: dict[str, Any] = {"total": len(rows), "results": [self._shape(object_type, o, body["properties"], []) for o in shown]}
        if offset + limit < len(rows):
            page["paging"] = {"next": {"after": str(offset + limit)}}
        return 200, {}, page

    def _associations(self, from_type: str, to_type: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        results, errors = [], []
        for item in body["inputs"]:
            targets = [{"id": t_id, "type": f"{from_type[:-1]}_to_{to_type[:-1]}"}
                       for (f_type, f_id, t_type, t_id) in sorted(self.links)
                       if (f_type, f_id, t_type) == (from_type, item["id"], to_type)]
            if targets:
                results.append({"from": {"id": item["id"]}, "to": targets})
            else:
                errors.append({"status": "error", "category": "OBJECT_NOT_FOUND", "message": f"No {to_type} is associated"})
        return (207 if errors else 200), {}, {"status": "COMPLETE", "results": results, "numErrors": len(errors), "errors": errors}


def _offset_page(rows: list[dict[str, Any]], offset: int, limit: int) -> dict[str, Any]:
    page: dict[str, Any] = {"results": rows[offset : offset + limit]}
    if offset + limit < len(rows):
        page["paging"] = {"next": {"after": str(offset + limit)}}
    return page


def _recorded(root: Path, name: str, method: str, path: str) -> Any:
    return json.loads((root / f"{name}.test.json").read_text())["api"][method][path]["response"]


def load_portal(datasets: Path) -> FakePortal:
    root = datasets / "crm_api_fixtures" / "hubspot_nango"
    companies = _recorded(root, "companies", "get", "/crm/v3/objects/companies")["results"]
    contacts = _recorded(root, "contacts", "get", "/crm/v3/objects/contacts")["results"]
    deals = _recorded(root, "deals", "get", "/crm/v3/objects/deals")["results"]
    listed_deals = _recorded(root, "list-deals", "get", "/crm/v3/objects/deals")["results"]
    pipeline_of = {d["id"]: d["properties"].get("pipeline") for d in listed_deals}
    for deal in deals:  # the same deals recorded twice: one recording has the owner, the other the pipeline
        if pipeline_of.get(deal["id"]):
            deal["properties"]["pipeline"] = pipeline_of[deal["id"]]
    note = _recorded(root, "create-note", "post", "/crm/v3/objects/notes")
    portal = FakePortal(
        objects={"companies": {o["id"]: o for o in companies}, "contacts": {o["id"]: o for o in contacts},
                 "deals": {o["id"]: o for o in deals}, "notes": {note["id"]: note}, "calls": {}, "meetings": {}, "emails": {}},
        owners=_recorded(root, "owners", "get", "/crm/v3/owners")["results"],
        pipelines=_recorded(root, "fetch-pipelines", "get", "/crm/v3/pipelines/deals"),
    )
    portal.link("contacts", NOTE_CONTACT, "companies", NOTE_COMPANY)  # recorded: create-association
    portal.link("notes", NOTE_ID, "contacts", NOTE_CONTACT)  # recorded: the note's create request
    # not recorded: Brian and Maria (sample contacts whose company property is "HubSpot") at HubSpot,
    # two deals with their company and contacts, and a call, a meeting and e-mails like the note
    portal.link("contacts", BRIAN, "companies", HUBSPOT_COMPANY)
    portal.link("contacts", MARIA, "companies", HUBSPOT_COMPANY)
    deal_links = (("493593663734", NOTE_COMPANY, [NOTE_CONTACT]), ("479475667160", HUBSPOT_COMPANY, [BRIAN, MARIA]))
    for deal_id, company, people in deal_links:
        portal.link("deals", deal_id, "companies", company)
        for person in people:
            portal.link("deals", deal_id, "contacts", person)
    portal.objects["calls"]["480000000001"] = _engagement(
        "480000000001", "2026-02-26T09:30:00Z", hs_call_title="Follow up with Brian", hs_call_direction="OUTBOUND",
        hs_call_body="<p>Brian wants a <b>pricing</b> overview for 40 seats.</p>", hubspot_owner_id="88842095")
    portal.link("calls", "480000000001", "contacts", BRIAN)
    portal.objects["meetings"]["480000000002"] = _engagement("480000000002", "2026-02-27T14:00:00Z", hs_meeting_title="Quote review",
        hs_meeting_body="Walked Maria through the quote.", hs_internal_meeting_notes="She must convince her CFO.")
    portal.link("meetings", "480000000002", "companies", HUBSPOT_COMPANY)
    portal.link("meetings", "480000000002", "contacts", MARIA)
    portal.objects["emails"]["480000000003"] = _engagement("480000000003", "2026-02-28T08:00:00Z", hs_email_subject="Question",
        hs_email_text="Do you offer an API?", hs_email_direction="INCOMING_EMAIL")
    portal.link("emails", "480000000003", "contacts", NO_COMPANY_CONTACT)
    return portal


def _engagement(object_id: str, at: str, **properties: Any) -> dict[str, Any]:
    return {"id": object_id, "createdAt": at, "updatedAt": at, "archived": False,
            "properties": {"hs_object_id": object_id, "hs_timestamp": at, "hs_createdate": at, "hs_lastmodifieddate": at,
                           **properties}}


@contextmanager
def serving(portal: FakePortal) -> Iterator[FakePortal]:
    """The portal on a real threaded HTTP server on loopback."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            split = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(split.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            with portal.lock:
                seen = SeenRequest(self.command, split.path, query, body)
                portal.requests.append(seen)
                if portal.on_request is not None:
                    portal.on_request(seen)
                status, headers, answer = portal.answer(self.command, split.path, query, body, self.headers.get("Authorization", ""))
                seen.status = status
            payload = json.dumps(answer).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json;charset=utf-8", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def date_time_string(self, timestamp: float | None = None) -> str:
            return format_datetime(portal.clock, usegmt=True)  # the portal's clock, not ours

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    portal.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield portal
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def portal(datasets: Path) -> Iterator[FakePortal]:
    with serving(load_portal(datasets)) as running:
        yield running


# --- harness: the real runner, profile store and indexer ---------------------------------


@dataclass
class Harness:
    portal: FakePortal
    container: Container
    sleeps: list[float] = field(default_factory=list)

    def connector(self, token: str = TOKEN, **options: Any) -> HubSpotConnector:
        options = {"page_size": 10, "backoff_seconds": 0.5, **options}
        config = HubSpotSourceConfig(base_url=self.portal.url, access_token=token, **options)
        return HubSpotConnector(config, sleep=self.sleeps.append)

    def sync(self, batch_records: int = 5000, **options: Any) -> SyncReport:
        connector = self.connector(**options)
        self.container.sync_state.register_source("hubspot", "hubspot", connector.config.stored_config())
        runner = SyncRunner(self.container.sync_state, self.container.indexer, profiles=self.container.profiles,
                            batch_records=batch_records)
        return runner.run("hubspot", connector, Visibility.INTERNAL)

    def count(self, model: type) -> int:
        with self.container.db.session() as session:
            return session.scalar(select(func.count()).select_from(model).where(model.source == "hubspot"))

    def get(self, model: type, record_id: str) -> Any:
        with self.container.db.session() as session:
            row = session.get(model, record_id)
            session.expunge_all()
            return row

    def cursor(self) -> HubSpotCursor:
        return self.container.sync_state.load_cursor("hubspot", HubSpotCursor)

    def documents(self) -> dict[str, Any]:
        return self.container.indexer.known_documents("hubspot")


def make_container(tmp_path: Path, database_url: str, embedder: object, **settings: Any) -> Container:
    settings_ = Settings(workspace=tmp_path / "ws", database={"url": database_url}, embedding={"specialists": {}}, **settings)
    container = Container(settings_)
    container.__dict__["embedder"] = embedder  # the session's already-loaded model
    return container


@pytest.fixture
def harness(tmp_path: Path, portal: FakePortal, embedder: object) -> Iterator[Harness]:
    container = make_container(tmp_path, f"sqlite:///{tmp_path / 'journey.db'}", embedder)
    yield Harness(portal, container)
    container.close()


def drain(items: Generator[Any, None, LoadResult[HubSpotCursor]]) -> tuple[list[Any], LoadResult[HubSpotCursor]]:
    collected: list[Any] = []
    while True:
        try:
            collected.append(next(items))
        except StopIteration as stop:
            return collected, stop.value


def counts(h: Harness) -> dict[str, int]:
    return {m.__tablename__: h.count(m) for m in (Account, Contact, Deal, DealContact, Owner, Touchpoint)}


EXPECTED = {"accounts": 57, "contacts": 26, "deals": 21, "deal_contacts": 3, "owners": 2, "touchpoints": 4}
"""What the recordings hold (plus the marked additions: 3 deal contacts, 3 engagements)."""


# --- tests ------------------------------------------------------------------------------


def test_journey_sync_hubspot_loads_every_recorded_object(
    tmp_path: Path, portal: FakePortal, database_url: str, embedder: object
) -> None:
    """The container path `journey sync hubspot` takes: source from settings, token never stored."""
    container = make_container(tmp_path, database_url, embedder,
                               hubspot={"access_token": TOKEN, "base_url": portal.url, "page_size": 10})
    h = Harness(portal, container)
    try:
        name = container.crm_source("hubspot")
        assert TOKEN not in json.dumps(container.sync_state.get_source(name).config)
        report = container.sync(name)
        assert report.failed == [] and report.complete
        assert counts(h) == EXPECTED
        assert len(portal.seen("GET", "/crm/v3/objects/companies")) == 6  # 57 companies, 10 a page
        eleventh = sorted(portal.objects["companies"], key=int)[10]
        assert [r.query.get("after") for r in portal.seen("GET", "/crm/v3/objects/companies")][:2] == [None, eleventh]

        maria = h.get(Contact, f"hubspot:contact:{MARIA}")
        assert (maria.account_id, maria.email, maria.job_title) == (
            f"hubspot:account:{HUBSPOT_COMPANY}", "emailmaria@hubspot.com", "Salesperson")
        deal = h.get(Deal, "hubspot:deal:479475667160")
        assert (deal.pipeline, deal.stage, deal.status, deal.account_id) == (
            "Sales Pipeline", "Appointment Scheduled", "open", f"hubspot:account:{HUBSPOT_COMPANY}")
        assert deal.contact_id == f"hubspot:contact:{BRIAN}" and float(deal.amount) == 3000
        link = h.get(DealContact, f"hubspot:deal_contact:479475667160-{MARIA}")
        assert (link.deal_id, link.contact_id) == ("hubspot:deal:479475667160", f"hubspot:contact:{MARIA}")
        note = h.get(Touchpoint, f"hubspot:touchpoint:note-{NOTE_ID}")
        assert (note.type, note.kind, note.contact_id, note.owner_id) == (
            "note", "owned", f"hubspot:contact:{NOTE_CONTACT}", "hubspot:owner:88842095")
        assert note.account_id == f"hubspot:account:{NOTE_COMPANY}"  # the note names a contact; its company is the account
        assert note.occurred_at.replace(tzinfo=timezone.utc) == datetime(2026, 3, 12, 10, tzinfo=timezone.utc)
        call = h.get(Touchpoint, "hubspot:touchpoint:call-480000000001")
        assert (call.world, call.channel, call.direction, call.title) == ("offline", "phone", "outbound", "Follow up with Brian")

        with container.db.session() as session:
            rows = session.scalars(select(Document).where(Document.source_name == name))
            indexed = {d.uri: (d.visibility, d.account_id) for d in rows}
        assert indexed == {  # internal, and each only for its account
            f"hubspot/notes/{NOTE_ID}": ("internal", f"hubspot:account:{NOTE_COMPANY}"),
            "hubspot/calls/480000000001": ("internal", f"hubspot:account:{HUBSPOT_COMPANY}"),
            "hubspot/meetings/480000000002": ("internal", f"hubspot:account:{HUBSPOT_COMPANY}"),
        }
        assert h.cursor().stats.documents_without_account == 1  # the e-mail's contact has no company

        again = container.sync(name)  # nothing changed: search finds only what the cursor already holds
        assert again.records.total("added") == again.records.total("updated") == 0 and again.added == again.updated == 0
        searches = portal.seen("POST", "/crm/v3/objects/contacts/search")
        assert searches and searches[0].body["filterGroups"][0]["filters"][0]["propertyName"] == "lastmodifieddate"
        assert counts(h) == EXPECTED
    finally:
        container.close()


def test_engagement_text_becomes_internal_documents_of_their_account(harness: Harness) -> None:
    items, result = drain(harness.connector().load(None, {}))
    documents = {d.uri: d for d in items if isinstance(d, SourceDocument)}
    note = documents[f"hubspot/notes/{NOTE_ID}"]
    assert note.content == b"Test note created via Nango action" and note.media_type == "text/plain"
    assert (note.visibility, note.account_id) == (Visibility.INTERNAL, Ref("account", NOTE_COMPANY))
    assert note.title == "Note 2026-03-12: Test note created via Nango action"
    call = documents["hubspot/calls/480000000001"]
    assert call.media_type == "text/html" and call.account_id == Ref("account", HUBSPOT_COMPANY)
    meeting = documents["hubspot/meetings/480000000002"]
    assert b"Walked Maria through the quote." in meeting.content and b"CFO" in meeting.content
    assert "hubspot/emails/480000000003" not in documents  # no account: it would reach every rep
    email = next(r for r in items if isinstance(r, ProfileRecord) and r.source_id == "email-480000000003")
    assert (email.values["type"], email.values["direction"], email.values["world"]) == ("email", "inbound", "online")
    assert result.complete and result.complete_entities == {"owner", "account", "contact", "deal", "deal_contact", "touchpoint"}
    records = [r for r in items if isinstance(r, ProfileRecord)]
    assert sum(r.entity == "account" for r in records) == EXPECTED["accounts"]
    assert len({(r.entity, r.source_id) for r in records}) == len(records)  # nothing twice


def test_429_waits_as_long_as_retry_after_says(harness: Harness) -> None:
    harness.portal.fail("GET", "/crm/v3/objects/companies", 429, headers={"Retry-After": "3"},
                        body={"status": "error", "message": "You have reached your secondly limit.", "errorType": "RATE_LIMIT",
                              "policyName": "SECONDLY"})
    report = harness.sync()
    assert harness.sleeps == [3.0]
    assert [r.status for r in harness.portal.seen("GET", "/crm/v3/objects/companies")][:2] == [429, 200]
    assert report.failed == [] and harness.count(Account) == EXPECTED["accounts"]


def test_5xx_is_retried_with_growing_waits_and_then_gives_up(harness: Harness) -> None:
    harness.portal.fail("GET", "/crm/v3/objects/contacts", 502, times=2)
    harness.sync()
    assert harness.sleeps == [0.5, 1.0] and harness.count(Contact) == EXPECTED["contacts"]

    harness.portal.fail("POST", "/crm/v3/objects/deals/search", 503, times=99)
    with pytest.raises(HubSpotError, match=r"kept answering 503 to POST /crm/v3/objects/deals/search after 2 retries"):
        harness.sync(max_retries=2)
    assert len(harness.portal.seen("POST", "/crm/v3/objects/deals/search")) == 3


def test_a_refused_token_stops_at_once_with_a_clear_message(harness: Harness) -> None:
    with pytest.raises(HubSpotAuthError, match=r"HubSpot refused the access token \(401\): Authentication credentials not found.*"
                                                 r"check hubspot.access_token"):
        harness.sync(token="pat-expired")
    assert len(harness.portal.requests) == 1 and harness.sleeps == [] and harness.cursor() is None
    harness.portal.fail("GET", "/crm/v3/pipelines/deals", 403, body={
        "status": "error", "category": "MISSING_SCOPES",
        "message": "This app hasn't been granted all required scopes to make this call.",
        "errors": [{"message": "One or more of the following scopes are required.",
                    "context": {"requiredGranularScopes": ["crm.objects.deals.read"]}}]})
    with pytest.raises(HubSpotAuthError, match=r"\(403\): This app hasn't been granted .* \(it needs crm.objects.deals.read\); "
                                                 r"check hubspot.access_token and the private app's scopes"):
        drain(harness.connector().load(None, {}))
    with pytest.raises(HubSpotAuthError, match="no HubSpot access token"):
        drain(harness.connector(token="").load(None, {}))


def test_a_sync_killed_midway_resumes_from_the_saved_cursor(harness: Harness) -> None:
    portal = harness.portal
    harness.sync()
    saved = harness.cursor()
    portal.modify("contacts", "713807329484", jobtitle="Head of Procurement")
    portal.modify("deals", "479475667160", dealstage="closedwon", closedate="2026-03-18T00:00:00Z")
    portal.add("notes", "478100000001", hs_timestamp="2026-03-18T11:00:00Z", hs_note_body="<p>Signed for 40 seats.</p>")
    portal.link("notes", "478100000001", "companies", HUBSPOT_COMPANY)
    portal.fail("POST", "/crm/v3/objects/deals/search", 500, times=1)
    with pytest.raises(HubSpotError):
        harness.sync(max_retries=0, batch_records=1)  # contacts were written, deals were not, the cursor stayed
    assert harness.cursor() == saved and harness.get(Contact, "hubspot:contact:713807329484").job_title == "Head of Procurement"

    requests_before = len(portal.requests)
    report = harness.sync()
    assert report.failed == []
    first_search: dict[str, SeenRequest] = {}
    for request in portal.requests[requests_before:]:
        if request.path.endswith("/search"):
            first_search.setdefault(request.path.split("/")[4], request)
    assert set(first_search) == {"companies", "contacts", "deals", "notes", "calls", "meetings", "emails"}
    for object_type, request in first_search.items():  # every type starts again at the saved cursor
        assert request.body["filterGroups"][0]["filters"][0]["value"] == str(epoch_millis(saved.objects[object_type].since))
    records = report.records.to_dict()
    assert records["contact"] == {"added": 0, "updated": 0, "unchanged": 1, "deleted": 0}  # written by the killed run
    assert records["deal"]["updated"] == 1 and records["touchpoint"]["added"] == 1
    assert sum(c["added"] for c in records.values()) == 1 and report.added == 1  # the new note and its document
    deal = harness.get(Deal, "hubspot:deal:479475667160")
    assert (deal.stage, deal.status, str(deal.closed_on)) == ("Closed Won", "won", "2026-03-18")
    assert counts(harness) == {**EXPECTED, "touchpoints": 5}


def test_a_record_changed_while_the_listing_runs_is_read_next_time(harness: Harness) -> None:
    portal = harness.portal
    first, last = sorted(portal.objects["companies"], key=int)[0], sorted(portal.objects["companies"], key=int)[-1]

    edited: list[str] = []

    def edit_during_listing(request: SeenRequest) -> None:
        if request.path == "/crm/v3/objects/companies" and request.query.get("after") and not edited:
            edited.append(request.query["after"])
            portal.modify("companies", first, name="Renamed after its page was read")  # on page 1, already served
            portal.modify("companies", last, name="Renamed before its page was read")  # seen later, with a newer time

    portal.on_request = edit_during_listing
    harness.sync()
    portal.on_request = None
    assert harness.get(Account, f"hubspot:account:{last}").name == "Renamed before its page was read"
    assert harness.cursor().objects["companies"].since <= datetime(2026, 3, 18, 12, tzinfo=timezone.utc)
    harness.sync()
    assert harness.get(Account, f"hubspot:account:{first}").name == "Renamed after its page was read"


def test_archived_records_leave_the_store_and_the_index(harness: Harness) -> None:
    harness.sync()
    assert f"hubspot/notes/{NOTE_ID}" in harness.documents()
    harness.portal.archive("contacts", "713688692984")
    harness.portal.archive("notes", NOTE_ID)
    report = harness.sync()
    assert report.records.to_dict()["contact"]["deleted"] == 1 and report.deleted == 1
    assert harness.get(Contact, "hubspot:contact:713688692984") is None
    assert harness.get(Touchpoint, f"hubspot:touchpoint:note-{NOTE_ID}") is None
    assert f"hubspot/notes/{NOTE_ID}" not in harness.documents()
    assert any(r.query.get("archived") == "true" for r in harness.portal.seen("GET", "/crm/v3/objects/contacts"))
    assert harness.count(Contact) == EXPECTED["contacts"] - 1


def test_search_pages_stay_under_the_ceiling_and_lose_nothing(harness: Harness) -> None:
    portal = harness.portal
    harness.sync()
    saved = harness.cursor().objects["contacts"]
    portal.ceiling = 4
    base = portal.clock
    portal.tick(600)
    minutes = {"713492963559": 1, "713688692984": 2, "713802347732": 3, "713807329484": 3, "713903210728": 3,
               "716934760684": 4, "716988535028": 5}  # three modified in the same millisecond
    for contact_id, minute in minutes.items():
        portal.modify("contacts", contact_id, at=base + timedelta(minutes=minute), jobtitle=f"Title {minute}")
    requests_before = len(portal.requests)
    report = harness.sync(page_size=2, search_result_ceiling=4)
    assert report.records.to_dict()["contact"]["updated"] == len(minutes)
    searches = [r for r in portal.requests[requests_before:] if r.path == "/crm/v3/objects/contacts/search"]
    assert all(r.status == 200 for r in searches)
    since_values = [int(r.body["filterGroups"][0]["filters"][0]["value"]) for r in searches]
    at = [epoch_millis(saved.since)] + [epoch_millis(base + timedelta(minutes=m)) for m in (1, 2, 3, 3, 4)]
    assert since_values == at  # each page restarts from the newest time seen ...
    assert [r.body.get("after") for r in searches] == [None, None, None, None, "2", None]  # ... or pages on in a block
    assert harness.cursor().objects["contacts"].since == base + timedelta(minutes=5)
    assert harness.cursor().objects["contacts"].ids_at_since == ["716988535028"]


def test_a_block_of_equal_times_beyond_the_ceiling_falls_back_to_a_listing(harness: Harness) -> None:
    portal = harness.portal
    harness.sync()
    portal.ceiling = 4
    same_time = portal.tick()
    block = ["713492963559", "713688692984", "713802347732", "713807329484", "713903210728"]
    for contact_id in block:
        portal.modify("contacts", contact_id, at=same_time, jobtitle="Buyer")
    requests_before = len(portal.requests)
    report = harness.sync(page_size=2, search_result_ceiling=4)
    assert report.records.to_dict()["contact"]["updated"] == len(block)
    assert all(r.status in (200, 207) for r in portal.requests[requests_before:])  # never past the ceiling
    assert any(r.path == "/crm/v3/objects/contacts" and "archived" not in r.query for r in portal.requests[requests_before:])
    assert harness.cursor().objects["contacts"].listed_at == portal.clock


def test_a_periodic_full_listing_removes_what_the_archive_cannot_show(harness: Harness) -> None:
    harness.sync()
    harness.portal.links -= {("deals", "479475667160", "contacts", MARIA), ("contacts", MARIA, "deals", "479475667160")}
    harness.portal.tick(8 * 24 * 3600)
    requests_before = len(harness.portal.requests)
    report = harness.sync()
    assert report.records.to_dict()["deal_contact"]["deleted"] == 1
    assert harness.count(DealContact) == EXPECTED["deal_contacts"] - 1
    this_run = harness.portal.requests[requests_before:]
    assert not [r for r in this_run if r.path.endswith("/search")]
    assert harness.cursor().objects["deals"].listed_at == harness.portal.clock


def test_stages_map_to_open_won_and_lost_from_the_recorded_pipeline(datasets: Path) -> None:
    pipelines = load_portal(datasets).pipelines["results"]
    book = StageBook(pipelines)
    assert [(s.label, s.status()) for s in (book.find("default", "appointmentscheduled"), book.find("default", "closedwon"),
                                            book.find(None, "closedlost"))] == [
        ("Appointment Scheduled", "open"), ("Closed Won", "won"), ("Closed Lost", "lost")]
    assert book.find("default", "nope") is None
    assert parse_time("1773300826615") == datetime(2026, 3, 12, 7, 33, 46, 615000, tzinfo=timezone.utc)
    saved = HubSpotCursor(objects={"deals": {"since": "2026-03-12T07:34:23.259Z", "ids_at_since": ["1"]}})
    cursor = HubSpotCursor.model_validate_json(saved.model_dump_json())
    assert cursor.objects["deals"].since == datetime(2026, 3, 12, 7, 34, 23, 259000, tzinfo=timezone.utc)
    assert epoch_millis(cursor.objects["deals"].since) == 1773300863259
    config = HubSpotSourceConfig(access_token="secret")
    assert "access_token" not in config.stored_config() and "secret" not in config.model_dump_json()


@pytest.mark.slow
def test_crm_notes_are_found_only_by_reps_of_their_account(harness: Harness) -> None:
    harness.sync()
    retriever = harness.container.retriever
    query = "pricing overview for 40 seats"
    own = {h.uri for h in retriever.search(query, 5, SearchFilters(account_ids=(f"hubspot:account:{HUBSPOT_COMPANY}",)))}
    assert "hubspot/calls/480000000001" in own
    other = {h.uri for h in retriever.search(query, 5, SearchFilters(account_ids=(f"hubspot:account:{NOTE_COMPANY}",)))}
    assert "hubspot/calls/480000000001" not in other and f"hubspot/notes/{NOTE_ID}" in other
    assert not {h.uri for h in retriever.search(query, 5, SearchFilters(visibility=("public",)))}
