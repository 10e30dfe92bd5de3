"""A fake Salesforce org on loopback that serves recorded real answers, and the harness
that syncs it through the real runner, profile store and indexer.

The fake serves the recorded SOQL answers of a real org (Nango's recordings: 2,086
Accounts in two pages, 213 Contacts, 31 Opportunities, 8 Users), the recorded global
describe and object describes (Nango's Account; CumulusCI's Contact, Lead, Opportunity,
OpportunityContactRole, Event), and the recorded Event query answer of CumulusCI. The
recordings hold no Lead, OpportunityContactRole or Task query answers, no Task or User
describe and no activity with a Description: those records, two describes and the
descriptions are written here in the recorded shapes, pointing at recorded ids, and marked
"written". The fake filters ``SystemModstamp >``, pages through ``nextRecordsUrl``,
answers ``Who.Name`` style fields from the records the lookup points to, refuses fields
its describe lacks (INVALID_FIELD) and SOQL it cannot read (MALFORMED_QUERY), and hides
deleted records from ``/query`` but not ``/queryAll``.

Tests import it as ``salesforce_fake`` (pytest puts ``tests/`` on ``sys.path``).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from assistant.container import Container
from assistant.settings import Settings
from connectors.runner import SyncReport, SyncRunner
from connectors.salesforce import SalesforceConnector, SalesforceCursor, SalesforceSourceConfig
from connectors.salesforce.objects import parse_time
from knowledge.db import Database
from knowledge.documents import KnownDocument, Visibility
from knowledge.models import SyncRun
from knowledge.profiles import ProfileStore
from knowledge.profiles.models import Account, Contact, Deal, Owner, Touchpoint
from knowledge.sync_state import SyncState

SOURCE = "salesforce"
TOKEN = "00DdM00000vfgTu!recorded-session"
VERSION = "v59.0"  # the version the Nango recordings were made with
SOQL = re.compile(r"^SELECT (?P<fields>.+?) FROM (?P<sobject>\w+)"
                  r"(?: WHERE SystemModstamp > (?P<since>\S+))? ORDER BY SystemModstamp ASC$")
MALFORMED = [{"message": "\nSELECT Id FROM Opportunity WHERE\n ^\nERROR at Row:1:Column:34\nunexpected token: '<EOF>'",
              "errorCode": "MALFORMED_QUERY"}]
POLYMORPHIC = ("Who", "What")
"""Lookups that point to several objects: Salesforce answers them as the ``Name`` object."""

CALL_NOTE = ("Rose wants a TCO comparison against their current on-premise setup before the board meeting on "
             "12 May. Send the ROI calculator and two logistics references.")
EMAIL_BODY = ("Hello Jana, as promised, attached is the datasheet of the sensor gateway with the MQTT and OPC UA "
              "specifications. Best regards")
MEETING_NOTES = ("Their IT lead wants the gateway to speak MQTT over TLS with client certificates; a pilot in the "
                 "Hamburg warehouse is planned for the third quarter.")
"""Written descriptions (none was recorded): a call on an account's deal, an e-mail to a
lead (no account), the notes of a recorded meeting at a recorded account."""


# --- the recordings ---------------------------------------------------------------------


@lru_cache(maxsize=None)
def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def nango(datasets: Path, name: str) -> dict[str, Any]:
    return _json(datasets / "crm_api_fixtures" / "salesforce_nango" / f"{name}.test.json")["api"]["get"]


def cumulusci(datasets: Path, name: str) -> list[dict[str, Any]]:
    return _json(datasets / "crm_api_fixtures" / "salesforce_cumulusci_cassettes" / "extracted" / f"{name}.json")


def recorded_records(datasets: Path, name: str) -> list[dict[str, Any]]:
    """Every record of a recorded query, page after page (as the recording followed them)."""
    return [r for answer in nango(datasets, name).values() for r in answer["response"]["records"]]


def recorded_describes(datasets: Path) -> dict[str, dict[str, Any]]:
    describes = {"Account": next(iter(nango(datasets, "describe-sobject").values()))["response"]}
    for name in ("Contact", "Lead", "Opportunity", "OpportunityContactRole", "Event"):
        describes[name] = cumulusci(datasets, f"cumulusci__tests__shared_cassettes__GET_sobjects_{name}_describe")[0]["body"]
    event_fields = {f["name"]: f for f in describes["Event"]["fields"]}
    activity = ["Id", "WhoId", "WhatId", "Subject", "ActivityDate", "Description", "AccountId", "OwnerId",
                "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp"]
    task_only = ["Status", "Priority", "TaskSubtype", "Type", "CallType", "CallDurationInSeconds", "CompletedDateTime"]
    describes["Task"] = {"name": "Task", "keyPrefix": "00T", "fields": [
        event_fields[n] for n in activity] + [{"name": n, "type": "string"} for n in task_only]}
    user_fields = [k for k in recorded_records(datasets, "users")[0] if k not in ("attributes", "Profile")]
    describes["User"] = {"name": "User", "keyPrefix": "005", "fields": [{"name": n, "type": "string"} for n in [*user_fields, "Name"]]}
    return describes


def sobject(type_: str, id_: str, **values: Any) -> dict[str, Any]:
    """A record in the shape a query answer holds it."""
    return {"attributes": {"type": type_, "url": f"/services/data/{VERSION}/sobjects/{type_}/{id_}"}, "Id": id_, **values}


def _recorded_event_answer(datasets: Path) -> dict[str, Any]:
    answers = cumulusci(datasets, "cumulusci__tasks__bulkdata__tests__cassettes__TestSelect.test_select_similarity_select_and_insert_strategy")
    return next(a["body"] for a in answers if "FROM%20Event" in a["uri"] and isinstance(a["body"], dict))


def _related_id(related: dict[str, Any] | None) -> str | None:
    return (related or {}).get("attributes", {}).get("url", "").rsplit("/", 1)[-1] or None


def recorded_events(datasets: Path) -> list[dict[str, Any]]:
    """CumulusCI's recorded Event answer (a TYPEOF query), in the plain-id shape the
    connector selects. The recording has no SystemModstamp; one is given."""
    events = []
    for n, r in enumerate(_recorded_event_answer(datasets)["records"]):
        events.append(sobject("Event", r["Id"], Subject=r["Subject"], DurationInMinutes=r["DurationInMinutes"],
                              ActivityDateTime=r["ActivityDateTime"], StartDateTime=r["ActivityDateTime"],
                              WhoId=_related_id(r.get("Who")), WhatId=_related_id(r.get("What")),
                              CreatedDate="2024-11-06T10:00:00.000+0000", SystemModstamp=f"2026-05-06T12:10:0{n}.000+0000"))
    return events


def recorded_names(datasets: Path) -> dict[str, tuple[str, str]]:
    """The names the recorded Event answer gives for its Who and What records (which are
    not in Nango's org): id -> (object, name). A contact's name is its recorded LastName."""
    names: dict[str, tuple[str, str]] = {}
    for r in _recorded_event_answer(datasets)["records"]:
        for related in (r.get("Who"), r.get("What")):
            if related and (name := related.get("Name") or related.get("LastName")):
                names[_related_id(related) or ""] = (related["attributes"]["type"], name)
    return names


def written_records(contacts: list[dict[str, Any]], deals: list[dict[str, Any]], account_id: str) -> dict[str, list[dict[str, Any]]]:
    """Leads, contact roles and tasks in the recorded answer shape (none were recorded).
    The first two lead ids are those CumulusCI's recording created; the rest point at
    recorded contacts, opportunities and an account."""
    at = "2026-05-06T12:00:0{}.000+0000".format
    leads = [
        sobject("Lead", "00Q9H00000C6pycUAB", FirstName="Jana", LastName="First Lead", Company="Salesforce",
                Email="jana.first@example.com", LeadSource="Web", Status="Open - Not Contacted", IsConverted=False,
                CreatedDate=at(0), SystemModstamp=at(0)),
        sobject("Lead", "00Q9H00000C6pydUAB", LastName="Second Lead", Company="Salesforce", LeadSource="Trade Show",
                Status="Working - Contacted", IsConverted=False, CreatedDate=at(1), SystemModstamp=at(1)),
        sobject("Lead", "00Q9H00000C6pyeUAB", FirstName=contacts[0]["FirstName"], LastName=contacts[0]["LastName"],
                Company="Edge Communications", Email=contacts[0]["Email"], LeadSource="Partner Referral",
                Status="Closed - Converted", IsConverted=True, ConvertedContactId=contacts[0]["Id"],
                CreatedDate=at(2), SystemModstamp=at(2)),
    ]
    roles = [
        sobject("OpportunityContactRole", "00KdM000001aAaAUAU", OpportunityId=deals[0]["Id"], ContactId=contacts[0]["Id"],
                Role="Decision Maker", IsPrimary=True, SystemModstamp=at(3)),
        sobject("OpportunityContactRole", "00KdM000001aAaBUAU", OpportunityId=deals[0]["Id"], ContactId=contacts[1]["Id"],
                Role="Evaluator", IsPrimary=False, SystemModstamp=at(3)),
        sobject("OpportunityContactRole", "00KdM000001aAaCUAU", OpportunityId=deals[1]["Id"], ContactId=contacts[2]["Id"],
                Role="Economic Buyer", IsPrimary=True, SystemModstamp=at(4)),
    ]
    tasks = [
        sobject("Task", "00TdM00000Call1UAA", Subject="Call about pricing", Description=CALL_NOTE,
                TaskSubtype="Call", CallType="Outbound", CallDurationInSeconds=540, Status="Completed",
                WhoId=contacts[0]["Id"], WhatId=deals[0]["Id"], AccountId=contacts[0]["AccountId"],
                OwnerId=deals[0]["OwnerId"], ActivityDate="2026-05-04", CreatedDate=at(5), SystemModstamp=at(5)),
        sobject("Task", "00TdM00000Mail1UAA", Subject="Email: Datasheet", Description=EMAIL_BODY, TaskSubtype="Email",
                Status="Completed", WhoId="00Q9H00000C6pycUAB", CreatedDate=at(6), SystemModstamp=at(6)),
        sobject("Task", "00TdM00000Todo1UAA", Subject="Prepare QBR", TaskSubtype="Task", Status="Not Started",
                WhatId=account_id, ActivityDate="2026-05-20", CreatedDate=at(7), SystemModstamp=at(7)),
    ]
    return {"Lead": leads, "OpportunityContactRole": roles, "Task": tasks}


def org_records(datasets: Path, describes: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    records = {name: copy.deepcopy(recorded_records(datasets, file)) for name, file in
               (("User", "users"), ("Account", "accounts"), ("Contact", "contacts"), ("Opportunity", "opportunities"))}
    records |= written_records(records["Contact"], records["Opportunity"], records["Account"][0]["Id"])
    records["Event"] = recorded_events(datasets)
    meeting = next(e for e in records["Event"] if e["Id"] == "00U9H000000RzvSUAS")  # the one at a recorded account
    meeting["Description"] = MEETING_NOTES  # written
    for name, rows in records.items():
        if any(f["name"] == "IsDeleted" for f in describes[name]["fields"]):
            for row in rows:
                row.setdefault("IsDeleted", False)
    return records


# --- the fake org -----------------------------------------------------------------------


@dataclass
class Fault:
    """A scripted failure for the next requests whose target matches: an object's query
    (``Account``), its next pages (``more:Account``) or its describe (``describe:Account``).
    A ``str`` body is sent as it is (``""``: an empty body)."""

    target: str
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


@dataclass(frozen=True)
class SeenRequest:
    path: str
    resource: str
    sobject: str | None
    soql: str | None


class FakeSalesforce:
    def __init__(self, datasets: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.describes = recorded_describes(datasets)
        self.global_describe = next(iter(nango(datasets, "describe-global").values()))["response"]
        self.records = org_records(datasets, self.describes)
        self.names = recorded_names(datasets)
        self.page_size = 2000  # Salesforce's default batch size, as in the recording
        self.faults: list[Fault] = []
        self.requests: list[SeenRequest] = []
        self._results: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        self.lock = threading.Lock()

    def queries(self, sobject: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.sobject == sobject and r.resource != "describe"]

    def record(self, sobject: str, record_id: str) -> dict[str, Any]:
        return next(r for r in self.records[sobject] if r["Id"] == record_id)

    def answer(self, path: str, query: dict[str, list[str]], authorization: str) -> tuple[int, Any, dict[str, str]]:
        if authorization != f"Bearer {TOKEN}":
            return 401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], {}
        base = f"/services/data/{VERSION}"
        if not path.startswith(base):
            return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], {}
        rest = path[len(base):]
        with self.lock:
            if rest == "/sobjects":
                self.requests.append(SeenRequest(path, "global", None, None))
                return 200, self.global_describe, {}
            if match := re.fullmatch(r"/sobjects/(\w+)/describe", rest):
                self.requests.append(SeenRequest(path, "describe", match[1], None))
                return self._fault(f"describe:{match[1]}") or self._describe(match[1])
            if match := re.fullmatch(r"/query/(\w+)-(\d+)", rest):
                sobject, rows = self._results[match[1]]
                self.requests.append(SeenRequest(path, "more", sobject, None))
                return self._fault(f"more:{sobject}") or (200, self._page(match[1], rows, int(match[2])), {})
            if rest in ("/query", "/queryAll"):
                return self._query(path, rest[1:], query.get("q", [""])[0])
        return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], {}

    def _fault(self, target: str) -> tuple[int, Any, dict[str, str]] | None:
        for fault in self.faults:
            if fault.target == target and fault.times > 0:
                fault.times -= 1
                return fault.status, fault.body, fault.headers
        return None

    def _describe(self, sobject: str) -> tuple[int, Any, dict[str, str]]:
        if sobject not in self.describes:
            return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], {}
        return 200, self.describes[sobject], {}

    def _query(self, path: str, resource: str, soql: str) -> tuple[int, Any, dict[str, str]]:
        match = SOQL.match(soql)
        self.requests.append(SeenRequest(path, resource, match["sobject"] if match else None, soql))
        if match is None:
            return 400, [{"message": f"\n{soql}\n^\nERROR at Row:1:Column:1\nunexpected token", "errorCode": "MALFORMED_QUERY"}], {}
        sobject, fields = match["sobject"], [f.strip() for f in match["fields"].split(",")]
        if fault := self._fault(sobject):
            return fault
        known = {f["name"] for f in self.describes[sobject]["fields"]}
        for name in fields:
            if (name.split(".")[0] + "Id" if "." in name else name) not in known:
                return 400, [{"message": f"\n{soql}\n^\nERROR at Row:1:Column:8\nNo such column '{name}' on entity "
                              f"'{sobject}'.", "errorCode": "INVALID_FIELD"}], {}
        since = parse_time(match["since"]) if match["since"] else None
        rows = [r for r in self.records[sobject]
                if (resource == "queryAll" or not r.get("IsDeleted"))
                and (since is None or parse_time(r["SystemModstamp"]) > since)]
        rows.sort(key=lambda r: parse_time(r["SystemModstamp"]))
        projected = [self._project(r, fields) for r in rows]
        locator = f"0r8xx{len(self._results):013d}"
        self._results[locator] = (sobject, projected)
        return 200, self._page(locator, projected, 0), {}

    def _project(self, row: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        """The selected fields; ``Rel.Name`` as the nested object Salesforce answers, from
        the record the lookup ``RelId`` points to (null when it points nowhere)."""
        projected: dict[str, Any] = {"attributes": row["attributes"]}
        for name in fields:
            relation = name.split(".")[0]
            if "." not in name or relation in row:
                projected[relation] = row.get(relation)
            else:
                projected[relation] = self._related(row.get(f"{relation}Id"), relation in POLYMORPHIC)
        return projected

    def _related(self, target_id: Any, polymorphic: bool) -> dict[str, Any] | None:
        found = self._name_of(target_id) if isinstance(target_id, str) else None
        if found is None:
            return None
        type_, name = found
        url = f"/services/data/{VERSION}/sobjects/{type_}/{target_id}"
        return {"attributes": {"type": "Name" if polymorphic else type_, "url": url}, "Name": name}

    def _name_of(self, record_id: str) -> tuple[str, str] | None:
        for type_, rows in self.records.items():
            for r in rows:
                if r["Id"] == record_id:
                    full = " ".join(p for p in (r.get("FirstName"), r.get("LastName")) if p)
                    return type_, r.get("Name") or full
        return self.names.get(record_id)

    def _page(self, locator: str, rows: list[dict[str, Any]], offset: int) -> dict[str, Any]:
        end = offset + self.page_size
        page: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows)}
        if end < len(rows):
            page["nextRecordsUrl"] = f"/services/data/{VERSION}/query/{locator}-{end}"
        page["records"] = rows[offset:end]
        return page


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        parts = urlsplit(self.path)
        status, body, headers = self.server.org.answer(parts.path, parse_qs(parts.query), self.headers.get("Authorization", ""))
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)  # also sends Date, the org's clock
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    org: FakeSalesforce


@contextmanager
def serving(datasets: Path) -> Iterator[FakeSalesforce]:
    """The fake org, answering on a free port of 127.0.0.1 until the block ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.org = FakeSalesforce(datasets, server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.org
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the real store, runner and indexer -------------------------------------------------


def make_container(workspace: Path, database_url: str, embedder: object, **settings: Any) -> Container:
    """The composition root on ``workspace``, with the session's already-loaded model and
    no language specialists (they would load more models)."""
    container = Container(Settings(workspace=workspace, database={"url": database_url}, embedding={"specialists": {}},
                                   **settings))
    container.__dict__["embedder"] = embedder
    return container


@dataclass
class Sync:
    """Syncs the fake org through the real runner into the container's stores. The profile
    store runs without identity resolution, which its own tests cover."""

    container: Container
    org: FakeSalesforce
    sleeps: list[float] = field(default_factory=list)
    db: Database = field(init=False)
    state: SyncState = field(init=False)
    store: ProfileStore = field(init=False)

    def __post_init__(self) -> None:
        self.db = self.container.db
        self.state = self.container.sync_state
        self.store = ProfileStore(self.db)

    def config(self, **overrides: Any) -> SalesforceSourceConfig:
        values = {"instance_url": self.org.url, "access_token": TOKEN, "api_version": VERSION, "timeout_seconds": 5}
        return SalesforceSourceConfig(**(values | overrides))

    def connector(self, **overrides: Any) -> SalesforceConnector:
        return SalesforceConnector(self.config(**overrides), sleep=self.sleeps.append)

    def run(self, batch_records: int = 5000, **overrides: Any) -> SyncReport:
        connector = self.connector(**overrides)
        self.state.register_source(SOURCE, "salesforce", connector.config.stored_config())
        runner = SyncRunner(self.state, lambda: self.container.indexer, profiles=self.store, batch_records=batch_records)
        return runner.run(SOURCE, connector, Visibility.INTERNAL)

    def last_run(self) -> SyncRun:
        with self.db.session() as session:
            run = session.scalars(select(SyncRun).where(SyncRun.source_name == SOURCE).order_by(SyncRun.id.desc())).first()
            session.expunge_all()
            return run

    def count(self, entity: str) -> int:
        return len(self.store.known_source_ids(SOURCE, entity))

    def cursor(self) -> dict[str, datetime]:
        saved = self.state.load_cursor(SOURCE, SalesforceCursor)
        return saved.modstamps if saved else {}

    def documents(self) -> dict[str, KnownDocument]:
        """What the content store holds for the source, by uri."""
        return self.container.indexer.known_documents(SOURCE)

    def get(self, model: type, source_id: str) -> Any:
        entity = {Account: "account", Contact: "contact", Deal: "deal", Owner: "owner", Touchpoint: "touchpoint"}[model]
        with self.db.session() as session:
            row = session.get(model, f"{SOURCE}:{entity}:{source_id}")
            session.expunge_all()
            return row


@contextmanager
def open_sync(workspace: Path, database_url: str, org: FakeSalesforce, embedder: object) -> Iterator[Sync]:
    container = make_container(workspace, database_url, embedder)
    try:
        yield Sync(container, org)
    finally:
        container.close()


def expected_counts(org: FakeSalesforce) -> dict[str, int]:
    live = {name: [r for r in rows if not r.get("IsDeleted")] for name, rows in org.records.items()}
    return {"owner": len(live["User"]), "account": len(live["Account"]), "contact": len(live["Contact"]) + len(live["Lead"]),
            "deal": len(live["Opportunity"]), "deal_contact": len(live["OpportunityContactRole"]),
            "touchpoint": len(live["Task"]) + len(live["Event"])}
