"""Learning next-best-action propensities from the profile store: what preceded progress.

Two kinds of observations feed one ``PropensityModel`` (context levels: stage, then stage and
persona, then stage, persona and industry – "similar people at similar accounts"):

* **History.** Every touchpoint that shows an action was done (the action's ``seen_in``: a case
  study e-mailed, a deep-dive held, a webinar invitation sent; never something the person did on
  their own, see ``learning.visitor_types``) is one observation. Its context is the person's
  stage just before (the latest stage their touchpoints spoke for in ``advance_window_days``,
  else the first stage), their persona (job title and department) and their account's industry.
  It is a success when within ``horizon_days`` the person's touchpoints speak for a later stage,
  or their account opens or wins a deal. That is the plain reading of "what preceded stage
  advances and won deals among similar accounts and people".
* **Outcomes.** Every proposal with a recorded outcome counts ``outcome_weight`` times with the
  reward of its newest outcome (``converted`` 1, ``accepted`` ½, ``dismissed`` 0 by default) in
  the context it was proposed in.

The history part is recomputed only when the touchpoints or deals change (a fingerprint of
their counts and newest sync times); outcomes are read fresh on every ranking, so an outcome
changes the very next one.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.journey.cues import CueMatcher, cues_from, known_words
from assistant.journey.inputs import JourneyInput, TouchpointInput
from assistant.journey.persona import PersonaDetector
from assistant.journey.playbook import Playbook, normalized_key
from assistant.journey.propensity import PropensityModel
from assistant.journey.stage import StageDetector
from assistant.journey.text import TokenCache
from knowledge.db import Database
from knowledge.profiles.models import Account, ActionProposal, Contact, Deal, Touchpoint

CONTEXT_LEVELS = (("stage",), ("stage", "persona"), ("stage", "persona", "industry"))
BATCH = 5000


def new_model(playbook: Playbook) -> PropensityModel:
    config = playbook.learning
    return PropensityModel(CONTEXT_LEVELS, config.prior_mean, config.prior_strength, config.strength,
                           config.empirical_bayes)


def _at(value: datetime | date | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


@dataclass
class _Row:
    person: str
    account: str | None
    contact: str | None
    at: datetime
    touchpoint: TouchpointInput


class ActionRecognizer:
    """Which catalogue actions a touchpoint shows were done (its ``seen_in``)."""

    def __init__(self, playbook: Playbook) -> None:
        self._types: dict[str, set[str]] = defaultdict(set)
        self._channels: dict[str, set[str]] = defaultdict(set)
        cues = []
        for action in playbook.actions:
            for name in action.seen_in.types:
                self._types[normalized_key(name)].add(action.id)
            for name in action.seen_in.channels:
                self._channels[normalized_key(name)].add(action.id)
            cues += cues_from(action.id, action.seen_in.text, "seen_in")
        self._text = CueMatcher(cues, playbook.negation.all(), [*playbook.fuzzy_exclude, *known_words(playbook)])
        self._visitor = {normalized_key(name) for name in playbook.learning.visitor_types}

    def actions(self, touchpoint: TouchpointInput, tokens: TokenCache) -> set[str]:
        kind = normalized_key(touchpoint.type or "")
        found = set(self._types.get(kind, ())) | set(self._channels.get(normalized_key(touchpoint.channel or ""), ()))
        text = touchpoint.text()
        if text and kind not in self._visitor:
            found |= {match.cue.label for match in self._text.match(tokens(text)) if not match.negated}
        return found


class HistoryLearner:
    """Builds the history part of the propensity model from the profile store, cached per data
    fingerprint."""

    def __init__(self, playbook: Playbook, stages: StageDetector, personas: PersonaDetector) -> None:
        self.playbook = playbook
        self.stages = stages
        self.personas = personas
        self.recognizer = ActionRecognizer(playbook)
        self.rank = {stage: index for index, stage in enumerate(playbook.stage_ids)}
        self._cache: tuple[tuple[object, ...], PropensityModel, int] | None = None

    @staticmethod
    def fingerprint(session: Session) -> tuple[object, ...]:
        touchpoints = session.execute(select(func.count(), func.max(Touchpoint.synced_at))).one()
        deals = session.execute(select(func.count(Deal.id), func.max(Deal.synced_at))).one()
        return (*touchpoints, *deals)

    def model(self, db: Database) -> tuple[PropensityModel, int]:
        """The learned model and how many observations it rests on."""
        with db.session() as session:
            key = self.fingerprint(session)
            if self._cache is None or self._cache[0] != key:
                model, observations = self.learn(session)
                self._cache = (key, model, observations)
            return self._cache[1], self._cache[2]

    def learn(self, session: Session) -> tuple[PropensityModel, int]:
        config = self.playbook.learning
        model = new_model(self.playbook)
        persona_of = self._personas(session)
        industry_of: dict[str, str | None] = {key: value for key, value in session.execute(select(Account.id, Account.industry)).tuples()}
        progress = self._deal_progress(session)
        tokens = TokenCache()
        horizon = timedelta(days=config.horizon_days)
        window = timedelta(days=config.advance_window_days)
        observations = 0
        for person, rows in self._timelines(session):
            staged = [(row.at, self.stages.touchpoint_stage(row.touchpoint, tokens)) for row in rows]
            times = [at for at, _ in staged]
            for index, row in enumerate(rows):
                actions = self.recognizer.actions(row.touchpoint, tokens)
                if not actions:
                    continue
                before = self._stage_before(staged, index, row.at - window)
                after = staged[index + 1: bisect.bisect_right(times, row.at + horizon)]
                advanced = any(stage is not None and self.rank[stage] > self.rank[before] for _, stage in after)
                if not advanced and row.account:
                    advanced = any(row.at < when <= row.at + horizon for when in progress.get(row.account, ()))
                context = {"stage": before, "persona": persona_of.get(row.contact or person),
                           "industry": industry_of.get(row.account) if row.account else None}
                for action in actions:
                    model.update(action, context, 1.0 if advanced else 0.0, config.history_weight)
                    observations += 1
        return model, observations

    def _stage_before(self, staged: list[tuple[datetime, str | None]], index: int, since: datetime) -> str:
        best = None
        for at, stage in reversed(staged[:index]):
            if at < since:
                break
            if stage is not None and (best is None or self.rank[stage] > self.rank[best]):
                best = stage
        return best or self.playbook.scoring.stage.first_stage

    def _timelines(self, session: Session) -> Iterator[tuple[str, list[_Row]]]:
        """Each person's touchpoints in time order (a person is their person id, else contact id)."""
        who = func.coalesce(Touchpoint.person_id, Touchpoint.contact_id)
        query = (
            select(who, Touchpoint.account_id, Touchpoint.contact_id, Touchpoint.occurred_at, Touchpoint.type,
                   Touchpoint.channel, Touchpoint.kind, Touchpoint.title, Touchpoint.detail, Touchpoint.content_uri)
            .where(who.is_not(None)).order_by(who, Touchpoint.occurred_at)
            .execution_options(yield_per=BATCH)
        )
        person: str | None = None
        rows: list[_Row] = []
        for key, account, contact, at, kind, channel, control, title, detail, uri in session.execute(query):
            if key != person:
                if person is not None:
                    yield person, rows
                person, rows = key, []
            touchpoint = TouchpointInput(timestamp=at, type=kind, channel=channel, kind=control, title=title,
                                         detail=detail, url=uri)
            rows.append(_Row(key, account, contact, _at(at) or datetime.now(UTC), touchpoint))
        if person is not None:
            yield person, rows

    def _personas(self, session: Session) -> dict[str, str]:
        """Persona by contact id and person id, from job title, department and buying role."""
        found: dict[str, str] = {}
        tokens = TokenCache()
        rows = session.execute(select(Contact.id, Contact.person_id, Contact.job_title, Contact.department,
                                      Contact.buying_role)).tuples()
        for contact, person, title, department, role in rows:
            if not (title or department or role):
                continue
            result = self.personas.detect(JourneyInput(job_title=title, department=department, buying_role=role), tokens)
            if result.persona and result.enough_signal:
                found[contact] = result.persona
                if person:
                    found.setdefault(person, result.persona)
        return found

    @staticmethod
    def _deal_progress(session: Session) -> dict[str, list[datetime]]:
        """When each account opened or won a deal."""
        found: dict[str, list[datetime]] = defaultdict(list)
        rows = session.execute(select(Deal.account_id, Deal.created_on, Deal.engaged_on, Deal.closed_on, Deal.status)
                               .where(Deal.account_id.is_not(None))).tuples()
        for account, created, engaged, closed, status in rows:
            opened = _at(created or engaged)
            if opened:
                found[account].append(opened)
            if status == "won" and closed:
                found[account].append(_at(closed))  # type: ignore[arg-type]
        return found


def outcome_observations(session: Session, playbook: Playbook) -> Iterator[tuple[str, dict[str, str | None], float]]:
    """(action, context, reward) of every proposal with a recorded outcome."""
    rewards = playbook.learning.rewards
    rows = session.execute(
        select(ActionProposal.action_id, ActionProposal.components, ActionProposal.status)
        .where(ActionProposal.status.in_(tuple(rewards)))
    ).tuples()
    for action, components, status in rows:
        context = dict((components or {}).get("context") or {})
        yield action, context, rewards[status]  # type: ignore[index]
