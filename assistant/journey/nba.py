"""Next best action: eligibility first, then propensity × value × fit × lever, with reasons.

The arbitration of Pega's decision hub, in a form a sales manager can follow:

1. **Eligibility** filters the catalogue: the action fits the person's stage; the consent it needs
   was granted (and not withdrawn since); it needs an open deal / a customer / a non-customer as
   its rules say; it is not inside its cooldown after an earlier proposal's outcome or after a
   touchpoint showing it was done; nothing in ``not_after`` happened recently. Every action left
   out is listed with the reason.
2. **Score** = propensity × value × fit × lever.
   - *propensity*: how often this action preceded progress for people in the same stage, of the
     same persona, at accounts of the same industry (``learning``), plus recorded outcomes.
     With ``explore`` the ranking uses a Thompson sample of that estimate, so actions with
     little history still get tried; the sample is seeded by person and day, so a rep sees the
     same list all day.
   - *value*: the action's business value from the playbook.
   - *fit*: the probability that the person is in one of the action's stages, times how well
     the persona fits (a listed persona counts its probability; an action for every persona
     counts ``generic_persona_fit``).
   - *lever*: the playbook's business lever for the action or its channel (default 1).
3. The top N carry an explanation in plain language that cites the evidence: the messages and
   touchpoints behind the stage and persona, and the history behind the propensity.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from assistant.journey.classifier import Classification
from assistant.journey.evidence import Evidence, strongest
from assistant.journey.learning import ActionRecognizer
from assistant.journey.playbook import ActionDef, Playbook, normalized_key
from assistant.journey.profile_input import PersonProfile
from assistant.journey.propensity import Posterior, PropensityModel
from assistant.journey.stage import lookup
from assistant.journey.text import TokenCache

GRANTED = "granted"


@dataclass(frozen=True)
class PastOutcome:
    """An earlier proposal of an action to this person and what became of it."""

    action_id: str
    status: str
    at: datetime


@dataclass
class Ranked:
    action: ActionDef
    score: float
    propensity: Posterior
    sampled: float | None
    value: float
    fit: float
    stage_fit: float
    persona_fit: float
    lever: float
    context: dict[str, str | None]
    evidence: list[dict[str, Any]] = field(default_factory=list)
    explanation: str = ""

    def components(self) -> dict[str, Any]:
        return {
            "propensity": round(self.propensity.mean, 4),
            "sampled_propensity": round(self.sampled, 4) if self.sampled is not None else None,
            "observations": round(self.propensity.observations, 2),
            "value": self.value,
            "fit": round(self.fit, 4),
            "stage_fit": round(self.stage_fit, 4),
            "persona_fit": round(self.persona_fit, 4),
            "lever": self.lever,
            "context": self.context,
            "history": [level.to_dict() for level in self.propensity.levels],
        }


@dataclass
class Skipped:
    action_id: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"action": self.action_id, "reason": self.reason}


@dataclass
class Ranking:
    ranked: list[Ranked]
    skipped: list[Skipped]
    stage: str
    persona: str | None


def _keep_newest(newest: dict[str, datetime], key: str, at: datetime) -> None:
    if key not in newest or at > newest[key]:
        newest[key] = at


def _days(delta: timedelta) -> int:
    return max(int(delta.total_seconds() // 86400), 0)


def _ago(now: datetime, at: datetime) -> str:
    days = _days(now - at)
    return "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago"


class ActionRanker:
    def __init__(self, playbook: Playbook, recognizer: ActionRecognizer | None = None) -> None:
        self.playbook = playbook
        self.config = playbook.learning
        self.recognizer = recognizer or ActionRecognizer(playbook)
        self._statuses = {normalized_key(k): v for k, v in playbook.customer_statuses.items()}
        self._stage_names = {stage.id: stage.name for stage in playbook.stages}
        self._persona_names = {persona.id: persona.name for persona in playbook.personas}

    # -- eligibility ---------------------------------------------------------------------------------

    def is_customer(self, person: PersonProfile) -> bool:
        if person.won_deals:
            return True
        found = lookup(self._statuses, person.customer_status) if person.customer_status else None
        return bool(found and found[1].stage in self.playbook.scoring.stage.customer_stages)

    def _newest(self, person: PersonProfile, tokens: TokenCache) -> tuple[dict[str, datetime], dict[str, datetime]]:
        """When each action was last seen done (its ``seen_in``), and when each touchpoint type,
        title or detail last occurred (tickets count as ``support_ticket``), in one pass."""
        done: dict[str, datetime] = {}
        types: dict[str, datetime] = {}
        for touchpoint in person.journey.touchpoints:
            at = touchpoint.timestamp
            if at is None:
                continue
            for action in self.recognizer.actions(touchpoint, tokens):
                _keep_newest(done, action, at)
            for name in (touchpoint.type, touchpoint.title, touchpoint.detail):
                if name:
                    _keep_newest(types, normalized_key(name), at)
        for ticket in person.journey.tickets:
            if ticket.timestamp:
                _keep_newest(types, "support_ticket", ticket.timestamp)
        return done, types

    def why_not(self, action: ActionDef, stage: str, person: PersonProfile, customer: bool, now: datetime,
                outcomes: dict[str, PastOutcome], done: dict[str, datetime], types: dict[str, datetime]) -> str | None:
        rules = action.eligibility
        if stage not in action.stages:
            return f"fits {', '.join(action.stages)}, not {stage}"
        if rules.consent:
            status = person.consents.get(rules.consent)
            if status is None:
                return f"no {rules.consent} consent on record"
            if status[0] != GRANTED:
                return f"{rules.consent} consent {status[0]} on {status[1].date().isoformat()}"
        if rules.requires_open_deal and not person.open_deals:
            return "needs an open deal"
        if rules.requires_customer and not customer:
            return "only for customers"
        if rules.excludes_customer and customer:
            return "not for customers"
        cooldown = timedelta(days=rules.cooldown_days)
        past = outcomes.get(action.id)
        if past is not None and now - past.at < cooldown:
            until = (past.at + cooldown).date().isoformat()
            return f"{past.status} {_ago(now, past.at)}; cooldown of {rules.cooldown_days} days until {until}"
        seen = done.get(action.id)
        if seen is not None and now - seen < cooldown:
            return f"already done {_ago(now, seen)} (touchpoint); cooldown of {rules.cooldown_days} days"
        for name, days in rules.not_after.items():
            at = types.get(normalized_key(name))
            if at is not None and now - at < timedelta(days=days):
                return f"not within {days} days after {name} ({_ago(now, at)})"
        return None

    # -- scoring -------------------------------------------------------------------------------------

    def _persona_fit(self, action: ActionDef, result: Classification) -> float:
        if not action.personas:
            return self.config.generic_persona_fit
        share = sum(result.persona.probabilities.get(persona, 0.0) for persona in action.personas)
        floor = self.config.persona_fit_floor
        return floor + (1 - floor) * min(share, 1.0)

    def rank(self, person: PersonProfile, result: Classification, model: PropensityModel, outcomes: list[PastOutcome],
             now: datetime, n: int = 3, explore: bool = True, language: str = "en") -> Ranking:
        stage, persona = result.stage.stage, result.persona.persona if result.persona.enough_signal else None
        context = {"stage": stage, "persona": persona, "industry": person.industry}
        newest: dict[str, PastOutcome] = {}
        for outcome in outcomes:
            if outcome.action_id not in newest or outcome.at > newest[outcome.action_id].at:
                newest[outcome.action_id] = outcome
        tokens = TokenCache()
        done, types = self._newest(person, tokens)
        customer = self.is_customer(person)
        rng = random.Random(self._seed(person.person_id, now)) if explore else None
        ranked: list[Ranked] = []
        skipped: list[Skipped] = []
        for action in self.playbook.actions:
            reason = self.why_not(action, stage, person, customer, now, newest, done, types)
            if reason is not None:
                if stage in action.stages:  # actions for other stages are simply not in question
                    skipped.append(Skipped(action.id, reason))
                continue
            posterior = model.posterior(action.id, context)
            sampled = posterior.sample(rng) if rng is not None else None
            stage_fit = sum(result.stage.probabilities.get(s, 0.0) for s in action.stages)
            persona_fit = self._persona_fit(action, result)
            lever = self.playbook.levers.get(action.id, 1.0) * self.playbook.levers.get(action.channel, 1.0)
            propensity = sampled if sampled is not None else posterior.mean
            score = propensity * action.value * stage_fit * persona_fit * lever
            ranked.append(Ranked(action, score, posterior, sampled, action.value, stage_fit * persona_fit, stage_fit,
                                 persona_fit, lever, context))
        ranked.sort(key=lambda item: (-item.score, item.action.id))
        top = ranked[:n]
        for item in top:
            item.evidence = self._evidence(result, item)
            item.explanation = self._explain(person, result, item, language)
        return Ranking(top, skipped, stage, persona)

    @staticmethod
    def _seed(person_id: str, now: datetime) -> int:
        digest = hashlib.sha256(f"{person_id}|{now.date().isoformat()}".encode()).digest()
        return int.from_bytes(digest[:8], "big")

    # -- explanation ---------------------------------------------------------------------------------

    @staticmethod
    def _evidence(result: Classification, item: Ranked) -> list[dict[str, Any]]:
        stage_items = [e for e in result.stage.evidence if e.label == result.stage.stage and e.weight > 0]
        persona_items = [e for e in result.persona.evidence if e.label == result.persona.persona and e.weight > 0]
        found = [e.to_dict() for e in strongest(stage_items, 3) + strongest(persona_items, 2)]
        found.append({"for": "propensity", "label": item.action.id, "source": "history",
                      "weight": round(item.propensity.mean, 4), "note": ActionRanker._history_note(item, "en")})
        return found

    @staticmethod
    def _quote(evidence: list[Evidence], label: str, language: str) -> str:
        best = strongest([e for e in evidence if e.label == label and e.weight > 0], 2)
        parts = []
        for item in best:
            if item.source in ("message", "semantic") and item.text:
                parts.append(f"„{item.text}“" if language == "de" else f"'{item.text}'")
            elif item.text:
                parts.append(f"{item.source} {item.text}")
            elif item.cue:
                parts.append(f"{item.source} {item.cue}")
        return "; ".join(dict.fromkeys(parts))

    @staticmethod
    def _history_note(item: Ranked, language: str) -> str:
        levels = [level for level in item.propensity.levels if level.observations > 0 and level.keys != ("*",)]
        if not levels:
            return ("noch keine Erfahrung mit dieser Aktion: wird zum Ausprobieren vorgeschlagen" if language == "de"
                    else "no history for this action yet: proposed to learn how it works")
        level = levels[-1]
        where = ", ".join(str(v) for v in level.values)
        share = f"{level.successes:g}/{level.observations:g}"
        if language == "de":
            return f"{share} vergleichbare Fälle ({where}) kamen danach weiter (Neigung {item.propensity.mean:.0%})"
        return f"{share} similar cases ({where}) progressed afterwards (propensity {item.propensity.mean:.0%})"

    def _explain(self, person: PersonProfile, result: Classification, item: Ranked, language: str) -> str:
        de = language == "de"
        who = person.name or person.email or ("die Person" if de else "the person")
        stage_name = getattr(self._stage_names[result.stage.stage], "de" if de else "en")
        title = getattr(item.action.title, "de" if de else "en")
        because = self._quote(result.stage.evidence, result.stage.stage, language)
        parts = [f"{title}: " + (f"{who} ist in der Phase {stage_name} ({result.stage.confidence:.0%})" if de
                                 else f"{who} is in {stage_name.lower()} ({result.stage.confidence:.0%})")
                 + (f" – {because}" if because else "")]
        if result.persona.persona and result.persona.enough_signal:
            persona_name = getattr(self._persona_names[result.persona.persona], "de" if de else "en")
            why = self._quote(result.persona.evidence, result.persona.persona, language)
            fits = item.action.personas and result.persona.persona in item.action.personas
            parts.append((f"wirkt wie {persona_name}" if de else f"reads as {persona_name.lower()}")
                         + f" ({result.persona.confidence:.0%}{', ' + why if why else ''})"
                         + ((", passt zu dieser Aktion" if de else ", whom this action suits") if fits else ""))
        parts.append(self._history_note(item, language))
        if item.lever != 1.0:
            parts.append(f"{'Hebel' if de else 'business lever'} ×{item.lever:g}")
        content = item.action.content
        if content is not None:
            link = content if isinstance(content, str) else getattr(content, "de" if de else "en")
            parts.append(f"{'Inhalt' if de else 'content'}: {link}")
        return "; ".join(parts) + "."
