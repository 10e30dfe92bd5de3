"""Buying committees: one member per person across merged accounts, personas from the journey
classifier, engagement relative to a given time, the champion rule and the named risks; the CLI
and the API; agreement with the demo company's ground truth."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from assistant.api import create_app
from assistant.container import build_container
from assistant.journey import BuyingCommittee, JourneyClassifier, buying_committee
from assistant.journey.committee import is_engaging
from assistant.journey.profile_input import journey_input_for_contact, load_person
from assistant.settings import DatabaseSettings, Settings
from knowledge.db import Database
from knowledge.profiles import ProfileRecord, ProfileStore, Ref
from knowledge.profiles.models import Account, Contact, Touchpoint
from knowledge.profiles.queries import AccountNotFound

JOURNEY = str(Path(sys.executable).parent / "journey")
NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@dataclass
class Person:
    key: str
    name: str
    title: str | None = None
    department: str | None = None
    role: str | None = None
    """The contact's buying role in the CRM."""
    deal_role: str | None = None
    """The role on the open deal."""
    meetings: tuple[float, ...] = ()
    """Days before NOW of the meetings with this person."""
    source: str = "crm"
    """``crm`` (Acme) or ``crm2`` (the duplicate account merged into Acme)."""


JANE = Person("jane", "Jane Roe", "CFO", "Finance", role="Economic Buyer", meetings=(10,))
TOM = Person("tom", "Tom Lee", "Software Engineer", "IT", meetings=(5,))
IDA = Person("ida", "Ida Nox", "Operations Manager")


def load(db: Database, people: list[Person], deal_stage: str | None = "Qualification") -> None:
    """Acme with an open deal, a duplicate account merged into it, and these people."""
    store = ProfileStore(db)
    records: dict[str, list[ProfileRecord]] = {"crm": [ProfileRecord("account", "acme", {"name": "Acme Corporation"})],
                                               "crm2": [ProfileRecord("account", "9", {"name": "ACME Corp."})]}
    if deal_stage:
        records["crm"].append(ProfileRecord("deal", "d1", {"name": "Acme platform", "account_id": Ref("account", "acme"),
                                                           "status": "open", "stage": deal_stage, "amount": "50000"}))
    for p in people:
        account = Ref("account", "acme" if p.source == "crm" else "9")
        records[p.source].append(ProfileRecord("contact", p.key, {
            "full_name": p.name, "email": f"{p.key}@acme.example", "account_id": account, "job_title": p.title,
            "department": p.department, "buying_role": p.role}))
        for n, days in enumerate(p.meetings):
            records[p.source].append(ProfileRecord("touchpoint", f"{p.key}-m{n}", {
                "occurred_at": ago(days), "type": "meeting", "channel": "video_call", "world": "online",
                "title": "Project meeting", "contact_id": Ref("contact", p.key), "account_id": account}))
        if p.deal_role:
            # the deal is Acme's; a crm2 person is linked by record id across sources
            contact = Ref("contact", p.key) if p.source == "crm" else f"crm2:contact:{p.key}"
            records["crm"].append(ProfileRecord("deal_contact", f"d1-{p.key}", {
                "deal_id": Ref("deal", "d1"), "contact_id": contact, "role": p.deal_role}))
    for source, batch in records.items():
        store.write(source, batch)
    with db.session() as session:
        session.execute(update(Account).where(Account.id == "crm2:account:9").values(master_id="crm:account:acme"))


@pytest.fixture(scope="module")
def classifier() -> JourneyClassifier:
    """The real classifier with the packaged model, loaded once for the module."""
    return JourneyClassifier.from_path()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


def committee(db: Database, classifier: JourneyClassifier, **options: Any) -> BuyingCommittee:
    return buying_committee(db, classifier, "Acme Corporation", now=NOW, **options)


def risk(result: BuyingCommittee, risk_id: str) -> dict[str, Any]:
    found = [r for r in result.to_dict()["risks"] if r["id"] == risk_id]
    assert len(found) == 1, [r["id"] for r in result.risks]
    return found[0]


def risk_ids(result: BuyingCommittee) -> set[str]:
    return {r.id for r in result.risks}


# -- members -------------------------------------------------------------------------------
def test_one_member_per_person_across_merged_accounts_with_role_persona_and_engagement(
        db: Database, classifier: JourneyClassifier) -> None:
    tom = Person("tom", "Tom Lee", "Software Engineer", "IT", deal_role="Technical Evaluator", meetings=(5, 40, 89, 120),
                 source="crm2")
    load(db, [JANE, tom, IDA])
    store = ProfileStore(db)
    # Jane is also known from web events (another record of the same person, visits tied to the person only);
    # she wrote in the chat 2 days ago. Ida got an invoice and an outbound e-mail: contacted, but not engaged.
    store.write("web", [ProfileRecord("contact", "u-7", {"email": "jane@acme.example", "account_id": "crm:account:acme"}),
                        ProfileRecord("touchpoint", "pv1", {"occurred_at": ago(3.5), "type": "page_view", "channel": "direct"})])
    store.write("crm", [
        ProfileRecord("conversation", "c1", {"contact_id": Ref("contact", "jane"), "started_at": ago(2)}),
        ProfileRecord("message", "c1-1", {"conversation_id": Ref("conversation", "c1"), "ordinal": 1, "role": "user",
                                          "content": "What would the licence cost for 40 users?", "created_at": ago(2)}),
        ProfileRecord("message", "c1-2", {"conversation_id": Ref("conversation", "c1"), "ordinal": 2, "role": "assistant",
                                          "content": "Let me send you the price list.", "created_at": ago(1)}),
        ProfileRecord("touchpoint", "inv", {"occurred_at": ago(4), "type": "invoice", "contact_id": Ref("contact", "ida")}),
        ProfileRecord("touchpoint", "mail", {"occurred_at": ago(6), "type": "email", "direction": "outbound",
                                             "contact_id": Ref("contact", "ida")}),
        ProfileRecord("touchpoint", "future", {"occurred_at": NOW + timedelta(days=30), "type": "meeting",
                                               "contact_id": Ref("contact", "ida")}),
    ])
    with db.session() as session:
        session.execute(update(Contact).where(Contact.email == "jane@acme.example").values(person_id="person:jane"))
        session.execute(update(Touchpoint).where(Touchpoint.id == "web:touchpoint:pv1").values(person_id="person:jane"))

    result = committee(db, classifier)
    assert result.merged_accounts == ["crm2:account:9"]
    members = {m.name: m for m in result.members}
    assert set(members) == {"Jane Roe", "Tom Lee", "Ida Nox"}
    jane, tom_member, ida = members["Jane Roe"], members["Tom Lee"], members["Ida Nox"]
    assert sorted(jane.records) == ["crm:contact:jane", "web:contact:u-7"]
    assert (jane.persona, tom_member.persona, ida.persona) == ("budget_owner", "technical_expert", None)
    assert jane.roles == ["Economic Buyer"] and tom_member.roles == ["Technical Evaluator"]
    assert tom_member.deal_roles[0].deal_id == "crm:deal:d1"  # a merged account's person on the master's deal
    assert jane.engagement.last_message_at == ago(2) and jane.engagement.last_engaged_at == ago(2)
    assert jane.engagement.last_touchpoint_at == ago(3.5)  # the visit tied to her person only
    assert jane.engagement.days_since_engaged == 2 and jane.engagement.engaged
    assert tom_member.engagement.touchpoints_90d == 3 and tom_member.engagement.days_since_engaged == 5
    assert ida.engagement.last_touchpoint_at == ago(4)  # the meeting after NOW does not exist yet
    assert ida.engagement.touchpoints_90d == 2 and ida.engagement.engagements_90d == 0
    assert ida.engagement.last_engaged_at is None and not ida.engagement.engaged and ida.engagement.contacted
    assert [m.name for m in result.members][-1] == "Ida Nox"  # engaged people first
    data = result.to_dict()
    shown = {m["name"]: m for m in data["members"]}
    assert shown["Ida Nox"]["persona"] is None and shown["Ida Nox"]["persona_signal"] == "too little"
    assert data["summary"] == {"members": 3, "engaged": 2, "unknown_personas": 1}
    assert json.loads(json.dumps(data)) == data  # plain JSON


def test_a_member_of_a_merged_account_is_read_with_the_master_account(db: Database, classifier: JourneyClassifier) -> None:
    # Acme is a customer that bought an EdgeBox; the duplicate it absorbed still says prospect and
    # has a won Vision deal of its own. Tom's contact record sits on the duplicate.
    tom = Person("tom", "Tom Lee", "Software Engineer", "IT", meetings=(5,), source="crm2")
    load(db, [JANE, tom], deal_stage=None)
    store = ProfileStore(db)
    store.write("crm", [
        ProfileRecord("product", "edge", {"name": "EdgeBox G2", "product_line": "edgebox"}),
        ProfileRecord("deal", "d0", {"name": "EdgeBox rollout", "account_id": Ref("account", "acme"), "status": "won",
                                     "stage": "Closed Won", "closed_on": "2024-06-01"}),
        ProfileRecord("deal_product", "d0-edge", {"deal_id": Ref("deal", "d0"), "product_id": Ref("product", "edge")}),
    ])
    store.write("crm2", [
        ProfileRecord("product", "vis", {"name": "Vision Kit", "product_line": "vision"}),
        ProfileRecord("deal", "v1", {"name": "Vision pilot", "account_id": Ref("account", "9"), "status": "won",
                                     "stage": "Closed Won", "closed_on": "2024-05-01"}),
        ProfileRecord("deal_product", "v1-vis", {"deal_id": Ref("deal", "v1"), "product_id": Ref("product", "vis")}),
    ])
    with db.session() as session:
        session.execute(update(Account).where(Account.id == "crm:account:acme").values(customer_status="customer"))
        session.execute(update(Account).where(Account.id == "crm2:account:9").values(customer_status="prospect"))

    # the one lookup that classification, next best actions and the committee share
    person = load_person(db, "tom@acme.example", now=NOW)
    assert (person.account_id, person.account_name) == ("crm:account:acme", "Acme Corporation")
    assert person.customer_status == person.journey.customer_status == "customer"
    assert person.journey.customer_product_lines == ["edgebox", "vision"]  # won by the master and by what it absorbed
    assert (person.won_deals, person.open_deals) == (2, 0)
    assert journey_input_for_contact(db, "crm2:contact:tom", now=NOW) == person.journey

    # the committee reads Tom as a customer (retention), not as the duplicate's prospect (consideration)
    members = {m.name: m for m in committee(db, classifier).members}
    assert members["Tom Lee"].stage == classifier.classify(person.journey).stage.stage == "retention"


def test_engagement_window_is_configurable(db: Database, classifier: JourneyClassifier) -> None:
    load(db, [Person("jane", "Jane Roe", "CFO", role="Economic Buyer", meetings=(45,)), TOM])
    assert "no_engaged_budget_owner" not in risk_ids(committee(db, classifier))
    narrow = committee(db, classifier, engaged_days=30)
    assert narrow.engaged_days == 30 and "no_engaged_budget_owner" in risk_ids(narrow)


def test_one_way_company_touchpoints_are_not_engagement() -> None:
    assert is_engaging("page_view", None) and is_engaging("email", "inbound") and is_engaging("call", "outbound")
    assert not is_engaging("email", "outbound") and not is_engaging("invoice", None) and not is_engaging("direct_mail", None)


# -- risks ---------------------------------------------------------------------------------------
def test_no_budget_owner_is_a_risk_that_says_when_personas_are_only_unknown(db: Database, classifier: JourneyClassifier) -> None:
    load(db, [TOM, IDA])
    found = risk(committee(db, classifier), "no_engaged_budget_owner")
    assert found["severity"] == "high"  # there is an open deal
    assert found["message"].startswith("No contact identified as budget owner.")
    assert "1 of 2 contacts have too little signal to tell: Ida Nox." in found["message"]
    assert "zu wenig Signal" in found["message_de"] and found["persons"] == ["crm:contact:ida"]
    assert "Tom Lee: persona technical_expert" in found["evidence"][0]


def test_an_engaged_budget_owner_removes_the_risk(db: Database, classifier: JourneyClassifier) -> None:
    load(db, [JANE, TOM])
    assert "no_engaged_budget_owner" not in risk_ids(committee(db, classifier))


def test_a_quiet_budget_owner_is_named_with_days_since(db: Database, classifier: JourneyClassifier) -> None:
    load(db, [Person("jane", "Jane Roe", "CFO", role="Economic Buyer", meetings=(100,)), TOM,
              Person("max", "Max Pohl", "Head of Quality", role="Gatekeeper", meetings=(3,))])
    found = risk(committee(db, classifier), "no_engaged_budget_owner")
    assert found["message"] == "No engaged budget owner in the last 60 days: Jane Roe last engaged 100 days ago."
    assert found["message_de"].endswith("Jane Roe war zuletzt vor 100 Tagen aktiv.")
    assert found["persons"] == ["crm:contact:jane"] and "persona budget_owner" in found["evidence"][0]


def test_single_threaded_and_nobody_engaged(db: Database, classifier: JourneyClassifier) -> None:
    load(db, [JANE, Person("tom", "Tom Lee", "Software Engineer", meetings=(200,))])
    single = risk(committee(db, classifier), "single_threaded")
    assert single["persons"] == ["crm:contact:jane"] and "only Jane Roe engaged" in single["message"]
    later = buying_committee(db, classifier, "crm:account:acme", now=NOW + timedelta(days=70))
    quiet = risk(later, "no_one_engaged")
    assert "the last was Jane Roe, 80 days ago" in quiet["message"] and "single_threaded" not in risk_ids(later)
    assert later.champion is None


def test_a_technical_expert_missing_is_a_risk(db: Database, classifier: JourneyClassifier) -> None:
    load(db, [JANE, Person("max", "Max Pohl", "Head of Quality", role="Gatekeeper", meetings=(3,))])
    found = risk(committee(db, classifier), "no_engaged_technical_expert")
    assert found["message"] == "No contact identified as technical expert."  # every persona is known here
    assert found["severity"] == "medium" and found["persons"] == []


def test_purchase_stage_deal_without_budget_owner_and_a_decision_maker_never_contacted(
        db: Database, classifier: JourneyClassifier) -> None:
    load(db, [Person("jane", "Jane Roe", "CFO", role="Economic Buyer"), TOM,
              Person("max", "Max Pohl", "Head of Quality", meetings=(3,))], deal_stage="Negotiation")
    result = committee(db, classifier)
    assert result.open_deals[0]["journey_stage"] == "purchase"
    buying = risk(result, "purchase_without_budget_owner")
    assert buying["severity"] == "high" and "'Acme platform' (Negotiation)" in buying["message"]
    assert buying["persons"] == ["crm:contact:jane"]
    never = risk(result, "decision_maker_never_contacted")
    assert never["persons"] == ["crm:contact:jane"] and "never been contacted" in never["message"]
    assert [r.severity for r in result.risks] == sorted((r.severity for r in result.risks), key=("high", "medium", "low").index)


def test_no_risks_for_a_well_covered_committee(db: Database, classifier: JourneyClassifier) -> None:
    load(db, [JANE, TOM], deal_stage="Negotiation")
    result = committee(db, classifier)
    assert result.risks == [] and result.champion is not None and result.champion.name == "Tom Lee"


def test_an_account_without_contacts(db: Database, classifier: JourneyClassifier) -> None:
    load(db, [])
    result = committee(db, classifier)
    assert result.members == [] and risk_ids(result) == {"no_contacts"} and result.champion is None


# -- champion ------------------------------------------------------------------------------------
def test_the_crm_champion_wins_even_when_quiet_and_the_silence_is_a_risk(db: Database, classifier: JourneyClassifier) -> None:
    load(db, [JANE, TOM, Person("ida", "Ida Nox", "Operations Manager", deal_role="Champion", meetings=(75,))])
    result = committee(db, classifier)
    assert result.champion is not None and (result.champion.name, result.champion.rule) == ("Ida Nox", "crm")
    quiet = risk(result, "champion_quiet")
    assert quiet["persons"] == ["crm:contact:ida"] and "last engaged 75 days ago" in quiet["message"]


def test_without_a_crm_champion_the_most_engaged_evaluator_who_is_not_the_budget_owner(
        db: Database, classifier: JourneyClassifier) -> None:
    busy_jane = Person("jane", "Jane Roe", "CFO", role="Economic Buyer", meetings=(1, 2, 3, 4, 5, 6))
    quality = Person("max", "Max Pohl", "Head of Quality", meetings=(8, 30))
    load(db, [busy_jane, Person("tom", "Tom Lee", "Software Engineer", meetings=(2, 9, 20)), quality])
    result = committee(db, classifier)
    assert result.champion is not None and (result.champion.name, result.champion.rule) == ("Tom Lee", "engagement")
    assert result.member(result.champion.id).stage in ("consideration", "purchase")
    assert "3 interactions in 90 days" in result.champion.reason


def test_no_champion_when_only_the_budget_owner_is_engaged(db: Database, classifier: JourneyClassifier) -> None:
    load(db, [JANE, Person("tom", "Tom Lee", "Software Engineer", meetings=(300,))])
    result = committee(db, classifier)
    assert result.champion is None and "no_champion" in risk_ids(result)


# -- lookup ----------------------------------------------------------------------------------------
def test_unknown_and_ambiguous_accounts(db: Database, classifier: JourneyClassifier) -> None:
    load(db, [TOM])
    assert buying_committee(db, classifier, "crm2:account:9", now=NOW).account["id"] == "crm:account:acme"
    with pytest.raises(AccountNotFound, match="no account matches 'Zeta Industries'"):
        buying_committee(db, classifier, "Zeta Industries", now=NOW)
    ProfileStore(db).write("other", [ProfileRecord("account", "x", {"name": "Acme Corporation"})])
    with pytest.raises(AccountNotFound) as ambiguous:
        buying_committee(db, classifier, "Acme Corporation", now=NOW)
    assert ambiguous.value.candidates == ["crm:account:acme", "other:account:x"]


def test_ten_people_in_well_under_a_second_warm(db: Database, classifier: JourneyClassifier) -> None:
    titles = ["CFO", "Software Engineer", "Head of Quality", "IT Manager", "Purchasing Manager"]
    people = [Person(f"p{i}", f"Person {i}", titles[i % 5], meetings=tuple(range(1, 60, 2))) for i in range(10)]
    load(db, people)
    committee(db, classifier)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        result = committee(db, classifier)
        timings.append(time.perf_counter() - started)
    assert len(result.members) == 10
    assert min(timings) < 1.0, timings


# -- CLI and API -----------------------------------------------------------------------------------
@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    db = Database(f"sqlite:///{ws / 'journey.db'}")
    db.migrate()
    load(db, [JANE, TOM, IDA])
    db.dispose()
    return ws


def test_cli_committee(workspace: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([JOURNEY, "committee", *args, "-w", str(workspace)], capture_output=True, text=True, timeout=300)

    as_json = run("acme corp", "--now", "2025-03-03T12:00:00Z", "--json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["account"]["id"] == "crm:account:acme" and data["as_of"] == NOW.isoformat()
    assert {m["name"] for m in data["members"]} == {"Jane Roe", "Tom Lee", "Ida Nox"}
    human = run("Acme Corporation", "--now", "2025-03-03")
    assert human.returncode == 0, human.stderr
    assert "Tom Lee (champion)" in human.stdout and "unknown (too little signal)" in human.stdout
    assert "Economic Buyer" in human.stdout and "budget_owner" in human.stdout
    missing = run("Nobody GmbH")
    assert missing.returncode == 2 and "no account matches 'Nobody GmbH'" in missing.stderr
    bad = run("acme", "--now", "yesterday")
    assert bad.returncode == 2 and "--now 'yesterday'" in bad.stderr


def test_api_committee_needs_a_key(workspace: Path) -> None:
    closed = build_container(Settings(workspace=workspace))
    try:
        assert TestClient(create_app(closed)).get("/v1/accounts/acme/committee").status_code == 403
    finally:
        closed.close()
    container = build_container(Settings(workspace=workspace, api={"keys": ["s3cret"]}))
    try:
        client = TestClient(create_app(container))
        assert client.get("/v1/accounts/acme/committee").status_code == 401
        assert client.get("/v1/accounts/acme/committee", headers={"Authorization": "Bearer wrong"}).status_code == 401
        key = {"Authorization": "Bearer s3cret"}
        found = client.get("/v1/accounts/crm:account:acme/committee", params={"now": NOW.isoformat(), "engaged_days": 7},
                           headers=key)
        assert found.status_code == 200, found.text
        body = found.json()
        assert body["engaged_days"] == 7 and body["summary"]["members"] == 3 and body["champion"]["name"] == "Tom Lee"
        missing = client.get("/v1/accounts/Nobody GmbH/committee", headers=key)
        assert missing.status_code == 404 and missing.json()["detail"] == "no account matches 'Nobody GmbH'"
        assert client.get("/v1/accounts/acme/committee", params={"engaged_days": 0}, headers=key).status_code == 422
    finally:
        container.close()


# -- the demo company ------------------------------------------------------------------------------
def test_demo_committees_agree_with_the_ground_truth(tmp_path: Path, classifier: JourneyClassifier) -> None:
    """The demo's CRM and website events through the real connectors (no documents, nothing embedded)."""
    from assistant.demo import CRM_SOURCE, demo_sources, generate_demo
    from assistant.demo.loader import ingest_events
    from knowledge.profiles.queries import ProfileQueries

    demo = tmp_path / "demo"
    generate_demo(demo, seed=42)
    container = build_container(Settings(workspace=tmp_path / "ws", database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'd.db'}")))
    try:
        kind, config = demo_sources(demo)[CRM_SOURCE]
        container.register_source(CRM_SOURCE, kind, config)
        container.sync(CRM_SOURCE)
        ingest_events(container, demo / "events")
        manifest = json.loads((demo / "demo.json").read_text(encoding="utf-8"))
        reference = datetime.fromisoformat(manifest["reference"]).replace(tzinfo=UTC)
        truth = {r["contact_id"]: r["persona"] for r in csv.DictReader((demo / "truth" / "personas.csv").open(encoding="utf-8"))}
        accounts = ProfileQueries(container.db).accounts()
        committees = [buying_committee(container.db, classifier, a.id, now=reference) for a in accounts]
    finally:
        container.close()
    members = [m for c in committees for m in c.members]
    assert sorted(m.id.rsplit(":", 1)[-1] for m in members) == sorted(truth)  # every person once, web records joined
    agree = sum(m.persona == truth[m.id.rsplit(":", 1)[-1]] for m in members) / len(members)
    assert agree >= 0.85, agree  # measured 0.98 on seed 42
    assert sum(m.engagement.engaged for m in members) > len(members) / 3  # the history ends at the reference
    assert all(c.champion is None or c.member(c.champion.id) for c in committees)
    assert any(r.id == "no_engaged_budget_owner" for c in committees for r in c.risks)
    assert sum(not c.risks for c in committees) >= 5  # not every account is flagged
