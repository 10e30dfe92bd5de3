"""The HubSpot connector against a fake HubSpot portal on loopback (``hubspot_fake``:
the recorded real CRM responses served over a real threaded ``http.server``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from assistant.container import Container
from assistant.settings import Settings
from connectors.hubspot import HubSpotAuthError, HubSpotConnector, HubSpotCursor, HubSpotError, HubSpotSourceConfig
from connectors.hubspot.client import epoch_millis
from connectors.hubspot.mapping import StageBook, parse_time
from connectors.runner import SyncReport, SyncRunner
from hubspot_fake import (
    BRIAN,
    HUBSPOT_COMPANY,
    MARIA,
    NO_COMPANY_CONTACT,
    NOTE_COMPANY,
    NOTE_CONTACT,
    NOTE_ID,
    TOKEN,
    FakePortal,
    SeenRequest,
    load_portal,
    serving,
)
from knowledge.documents import KnownDocument, SearchFilters, SourceDocument, Tombstone, Visibility
from knowledge.models import Chunk, Document
from knowledge.profiles import ProfileRecord, Ref
from knowledge.profiles.models import Account, Contact, Deal, DealContact, Owner, Touchpoint
from sync_items import drain

pytestmark = pytest.mark.realdata


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


def associations_read(portal: FakePortal, since: int, from_type: str, to_type: str) -> list[SeenRequest]:
    return [r for r in portal.requests[since:] if r.path == f"/crm/v4/associations/{from_type}/{to_type}/batch/read"]


def test_a_deal_with_600_contacts_gets_all_of_them(portal: FakePortal) -> None:
    deal = "479475667160"
    extra = [str(800000000000 + n) for n in range(600)]
    for contact_id in extra:
        portal.link("deals", deal, "contacts", contact_id)
    connector = HubSpotConnector(HubSpotSourceConfig(base_url=portal.url, access_token=TOKEN, page_size=100))

    def linked(items: list[Any]) -> set[str]:
        return {r.values["contact_id"].source_id for r in items
                if isinstance(r, ProfileRecord) and r.entity == "deal_contact" and r.source_id.startswith(f"{deal}-")}

    items, result = drain(connector.load(None, {}))  # listed: the inline block stops after 100 links
    assert linked(items) == {BRIAN, MARIA, *extra}
    pages = associations_read(portal, 0, "deals", "contacts")
    assert [[i.get("after") is not None for i in r.body["inputs"]] for r in pages] == [[False], [True]]  # 500 + 102
    assert result.cursor.stats.associations_paged == 1
    assert not [r for r in portal.requests if "/crm/v3/associations/" in r.path]  # the v4 read only

    before = len(portal.requests)
    portal.modify("deals", deal, amount="9000")
    items, _ = drain(connector.load(result.cursor, {}))  # searched: the links come from the v4 read, every page
    assert linked(items) == {BRIAN, MARIA, *extra} and len(associations_read(portal, before, "deals", "contacts")) == 2
    assert len([r for r in items if isinstance(r, ProfileRecord) and r.entity == "deal_contact"]) == 602

    same_page_again = {"from": {"id": deal}, "to": [{"toObjectId": int(BRIAN), "associationTypes": []}],
                       "paging": {"next": {"after": "MC0x"}}}
    portal.fail("POST", "/crm/v4/associations/deals/contacts/batch/read", 200, times=9, body={"results": [same_page_again]})
    portal.modify("deals", deal, amount="9100")
    with pytest.raises(HubSpotError, match=r"same association page twice for deals 479475667160 to contacts"):
        drain(connector.load(result.cursor, {}))


def test_the_primary_company_wins_over_other_companies(portal: FakePortal) -> None:
    deal = "479475667160"
    for from_type, from_id in (("deals", deal), ("contacts", MARIA), ("contacts", BRIAN)):
        portal.link(from_type, from_id, "companies", NOTE_COMPANY)  # a second company, listed before the primary one
    del portal.objects["contacts"][MARIA]["properties"]["associatedcompanyid"]  # the associations alone decide
    connector = HubSpotConnector(HubSpotSourceConfig(base_url=portal.url, access_token=TOKEN, page_size=100))

    def accounts(items: list[Any]) -> dict[str, str | None]:
        found = {r.source_id: r.values["account_id"] for r in items
                 if isinstance(r, ProfileRecord) and r.source_id in (deal, MARIA, "call-480000000001")}
        return {key: ref.source_id if ref else None for key, ref in found.items()}

    primary = {deal: HUBSPOT_COMPANY, MARIA: HUBSPOT_COMPANY, "call-480000000001": HUBSPOT_COMPANY}
    items, result = drain(connector.load(None, {}))  # inline v3 links name the primary one "deal_to_company"
    assert accounts(items) == primary
    deal_record = next(r for r in items if isinstance(r, ProfileRecord) and r.entity == "deal" and r.source_id == deal)
    assert deal_record.values["hubspot_company_ids"] == [HUBSPOT_COMPANY, NOTE_COMPANY]
    portal.modify("deals", deal, amount="1")
    portal.modify("contacts", MARIA, jobtitle="Head of Sales")
    portal.modify("calls", "480000000001", hs_call_title="Follow up again")
    items, _ = drain(connector.load(result.cursor, {}))  # v4 links: type id 5 / 1, label "Primary"
    assert accounts(items) == primary


def test_notes_follow_their_contact_to_a_new_company(portal: FakePortal) -> None:
    """The notes' own records never change: only their contact's company does."""
    portal.association_page = 50  # the contact's 121 notes come in three pages
    mine = [NOTE_ID] + [str(479000000000 + n) for n in range(120)]
    for note_id in mine[1:]:
        portal.add("notes", note_id, hs_timestamp="2026-03-01T09:00:00Z", hs_note_body=f"Call notes {note_id}")
        portal.link("notes", note_id, "contacts", NOTE_CONTACT)
    portal.add("notes", "479900000000", hs_timestamp="2026-03-01T09:00:00Z", hs_note_body="Filed under its company")
    portal.link("notes", "479900000000", "contacts", NOTE_CONTACT)
    portal.link("notes", "479900000000", "companies", NOTE_COMPANY)  # its own company: it stays there
    connector = HubSpotConnector(HubSpotSourceConfig(base_url=portal.url, access_token=TOKEN, page_size=100))

    def documents(items: list[Any]) -> dict[str, str]:
        found = [d for d in items if isinstance(d, SourceDocument)]
        assert len({d.uri for d in found}) == len(found)  # nothing twice
        return {d.uri: d.account_id.source_id for d in found}

    items, first = drain(connector.load(None, {}))
    assert set(documents(items).values()) == {NOTE_COMPANY, HUBSPOT_COMPANY}
    assert "hubspot/emails/480000000003" not in documents(items)
    assert first.cursor.engagement_contacts == {NOTE_CONTACT: NOTE_COMPANY, BRIAN: HUBSPOT_COMPANY, NO_COMPANY_CONTACT: ""}
    known = {d.uri: KnownDocument(d.uri, d.content_hash, account_id=f"hubspot:account:{d.account_id.source_id}")
             for d in items if isinstance(d, SourceDocument)}

    portal.move_contact(NOTE_CONTACT, HUBSPOT_COMPANY)
    portal.move_contact(NO_COMPANY_CONTACT, NOTE_COMPANY)  # the e-mail's contact now has a company
    portal.modify("notes", mine[5], hs_note_body="Edited the same day")  # found by the search anyway
    before = len(portal.requests)
    items, second = drain(connector.load(first.cursor, known))
    expected = {f"hubspot/notes/{n}": HUBSPOT_COMPANY for n in mine} | {"hubspot/emails/480000000003": NOTE_COMPANY}
    assert documents(items) == expected
    touchpoints = {r.source_id: r.values["account_id"].source_id for r in items
                   if isinstance(r, ProfileRecord) and r.entity == "touchpoint"}
    assert touchpoints == {f"note-{n}": HUBSPOT_COMPANY for n in mine} | {"email-480000000003": NOTE_COMPANY}
    stats = second.cursor.stats
    assert (stats.moved_contacts, stats.reaccounted, stats.searched["notes"]) == (2, {"notes": 120, "emails": 1}, 1)
    assert len(associations_read(portal, before, "contacts", "notes")) == 3
    assert len([r for r in portal.requests[before:] if r.path == "/crm/v3/objects/notes/batch/read"]) == 2  # 120 notes
    assert second.cursor.engagement_contacts[NOTE_CONTACT] == HUBSPOT_COMPANY

    before = len(portal.requests)
    portal.modify("contacts", NOTE_CONTACT, jobtitle="Buyer")  # modified, same company: nothing to redo
    items, third = drain(connector.load(second.cursor, known))
    assert not [d for d in items if isinstance(d, SourceDocument)] and third.cursor.stats.reaccounted == {}
    assert [r.path for r in portal.requests[before:] if "batch/read" in r.path] == [
        "/crm/v4/associations/contacts/companies/batch/read"]

    portal.move_contact(BRIAN, None)  # the call's contact has no company any more: its text leaves the index
    items, _ = drain(connector.load(third.cursor, known))
    assert Tombstone("hubspot/calls/480000000001") in items and not [d for d in items if isinstance(d, SourceDocument)]
    call = next(r for r in items if isinstance(r, ProfileRecord) and r.source_id == "call-480000000001")
    assert call.values["account_id"] is None


@pytest.mark.slow
def test_a_contact_changing_company_restamps_its_notes_without_embedding_them_again(harness: Harness) -> None:
    harness.sync()
    harness.portal.move_contact(NOTE_CONTACT, HUBSPOT_COMPANY)
    harness.portal.move_contact(NO_COMPANY_CONTACT, NOTE_COMPANY)
    report = harness.sync()
    assert (report.added, report.updated, report.failed) == (1, 0, [])  # the e-mail's text is new; the note is not
    with harness.container.db.session() as session:
        rows = session.scalars(select(Document).where(Document.source_name == "hubspot"))
        accounts = {d.uri: d.account_id for d in rows}
        note_chunks = session.scalars(select(Chunk.account_id).where(Chunk.uri == f"hubspot/notes/{NOTE_ID}")).all()
        email_chunks = session.scalar(select(func.count()).select_from(Chunk).where(Chunk.uri == "hubspot/emails/480000000003"))
    assert accounts[f"hubspot/notes/{NOTE_ID}"] == f"hubspot:account:{HUBSPOT_COMPANY}"
    assert note_chunks and set(note_chunks) == {f"hubspot:account:{HUBSPOT_COMPANY}"}
    assert accounts["hubspot/emails/480000000003"] == f"hubspot:account:{NOTE_COMPANY}"
    assert report.embedded == email_chunks >= 1  # only the e-mail's chunks were embedded
    assert harness.get(Touchpoint, f"hubspot:touchpoint:note-{NOTE_ID}").account_id == f"hubspot:account:{HUBSPOT_COMPANY}"
    retriever = harness.container.retriever
    query = "Test note created via Nango action"
    new = {h.uri for h in retriever.search(query, 5, SearchFilters(account_ids=(f"hubspot:account:{HUBSPOT_COMPANY}",)))}
    old = {h.uri for h in retriever.search(query, 5, SearchFilters(account_ids=(f"hubspot:account:{NOTE_COMPANY}",)))}
    assert f"hubspot/notes/{NOTE_ID}" in new and f"hubspot/notes/{NOTE_ID}" not in old


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
