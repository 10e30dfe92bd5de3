"""What kind of buyer a person is, from job title, department, buying role, words and content.

Each persona's score is a sum of weighted evidence: the job title and department (cues such as
``Einkauf*`` or ``engineer``), the CRM buying role, the person's messages (all of them, older
ones fading slowly: a persona is stable, unlike a stage), the content they consumed
(touchpoint types, channels and words, fading over months) and, with the packaged model, how the
newest message reads (``semantic``: "the message reads like skeptic (p = 0.71; like nobody in
particular 0.12)", weight ``semantic_weight`` × (p − p(none)) for each persona with p ≥
``semantic_min``; a head learned from the project's labelled conversations, see
``assistant.journey.semantic``). A role the person names themselves
in a message ("I'm the CFO", "as IT lead", "ich bin Elektroingenieur", "I'm with the procurement
department") counts like a job title: the few words after such an introduction go through the
title and department cues. Too little evidence is reported as
such: when the leading persona has less than ``min_signal`` evidence it is ``None`` with a low confidence, not a guess.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from assistant.journey.cues import Cue, CueMatcher, cues_from, known_words, weight_table
from assistant.journey.evidence import Evidence, Tally, confidence, from_match, rounded, softmax
from assistant.journey.inputs import JourneyInput
from assistant.journey.playbook import Playbook, normalized_key
from assistant.journey.semantic import NO_PERSONA
from assistant.journey.stage import decay
from assistant.journey.text import TokenCache, snippet

PER_TOUCHPOINT_CAP = 2.0
PersonaSignal = Callable[[str], dict[str, float]]
"""Text → probability per persona (and ``none``): the semantic model's reading."""
SELF_DESCRIPTION = re.compile(
    r"(?:\b(?:i am|i['’]m|im|i work (?:as|in|for|on)|i run|i lead|i head(?: up)?|i manage|as|here from|writing from"
    r"|my role is|my title is|in my role as"
    r"|ich bin|ich arbeite (?:als|im|in der|in)|ich leite|ich komme aus|ich als|in meiner rolle als"
    r"|meine rolle ist|ich verantworte|zust(?:ae|ä)ndig f(?:ue|ü)r)\b)"
    r"((?:[\s-]+(?!(?:and|und|but|aber|so|also)\b)[\w-]+){1,5})",
    re.IGNORECASE,
)
"""An introduction of one's own role and the (up to five) words after it, read by the title cues.
The alternatives are tried in order, so "I'm with …" and "ich bin hier …" are found as "I'm" and
"ich bin" (the leading "with"/"hier" matches no title cue)."""
SELF_DESCRIPTION_ARTICLES = frozenset({"a", "an", "the", "our", "their", "der", "die", "das", "ein", "eine", "im", "in",
                                        "hier", "fuer", "den", "dem", "up", "unsere", "unser", "unserer", "unserem"})
SELF_DESCRIPTION_MIN_WEIGHT = 2.0
"""Only clear role words count from free text (``engineer``, ``CFO``, ``procurement``), not weak ones."""


def self_described_roles(text: str) -> list[str]:
    """The role phrases someone gives for themselves in ``text``. A short lower-case word such as
    "it" only counts written in capitals ("as IT lead", not "I'm sure it works")."""
    phrases = []
    for found in SELF_DESCRIPTION.finditer(text):
        words = [w for w in re.split(r"[\s-]+", found.group(1)) if w]
        while words and words[0].lower() in SELF_DESCRIPTION_ARTICLES:
            words.pop(0)
        kept = [w for w in words[:4] if len(w) > 3 or w.isupper() or w.lower() in {"cfo", "ceo", "cto", "cio", "coo", "vp"}]
        if kept:
            phrases.append(" ".join(kept))
    return phrases


@dataclass
class PersonaResult:
    persona: str | None
    probabilities: dict[str, float]
    confidence: float
    evidence: list[Evidence]
    secondary: str | None = None
    enough_signal: bool = True


class PersonaDetector:
    def __init__(self, playbook: Playbook) -> None:
        self.config = playbook.scoring.persona
        self.personas = playbook.persona_ids
        negators, exclude = playbook.negation.all(), [*playbook.fuzzy_exclude, *known_words(playbook)]

        def matcher(part: str) -> CueMatcher:
            cues: list[Cue] = []
            for persona in playbook.personas:
                cues += cues_from(persona.id, getattr(persona, part), part)
            return CueMatcher(cues, negators, exclude, self.config.frames_override_from)

        self._messages = matcher("cues")
        self._sarcasm = CueMatcher(cues_from("sarcasm", playbook.sarcasm, "sarcasm"))
        self._titles = matcher("titles")
        self._departments = matcher("departments")
        self._content_text = CueMatcher(
            [cue for p in playbook.personas for cue in cues_from(p.id, p.content.text, "content.text")], negators, exclude)
        self._types = weight_table((p.id, p.content.types) for p in playbook.personas)
        self._channels = weight_table((p.id, p.content.channels) for p in playbook.personas)
        self._roles = weight_table((p.id, p.buying_roles) for p in playbook.personas)

    def detect(self, journey: JourneyInput, tokens: TokenCache | None = None,
               semantic: PersonaSignal | None = None) -> PersonaResult:
        """``semantic`` gives persona probabilities for a text (the semantic model), if available."""
        tokens = tokens or TokenCache()
        config = self.config
        tally = Tally()
        for source, text, matcher, cap, factor in (
            ("job_title", journey.job_title, self._titles, config.title_cap, 1.0),
            ("department", journey.department, self._departments, config.title_cap, config.department_factor),
        ):
            if text:
                group = [from_match("persona", m, source, None, text, 1.0) for m in matcher.match(tokens(text))]
                tally.add_group(group, cap, factor)
        if journey.buying_role:
            key = normalized_key(journey.buying_role)
            group = [Evidence("persona", persona, "buying_role", weight, text=journey.buying_role, cue=key)
                     for persona, weight in self._roles.get(key, ())]
            tally.add_group(group, config.title_cap, config.buying_role_factor)
        tally.add_group(self._self_described(journey, tokens), config.title_cap, config.self_description_factor)
        tally.items += self._message_evidence(journey, tokens).items
        tally.items += self._content_evidence(journey, tokens).items
        if not self._decided(tally.items):
            tally.items += self._semantic_evidence(journey, tokens, semantic)
        return self._decide(tally.items)

    def _decided(self, items: list[Evidence]) -> bool:
        """The title, words and content already name a persona clearly: the model is not asked."""
        skip = self.config.semantic_skip_score
        if skip is None:
            return False
        scores: dict[str, float] = defaultdict(float)
        for item in items:
            scores[item.label] += item.weight
        ranked = sorted(scores.values(), reverse=True) + [0.0, 0.0]
        return ranked[0] >= skip and ranked[0] - ranked[1] >= self.config.semantic_skip_margin

    def _semantic_evidence(self, journey: JourneyInput, tokens: TokenCache, semantic: PersonaSignal | None) -> list[Evidence]:
        """How the newest message reads: for each persona the model gives at least ``semantic_min``
        and more than ``none`` ("says nothing about who asks"), ``semantic_weight`` × the lead over
        ``none``. A message that reads as much like nobody as like an engineer names nobody."""
        config = self.config
        person = journey.person_messages()
        if semantic is None or not person or config.semantic_weight == 0:
            return []
        index, message = person[-1]
        if not tokens(message.content):
            return []
        probabilities = semantic(message.content)
        nobody = probabilities.get(NO_PERSONA, 0.0)
        return [Evidence("persona", persona, "semantic", config.semantic_weight * (probability - nobody), index,
                         snippet(message.content), "semantic model", at=message.timestamp,
                         note=f"the message reads like {persona} (p = {probability:.2f}; like nobody in particular {nobody:.2f})")
                for persona, probability in probabilities.items()
                if persona in self.personas and probability >= config.semantic_min and probability > nobody]

    def _self_described(self, journey: JourneyInput, tokens: TokenCache) -> list[Evidence]:
        """Title and department cues in the roles people name for themselves, strongest per persona."""
        best: dict[str, Evidence] = {}
        for index, message in journey.person_messages():
            for phrase in self_described_roles(message.content):
                for matcher, factor in ((self._titles, 1.0), (self._departments, self.config.department_factor)):
                    for match in matcher.match(tokens(phrase)):
                        item = from_match("persona", match, "message", index, message.content, factor, message.timestamp,
                                          f"names their role: {phrase}")
                        if match.weight >= SELF_DESCRIPTION_MIN_WEIGHT and item.weight > getattr(best.get(item.label), "weight", 0.0):
                            best[item.label] = item
        return list(best.values())

    def _message_evidence(self, journey: JourneyInput, tokens: TokenCache) -> Tally:
        config = self.config
        per_message = Tally()
        recent = journey.person_messages()[-config.max_messages:]
        for age, (index, message) in enumerate(reversed(recent)):
            found = self._messages.match(tokens(message.content))
            sarcastic = any(m.cue.positive for m in found) and bool(self._sarcasm.match(tokens(message.content)))
            group = [from_match("persona", m, "message", index, message.content, 0.0 if sarcastic and m.cue.positive else 1.0,
                                message.timestamp, "praise next to a sarcasm marker" if sarcastic and m.cue.positive else None)
                     for m in found]
            per_message.add_group(group, config.per_message_cap, config.message_decay ** age)
        total = Tally()
        total.add_group(per_message.items, config.message_cap)
        return total

    def _content_evidence(self, journey: JourneyInput, tokens: TokenCache) -> Tally:
        config = self.config
        now = journey.reference_time()
        per_item = Tally()
        for index, touchpoint in enumerate(journey.touchpoints[-300:]):
            group = []
            for name, value, table in (("type", touchpoint.type, self._types), ("channel", touchpoint.channel, self._channels)):
                if value:
                    key = normalized_key(value)
                    group += [Evidence("persona", persona, "touchpoint", weight, index, snippet(touchpoint.label()),
                                       f"{name}={key}", at=touchpoint.timestamp) for persona, weight in table.get(key, ())]
            text = touchpoint.text()
            if text:
                group += [from_match("persona", m, "touchpoint", index, text, 1.0, touchpoint.timestamp)
                          for m in self._content_text.match(tokens(text))]
            per_item.add_group(group, PER_TOUCHPOINT_CAP, decay(touchpoint.timestamp, now, config.content_half_life_days), hard=True)
        total = Tally()
        total.add_group(per_item.items, config.content_cap)
        return total

    def _decide(self, items: list[Evidence]) -> PersonaResult:
        config = self.config
        scores: dict[str, float] = defaultdict(float)
        for item in items:
            scores[item.label] += item.weight
        probabilities = softmax(scores, self.personas, config.temperature)
        ranked = sorted(self.personas, key=lambda p: (-probabilities[p], self.personas.index(p)))
        mass = sum(max(w, 0.0) for w in scores.values())
        sure = confidence(probabilities, mass, config.evidence_scale)
        enough = scores.get(ranked[0], 0.0) >= config.min_signal
        second = ranked[1]
        secondary = second if enough and probabilities[second] >= config.secondary_min and scores.get(second, 0.0) > 0 else None
        return PersonaResult(ranked[0] if enough else None, rounded(probabilities), round(sure, 4), items, secondary, enough)
