"""The history of stage and persona decisions per person, and rep overrides.

Append-only: a decision is never changed, only superseded (``superseded_at``) by a newer one of
the same kind and product line. The classifier's decision is recorded when it differs from the
current one (another value, or a confidence that moved by ``CONFIDENCE_STEP``), so the history
shows changes, not every look at a profile. A rep's override is a decision with source
``rep_override``; it is fed back to the stage detector, which holds it until newer strong
evidence contradicts it (domain.md) – then the classifier's decision supersedes it.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from assistant.journey.classifier import Classification
from assistant.journey.evidence import strongest
from assistant.journey.inputs import JourneyInput, StageOverride
from knowledge.profiles.models import JourneyDecision

CONFIDENCE_STEP = 0.1
EVIDENCE_KEPT = 8
CLASSIFIER = "classifier"
REP_OVERRIDE = "rep_override"


def input_digest(journey: JourneyInput) -> str:
    """A hash of what the classifier read (without the reference time), to tell inputs apart."""
    data = journey.model_dump_json(exclude={"now", "unknown_fields", "stage_override"})
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def _for_line(product_line: str | None) -> ColumnElement[bool]:
    """Decisions about ``product_line`` (``None``: the person's general ones)."""
    return JourneyDecision.product_line.is_(None) if product_line is None else JourneyDecision.product_line == product_line


def _id() -> str:
    return f"dec_{uuid.uuid4().hex[:20]}"


@dataclass(frozen=True)
class DecisionView:
    id: str
    kind: str
    value: str | None
    confidence: float
    source: str
    decided_by: str | None
    decided_at: datetime
    superseded_at: datetime | None
    product_line: str | None
    note: str | None
    evidence: list[Any]

    @classmethod
    def of(cls, row: JourneyDecision) -> DecisionView:
        return cls(row.id, row.kind, row.value, row.confidence, row.source, row.decided_by, row.decided_at,
                   row.superseded_at, row.product_line, row.note, list(row.evidence or []))

    def by_label(self) -> str:
        return self.decided_by or ("a rep" if self.source == REP_OVERRIDE else "the classifier")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "value": self.value, "confidence": round(self.confidence, 4),
            "source": self.source, "decided_by": self.decided_by, "decided_at": self.decided_at.isoformat(),
            "superseded_at": self.superseded_at.isoformat() if self.superseded_at else None,
            "product_line": self.product_line, "note": self.note,
        }


class DecisionLog:
    """Reads and appends ``journey_decisions`` inside the caller's session."""

    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = fingerprint

    @staticmethod
    def current(session: Session, person_id: str, kind: str, product_line: str | None = None) -> JourneyDecision | None:
        query = select(JourneyDecision).where(
            JourneyDecision.person_id == person_id, JourneyDecision.kind == kind, JourneyDecision.superseded_at.is_(None),
            _for_line(product_line),
        )
        return session.scalars(query.order_by(JourneyDecision.decided_at.desc()).limit(1)).first()

    def override_for(self, session: Session, person_id: str, product_line: str | None = None) -> StageOverride | None:
        """The rep's override in force, as the stage detector's input."""
        row = self.current(session, person_id, "stage", product_line)
        if row is None or row.source != REP_OVERRIDE or row.value is None:
            return None
        return StageOverride(stage=row.value, at=row.decided_at, by=row.decided_by, note=row.note)

    def _append(self, session: Session, row: JourneyDecision) -> JourneyDecision:
        session.execute(
            update(JourneyDecision)
            .where(JourneyDecision.person_id == row.person_id, JourneyDecision.kind == row.kind,
                   JourneyDecision.superseded_at.is_(None), _for_line(row.product_line))
            .values(superseded_at=row.decided_at)
        )
        session.add(row)
        return row

    def record_override(self, session: Session, person_id: str, contact_id: str | None, stage: str, by: str | None,
                        note: str | None, product_line: str | None = None, now: datetime | None = None) -> JourneyDecision:
        return self._append(session, JourneyDecision(
            id=_id(), person_id=person_id, contact_id=contact_id, kind="stage", value=stage, product_line=product_line,
            confidence=1.0, scores={}, evidence=[], source=REP_OVERRIDE, decided_by=by, note=note,
            decided_at=now or datetime.now(UTC), playbook_fingerprint=self.fingerprint,
        ))

    def record_classification(self, session: Session, person_id: str, contact_id: str | None, result: Classification,
                              journey: JourneyInput, now: datetime | None = None) -> list[JourneyDecision]:
        """Append the stage and persona decisions that changed; an override that still holds
        stays the current stage decision."""
        when = now or datetime.now(UTC)
        digest = input_digest(journey)
        added = []
        override = result.stage.override
        if not (override and override.get("held")):
            stage_evidence = [item.to_dict() for item in strongest(result.stage.evidence, EVIDENCE_KEPT)]
            row = self._maybe(session, person_id, contact_id, "stage", result.stage.stage, result.stage.confidence,
                              result.stage.probabilities, stage_evidence, journey.product_line, digest, when)
            if row is not None:
                added.append(row)
        persona_evidence = [item.to_dict() for item in strongest(result.persona.evidence, EVIDENCE_KEPT)]
        row = self._maybe(session, person_id, contact_id, "persona", result.persona.persona, result.persona.confidence,
                          result.persona.probabilities, persona_evidence, None, digest, when)
        if row is not None:
            added.append(row)
        return added

    def _maybe(self, session: Session, person_id: str, contact_id: str | None, kind: str, value: str | None,
               confidence: float, scores: dict[str, float], evidence: list[dict[str, Any]], product_line: str | None,
               digest: str, when: datetime) -> JourneyDecision | None:
        current = self.current(session, person_id, kind, product_line)
        if (current is not None and current.source == CLASSIFIER and current.value == value
                and abs(current.confidence - confidence) < CONFIDENCE_STEP):
            return None
        return self._append(session, JourneyDecision(
            id=_id(), person_id=person_id, contact_id=contact_id, kind=kind, value=value, product_line=product_line,
            confidence=confidence, scores={k: round(v, 4) for k, v in scores.items()}, evidence=evidence,
            source=CLASSIFIER, decided_at=when, playbook_fingerprint=self.fingerprint, input_digest=digest,
        ))

    @staticmethod
    def history(session: Session, person_id: str, kind: str | None = None, limit: int = 50) -> list[DecisionView]:
        query = select(JourneyDecision).where(JourneyDecision.person_id == person_id)
        if kind:
            query = query.where(JourneyDecision.kind == kind)
        rows = session.scalars(query.order_by(JourneyDecision.decided_at.desc(), JourneyDecision.id).limit(limit))
        return [DecisionView.of(row) for row in rows]
