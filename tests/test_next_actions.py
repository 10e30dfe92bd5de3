"""Next best actions and journey decisions for stored people: eligibility, cooldowns, consent,
explanations with evidence, learning from history and from outcomes, rep overrides – on SQLite
and PostgreSQL, with the shipped playbook (cues only: the semantic model is tested elsewhere)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assistant.journey import JourneyClassifier
from assistant.journey.service import JourneyError, JourneyService, ProposalNotFound
from assistant.settings import IdentitySettings
from knowledge.db import Database
from knowledge.profiles import ProfileRecord, ProfileStore, Ref
from knowledge.profiles.identity import IdentityResolver
from knowledge.profiles.models import ActionOutcome, JourneyDecision

from journey_world import NOW, _chat, _day, build_world

@pytest.fixture(scope="module")
def classifier() -> JourneyClassifier:
    return JourneyClassifier.from_path(None, semantic=False)


@pytest.fixture
def service(database_url: str, classifier: JourneyClassifier) -> JourneyService:
    db = Database(database_url)
    db.migrate()
    build_world(db)
    yield JourneyService(db, classifier)
    db.dispose()


def _actions(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [row.action_id for row in result.proposals]


def _reasons(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {item.action_id: item.reason for item in result.ranking.skipped}


def test_every_proposal_explains_itself_with_evidence(service: JourneyService) -> None:
    result = service.next_actions("jane@acme.example", n=3, explore=False, now=NOW)
    assert result.ranking.stage == "consideration"
    assert result.ranking.persona == "budget_owner"
    assert len(result.proposals) == 3
    for row in result.proposals:
        action = service.playbook.action(row.action_id)
        assert "consideration" in action.stages
        assert row.explanation.startswith(action.title.en)
        assert "Jane Roe is in consideration" in row.explanation
        sources = {item["for"] for item in row.evidence}
        assert {"stage", "persona", "propensity"} <= sources, row.evidence
        assert any("Siemens" in (item.get("text") or "") for item in row.evidence if item["for"] == "stage")
        parts = row.components
        assert row.score == pytest.approx(
            parts["propensity"] * parts["value"] * parts["fit"] * parts["lever"], rel=1e-3)
    # The best fits for a budget owner comparing vendors come first; German explanations too.
    assert result.proposals[0].components["persona_fit"] >= result.proposals[-1].components["persona_fit"]
    german = service.next_actions("jane@acme.example", n=1, explore=False, language="de", now=NOW)
    assert "ist in der Phase Erwägung" in german.proposals[0].explanation


def test_no_marketing_action_without_marketing_consent(service: JourneyService) -> None:
    result = service.next_actions("bob@acme.example", n=10, explore=False, now=NOW)
    marketing = {a.id for a in service.playbook.actions if a.eligibility.consent == "marketing_email"}
    assert marketing and not marketing & set(_actions(result))
    reasons = _reasons(result)
    assert any("marketing_email consent withdrawn" in reason for reason in reasons.values()), reasons
    # Jane granted marketing e-mail but not phone: the sales call is left out with the reason.
    jane = service.next_actions("jane@acme.example", n=10, explore=False, now=NOW)
    assert "propose_sales_call" not in _actions(jane)
    assert _reasons(jane)["propose_sales_call"] == "no phone consent on record"
    assert marketing & set(_actions(jane))


def test_dismissed_action_stays_away_for_its_cooldown(service: JourneyService) -> None:
    first = service.next_actions("jane@acme.example", n=3, explore=False, now=NOW)
    top = first.proposals[0]
    cooldown = service.playbook.action(top.action_id).eligibility.cooldown_days
    recorded = service.record_outcome(top.id, "dismissed", by="anna", now=NOW)
    assert recorded["cooldown_days"] == cooldown
    for days in (0, 1, cooldown - 1):
        later = service.next_actions("jane@acme.example", n=10, explore=False, now=NOW + timedelta(days=days))
        assert top.action_id not in _actions(later)
        assert "dismissed" in _reasons(later)[top.action_id]
    after = service.next_actions("jane@acme.example", n=20, explore=False, now=NOW + timedelta(days=cooldown + 1))
    assert top.action_id in _actions(after)
    assert top.id not in {row.id for row in after.proposals}  # a new proposal, the dismissed one keeps its outcome


def test_an_open_proposal_keeps_its_id(service: JourneyService) -> None:
    first = service.next_actions("jane@acme.example", n=3, explore=False, now=NOW)
    again = service.next_actions("jane@acme.example", n=3, explore=False, now=NOW + timedelta(hours=2))
    assert {r.action_id: r.id for r in first.proposals} == {r.action_id: r.id for r in again.proposals}


def test_a_proposal_the_next_list_no_longer_shows_is_superseded(service: JourneyService) -> None:
    from knowledge.profiles.models import ActionProposal

    five = service.next_actions("jane@acme.example", n=5, explore=False, now=NOW)
    two = service.next_actions("jane@acme.example", n=2, explore=False, now=NOW + timedelta(hours=1))
    kept = {row.id for row in two.proposals}
    assert kept <= {row.id for row in five.proposals}
    with service.db.session() as session:
        status = dict(session.query(ActionProposal.id, ActionProposal.status).all())
    assert {status[row.id] for row in two.proposals} == {"proposed"}
    dropped = [row.id for row in five.proposals if row.id not in kept]
    assert len(dropped) == 3 and {status[i] for i in dropped} == {"superseded"}
    # a rep acting on the older list still records the outcome
    assert service.record_outcome(dropped[0], "accepted", now=NOW + timedelta(hours=2))["outcome"] == "accepted"
    # shown again later, a superseded action becomes a new open proposal
    again = service.next_actions("jane@acme.example", n=5, explore=False, now=NOW + timedelta(hours=3))
    assert dropped[1] not in {row.id for row in again.proposals}
    assert {row.action_id for row in again.proposals} >= {row.action_id for row in two.proposals}


def test_outcomes_change_the_next_ranking(service: JourneyService) -> None:
    before = service.next_actions("jane@acme.example", n=20, explore=False, now=NOW)
    ranked = [row.action_id for row in before.proposals]
    last = before.proposals[-1]
    propensity = last.components["propensity"]
    # The last-ranked action converts for Jane several times in a row: for her and people like
    # her it is now more promising.
    for day in range(4):
        service.record_outcome(last.id, "converted", now=NOW)
        assert service.next_actions("jane@acme.example", n=20, explore=False, now=NOW + timedelta(days=day))
    with service.db.session() as session:
        assert session.query(ActionOutcome).count() == 4
    action = service.playbook.action(last.action_id)
    later = service.next_actions("jane@acme.example", n=20, explore=False,
                                 now=NOW + timedelta(days=action.eligibility.cooldown_days + 1))
    moved = next(row for row in later.proposals if row.action_id == last.action_id)
    assert moved.components["propensity"] > propensity
    assert [row.action_id for row in later.proposals].index(last.action_id) < ranked.index(last.action_id)


def test_rules_for_customers_and_recent_problems(service: JourneyService) -> None:
    carla = service.next_actions("carla@kunde.example", n=10, explore=False, now=NOW)
    assert carla.ranking.stage == "retention"
    assert "onboarding_check_in" in _actions(carla)  # only for customers: Carla's account has won a deal
    # Asking for a review right after a support ticket is not proposed.
    assert "not within 14 days after support_ticket" in _reasons(carla)["ask_for_review"]
    jane = service.next_actions("jane@acme.example", n=20, explore=False, now=NOW)
    assert "offer_trial" in _actions(jane)  # not a customer yet
    assert "onboarding_check_in" not in _actions(jane)


def test_exploration_is_stable_for_a_day_and_uses_samples(service: JourneyService) -> None:
    morning = service.next_actions("jane@acme.example", n=5, explore=True, now=NOW)
    evening = service.next_actions("jane@acme.example", n=5, explore=True, now=NOW + timedelta(hours=6))
    assert _actions(morning) == _actions(evening)
    assert all(row.components["sampled_propensity"] is not None for row in morning.proposals)


def test_learns_what_preceded_progress(database_url: str, classifier: JourneyClassifier) -> None:
    """Case studies sent to skeptics were followed by new deals; demo videos were not."""
    db = Database(database_url)
    db.migrate()
    store = ProfileStore(db)
    records: list[ProfileRecord] = []
    for i in range(6):
        account, contact = f"a{i}", f"p{i}"
        records += [
            ProfileRecord("account", account, {"name": f"Firma {i}", "industry": "machinery"}),
            ProfileRecord("contact", contact, {"full_name": f"Person {i}", "job_title": "Qualitätsmanagerin",
                                               "account_id": Ref("account", account)}),
            ProfileRecord("touchpoint", f"cs{i}", {"occurred_at": _day(300), "type": "email", "title": "Fallstudie und Referenzen",
                                                   "contact_id": Ref("contact", contact), "account_id": Ref("account", account)}),
            ProfileRecord("touchpoint", f"v{i}", {"occurred_at": _day(200), "type": "video", "title": "Produktvideo",
                                                  "contact_id": Ref("contact", contact), "account_id": Ref("account", account)}),
            ProfileRecord("deal", f"d{i}", {"account_id": Ref("account", account), "status": "open",
                                            "created_on": (_day(280)).date().isoformat()}),
        ]
    store.write("hist", records)
    service = JourneyService(db, classifier)
    model, observations = service.learner.model(db)
    assert observations == 12
    case_study = model.posterior("send_case_study", {"stage": "awareness", "persona": "skeptic", "industry": "machinery"})
    video = model.posterior("send_demo_video", {"stage": "awareness", "persona": "skeptic", "industry": "machinery"})
    assert case_study.levels[1].successes == 6 and case_study.levels[1].observations == 6
    assert video.levels[1].successes == 0 and video.levels[1].observations == 6
    assert case_study.mean > 0.7 and video.mean < 0.3
    db.dispose()


def test_decisions_are_recorded_once_and_overrides_hold_until_contradicted(service: JourneyService) -> None:
    first = service.assess("jane@acme.example", now=NOW)
    assert {(d.kind, d.value) for d in first.recorded} == {("stage", "consideration"), ("persona", "budget_owner")}
    assert service.assess("jane@acme.example", now=NOW + timedelta(hours=1)).recorded == []  # nothing changed
    override = service.override_stage("jane@acme.example", "purchase", by="anna", note="verbal yes", now=NOW + timedelta(hours=2))
    held = service.assess("jane@acme.example", now=NOW + timedelta(hours=3))
    assert held.result.stage.stage == "purchase" and held.result.stage.override["held"] is True
    assert held.recorded == []  # the override stays the current stage decision
    with pytest.raises(JourneyError, match="unknown stage 'kauf'"):
        service.override_stage("jane@acme.example", "kauf", now=NOW)
    # Newer strong evidence: she becomes a customer asking for onboarding help.
    store = ProfileStore(service.db)
    store.write("crm", _chat("chat-jane-2", "jane", "Wir haben unterschrieben. Wie richten wir die Benutzer im Onboarding ein? "
                                                    "Die Rechnung ist auch angekommen.", days_ago=-1))
    moved = service.assess("jane@acme.example", now=NOW + timedelta(days=2))
    assert moved.result.stage.override["held"] is False
    assert moved.result.stage.stage == "retention"
    history = service.history("jane@acme.example", kind="stage")
    assert [(h.value, h.source) for h in history] == [("retention", "classifier"), ("purchase", "rep_override"),
                                                      ("consideration", "classifier")]
    assert history[1].id == override.id and history[1].superseded_at is not None and history[0].superseded_at is None
    with service.db.session() as session:
        current = session.query(JourneyDecision).filter_by(person_id=moved.person.person_id, kind="stage", superseded_at=None)
        assert [row.value for row in current] == ["retention"]


def test_unknown_ids_and_outcomes_are_clear_errors(service: JourneyService) -> None:
    from assistant.journey import ContactNotFound

    with pytest.raises(ContactNotFound, match="no contact 'nobody@nowhere.example'"):
        service.next_actions("nobody@nowhere.example", now=NOW)
    with pytest.raises(ProposalNotFound, match="no proposal 'act_missing'"):
        service.record_outcome("act_missing", "accepted")
    proposal = service.next_actions("jane@acme.example", n=1, explore=False, now=NOW).proposals[0]
    with pytest.raises(JourneyError, match="unknown outcome 'liked'"):
        service.record_outcome(proposal.id, "liked")
    with pytest.raises(JourneyError, match="n is from 1 to 20"):
        service.next_actions("jane@acme.example", n=0)
