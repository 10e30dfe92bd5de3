"""The demo company: reproducible generation, a coherent world, and loading through the real
connectors (csv, files, event service) into real stores."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from assistant.container import Container, build_container
from assistant.demo import (
    CRM_SOURCE,
    EVENTS_SOURCE,
    INTERNAL_DOCS_SOURCE,
    PERSONAS,
    STAGES,
    generate_demo,
)
from assistant.demo.loader import ingest_events
from assistant.settings import DatabaseSettings, Settings
from connectors.events.channels import acquisition, track_type
from knowledge.profiles.models import Contact, Conversation, Person, Touchpoint

JOURNEY = str(Path(sys.executable).parent / "journey")
PIPELINE = {"Qualifizierung", "Bedarfsanalyse", "Angebot", "Verhandlung", "Gewonnen", "Verloren"}


def rows(root: Path, name: str) -> list[dict[str, str]]:
    with (root / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def events(root: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted((root / "events").glob("*.jsonl")) for line in path.open(encoding="utf-8")]


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module", params=[42, 2024], ids=["seed42", "seed2024"])
def demo42(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated demo folder (two seeds, so the invariants are not luck of one)."""
    root = tmp_path_factory.mktemp(f"demo{request.param}")
    generate_demo(root, seed=request.param)
    return root


def seed_of(root: Path) -> int:
    return int(json.loads((root / "demo.json").read_text(encoding="utf-8"))["seed"])


# -- reproducibility ---------------------------------------------------------------------
def test_same_seed_gives_byte_identical_files(demo42: Path, tmp_path: Path) -> None:
    generate_demo(tmp_path / "again", seed=seed_of(demo42))
    assert tree(tmp_path / "again") == tree(demo42)


def test_same_seed_gives_identical_files_in_other_processes(tmp_path: Path) -> None:
    """No dependence on set order (PYTHONHASHSEED), the clock or global random state."""
    script = "import sys; from pathlib import Path; from assistant.demo import generate_demo; generate_demo(Path(sys.argv[1]), seed=17, accounts=23)"
    for hash_seed in ("1", "2"):
        subprocess.run([sys.executable, "-c", script, str(tmp_path / hash_seed)], check=True, timeout=120,
                       env={**os.environ, "PYTHONHASHSEED": hash_seed})
    assert tree(tmp_path / "1") == tree(tmp_path / "2")
    assert len(rows(tmp_path / "1" / "crm", "accounts.csv")) == 23


def test_different_seed_gives_a_different_world_with_the_same_company(demo42: Path, tmp_path: Path) -> None:
    other = tmp_path / "seed7"
    generate_demo(other, seed=seed_of(demo42) + 1)
    a, b = tree(demo42), tree(other)
    for name in ("crm/accounts.csv", "crm/contacts.csv", "crm/deals.csv", "crm/activities.csv", "truth/personas.csv"):
        assert a[name] != b[name], name
    assert a["docs/en/trackcloud-pricing.md"] == b["docs/en/trackcloud-pricing.md"]  # the company sells the same things
    assert a["docs/de/case-study-logistics.md"] != b["docs/de/case-study-logistics.md"]  # about other customers


def test_regeneration_rewrites_nothing_and_a_new_seed_removes_only_its_own_files(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    _, first = generate_demo(root, seed=3)
    mtimes = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    (root / "my-notes.txt").write_text("not the generator's", encoding="utf-8")
    _, second = generate_demo(root, seed=3)
    assert first.written and second.written == [] and second.removed == []
    assert all(p.stat().st_mtime_ns == m for p, m in mtimes.items())
    _, third = generate_demo(root, seed=11)
    assert third.written
    assert (root / "my-notes.txt").read_text(encoding="utf-8") == "not the generator's"
    manifest = json.loads((root / "demo.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 11 and set(manifest["files"]) == {
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name not in ("demo.json", "my-notes.txt")}


# -- size and coverage --------------------------------------------------------------------
def test_sizes_personas_stages_and_pipeline(demo42: Path) -> None:
    crm = demo42 / "crm"
    assert len(rows(crm, "accounts.csv")) == 50
    assert 180 <= len(rows(crm, "contacts.csv")) <= 230
    personas = Counter(r["persona"] for r in rows(demo42 / "truth", "personas.csv"))
    assert set(personas) == set(PERSONAS) and min(personas.values()) >= 20, personas
    stages = Counter(r["stage"] for r in rows(demo42 / "truth", "stages.csv"))
    assert set(stages) == set(STAGES) and min(stages.values()) >= 8, stages
    deals = rows(crm, "deals.csv")
    assert {d["stage"] for d in deals} == PIPELINE
    assert {d["status"] for d in deals} == {"open", "won", "lost"}
    teams = {o["team"] for o in rows(crm, "owners.csv")}
    assert {"DACH Süd", "DACH Nord", "International", "Customer Success"} <= teams
    countries = Counter(a["country"] for a in rows(crm, "accounts.csv"))
    assert countries["Deutschland"] >= 20 and countries["Österreich"] and countries["Schweiz"] and len(countries) >= 6


def test_history_spans_12_to_18_months_and_ends_at_the_reference(demo42: Path) -> None:
    manifest = json.loads((demo42 / "demo.json").read_text(encoding="utf-8"))
    start, reference = when(manifest["start"]), when(manifest["reference"])
    stamps = [when(a["occurred_at"]) for a in rows(demo42 / "crm", "activities.csv")] + [when(e["timestamp"]) for e in events(demo42)]
    assert start <= min(stamps) and max(stamps) <= reference
    assert min(stamps) < start + timedelta(days=40) and max(stamps) > reference - timedelta(days=5)
    assert start + relativedelta(months=12) <= reference <= start + relativedelta(months=18)


def _maps() -> dict[str, dict[str, str]]:
    mapping = yaml.safe_load((Path(__file__).parents[1] / "assistant" / "demo" / "mapping.yaml").read_text(encoding="utf-8"))
    return mapping["maps"]


def test_touchpoints_of_every_kind_online_and_offline(demo42: Path) -> None:
    maps = _maps()
    activities = rows(demo42 / "crm", "activities.csv")
    types = {maps["activity_type"][a["activity_type"]] for a in activities}
    assert {"trade_fair", "field_visit", "call", "meeting", "email", "support_ticket", "invoice", "onboarding",
            "review", "referral", "case_study", "event", "survey", "direct_mail"} <= types
    assert {maps["channel_kind"][a["channel"]] for a in activities} == {"owned", "paid", "earned"}
    assert {maps["channel_world"][a["channel"]] for a in activities} == {"online", "offline"}
    fairs = {a["campaign"].rsplit("-", 1)[0] for a in activities if a["activity_type"] == "Messegespräch"}
    assert fairs & {"logimat", "hannover-messe"}
    found = events(demo42)
    assert {e["type"] for e in found} == {"page", "track", "identify"}
    assert all(e["messageId"] and (e.get("anonymousId") or e.get("userId")) and e["timestamp"] for e in found)
    pages = [e for e in found if e["type"] == "page"]
    visits = Counter(acquisition((e["context"].get("campaign") or {}).get("medium"), (e["context"].get("campaign") or {}).get("source"),
                                 e["context"]["page"]["referrer"], e["context"]["page"]["url"]) for e in pages)
    channels = {channel for channel, _ in visits}
    assert {"paid_search", "paid_social", "display", "email", "organic_search", "ai_assistant", "referral", "direct"} <= channels
    assert {kind for _, kind in visits} >= {"owned", "paid", "earned"}
    tracked = {track_type(e["event"]).type for e in found if e["type"] == "track" and track_type(e["event"])}
    assert {"webinar", "email", "download", "demo_request", "trial", "chat", "video"} <= tracked


def test_docs_in_german_and_english_with_internal_pages(demo42: Path) -> None:
    docs = demo42 / "docs"
    german, english = sorted(p.name for p in (docs / "de").glob("*.md")), sorted(p.name for p in (docs / "en").glob("*.md"))
    assert german == english and 20 <= len(german) <= 40
    assert 1 <= len(list((docs / "internal").glob("*.md"))) <= 3
    pricing = (docs / "de" / "trackcloud-pricing.md").read_text(encoding="utf-8")
    assert "4,90 €" in pricing and "TC-ENT" in pricing and "Mindestlaufzeit 12 Monate" in pricing
    assert "EUR 4.90" in (docs / "en" / "trackcloud-pricing.md").read_text(encoding="utf-8")
    for path in docs.rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("---\ntitle: ") and "\n# " in text and "$" not in text.replace("$TOKEN", ""), path


def test_chats_in_both_languages_some_anonymous_then_identified(demo42: Path) -> None:
    conversations = rows(demo42 / "crm", "conversations.csv")
    messages = rows(demo42 / "crm", "messages.csv")
    assert 15 <= len(conversations) <= 30 and {c["language"] for c in conversations} == {"de", "en"}
    assert {m["conversation_id"] for m in messages} == {c["conversation_id"] for c in conversations}
    contacts = {c["contact_id"]: c for c in rows(demo42 / "crm", "contacts.csv")}
    identified = {(e["anonymousId"], e["userId"]) for e in events(demo42) if e["type"] == "identify"}
    anonymous = [c for c in conversations if not c["contact_id"]]
    later = [c for c in anonymous if any(a == c["anonymous_id"] for a, _ in identified)]
    assert len(anonymous) >= 4 and len(later) >= 3
    truth = {r["conversation_id"]: r for r in rows(demo42 / "truth", "chats.csv")}
    stages = {r["contact_id"]: r for r in rows(demo42 / "truth", "stages.csv")}
    assert {r["script"].split("-")[1] for r in truth.values()} >= {"aware", "consider", "purchase", "retention", "advocacy"}
    for conversation in later:
        contact_id = truth[conversation["conversation_id"]]["contact_id"]
        assert (conversation["anonymous_id"], contact_id) in identified and contact_id in contacts and contact_id in stages


# -- coherence ----------------------------------------------------------------------------
def test_records_reference_each_other_and_emails_sit_on_the_account_domain(demo42: Path) -> None:
    crm = demo42 / "crm"
    accounts = {a["account_id"]: a for a in rows(crm, "accounts.csv")}
    owners = {o["owner_id"] for o in rows(crm, "owners.csv")}
    contacts = {c["contact_id"]: c for c in rows(crm, "contacts.csv")}
    products = {p["sku"] for p in rows(crm, "products.csv")}
    for contact in contacts.values():
        assert contact["account_id"] in accounts and contact["owner_id"] in owners
        assert contact["email"].endswith("@" + accounts[contact["account_id"]]["domain"])
        assert when(contact["first_touch_at"]) <= when(contact["created_at"])
    assert len({c["email"] for c in contacts.values()}) == len(contacts)
    deals = {d["deal_id"]: d for d in rows(crm, "deals.csv")}
    lines = defaultdict(float)
    for line in rows(crm, "deal_products.csv"):
        assert line["deal_id"] in deals and line["sku"] in products
        lines[line["deal_id"]] += float(line["amount"])
    for deal in deals.values():
        assert deal["account_id"] in accounts and deal["owner_id"] in owners
        assert contacts[deal["contact_id"]]["account_id"] == deal["account_id"]
        assert abs(lines[deal["deal_id"]] - float(deal["amount"])) < 0.01
        assert (deal["closed_on"] != "") == (deal["status"] != "open")
        assert deal["closed_on"] == "" or deal["created_on"] <= deal["closed_on"]
    for activity in rows(crm, "activities.csv"):
        assert contacts[activity["contact_id"]]["account_id"] == activity["account_id"] and activity["owner_id"] in owners
        assert activity["deal_id"] == "" or deals[activity["deal_id"]]["account_id"] == activity["account_id"]
    truth = {r["contact_id"] for r in rows(demo42 / "truth", "personas.csv")}
    assert truth == set(contacts)


def test_deal_dates_agree_with_the_timeline(demo42: Path) -> None:
    crm = demo42 / "crm"
    deals = rows(crm, "deals.csv")
    activities = rows(crm, "activities.csv")
    by_account = defaultdict(list)
    for activity in activities:
        by_account[activity["account_id"]].append(activity)
    first_touch = {a: min(when(x["occurred_at"]) for x in acts) for a, acts in by_account.items()}
    start = when(json.loads((demo42 / "demo.json").read_text(encoding="utf-8"))["start"])
    before_history = 0
    for deal in deals:
        created = datetime.fromisoformat(deal["created_on"])
        if created < start:
            # A customer from before the history: won back then, using the product since.
            assert deal["status"] == "won" and datetime.fromisoformat(deal["closed_on"]) < start
            before_history += 1
        elif deal["pipeline"] == "Neukunden":
            # The deal was opened in a conversation the CRM logged on that day.
            assert first_touch[deal["account_id"]].date() <= created.date()
    assert before_history >= 2
    first_won = {}
    for deal in sorted(deals, key=lambda d: d["closed_on"]):
        if deal["status"] == "won":
            first_won.setdefault(deal["account_id"], datetime.fromisoformat(deal["closed_on"]))
    after_purchase = {"Support-Ticket", "Onboarding", "Rechnung", "Bewertung", "Fallstudie"}
    for activity in activities:
        if activity["activity_type"] in after_purchase:
            assert activity["account_id"] in first_won, activity
            assert when(activity["occurred_at"]) >= first_won[activity["account_id"]], activity
        if activity["subject"].startswith(("Angebot versendet", "Quote sent")):
            deal = next(d for d in deals if d["deal_id"] == activity["deal_id"])
            assert deal["created_on"] <= activity["occurred_at"][:10]
            assert deal["closed_on"] == "" or activity["occurred_at"][:10] <= (datetime.fromisoformat(deal["closed_on"]) + timedelta(days=3)).date().isoformat()
    customers = {a["account_id"] for a in rows(crm, "accounts.csv") if a["customer_status"] == "Kunde"}
    assert customers == set(first_won)


def test_newsletters_respect_consent(demo42: Path) -> None:
    consents = defaultdict(list)
    for consent in rows(demo42 / "crm", "consents.csv"):
        consents[consent["contact_id"]].append((when(consent["recorded_at"]), consent["status"]))
    assert Counter(s for c in consents.values() for _, s in c)["withdrawn"] >= 5
    opened = [e for e in events(demo42) if e["type"] == "track" and e["event"] == "Email Opened"]
    assert len(opened) > 200
    for event in opened:
        at = when(event["timestamp"])
        decisions = [status for moment, status in sorted(consents[event["userId"]]) if moment <= at]
        assert decisions and decisions[-1] == "granted", event["userId"]


def test_ground_truth_stays_out_of_the_crm_and_events(demo42: Path) -> None:
    exported = "".join((demo42 / "crm" / name).read_text(encoding="utf-8") for name in os.listdir(demo42 / "crm"))
    exported += "".join(p.read_text(encoding="utf-8") for p in (demo42 / "events").glob("*.jsonl"))
    for word in (*PERSONAS, "experience seeker", "archetype", "advocacy"):
        assert word not in exported, word
    assert "persona" not in rows(demo42 / "crm", "contacts.csv")[0]


# -- loading through the connectors ------------------------------------------------------------
@pytest.fixture
def container(database_url: str, tmp_path: Path) -> Iterator[Container]:
    built = build_container(Settings(workspace=tmp_path / "ws", database=DatabaseSettings(url=database_url)))
    yield built
    built.close()


def test_crm_and_events_load_through_the_connectors_and_join_identities(container: Container, demo42: Path) -> None:
    """The record-only parts (no embedding model): csv connector and event service, twice."""
    from assistant.demo.loader import demo_sources

    kind, config = demo_sources(demo42)[CRM_SOURCE]
    container.register_source(CRM_SOURCE, kind, config)
    crm = container.sync(CRM_SOURCE)
    assert crm.failed == [] and crm.records.entities["contact"].added == len(rows(demo42 / "crm", "contacts.csv"))
    assert crm.records.entities["touchpoint"].added == len(rows(demo42 / "crm", "activities.csv"))
    loaded = ingest_events(container, demo42 / "events")
    assert loaded["accepted"] == len(events(demo42)) and loaded["rejected_count"] == 0
    with container.db.session() as session:
        kinds = set(session.scalars(select(Touchpoint.kind).distinct()))
        worlds = set(session.scalars(select(Touchpoint.world).distinct()))
        assert {"owned", "paid", "earned"} <= kinds and worlds == {"online", "offline"}
        crm_people = set(session.scalars(select(Contact.person_id).where(Contact.source == CRM_SOURCE)))
        joined = session.scalar(select(func.count(func.distinct(Touchpoint.person_id)))
                                .where(Touchpoint.source == EVENTS_SOURCE, Touchpoint.person_id.in_(crm_people)))
        assert joined >= 0.6 * len(crm_people)
        # A visitor who chatted anonymously and identified later is one person with both histories.
        truth = {r["conversation_id"]: r["contact_id"] for r in rows(demo42 / "truth", "chats.csv")}
        anonymous = session.scalars(select(Conversation).where(Conversation.source == CRM_SOURCE, Conversation.contact_id.is_(None))).all()
        merged = 0
        for conversation in anonymous:
            contact_id = truth[conversation.source_id]
            if not contact_id:
                continue
            crm_person = session.scalar(select(Contact.person_id).where(Contact.id == f"{CRM_SOURCE}:contact:{contact_id}"))
            chat_events = session.scalars(select(Touchpoint.person_id).where(Touchpoint.anonymous_id == conversation.anonymous_id)).all()
            merged += conversation.person_id == crm_person and set(chat_events) == {crm_person}
        assert merged >= 3
        assert session.scalar(select(func.count()).select_from(Person).where(Person.merged_into.is_(None))) > 150
    again = container.sync(CRM_SOURCE)
    repeat = ingest_events(container, demo42 / "events")
    assert again.records.total("added") == again.records.total("updated") == 0
    assert repeat["accepted"] == 0 and repeat["duplicates"] == loaded["accepted"] and repeat["records"] == {}


@pytest.mark.slow
def test_journey_demo_loads_everything_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    """The real command in a subprocess: generation, all connectors, embeddings, idempotence."""
    ws = tmp_path / "ws"

    def journey_demo() -> dict[str, Any]:
        result = subprocess.run([JOURNEY, "demo", "--seed", "5", "--workspace", str(ws), "--json"], capture_output=True,
                                text=True, timeout=900, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))

    first = journey_demo()
    load = first["load"]
    assert first["failures"] == [] and first["out"] == str((ws / "demo").resolve())
    assert load["tables"]["account"] == 50 and load["tables"]["contact"] >= 180 and load["tables"]["touchpoint"] > 4000
    assert load["documents"] == first["generated"]["docs_de"] + first["generated"]["docs_en"] + first["generated"]["docs_internal"]
    assert load["chunks"] > 200 and load["sources"][INTERNAL_DOCS_SOURCE]["added"] == first["generated"]["docs_internal"]
    second = journey_demo()
    assert second["files"]["written"] == 0 and second["load"]["tables"] == load["tables"]
    assert second["load"]["chunks"] == load["chunks"] and second["load"]["sources"]["demo-docs"]["embedded"] == 0
    assert second["load"]["sources"][CRM_SOURCE]["records"] == {} and second["load"]["sources"][EVENTS_SOURCE]["accepted"] == 0

    container = build_container(Settings(workspace=ws))
    try:
        from knowledge.documents import SearchFilters

        hits = container.retriever.search("Wie lange hält die Batterie eines TrackTag T1?", k=3, filters=SearchFilters(visibility=("public",)))
        assert hits and hits[0].uri in ("de/trackcloud-faq.md", "de/trackcloud-features.md")
        public = container.retriever.search("discount approval rules", k=10, filters=SearchFilters(visibility=("public",)))
        assert all(h.source != INTERNAL_DOCS_SOURCE for h in public)
        internal = container.retriever.search("discount approval rules", k=3)
        assert internal[0].source == INTERNAL_DOCS_SOURCE
    finally:
        container.close()
    other = subprocess.run([JOURNEY, "demo", "--seed", "6", "--workspace", str(ws)], capture_output=True, text=True, timeout=120)
    assert other.returncode == 2 and "seed 5" in other.stderr
