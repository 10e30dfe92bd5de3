"""The Salesforce connector against a fake org on loopback that serves recorded real answers
(see ``salesforce_fake``), synced through the real runner, profile store and indexer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from connectors.registry import build_connector
from connectors.salesforce import (
    SalesforceAuthError,
    SalesforceConnector,
    SalesforceCursor,
    SalesforceSourceConfig,
    SalesforceUnavailable,
)
from connectors.salesforce.client import error_for
from connectors.salesforce.objects import SPECS, deal_status, email_domain_of, parse_time, task_type
from knowledge.documents import KnownDocument, SearchFilters, SourceDocument, Tombstone, Visibility
from knowledge.profiles import RecordTombstone, Ref
from knowledge.profiles.models import Account, Contact, Deal, DealContact, Owner, Touchpoint
from salesforce_fake import (
    CALL_NOTE,
    MALFORMED,
    MEETING_NOTES,
    SOURCE,
    TOKEN,
    VERSION,
    FakeSalesforce,
    Fault,
    Sync,
    cumulusci,
    expected_counts,
    make_container,
    open_sync,
    serving,
    sobject,
)
from sync_items import drain


@pytest.fixture
def org(datasets: Path) -> Iterator[FakeSalesforce]:
    with serving(datasets) as running:
        yield running


@pytest.fixture
def sync(tmp_path: Path, org: FakeSalesforce, embedder: object) -> Iterator[Sync]:
    with open_sync(tmp_path / "ws", f"sqlite:///{tmp_path / 'journey.db'}", org, embedder) as opened:
        yield opened


# --- a full sync ------------------------------------------------------------------------


@pytest.mark.realdata
def test_full_sync_stores_every_recorded_record_then_an_incremental_one_changes_nothing(
    tmp_path: Path, database_url: str, org: FakeSalesforce, embedder: object
) -> None:
    with open_sync(tmp_path / "ws", database_url, org, embedder) as sync:
        check_full_then_incremental_sync(sync, org)


def check_full_then_incremental_sync(sync: Sync, org: FakeSalesforce) -> None:
    report = sync.run()

    expected = expected_counts(org)
    assert expected == {"owner": 8, "account": 2086, "contact": 216, "deal": 31, "deal_contact": 3, "touchpoint": 6}
    assert {entity: sync.count(entity) for entity in expected} == expected
    assert {e: c["added"] for e, c in report.records.to_dict().items()} == expected
    assert report.failed == [] and report.complete
    # the two activities with a description and an account became documents; the lead's e-mail did not
    assert set(sync.documents()) == {"salesforce/task/00TdM00000Call1UAA", "salesforce/event/00U9H000000RzvSUAS"}
    assert report.added == 2 and report.warnings == [{"uri": SOURCE, "warning": (
        "1 Salesforce tasks/events with a description but no account were not indexed "
        "(internal notes without an account would reach every rep)")}]

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

    newest = {name: max(parse_time(r["SystemModstamp"]) for r in rows) for name, rows in org.records.items()}
    assert sync.cursor() == newest

    stored = sync.state.get_source(SOURCE).config
    assert "access_token" not in stored and TOKEN not in json.dumps(stored)

    org.requests.clear()
    again = sync.run()
    assert again.records.total("added") == again.records.total("updated") == again.records.total("deleted") == 0
    # an incremental run lists no notes, so it is not complete and the runner deletes none of them
    assert (again.added, again.deleted, again.complete) == (0, 0, False) and len(sync.documents()) == 2
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
    assert sync.cursor() == {"Contact": max(parse_time(r["SystemModstamp"]) for r in org.records["Contact"])}


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
    org.records["Contact"].append(sobject("Contact", "003dM00001zzzzzQAA", FirstName="Neu", LastName="Kontakt",
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
    assert sync.cursor()["Account"] == parse_time(later(2)) and sync.cursor()["Contact"] == parse_time(later(5))


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
    assert report.deleted == 1 and set(sync.documents()) == {"salesforce/event/00U9H000000RzvSUAS"}  # the call note
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


# --- call notes, e-mails and meeting notes as internal documents ------------------------

CALL, MAIL, MEETING = "00TdM00000Call1UAA", "00TdM00000Mail1UAA", "00U9H000000RzvSUAS"
CALL_URI, MEETING_URI = f"salesforce/task/{CALL}", f"salesforce/event/{MEETING}"
EDGE, TOM_CRUISE = "001dM00003jU9GxQAK", "0019H00000H25ppQAB"  # the accounts of the call and of the meeting
SKIPPED_ONE = ("1 Salesforce tasks/events with a description but no account were not indexed "
               "(internal notes without an account would reach every rep)",)


def documents_in(items: list[Any]) -> dict[str, SourceDocument]:
    return {item.uri: item for item in items if isinstance(item, SourceDocument)}


@pytest.mark.realdata
def test_activity_descriptions_become_internal_documents_of_their_account(sync: Sync, org: FakeSalesforce) -> None:
    items, result = drain(sync.connector(objects=["Task", "Event"]).load(None, {}))

    documents = documents_in(items)
    assert set(documents) == {CALL_URI, MEETING_URI}  # the to-do has no text; the lead's e-mail has no account
    call = documents[CALL_URI]
    assert (call.visibility, call.account_id, call.media_type, call.title) == (
        Visibility.INTERNAL, Ref("account", EDGE), "text/plain", "Call 2026-05-04: Call about pricing")
    assert call.content.decode() == (
        "Subject: Call about pricing\nType: Call (outbound, completed)\nDate: 2026-05-04\nWho: Rose Gonzalez\n"
        f"Related to: Dickenson Mobile Generators\nAccount: Edge Communications\n\n{CALL_NOTE}\n")
    meeting = documents[MEETING_URI]
    assert (meeting.visibility, meeting.account_id, meeting.title) == (
        Visibility.INTERNAL, Ref("account", TOM_CRUISE), "Meeting 2024-11-07: Test Event 1")  # its account is in WhatId
    assert meeting.content.decode().endswith(f"Who: Contact\nRelated to: Tom Cruise\n\n{MEETING_NOTES}\n")
    assert [type(i).__name__ for i in items].count("ProfileRecord") == 6  # the touchpoints are still all there

    assert result.warnings == SKIPPED_ONE and result.complete
    assert all("Who.Name, What.Name, Account.Name" in q.soql for name in ("Task", "Event") for q in org.queries(name))
    _, tasks_only = drain(sync.connector(objects=["Task"]).load(None, {}))
    assert not tasks_only.complete  # Event left out: its notes were not listed, so none may be deleted


@pytest.mark.realdata
def test_an_activity_deleted_or_emptied_in_salesforce_takes_its_note_out(sync: Sync, org: FakeSalesforce) -> None:
    connector = sync.connector(objects=["Task", "Event"])
    _, first = drain(connector.load(None, {}))
    later = "2026-05-07T09:00:0{}.000+0000".format
    call, meeting, mail = org.record("Task", CALL), org.record("Event", MEETING), org.record("Task", MAIL)
    call |= {"IsDeleted": True, "SystemModstamp": later(0)}
    meeting |= {"Description": "  ", "SystemModstamp": later(1)}  # the notes were cleared
    mail |= {"Subject": "Email: Datasheet (resent)", "SystemModstamp": later(2)}  # still without an account

    indexed = {uri: KnownDocument(uri, "sha256-of-before") for uri in (CALL_URI, MEETING_URI)}
    items, result = drain(connector.load(first.cursor, indexed))
    assert [i for i in items if isinstance(i, (Tombstone, RecordTombstone, SourceDocument))] == [
        RecordTombstone("touchpoint", CALL), Tombstone(CALL_URI), Tombstone(MEETING_URI)]
    assert result.warnings == SKIPPED_ONE
    assert not result.complete  # an incremental run: the runner must not delete the notes it did not see

    items, _ = drain(connector.load(first.cursor, {}))  # nothing indexed: nothing to take out
    assert not [i for i in items if isinstance(i, Tombstone)]


@pytest.mark.realdata
def test_a_note_lives_and_dies_with_its_activity_through_the_runner(sync: Sync, org: FakeSalesforce) -> None:
    sync.run(objects=["Task", "Event"])
    assert set(sync.documents()) == {CALL_URI, MEETING_URI}
    assert sync.documents()[CALL_URI].account_id == f"salesforce:account:{EDGE}"  # the Ref, resolved in the source

    org.record("Task", CALL).update(AccountId=None, WhatId=None, SystemModstamp="2026-05-07T09:00:00.000+0000")
    report = sync.run(objects=["Task", "Event"])  # the call lost its account: its note must not reach every rep
    assert report.deleted == 1 and set(sync.documents()) == {MEETING_URI}
    assert report.warnings == [{"uri": SOURCE, "warning": w} for w in SKIPPED_ONE]  # the call (the e-mail was not re-read)
    assert sync.get(Touchpoint, CALL).account_id is None  # the touchpoint stays


@pytest.mark.slow
@pytest.mark.realdata
def test_synced_notes_are_found_only_by_reps_of_their_account(tmp_path: Path, org: FakeSalesforce, embedder: object) -> None:
    """The path of `journey sync salesforce`: settings, container, runner, real model and retriever."""
    objects = ["Account", "Contact", "Opportunity", "Task", "Event"]
    container = make_container(tmp_path / "ws", f"sqlite:///{tmp_path / 'journey.db'}", embedder, salesforce={
        "instance_url": org.url, "access_token": TOKEN, "api_version": VERSION, "objects": objects})
    try:
        report = container.sync(container.crm_source("salesforce"))
        assert report.failed == [] and report.added == 2 and report.embedded >= 2
        retriever = container.retriever
        edge, tom_cruise = (SearchFilters(account_ids=(f"salesforce:account:{a}",)) for a in (EDGE, TOM_CRUISE))
        visitor = SearchFilters(visibility=("public",))
        call_query, meeting_query = "TCO comparison and ROI calculator for the board", "gateway MQTT over TLS pilot"

        def uris(query: str, filters: SearchFilters, mode: str = "hybrid") -> set[str]:
            return {hit.uri for hit in retriever.search(query, 10, filters, mode)}  # type: ignore[arg-type]

        hit = next(h for h in retriever.search(call_query, 10, edge) if h.uri == CALL_URI)
        assert (hit.account_id, hit.visibility, hit.title) == (
            f"salesforce:account:{EDGE}", "internal", "Call 2026-05-04: Call about pricing")
        assert MEETING_URI in uris(meeting_query, tom_cruise)
        for mode in ("dense", "keyword", "hybrid"):
            assert CALL_URI not in uris(call_query, tom_cruise, mode), mode
            assert MEETING_URI not in uris(meeting_query, edge, mode), mode
            assert not uris(call_query, visitor, mode) and not uris(meeting_query, visitor, mode), mode
            assert not uris(call_query, SearchFilters(account_ids=()), mode), mode  # a rep with no accounts
    finally:
        container.close()


# --- pieces -------------------------------------------------------------------------------


def test_the_stored_config_holds_no_credential_and_the_registry_knows_the_kind() -> None:
    config = SalesforceSourceConfig(instance_url="https://acme.my.salesforce.com/", access_token="secret", api_version="60.0",
                                    objects=["Event", "Account", "Event"])
    assert config.instance_url == "https://acme.my.salesforce.com" and config.api_version == "v60.0"
    assert config.objects == ["Account", "Event"]
    stored = config.stored_config()
    assert "access_token" not in stored and "secret" not in json.dumps(stored)

    validated, connector = build_connector("salesforce", {**stored, "access_token": "secret"})
    assert isinstance(connector, SalesforceConnector) and connector.delivers_documents is True
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
