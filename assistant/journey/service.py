"""Journey decisions and next best actions for stored people: what the CLI and the API call.

``JourneyService`` joins the profile store, the classifier, the decision history and the action
ranker:

* ``assess(key)`` classifies a stored person (with a rep's override in force fed back to the
  stage detector) and appends the decisions that changed;
* ``override_stage(key, stage)`` records a rep's override;
* ``next_actions(key)`` ranks the catalogue for the person and stores the proposals shown (an
  open proposal of the same action keeps its id, so a rep can act on it later);
* ``record_outcome(proposal_id, outcome)`` records what became of a proposal; the next ranking
  learns from it and respects the action's cooldown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from assistant.journey.classifier import Classification, JourneyClassifier
from assistant.journey.decisions import DecisionLog, DecisionView
from assistant.journey.learning import HistoryLearner, new_model, outcome_observations
from assistant.journey.nba import ActionRanker, PastOutcome, Ranking
from assistant.journey.profile_input import PersonProfile, load_person
from knowledge.db import Database
from knowledge.profiles.models import ActionOutcome, ActionProposal

OUTCOMES = ("accepted", "dismissed", "converted")
SUPERSEDED = "superseded"
"""The status of an open proposal that a later list for the same person no longer shows."""
MAX_ACTIONS = 20


class JourneyError(ValueError):
    """A request the service cannot carry out (unknown stage, proposal or outcome); the message says why."""


class ProposalNotFound(LookupError):
    """No proposal has this id."""


@dataclass
class Assessment:
    person: PersonProfile
    result: Classification
    recorded: list[DecisionView]

    def to_dict(self) -> dict[str, Any]:
        return {
            "contact": self.person.key, "person_id": self.person.person_id, "name": self.person.name,
            "account_id": self.person.account_id, "account": self.person.account_name,
            **self.result.to_dict(),
            "recorded_decisions": [view.to_dict() for view in self.recorded],
        }


@dataclass
class NextActions:
    person: PersonProfile
    assessment: Assessment
    ranking: Ranking
    proposals: list[ActionProposal]
    learned_from: int

    def to_dict(self) -> dict[str, Any]:
        result = self.assessment.result
        return {
            "contact": self.person.key, "person_id": self.person.person_id, "name": self.person.name,
            "account_id": self.person.account_id, "account": self.person.account_name,
            "stage": result.stage.stage, "stage_confidence": result.stage.confidence,
            "persona": result.persona.persona if result.persona.enough_signal else None,
            "persona_confidence": result.persona.confidence,
            "actions": [_proposal_dict(row) for row in self.proposals],
            "skipped": [item.to_dict() for item in self.ranking.skipped],
            "learned_from_history": self.learned_from,
        }


def _proposal_dict(row: ActionProposal) -> dict[str, Any]:
    return {
        "id": row.id, "action": row.action_id, "rank": row.rank, "score": round(row.score, 4),
        "title": row.components.get("title"), "channel": row.components.get("channel"),
        "explanation": row.explanation, "evidence": row.evidence, "components": row.components,
        "status": row.status, "proposed_at": row.proposed_at.isoformat(),
    }


class JourneyService:
    def __init__(self, db: Database, classifier: JourneyClassifier) -> None:
        self.db = db
        self.classifier = classifier
        self.playbook = classifier.playbook
        self.decisions = DecisionLog(classifier.fingerprint)
        self.learner = HistoryLearner(self.playbook, classifier.stages, classifier.personas)
        self.ranker = ActionRanker(self.playbook, self.learner.recognizer)

    # -- stage and persona ----------------------------------------------------------------------------

    def assess(self, key: str, now: datetime | None = None, product_line: str | None = None, record: bool = True) -> Assessment:
        """Classify a stored person (raises ``ContactNotFound``) and record what changed."""
        now = now or datetime.now(UTC)
        person = load_person(self.db, key, now)
        person.journey.product_line = product_line
        with self.db.session() as session:
            person.journey.stage_override = self.decisions.override_for(session, person.person_id, product_line)
            result = self.classifier.classify(person.journey)
            recorded = []
            if record:
                rows = self.decisions.record_classification(session, person.person_id, person.contact_ids[0], result,
                                                            person.journey, now)
                session.flush()
                recorded = [DecisionView.of(row) for row in rows]
        return Assessment(person, result, recorded)

    def override_stage(self, key: str, stage: str, by: str | None = None, note: str | None = None,
                       product_line: str | None = None, now: datetime | None = None) -> DecisionView:
        if stage not in self.playbook.stage_ids:
            raise JourneyError(f"unknown stage {stage!r}; the playbook's stages: {', '.join(self.playbook.stage_ids)}")
        person = load_person(self.db, key, now)
        with self.db.session() as session:
            row = self.decisions.record_override(session, person.person_id, person.contact_ids[0], stage, by, note,
                                                 product_line, now)
            session.flush()
            return DecisionView.of(row)

    def history(self, key: str, kind: str | None = None, limit: int = 50) -> list[DecisionView]:
        person = load_person(self.db, key)
        with self.db.session() as session:
            return self.decisions.history(session, person.person_id, kind, limit)

    # -- next best actions -------------------------------------------------------------------------------

    def next_actions(self, key: str, n: int = 3, explore: bool = True, language: str = "en",
                     now: datetime | None = None) -> NextActions:
        if not 1 <= n <= MAX_ACTIONS:
            raise JourneyError(f"n is from 1 to {MAX_ACTIONS}, not {n}")
        now = now or datetime.now(UTC)
        assessment = self.assess(key, now)
        person = assessment.person
        history_model, learned_from = self.learner.model(self.db)
        model = new_model(self.playbook)
        model.merge(history_model)
        with self.db.session() as session:
            for action, context, reward in outcome_observations(session, self.playbook):
                model.update(action, context, reward, self.playbook.learning.outcome_weight)
            ranking = self.ranker.rank(person, assessment.result, model, self._past(session, person.person_id), now, n,
                                       explore, language)
            proposals = self._store(session, person, ranking, now)
            session.flush()
        return NextActions(person, assessment, ranking, proposals, learned_from)

    @staticmethod
    def _past(session: Any, person_id: str) -> list[PastOutcome]:
        rows = session.execute(
            select(ActionProposal.action_id, ActionProposal.status, ActionProposal.outcome_at)
            .where(ActionProposal.person_id == person_id, ActionProposal.outcome_at.is_not(None))
        ).tuples()
        return [PastOutcome(action, status, at) for action, status, at in rows]

    def _store(self, session: Any, person: PersonProfile, ranking: Ranking, now: datetime) -> list[ActionProposal]:
        """Each proposal shown is stored; an open proposal of the same action is updated in place,
        and an open proposal the new list no longer shows becomes ``superseded`` (no outcome: it
        sets no cooldown, and an outcome recorded for it later still counts)."""
        stored = []
        open_list = list(session.scalars(
            select(ActionProposal).where(ActionProposal.person_id == person.person_id, ActionProposal.status == "proposed")
            .order_by(ActionProposal.proposed_at)))
        open_rows = {row.action_id: row for row in open_list}
        for rank, item in enumerate(ranking.ranked, start=1):
            components = item.components() | {"title": {"de": item.action.title.de, "en": item.action.title.en},
                                              "channel": item.action.channel}
            row = open_rows.get(item.action.id)
            if row is None:
                row = ActionProposal(id=f"act_{uuid.uuid4().hex[:16]}", person_id=person.person_id, action_id=item.action.id)
                session.add(row)
            row.contact_id = person.contact_ids[0]
            row.account_id = person.account_id
            row.stage, row.persona = ranking.stage, ranking.persona
            row.rank, row.score = rank, item.score
            row.components, row.explanation, row.evidence = components, item.explanation, item.evidence
            row.proposed_at = now
            row.playbook_fingerprint = self.classifier.fingerprint
            stored.append(row)
        for row in open_list:
            if row not in stored:
                row.status = SUPERSEDED
        return stored

    def record_outcome(self, proposal_id: str, outcome: str, by: str | None = None, note: str | None = None,
                       now: datetime | None = None) -> dict[str, Any]:
        if outcome not in OUTCOMES:
            raise JourneyError(f"unknown outcome {outcome!r}; one of: {', '.join(OUTCOMES)}")
        now = now or datetime.now(UTC)
        with self.db.session() as session:
            row = session.get(ActionProposal, proposal_id)
            if row is None:
                raise ProposalNotFound(f"no proposal {proposal_id!r}: take the id from journey next-actions")
            row.status, row.outcome_at = outcome, now
            session.add(ActionOutcome(proposal_id=row.id, outcome=outcome, recorded_at=now, recorded_by=by, note=note))
            session.flush()
            # A proposal of an action a later playbook removed has no cooldown any more.
            action = next((a for a in self.playbook.actions if a.id == row.action_id), None)
            cooldown = action.eligibility.cooldown_days if action else None
            return {"id": row.id, "action": row.action_id, "person_id": row.person_id, "outcome": outcome,
                    "recorded_at": now.isoformat(), "cooldown_days": cooldown}
