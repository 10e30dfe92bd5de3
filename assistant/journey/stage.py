"""Where a person stands in the journey, from the conversation and their history.

The score of a stage is a sum of weighted evidence:

* **messages** of the person: the playbook's cues, newest message first; each older message
  counts ``message_decay`` times less, so the newest strong evidence wins while a newer
  message without cues ("ok, thanks") leaves the older evidence standing;
* **history**: touchpoints (type, channel, kind and the words of their title, detail and URL)
  fading with a half-life, deal stages, customer status and tickets. History as a whole is
  capped below one clear message and counts less the more the conversation says
  (``history_weight / (1 + message evidence / history_yield)``): history alone is not the
  stage, it decides when the conversation says little;
* **the semantic model** (``semantic``): what the newest message (read with the one before,
  so a short follow-up keeps its topic) means beyond the cue lists, as one more weighted item;
* **rules** of ``domain.md``: a customer asking about a product line they do not have is in
  consideration for it (a backward move), a known person's "what is ..." is not awareness,
  a rep's override holds until newer evidence contradicts it.

Probabilities are a softmax of the scores; the confidence is the winner's probability,
discounted when little evidence stands behind it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from assistant.journey.cues import Cue, CueMatcher, cues_from, known_words, weight_table
from assistant.journey.evidence import Evidence, Tally, confidence, from_match, rounded, softmax
from assistant.journey.inputs import JourneyInput, StageOverride, TouchpointInput
from assistant.journey.playbook import Playbook, StageMapping, normalized_key
from assistant.journey.semantic import SMALL_TALK
from assistant.journey.text import TokenCache, normalize, snippet

SemanticSignal = Callable[[str], dict[str, float]]
"""Text → probability per stage (see ``semantic``)."""

DECLINES = frozenset(("nein", "nee", "noe", "nope", "nah", "no", "later", "spaeter"))
"""Words of a reply that turns the assistant's question down (so does one that starts with a negator)."""
TOUCHPOINT_CAP = 3.0
"""One touchpoint adds at most this much to a stage, however many cues it carries."""
DEAL_HALF_LIFE_DAYS = 90.0


@dataclass
class StageResult:
    stage: str
    probabilities: dict[str, float]
    confidence: float
    evidence: list[Evidence]
    override: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def lookup(table: dict[str, StageMapping], name: str) -> tuple[str, StageMapping] | None:
    """The mapping of a deal stage or status name: exact, without separators, or the longest
    known name whose words all occur in it ("Stage 4 - Negotiation" → negotiation)."""
    key = normalized_key(name)
    if key in table:
        return key, table[key]
    compact = key.replace("_", "")
    for known, mapping in table.items():
        if known.replace("_", "") == compact:
            return known, mapping
    words = set(key.split("_"))
    fits = [known for known in table if set(known.split("_")) <= words]
    if fits:
        best = max(fits, key=len)
        return best, table[best]
    return None


def same_line(left: str, right: str) -> bool:
    a, b = normalized_key(left), normalized_key(right)
    return bool(a and b) and (a == b or a in b or b in a)


def decay(at: datetime | None, now: datetime, half_life_days: float) -> float:
    """1 for now, ½ after one half-life; ½ as well when the time is unknown."""
    if at is None:
        return 0.5
    age_days = max((now - at).total_seconds() / 86400.0, 0.0)
    return 0.5 ** (age_days / half_life_days)


class StageDetector:
    def __init__(self, playbook: Playbook) -> None:
        self.playbook = playbook
        self.config = playbook.scoring.stage
        self.stages = playbook.stage_ids
        negators, exclude = playbook.negation.all(), [*playbook.fuzzy_exclude, *known_words(playbook)]
        message_cues: list[Cue] = []
        history_cues: list[Cue] = []
        for stage in playbook.stages:
            message_cues += cues_from(stage.id, stage.cues, "cues")
            history_cues += cues_from(stage.id, stage.history.text, "history.text")
            history_cues += cues_from(stage.id, stage.cues, "cues", self.config.history_text_factor)
        self._messages = CueMatcher(message_cues, negators, exclude, self.config.frames_override_from)
        self._history_text = CueMatcher(history_cues, negators, exclude)
        self._sarcasm = CueMatcher(cues_from("sarcasm", playbook.sarcasm, "sarcasm"))
        self._negators = frozenset(normalize(word) for word in negators)
        self._praise_stages = {cue.label for cue in message_cues if cue.positive}
        self._types = weight_table((s.id, s.history.types) for s in playbook.stages)
        self._channels = weight_table((s.id, s.history.channels) for s in playbook.stages)
        self._kinds = weight_table((s.id, s.history.kinds) for s in playbook.stages)
        self._deal_stages = {normalized_key(k): v for k, v in playbook.deal_stages.items()}
        self._statuses = {normalized_key(k): v for k, v in playbook.customer_statuses.items()}

    def detect(self, journey: JourneyInput, tokens: TokenCache | None = None, semantic: SemanticSignal | None = None) -> StageResult:
        """``semantic`` gives stage probabilities for a text (the semantic model), if available."""
        tokens = tokens or TokenCache()
        now = journey.reference_time()
        messages = self._message_evidence(journey, tokens)
        said = sum(item.weight for item in messages.items if item.weight > 0)
        history = self._history_evidence(journey, tokens, now)
        rules, known, customer = self._apply_rules(journey, messages, history)
        # History counts less the more the conversation itself says: history alone is not the stage.
        history.items = [item.scaled(1.0 / (1.0 + said / self.config.history_yield)) for item in history.items]
        meaning = self._semantic_evidence(journey, tokens, semantic, messages)
        if known:
            # The model's "reads like awareness" is a "what is ..." too: the same rule holds for it.
            meaning, rule = self._known_person_awareness(meaning, customer, " (the semantic model's reading)")
            rules += rule
        items = messages.items + meaning + history.items + rules
        scores: dict[str, float] = defaultdict(float)
        for item in items:
            scores[item.label] += item.weight
        for stage, prior in self._priors(bool(journey.person_messages()) and said < self.config.unplaced_below
                                         and not history.items).items():
            scores[stage] += prior
        probabilities = softmax(scores, self.stages, self.config.temperature)
        mass = sum(item.weight for item in items if item.weight > 0)
        stage = max(self.stages, key=lambda s: (probabilities[s], -self.stages.index(s)))
        result = StageResult(stage, probabilities, confidence(probabilities, mass, self.config.evidence_scale), items)
        if not journey.person_messages():
            result.notes.append("no conversation: the stage comes from the history" if history.items
                                else "no conversation and no history: most likely a new person, low confidence")
        if journey.stage_override is not None:
            self._apply_override(result, journey.stage_override, now)
        result.probabilities = rounded(result.probabilities)
        result.confidence = round(result.confidence, 4)
        return result

    def _priors(self, unplaced: bool) -> dict[str, float]:
        """Where a person stands before any evidence; a message without telling words (and no
        history) is most often a detail question about the product (``unplaced_prior``)."""
        priors: dict[str, float] = defaultdict(float)
        for table in (self.config.prior, self.config.unplaced_prior if unplaced else {}):
            for stage, prior in table.items():
                if stage in self.stages:
                    priors[stage] += prior
        return priors

    # -- the conversation ------------------------------------------------------------------

    def _message_evidence(self, journey: JourneyInput, tokens: TokenCache) -> Tally:
        """Newer messages count more; a dated message (a stored conversation) also fades with time."""
        tally = Tally()
        now = journey.reference_time()
        recent = journey.person_messages()[-self.config.max_messages:]
        for age, (index, message) in enumerate(reversed(recent)):
            faded = decay(message.timestamp, now, self.config.history_half_life_days) if message.timestamp else 1.0
            found = self._messages.match(tokens(message.content))
            sarcastic = any(m.cue.positive for m in found) and bool(self._sarcasm.match(tokens(message.content)))
            group = []
            for match in found:
                muted = sarcastic and match.cue.positive
                group.append(from_match("stage", match, "message", index, message.content, 0.0 if muted else 1.0,
                                        message.timestamp, "praise next to a sarcasm marker" if muted else None))
            tally.add_group(self._strongest_first(group), self.config.message_cap, self.config.message_decay ** age * faded)
        self._reply_context(journey, tokens, tally)
        return tally

    def _reply_context(self, journey: JourneyInput, tokens: TokenCache, tally: Tally) -> None:
        """A short yes to the assistant's question ("sure thing" to "Would you leave us a review?")
        agrees to what the question proposed: its cues count ``reply_context_factor`` as much."""
        config, person = self.config, journey.person_messages()
        if not person or config.reply_context_factor == 0:
            return
        index, reply = person[-1]
        words = tokens(reply.content)
        before = journey.messages[index - 1] if index > 0 else None
        if (before is None or before.from_person or before.role.strip().lower() == "system" or not before.content.strip()
                or len(words) > config.reply_max_words
                or any(t.text in DECLINES for t in words) or (words and words[0].text in self._negators)
                or any(item.ref == index and item.source == "message" and item.weight > 0 for item in tally.items)):
            return
        group = [from_match("stage", match, "message", index - 1, before.content, 1.0, before.timestamp,
                            f"the person agreed to this (\"{snippet(reply.content)}\")")
                 for match in self._messages.match(tokens(before.content)) if not match.negated]
        tally.add_group(self._strongest_first(group), config.message_cap, config.reply_context_factor)

    def _strongest_first(self, group: list[Evidence]) -> list[Evidence]:
        """Per stage, the strongest cue of a message counts fully, the others ``message_rest_share``."""
        share = self.config.message_rest_share
        if share >= 1.0:
            return group
        top: dict[str, int] = {}
        for i, item in enumerate(group):
            if item.weight > 0 and (item.label not in top or item.weight > group[top[item.label]].weight):
                top[item.label] = i
        return [item if item.weight <= 0 or top.get(item.label) == i else item.scaled(share) for i, item in enumerate(group)]

    def _semantic_evidence(self, journey: JourneyInput, tokens: TokenCache, semantic: SemanticSignal | None,
                           messages: Tally) -> list[Evidence]:
        """The semantic model's reading of the newest message: ``weight × ln(k·p)`` per stage
        (positive above chance), less for messages of fewer than ``semantic_full_words`` words
        and for small talk. Not asked when the cues of the message already decide clearly."""
        config = self.config
        person = journey.person_messages()
        if semantic is None or not person or config.semantic_weight == 0:
            return []
        index, message = person[-1]
        words = len(tokens(message.content))
        if not words or self._cues_decide(messages, index):
            return []
        # A follow-up without telling words ("Can someone look at it?") is read with the message
        # before it, so it keeps its topic; the model reads the end (``semantic_max_chars``).
        follow_up = not any(item.ref == index and item.source == "message" and item.weight > 0 for item in messages.items)
        context = " ".join(m.content.strip() for _, m in person[-2 if follow_up else -1:])
        probabilities = semantic(context)
        substance = 1.0 - probabilities.pop(SMALL_TALK, 0.0)
        sarcastic = bool(self._sarcasm.match(tokens(message.content)))
        factor = config.semantic_weight * min(1.0, words / config.semantic_full_words) * substance
        items = []
        for stage, probability in probabilities.items():
            share = max(probability / max(substance, 1e-9), 1e-9)
            weight = factor * max(math.log(len(self.stages) * share), config.semantic_floor)
            note = f"the message reads like {stage} (p = {probability:.2f})"
            if sarcastic and stage in self._praise_stages and weight > 0:
                weight, note = 0.0, f"{note}, but it has a sarcasm marker or a problem in it"
            items.append(Evidence("stage", stage, "semantic", weight, index, snippet(message.content), "semantic model",
                                  at=message.timestamp, note=note))
        return items

    def _cues_decide(self, messages: Tally, index: int) -> bool:
        newest: dict[str, float] = defaultdict(float)
        for item in messages.items:
            if item.source == "message" and item.ref == index:
                newest[item.label] += item.weight
        ranked = sorted(newest.values(), reverse=True) + [0.0, 0.0]
        skip = self.config.semantic_skip_score
        return skip is not None and ranked[0] >= skip and ranked[0] - ranked[1] >= self.config.semantic_skip_margin

    # -- the history -----------------------------------------------------------------------

    def _history_evidence(self, journey: JourneyInput, tokens: TokenCache, now: datetime) -> Tally:
        """Activity (touchpoints, tickets: the strongest recent one counts most) and the CRM's
        state (deal stages, customer status: current until they change)."""
        config = self.config
        history = Tally()
        history.add_strongest(self._activity(journey, tokens, now).items, config.history_cap, config.history_rest_share,
                              config.history_weight)
        state = Tally()
        for index, deal in enumerate(journey.all_deals()):
            # A dated deal fades slowly (90 days); an undated one is the current state.
            age = decay(deal.updated_at, now, DEAL_HALF_LIFE_DAYS) if deal.updated_at else 1.0
            state.add_group(self._deal_items(index, deal.stage, deal.status), TOUCHPOINT_CAP,
                            self._line_factor(journey, deal.product_line) * age, hard=True)
        if journey.customer_status:
            found = lookup(self._statuses, journey.customer_status)
            if found:
                key, mapping = found
                for stage, weight in {mapping.stage: mapping.weight, **mapping.also}.items():
                    state.items.append(Evidence("stage", stage, "customer_status", weight, text=journey.customer_status, cue=key))
        history.add_group(state.items, config.history_cap, config.history_weight)
        return history

    def _activity(self, journey: JourneyInput, tokens: TokenCache, now: datetime) -> Tally:
        config = self.config
        per_item = Tally()
        touchpoints = sorted(enumerate(journey.touchpoints), key=lambda p: p[1].timestamp or now)[-config.max_touchpoints:]
        for index, touchpoint in touchpoints:
            factor = decay(touchpoint.timestamp, now, config.history_half_life_days)
            if journey.product_line and touchpoint.product_line and not same_line(journey.product_line, touchpoint.product_line):
                factor *= config.other_line_factor
            per_item.add_group(self._touchpoint_items(index, touchpoint, tokens), TOUCHPOINT_CAP, factor, hard=True)
        for index, ticket in enumerate(journey.tickets):
            items = [Evidence("stage", stage, "ticket", weight, index, snippet(ticket.subject or "support ticket"),
                              "type=support_ticket", at=ticket.timestamp) for stage, weight in self._types.get("support_ticket", ())]
            open_ticket = (ticket.status or "open").lower() not in ("closed", "solved", "resolved", "geschlossen", "geloest")
            factor = decay(ticket.timestamp, now, config.history_half_life_days) * (1.25 if open_ticket else 1.0)
            per_item.add_group(items, TOUCHPOINT_CAP, factor, hard=True)
        return per_item

    def _touchpoint_items(self, index: int, touchpoint: TouchpointInput, tokens: TokenCache) -> list[Evidence]:
        items = []
        for name, value, table in (("type", touchpoint.type, self._types), ("channel", touchpoint.channel, self._channels),
                                   ("kind", touchpoint.kind, self._kinds)):
            if value:
                for stage, weight in table.get(normalized_key(value), ()):
                    items.append(Evidence("stage", stage, "touchpoint", weight, index, snippet(touchpoint.label()),
                                          f"{name}={normalized_key(value)}", at=touchpoint.timestamp))
        text = touchpoint.text()
        if text:
            for match in self._history_text.match(tokens(text)):
                items.append(from_match("stage", match, "touchpoint", index, text, 1.0, touchpoint.timestamp))
        return items

    def touchpoint_stage(self, touchpoint: TouchpointInput, tokens: TokenCache) -> str | None:
        """The stage one touchpoint speaks for most (``None``: it says nothing about a stage)."""
        totals: dict[str, float] = defaultdict(float)
        for item in self._touchpoint_items(0, touchpoint, tokens):
            totals[item.label] += item.weight
        best = max(totals.items(), key=lambda pair: pair[1], default=None)
        return best[0] if best and best[1] > 0 else None

    def _deal_items(self, index: int, stage: str | None, status: str | None) -> list[Evidence]:
        for name in (stage, status):
            found = lookup(self._deal_stages, name) if name else None
            if found:
                key, mapping = found
                return [Evidence("stage", mapping.stage, "deal", mapping.weight, index, name, key)]
        return []

    def _line_factor(self, journey: JourneyInput, line: str | None) -> float:
        if journey.product_line and line and not same_line(journey.product_line, line):
            return self.config.other_line_factor
        return 1.0

    # -- the rules of domain.md -----------------------------------------------------------------

    def _owned_lines(self, journey: JourneyInput) -> list[str]:
        owned = list(journey.customer_product_lines)
        for deal in journey.deals:
            found = lookup(self._deal_stages, deal.stage or deal.status or "")
            if deal.product_line and found and found[1].stage in self.config.customer_stages:
                owned.append(deal.product_line)
        return owned

    def _known_person_awareness(self, items: list[Evidence], customer: bool,
                                source: str = "") -> tuple[list[Evidence], list[Evidence]]:
        """Awareness items of a known person, scaled by ``known_person_awareness_factor``; for a
        customer, the rule that moves their weight to consideration (``source`` names the reading)."""
        config, moved, out = self.config, 0.0, []
        for item in items:
            if item.label == config.first_stage and item.weight > 0:
                moved += item.weight
                item = item.scaled(config.known_person_awareness_factor)
            out.append(item)
        if not (customer and moved > 0):
            return out, []
        return out, [Evidence("stage", config.evaluation_stage, "rule", moved,
                              note=f"a customer asking what something is evaluates it: consideration, not awareness{source}")]

    def _apply_rules(self, journey: JourneyInput, messages: Tally, history: Tally) -> tuple[list[Evidence], bool, bool]:
        config, rules = self.config, []
        later = history.totals()
        owned = self._owned_lines(journey)
        if journey.product_line and owned and not any(same_line(journey.product_line, line) for line in owned):
            # Being a customer ("we already use X") is context here, not the stage for the new line.
            for tally in (history, messages):
                tally.items = [item.scaled(config.other_line_factor) if item.label in config.customer_stages else item
                               for item in tally.items]
            rules.append(Evidence("stage", config.evaluation_stage, "rule", config.new_line_weight, text=journey.product_line,
                                  note=f"asks about {journey.product_line}, which they do not have yet "
                                       f"(they have {', '.join(owned)}): consideration for that line"))
            later = history.totals()
        # A first visit next to a forum thread or a referral is a newcomer: later-stage (and customer)
        # history must also outweigh the first-contact history to make a person known (a customer).
        first_contact = later.get(config.first_stage, 0.0)
        since = sum(w for stage, w in later.items() if stage != config.first_stage)
        known = since >= config.known_evidence and since > first_contact
        as_customer = sum(later.get(stage, 0.0) for stage in config.customer_stages)
        customer = as_customer >= config.known_evidence and as_customer > first_contact
        if known:
            messages.items, rule = self._known_person_awareness(messages.items, customer)
            rules += rule
        return rules, known, customer

    def _apply_override(self, result: StageResult, override: StageOverride, now: datetime) -> None:
        """The rep's stage holds unless evidence newer than it points, strongly, elsewhere."""
        config = self.config
        since = override.at or now
        newer: dict[str, float] = defaultdict(float)
        for item in result.evidence:
            if item.source in ("message", "semantic", "touchpoint", "ticket") and (item.at or now) > since:
                newer[item.label] += item.weight
        held_by = newer.get(override.stage, 0.0)
        rivals = {s: w for s, w in newer.items() if s != override.stage and w >= config.strong_evidence and w > held_by}
        info: dict[str, Any] = {"stage": override.stage, "at": override.at.isoformat() if override.at else None, "by": override.by}
        if rivals:
            winner = max(rivals, key=lambda s: rivals[s])
            info |= {"held": False, "contradicted_by": winner}
            result.notes.append(f"the rep's override ({override.stage}) is contradicted by newer evidence for {winner}")
        elif override.stage in self.stages:
            share = config.override_share
            result.probabilities = {s: (1 - share) * p + (share if s == override.stage else 0.0) for s, p in result.probabilities.items()}
            result.stage = override.stage
            result.confidence = max(result.confidence, result.probabilities[override.stage])
            result.evidence.append(Evidence("stage", override.stage, "override", 0.0, text=override.note, at=override.at,
                                            note=f"set by {override.by or 'a rep'}; no newer evidence contradicts it"))
            info["held"] = True
        else:
            info |= {"held": False, "error": f"unknown stage {override.stage!r}"}
        result.override = info
