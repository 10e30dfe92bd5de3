"""Journey intelligence: where a person stands (stage), what kind of buyer they are (persona),
from a conversation and their history, with the evidence behind every decision; the playbook
that defines stages, personas, cues, example sentences and the action catalogue.

``JourneyClassifier.from_path(path)`` loads a playbook (the shipped default when ``None``) and
the packaged embedding model once; ``classify_data(obj)`` answers in about a millisecond plus
one embedding of the newest message when its cues do not decide clearly.
"""

from __future__ import annotations

from assistant.journey.classifier import Classification, InvalidJourneyInput, JourneyClassifier, parse_input, semantic_scorer
from assistant.journey.committee import BuyingCommittee, Champion, CommitteeMember, Engagement, buying_committee
from assistant.journey.committee_risks import Risk
from assistant.journey.evidence import Evidence
from assistant.journey.inputs import ChatMessage, DealInput, JourneyInput, StageOverride, TicketInput, TouchpointInput
from assistant.journey.persona import PersonaDetector, PersonaResult
from assistant.journey.playbook import (
    DEFAULT_PLAYBOOK,
    ActionDef,
    Playbook,
    PlaybookError,
    load_playbook,
    parse_playbook,
)
from assistant.journey.profile_input import ContactNotFound, journey_input_for_contact
from assistant.journey.semantic import SemanticScorer
from assistant.journey.stage import StageDetector, StageResult

__all__ = [
    "DEFAULT_PLAYBOOK",
    "ActionDef",
    "BuyingCommittee",
    "Champion",
    "ChatMessage",
    "Classification",
    "CommitteeMember",
    "ContactNotFound",
    "DealInput",
    "Engagement",
    "Evidence",
    "InvalidJourneyInput",
    "JourneyClassifier",
    "JourneyInput",
    "PersonaDetector",
    "PersonaResult",
    "Playbook",
    "PlaybookError",
    "Risk",
    "SemanticScorer",
    "StageDetector",
    "StageOverride",
    "StageResult",
    "TicketInput",
    "TouchpointInput",
    "buying_committee",
    "journey_input_for_contact",
    "load_playbook",
    "parse_input",
    "parse_playbook",
    "semantic_scorer",
]
