"""The Salesforce connector against a fake org on loopback that serves recorded real answers.

The fake serves the recorded SOQL answers of a real org (Nango's recordings: 2,086
Accounts in two pages, 213 Contacts, 31 Opportunities, 8 Users), the recorded global
describe and object describes (Nango's Account; CumulusCI's Contact, Lead, Opportunity,
OpportunityContactRole, Event), and the recorded Event query answer of CumulusCI. The
recordings hold no Lead, OpportunityContactRole or Task query answers and no Task or User
describe: those few records and two describes are written below in the recorded shapes,
pointing at recorded ids. The fake filters ``SystemModstamp >``, pages through
``nextRecordsUrl``, refuses fields its describe lacks (INVALID_FIELD) and SOQL it cannot
read (MALFORMED_QUERY), and hides deleted records from ``/query`` but not ``/queryAll``.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from connectors.registry import build_connector
from connectors.runner import SyncReport, SyncRunner
from connectors.salesforce import (
    SalesforceAuthError,
    SalesforceConnector,
    SalesforceCursor,
    SalesforceSourceConfig,
    SalesforceUnavailable,
)
from connectors.salesforce.client import error_for
from connectors.salesforce.connector import parse_modstamp
from connectors.salesforce.objects import SPECS, deal_status, email_domain_of, task_type
from knowledge.db import Database
from knowledge.documents import Visibility
from knowledge.models import SyncRun
from knowledge.profiles import ProfileStore
from knowledge.profiles.models import Account, Contact, Deal, DealContact, Owner, Touchpoint
from knowledge.sync_state import SyncState

SOURCE = "salesforce"
TOKEN = "00DdM00000vfgTu!recorded-session"
VERSION = "v59.0"  # the version the Nango recordings were made with
SOQL = re.compile(r"^SELECT (?P<fields>.+?) FROM (?P<sobject>\w+)"
                  r"(?: WHERE SystemModstamp > (?P<since>\S+))? ORDER BY SystemModstamp ASC$")
MALFORMED = [{"message": "\nSELECT Id FROM Opportunity WHERE\n ^\nERROR at Row:1:Column:34\nunexpected token: '<EOF>'",
              "errorCode": "MALFORMED_QUERY"}]


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


def _sobject(type_: str, id_: str, **values: Any) -> dict[str, Any]:
    return {"attributes": {"type": type_, "url": f"/services/data/{VERSION}/sobjects/{type_}/{id_}"}, "Id": id_, **values}


def recorded_events(datasets: Path) -> list[dict[str, Any]]:
    """CumulusCI's recorded Event answer (a TYPEOF query), in the plain-id shape the
    connector selects. The recording has no SystemModstamp; one is given."""
    answers = cumulusci(datasets, "cumulusci__tasks__bulkdata__tests__cassettes__TestSelect.test_select_similarity_select_and_insert_strategy")
    body = next(a["body"] for a in answers if "FROM%20Event" in a["uri"] and isinstance(a["body"], dict))
    events = []
    for n, r in enumerate(body["records"]):
        who, what = r.get("Who") or {}, r.get("What") or {}
        events.append(_sobject("Event", r["Id"], Subject=r["Subject"], DurationInMinutes=r["DurationInMinutes"],
                               ActivityDateTime=r["ActivityDateTime"], StartDateTime=r["ActivityDateTime"],
                               WhoId=who.get("attributes", {}).get("url", "").rsplit("/", 1)[-1] or None,
                               WhatId=what.get("attributes", {}).get("url", "").rsplit("/", 1)[-1] or None,
                               CreatedDate="2024-11-06T10:00:00.000+0000", SystemModstamp=f"2026-05-06T12:10:0{n}.000+0000"))
    return events


def written_records(contacts: list[dict[str, Any]], deals: list[dict[str, Any]], account_id: str) -> dict[str, list[dict[str, Any]]]:
    """Leads, contact roles and tasks in the recorded answer shape (none were recorded).
    The first two lead ids are those CumulusCI's recording created; the rest point at
    recorded contacts, opportunities and an account."""
    at = "2026-05-06T12:00:0{}.000+0000".format
    leads = [
        _sobject("Lead", "00Q9H00000C6pycUAB", FirstName="Jana", LastName="First Lead", Company="Salesforce",
                 Email="jana.first@example.com", LeadSource="Web", Status="Open - Not Contacted", IsConverted=False,
                 CreatedDate=at(0), SystemModstamp=at(0)),
        _sobject("Lead", "00Q9H00000C6pydUAB", LastName="Second Lead", Company="Salesforce", LeadSource="Trade Show",
                 Status="Working - Contacted", IsConverted=False, CreatedDate=at(1), SystemModstamp=at(1)),
        _sobject("Lead", "00Q9H00000C6pyeUAB", FirstName=contacts[0]["FirstName"], LastName=contacts[0]["LastName"],
                 Company="Edge Communications", Email=contacts[0]["Email"], LeadSource="Partner Referral",
                 Status="Closed - Converted", IsConverted=True, ConvertedContactId=contacts[0]["Id"],
                 CreatedDate=at(2), SystemModstamp=at(2)),
    ]
    roles = [
        _sobject("OpportunityContactRole", "00KdM000001aAaAUAU", OpportunityId=deals[0]["Id"], ContactId=contacts[0]["Id"],
                 Role="Decision Maker", IsPrimary=True, SystemModstamp=at(3)),
        _sobject("OpportunityContactRole", "00KdM000001aAaBUAU", OpportunityId=deals[0]["Id"], ContactId=contacts[1]["Id"],
                 Role="Evaluator", IsPrimary=False, SystemModstamp=at(3)),
        _sobject("OpportunityContactRole", "00KdM000001aAaCUAU", OpportunityId=deals[1]["Id"], ContactId=contacts[2]["Id"],
                 Role="Economic Buyer", IsPrimary=True, SystemModstamp=at(4)),
    ]
    tasks = [
        _sobject("Task", "00TdM00000Call1UAA", Subject="Call about pricing", Description="Wants a TCO comparison",
                 TaskSubtype="Call", CallType="Outbound", CallDurationInSeconds=540, Status="Completed",
                 WhoId=contacts[0]["Id"], WhatId=deals[0]["Id"], AccountId=contacts[0]["AccountId"],
                 OwnerId=deals[0]["OwnerId"], ActivityDate="2026-05-04", CreatedDate=at(5), SystemModstamp=at(5)),
        _sobject("Task", "00TdM00000Mail1UAA", Subject="Email: Datasheet", TaskSubtype="Email", Status="Completed",
                 WhoId="00Q9H00000C6pycUAB", CreatedDate=at(6), SystemModstamp=at(6)),
        _sobject("Task", "00TdM00000Todo1UAA", Subject="Prepare QBR", TaskSubtype="Task", Status="Not Started",
                 WhatId=account_id, ActivityDate="2026-05-20", CreatedDate=at(7), SystemModstamp=at(7)),
    ]
    return {"Lead": leads, "OpportunityContactRole": roles, "Task": tasks}


def org_records(datasets: Path, describes: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    records = {name: copy.deepcopy(recorded_records(datasets, file)) for name, file in
               (("User", "users"), ("Account", "accounts"), ("Contact", "contacts"), ("Opportunity", "opportunities"))}
    records |= written_records(records["Contact"], records["Opportunity"], records["Account"][0]["Id"])
    records["Event"] = recorded_events(datasets)
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
        self.page_size = 2000  # Salesforce's default batch size, as in the recording
        self.faults: list[Fault] = []
        self.requests: list[SeenRequest] = []
        self._results: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        self.lock = threading.Lock()

    def queries(self, sobject: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.sobject == sobject and r.resource != "describe"]

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
        since = parse_modstamp(match["since"]) if match["since"] else None
        rows = [r for r in self.records[sobject]
                if (resource == "queryAll" or not r.get("IsDeleted"))
                and (since is None or parse_modstamp(r["SystemModstamp"]) > since)]
        rows.sort(key=lambda r: parse_modstamp(r["SystemModstamp"]))
        projected = [{"attributes": r["attributes"], **{f.split(".")[0]: r.get(f.split(".")[0]) for f in fields}} for r in rows]
        locator = f"0r8xx{len(self._results):013d}"
        self._results[locator] = (sobject, projected)
        return 200, self._page(locator, projected, 0), {}

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


@pytest.fixture
def org(datasets: Path) -> Iterator[FakeSalesforce]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.org = FakeSalesforce(datasets, server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.org
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


# --- the real store and runner ----------------------------------------------------------


@dataclass
class Sync:
    db: Database
    state: SyncState
    store: ProfileStore
    org: FakeSalesforce
    sleeps: list[float] = field(default_factory=list)

    def config(self, **overrides: Any) -> SalesforceSourceConfig:
        values = {"instance_url": self.org.url, "access_token": TOKEN, "api_version": VERSION, "timeout_seconds": 5}
        return SalesforceSourceConfig(**(values | overrides))

    def run(self, batch_records: int = 5000, **overrides: Any) -> SyncReport:
        def no_indexer() -> Any:
            raise AssertionError("a records-only sync must not build the content indexer")

        config = self.config(**overrides)
        self.state.register_source(SOURCE, "salesforce", config.stored_config())
        runner = SyncRunner(self.state, no_indexer, profiles=self.store, batch_records=batch_records)
        return runner.run(SOURCE, SalesforceConnector(config, sleep=self.sleeps.append), Visibility.INTERNAL)

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

    def get(self, model: type, source_id: str) -> Any:
        entity = {Account: "account", Contact: "contact", Deal: "deal", Owner: "owner", Touchpoint: "touchpoint"}[model]
        with self.db.session() as session:
            row = session.get(model, f"{SOURCE}:{entity}:{source_id}")
            session.expunge_all()
            return row


@contextmanager
def open_sync(url: str, org: FakeSalesforce) -> Iterator[Sync]:
    db = Database(url)
    db.migrate()
    try:
        yield Sync(db, SyncState(db), ProfileStore(db), org)
    finally:
        db.dispose()


@pytest.fixture
def sync(tmp_path: Path, org: FakeSalesforce) -> Iterator[Sync]:
    with open_sync(f"sqlite:///{tmp_path / 'journey.db'}", org) as opened:
        yield opened


def expected_counts(org: FakeSalesforce) -> dict[str, int]:
    live = {name: [r for r in rows if not r.get("IsDeleted")] for name, rows in org.records.items()}
    return {"owner": len(live["User"]), "account": len(live["Account"]), "contact": len(live["Contact"]) + len(live["Lead"]),
            "deal": len(live["Opportunity"]), "deal_contact": len(live["OpportunityContactRole"]),
            "touchpoint": len(live["Task"]) + len(live["Event"])}


# --- a full sync ------------------------------------------------------------------------


@pytest.mark.realdata
def test_full_sync_stores_every_recorded_record_then_an_incremental_one_changes_nothing(
    database_url: str, org: FakeSalesforce
) -> None:
    with open_sync(database_url, org) as sync:
        check_full_then_incremental_sync(sync, org)


def check_full_then_incremental_sync(sync: Sync, org: FakeSalesforce) -> None:
    report = sync.run()

    expected = expected_counts(org)
    assert expected == {"owner": 8, "account": 2086, "contact": 216, "deal": 31, "deal_contact": 3, "touchpoint": 6}
    assert {entity: sync.count(entity) for entity in expected} == expected
    assert {e: c["added"] for e, c in report.records.to_dict().items()} == expected
    assert report.failed == [] and report.complete
    assert report.added == report.chunks == 0  # records only: no documents, no embedding

    # the recorded paging: 2,000 Accounts, then the other 86 behind nextRecordsUrl
    assert [r.resource for r in org.queries("Account")] == ["queryAll", "more"]
    assert [r.resource for r in org.queries("User")] == ["query"]  # User has no IsDeleted
    assert all(r.resource == "queryAll" for name in ("Contact", "Lead", "Task", "Event") for r in org.queries(name))
    assert "CurrencyIsoCode" not in org.queries("Opportunity")[0].soql  # not in this single-currency org's describe
    assert "WHERE" not in org.queries("Account")[0].soql

    burlington = sync.get(Account, "001dM00003jU9GyQAK")
    assert (burlington.name, burlington.domain, burlington.industry, burlington.country, burlington.city) == (
        "Burlington Textiles Corp of America", "burlington.com", "Apparel", "USA", "Burlington")
    assert burlington.customer_status == "Customer - Direct" and burlington.attributes["account_number"] == "CD656092"
    assert sync.get(Account, "001dM00003jU9GxQAK").domain == "edgecomm.com"  # from http://edgecomm.com

    rose = sync.get(Contact, "003dM00001vWOXJQA4")
    assert (rose.full_name, rose.email, rose.job_title, rose.department, rose.lifecycle_stage) == (
        "Rose Gonzalez", "rose@edge.com", "SVP, Procurement", "Procurement", "contact")
    assert rose.account_id == "salesforce:account:001dM00003jU9GxQAK"

    recorded_stages = [r["StageName"] for r in org.records["Opportunity"]]
    with sync.db.session() as session:
        statuses = list(session.scalars(select(Deal.status).where(Deal.source == SOURCE)))
        won_amount = sum(session.scalars(select(Deal.amount).where(Deal.source == SOURCE, Deal.status == "won")))
    assert statuses.count("won") == recorded_stages.count("Closed Won") == 18
    assert statuses.count("open") == 13 and "lost" not in statuses
    assert won_amount == sum(r["Amount"] for r in org.records["Opportunity"] if r["StageName"] == "Closed Won")
    deal = sync.get(Deal, "006dM00000Mw7VtQAJ")
    assert (deal.stage, deal.status, deal.amount, deal.owner_id, deal.closed_on) == (
        "Qualification", "open", 15000, "salesforce:owner:005dM00000aYf0qQAC", None)
    assert deal.attributes["expected_close_on"] == "2026-03-08"

    owner = sync.get(Owner, "005dM00000aYf0qQAC")
    assert (owner.name, owner.email, owner.active) == ("OrgFarm EPIC", "epic.orgfarm@salesforce.com", True)
    assert owner.attributes["profile"] == "System Administrator"

    converted = sync.get(Contact, "00Q9H00000C6pyeUAB")
    assert (converted.lifecycle_stage, converted.company_name, converted.first_touch_channel) == (
        "lead", "Edge Communications", "Partner Referral")
    assert converted.attributes["converted_contact_id"] == "salesforce:contact:003dM00001vWOXJQA4"
    assert converted.attributes["lead_status"] == "Closed - Converted"

    call = sync.get(Touchpoint, "00TdM00000Call1UAA")
    assert (call.type, call.channel, call.world, call.direction, call.title) == ("call", "phone", "offline", "outbound", "Call about pricing")
    assert (call.contact_id, call.deal_id, call.account_id) == (
        "salesforce:contact:003dM00001vWOXJQA4", "salesforce:deal:006dM00000Mw7VtQAJ", "salesforce:account:001dM00003jU9GxQAK")
    email = sync.get(Touchpoint, "00TdM00000Mail1UAA")
    assert (email.type, email.world, email.contact_id) == ("email", "online", "salesforce:contact:00Q9H00000C6pycUAB")
    todo = sync.get(Touchpoint, "00TdM00000Todo1UAA")
    assert (todo.type, todo.account_id, todo.occurred_at.date().isoformat()) == (
        "task", f"salesforce:account:{org.records['Account'][0]['Id']}", "2026-05-20")
    meeting = sync.get(Touchpoint, "00U9H000000RzvSUAS")
    assert (meeting.type, meeting.world, meeting.title, meeting.contact_id, meeting.account_id) == (
        "meeting", "offline", "Test Event 1", "salesforce:contact:0039H00000Bc8vtQAB", "salesforce:account:0019H00000H25ppQAB")
    assert meeting.occurred_at == datetime(2024, 11, 7, 7, 0, tzinfo=timezone.utc)
    with sync.db.session() as session:
        roles = {(r.deal_id, r.role, r.is_primary) for r in session.scalars(select(DealContact))}
    assert ("salesforce:deal:006dM00000Mw7VtQAJ", "Decision Maker", True) in roles

    newest = {name: max(parse_modstamp(r["SystemModstamp"]) for r in rows) for name, rows in org.records.items()}
    assert sync.cursor() == newest

    stored = sync.state.get_source(SOURCE).config
    assert "access_token" not in stored and TOKEN not in json.dumps(stored)

    org.requests.clear()
    again = sync.run()
    assert again.records.total("added") == again.records.total("updated") == again.records.total("deleted") == 0
    for name in newest:
        (query,) = org.queries(name)
        assert f"WHERE SystemModstamp > {newest[name].strftime('%Y-%m-%dT%H:%M:%SZ')} ORDER BY" in query.soql
    assert {entity: sync.count(entity) for entity in expected} == expected


# --- paging, retries, errors ------------------------------------------------------------


@pytest.mark.realdata
def test_paging_follows_next_records_url_across_many_pages(sync: Sync, org: FakeSalesforce) -> None:
    org.page_size = 25
    report = sync.run(objects=["Contact"])

    assert sync.count("contact") == 213 and report.records.total("added") == 213
    assert [r.resource for r in org.queries("Contact")] == ["queryAll"] + ["more"] * 8  # 9 pages of <= 25
    assert sync.cursor() == {"Contact": max(parse_modstamp(r["SystemModstamp"]) for r in org.records["Contact"])}


@pytest.mark.realdata
def test_rate_limits_and_server_errors_are_retried_honouring_retry_after(sync: Sync, org: FakeSalesforce) -> None:
    unavailable = [{"errorCode": "SERVER_UNAVAILABLE", "message": "Service temporarily unavailable"}]
    org.faults = [
        Fault("Account", 429, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "Too many requests"}], {"Retry-After": "7"}),
        Fault("Account", 503, unavailable, {"Retry-After": "3"}),
        Fault("more:Account", 500, ""),  # the next page: a 500 with an empty body, as CumulusCI recorded one
        Fault("Contact", 403, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}]),
    ]
    report = sync.run(objects=["Account", "Contact"], backoff_seconds=0.5)

    assert sync.sleeps == [7.0, 3.0, 0.5, 0.5]  # Retry-After when given, else the backoff
    assert all(f.times == 0 for f in org.faults)
    assert report.failed == [] and sync.count("account") == 2086 and sync.count("contact") == 213
    assert [r.resource for r in org.queries("Account")] == ["queryAll"] * 3 + ["more"] * 2


@pytest.mark.realdata
def test_an_outage_that_outlasts_the_retries_stops_the_sync_and_keeps_the_cursor(sync: Sync, org: FakeSalesforce) -> None:
    sync.run(objects=["Contact"])
    cursor = sync.cursor()
    unavailable = [{"errorCode": "SERVER_UNAVAILABLE", "message": "Service temporarily unavailable"}]
    org.faults = [Fault("Contact", 503, unavailable, {"Retry-After": "2"}, times=99)]

    with pytest.raises(SalesforceUnavailable) as caught:
        sync.run(objects=["Contact"], max_retries=2)

    assert str(caught.value) == (
        "Salesforce failed the Contact query (SERVER_UNAVAILABLE): Service temporarily unavailable "
        "(gave up after 2 retries; the next sync resumes from the saved cursor)")
    assert sync.sleeps == [2.0, 2.0] and len(org.queries("Contact")) == 1 + 3
    assert sync.cursor() == cursor
    assert (sync.last_run().status, sync.last_run().error) == ("failed", str(caught.value))


@pytest.mark.realdata
def test_an_invalid_session_stops_the_sync_with_a_clear_message(sync: Sync, org: FakeSalesforce) -> None:
    message = "Salesforce refused the session (INVALID_SESSION_ID): Session expired or invalid; check salesforce.access_token"
    with pytest.raises(SalesforceAuthError) as caught:
        sync.run(access_token="00DdM00000vfgTu!expired")
    assert str(caught.value) == message
    assert org.requests == [] and sync.sleeps == []  # refused at the first request, not retried
    assert sync.last_run().error == message

    # a session that expires in the middle of a sync stops it the same way, saving nothing
    org.faults = [Fault("Contact", 401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])]
    with pytest.raises(SalesforceAuthError, match=re.escape(message)):
        sync.run()
    assert sync.count("account") == 0 and sync.cursor() == {}

    with pytest.raises(SalesforceAuthError, match=r"no Salesforce access token: set salesforce.access_token"):
        sync.run(access_token=None)


@pytest.mark.realdata
def test_a_rejected_query_fails_only_its_object_and_names_it(sync: Sync, org: FakeSalesforce, datasets: Path) -> None:
    invalid_type = cumulusci(datasets, "cumulusci__utils__salesforce__tests__cassettes__TestCountSObjects.test_count_sobjects__errors")
    recorded_error = invalid_type[0]["body"]["compositeResponse"][1]["body"]  # a real 400 body
    org.faults = [Fault("Opportunity", 400, MALFORMED), Fault("Task", 400, recorded_error)]
    report = sync.run()

    reasons = {f["uri"]: f["reason"] for f in report.failed}
    assert reasons == {
        "salesforce:Opportunity": "Salesforce rejected the Opportunity query (MALFORMED_QUERY): SELECT Id FROM Opportunity "
        "WHERE ^ ERROR at Row:1:Column:34 unexpected token: '<EOF>'; Opportunity not synced this run",
        "salesforce:Task": "Salesforce rejected the Task query (INVALID_TYPE): select count() from XYZZY ^ ERROR at "
        "Row:1:Column:21 sObject type 'XYZZY' is not supported. If you are attempting to use a custom object, be sure "
        "to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate "
        "names.; Task not synced this run",
    }
    assert not report.complete
    assert (sync.count("deal"), sync.count("account"), sync.count("touchpoint")) == (0, 2086, 3)  # the events
    assert "Opportunity" not in sync.cursor() and "Task" not in sync.cursor() and "Account" in sync.cursor()

    sync.run()  # the failed objects are read in full next time, the others incrementally
    assert "WHERE" not in org.queries("Opportunity")[-1].soql and "WHERE" in org.queries("Account")[-1].soql
    assert (sync.count("deal"), sync.count("touchpoint")) == (31, 6)


@pytest.mark.realdata
def test_only_fields_and_objects_the_org_describes_are_asked_for(sync: Sync, org: FakeSalesforce) -> None:
    org.describes["Account"]["fields"] = [f for f in org.describes["Account"]["fields"] if f["name"] != "Website"]
    org.global_describe = {**org.global_describe,
                           "sobjects": [o for o in org.global_describe["sobjects"] if o["name"] != "Lead"]}
    report = sync.run(objects=["Account", "Lead"])

    assert "Website" not in org.queries("Account")[0].soql and "Industry" in org.queries("Account")[0].soql
    assert sync.get(Account, "001dM00003jU9GyQAK").domain is None
    assert report.failed == [{"entity": "contact", "uri": "salesforce:Lead",
                              "reason": "the org has no queryable Lead object for this user; Lead not synced"}]
    assert org.queries("Lead") == []


# --- incremental, resumed, deleted --------------------------------------------------------


@pytest.mark.realdata
def test_a_sync_that_died_is_resumed_from_the_saved_cursor_without_duplicates_or_losses(sync: Sync, org: FakeSalesforce) -> None:
    sync.run()
    saved = sync.cursor()
    later = "2026-05-07T09:00:0{}.000+0000".format
    changed = org.records["Account"][:3]
    for n, account in enumerate(changed):
        account |= {"Industry": "Logistics", "SystemModstamp": later(n)}
    org.records["Contact"].append(_sobject("Contact", "003dM00001zzzzzQAA", FirstName="Neu", LastName="Kontakt",
                                           Email="neu@example.com", IsDeleted=False, SystemModstamp=later(5)))
    org.faults = [Fault("Task", 503, "", times=99)]
    with pytest.raises(SalesforceUnavailable):
        sync.run(batch_records=1, max_retries=0)  # dies after writing the accounts and the contact
    assert sync.cursor() == saved
    assert sync.get(Account, changed[0]["Id"]).industry == "Logistics"

    org.faults, org.requests[:] = [], []
    report = sync.run()

    for name, since in saved.items():
        (query,) = org.queries(name)  # one page each: only what changed since the saved cursor
        assert f"WHERE SystemModstamp > {since.strftime('%Y-%m-%dT%H:%M:%SZ')} ORDER BY" in query.soql
    counts = report.records.to_dict()
    assert counts["account"] == {"added": 0, "updated": 0, "unchanged": 3, "deleted": 0}
    assert counts["contact"] == {"added": 0, "updated": 0, "unchanged": 1, "deleted": 0}
    assert (sync.count("account"), sync.count("contact")) == (2086, 217)
    assert all(sync.get(Account, a["Id"]).industry == "Logistics" for a in changed)
    assert sync.cursor()["Account"] == parse_modstamp(later(2)) and sync.cursor()["Contact"] == parse_modstamp(later(5))


@pytest.mark.realdata
def test_records_deleted_in_salesforce_leave_the_store(sync: Sync, org: FakeSalesforce) -> None:
    sync.run()
    contact, task = org.records["Contact"][5], org.records["Task"][0]
    contact |= {"IsDeleted": True, "SystemModstamp": "2026-05-07T08:00:00.000+0000"}
    task |= {"IsDeleted": True, "SystemModstamp": "2026-05-07T08:00:01.000+0000"}
    report = sync.run()

    assert sync.get(Contact, contact["Id"]) is None and sync.get(Touchpoint, task["Id"]) is None
    assert (sync.count("contact"), sync.count("touchpoint")) == (215, 5)
    assert report.records.entities["contact"].deleted == 1 and report.records.entities["touchpoint"].deleted == 1
    assert org.queries("Contact")[0].resource == "queryAll"  # /query would not have shown the deletion


@pytest.mark.realdata
def test_a_full_sync_without_a_cursor_removes_records_purged_unseen(sync: Sync, org: FakeSalesforce) -> None:
    sync.run(objects=["Account", "Opportunity"])
    purged = org.records["Opportunity"].pop(3)  # emptied from the recycle bin before any sync saw the deletion
    sync.run(objects=["Account", "Opportunity"])
    assert sync.count("deal") == 31  # an incremental sync cannot know

    sync.state.save_cursor(SOURCE, SalesforceCursor())
    report = sync.run(objects=["Account", "Opportunity"])
    assert sync.count("deal") == 30 and sync.get(Deal, purged["Id"]) is None
    assert report.records.entities["deal"].deleted == 1 and report.records.entities["account"].deleted == 0

    sync.state.save_cursor(SOURCE, SalesforceCursor())
    sync.run(objects=["Contact"])  # Lead left out: contacts are not complete, nothing is deleted
    assert sync.count("account") == 2086


# --- pieces -------------------------------------------------------------------------------


def test_the_stored_config_holds_no_credential_and_the_registry_knows_the_kind() -> None:
    config = SalesforceSourceConfig(instance_url="https://acme.my.salesforce.com/", access_token="secret", api_version="60.0",
                                    objects=["Event", "Account", "Event"])
    assert config.instance_url == "https://acme.my.salesforce.com" and config.api_version == "v60.0"
    assert config.objects == ["Account", "Event"]
    stored = config.stored_config()
    assert "access_token" not in stored and "secret" not in json.dumps(stored)

    validated, connector = build_connector("salesforce", {**stored, "access_token": "secret"})
    assert isinstance(connector, SalesforceConnector) and connector.delivers_documents is False
    assert validated.access_token.get_secret_value() == "secret"
    with pytest.raises(ValueError, match="instance_url must be an http"):
        SalesforceSourceConfig(instance_url="acme.my.salesforce.com")
    with pytest.raises(ValueError, match="api_version must look like v60.0"):
        SalesforceSourceConfig(instance_url="https://acme.my.salesforce.com", api_version="latest")


def _answer(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body) if not isinstance(body, str) else httpx.Response(status, text=body)


def test_salesforce_error_bodies_become_clear_messages() -> None:
    field = error_for(_answer(400, [{"message": "\nSELECT Id, Foo FROM Account\n           ^\nERROR at Row:1:Column:12\n"
                                                "No such column 'Foo' on entity 'Account'.", "errorCode": "INVALID_FIELD"}]),
                      "the Account query")
    assert str(field) == ("Salesforce rejected the Account query (INVALID_FIELD): SELECT Id, Foo FROM Account ^ "
                          "ERROR at Row:1:Column:12 No such column 'Foo' on entity 'Account'.")
    limit = error_for(_answer(403, [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]), "x")
    assert limit.retryable and str(limit) == "Salesforce API request limit exceeded (REQUEST_LIMIT_EXCEEDED): TotalRequests Limit exceeded."
    denied = error_for(_answer(403, [{"message": "The REST API is not enabled for this Organization.",
                                      "errorCode": "API_DISABLED_FOR_ORG"}]), "the list of objects")
    assert not denied.retryable and "check the API permissions" in str(denied)
    assert str(error_for(_answer(500, ""), "the Contact query")) == "Salesforce failed the Contact query (HTTP 500): Internal Server Error"
    assert str(error_for(_answer(401, {"error": "invalid_grant", "error_description": "expired access/refresh token"}), "x")) == (
        "Salesforce refused the session (invalid_grant): expired access/refresh token; check salesforce.access_token")


@pytest.mark.parametrize(("website", "domain"), [
    ("www.burlington.com", "burlington.com"), ("http://edgecomm.com", "edgecomm.com"),
    ("https://WWW.Acme.de/about?x=1", "acme.de"), ("localhost", None), ("", None), (None, None),
])
def test_website_to_domain(website: Any, domain: str | None) -> None:
    assert email_domain_of(website) == domain


def test_task_types_and_deal_status() -> None:
    assert [task_type(r) for r in ({"TaskSubtype": "Call"}, {"TaskSubtype": "ListEmail"}, {"TaskSubtype": "Task", "Type": "Meeting"},
                                   {"TaskSubtype": "Task"}, {})] == ["call", "email", "meeting", "task", "task"]
    assert [deal_status(r) for r in ({"IsClosed": True, "IsWon": False, "StageName": "Closed Won"}, {"IsClosed": True, "IsWon": True},
                                     {"IsClosed": False, "StageName": "Closed Lost"}, {"StageName": "Closed Lost"},
                                     {"StageName": "Prospecting"})] == ["lost", "won", "open", "lost", "open"]


def test_relationship_fields_are_read_when_their_lookup_is_described() -> None:
    user = SPECS["User"].readable_fields({"Id": "id", "SystemModstamp": "datetime", "Name": "string", "UserRoleId": "reference"})
    assert user == ["Id", "SystemModstamp", "Name", "UserRole.Name"]
    opportunity = SPECS["Opportunity"].readable_fields({"Id": "id", "Amount": "currency", "CurrencyIsoCode": "picklist",
                                                         "IsDeleted": "boolean", "Bogus__c": "string"})
    assert opportunity == ["Id", "SystemModstamp", "Amount", "CurrencyIsoCode", "IsDeleted"]
