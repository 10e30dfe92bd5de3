"""Propensity: how likely an action is to succeed for someone in this situation, learned from
what happened before, with room to try what has not been tried.

One Beta–Bernoulli estimate per action and *context level*, backed off from the general to the
specific. The root is every action pooled; below it the action alone; below that the action in
ever narrower contexts (for the product: stage, then stage and persona, then stage, persona and
industry). Each level's prior is its parent's posterior mean with ``strength`` pseudo-observations,
so a context seen twice leans on its parent and one seen two hundred times speaks for itself::

    alpha = strength * parent_mean + successes
    beta  = strength * (1 - parent_mean) + failures

where ``parent_mean`` leaves out the context's own observations (the parent's counts include
them; counting them twice would make one observation look like several) – except for the
pooled root, the baseline every action starts from.

``mean`` ranks by what is known (greedy); ``sample`` draws from the most specific posterior
(Thompson sampling): an action with few observations has a wide posterior and is sometimes drawn
high, which is how new actions get tried. ``explain`` lists every level with its counts, which is
what a sales manager reads: "3 of 11 similar skeptics in consideration went on to a deal".

Rewards may be fractional (an accepted proposal can count half a success) and observations may
carry a weight; counts are plain floats and serialise to JSON.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ALL = "*"
"""The pooled root: every action together."""


@dataclass(frozen=True)
class Level:
    """One level of the backoff chain as ``explain`` shows it."""

    keys: tuple[str, ...]
    values: tuple[str, ...]
    successes: float
    failures: float
    prior_mean: float
    mean: float

    @property
    def observations(self) -> float:
        return self.successes + self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "context": dict(zip(self.keys, self.values, strict=True)),
            "successes": round(self.successes, 3),
            "observations": round(self.observations, 3),
            "prior_mean": round(self.prior_mean, 4),
            "mean": round(self.mean, 4),
        }


@dataclass(frozen=True)
class Posterior:
    alpha: float
    beta: float
    levels: tuple[Level, ...]

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def observations(self) -> float:
        """Observations at the most specific level that has any (what the estimate rests on)."""
        for level in reversed(self.levels):
            if level.observations > 0:
                return level.observations
        return 0.0

    def sample(self, rng: random.Random) -> float:
        return rng.betavariate(self.alpha, self.beta)


class PropensityModel:
    """Counts of successes and failures per action and context level.

    ``levels`` names the context keys of each level below the action alone, general first,
    each extending the one before: ``(("stage",), ("stage", "persona"))``. A context value that
    is missing or ``None`` ends the chain there (the estimate stops at the last known level).
    """

    def __init__(
        self,
        levels: Sequence[Sequence[str]] = (),
        prior_mean: float = 0.1,
        prior_strength: float = 2.0,
        strength: float = 5.0,
    ) -> None:
        if not 0 < prior_mean < 1:
            raise ValueError("prior_mean is a probability strictly between 0 and 1")
        if prior_strength <= 0 or strength <= 0:
            raise ValueError("prior_strength and strength are positive")
        self.levels = tuple(tuple(level) for level in levels)
        for before, after in zip(self.levels, self.levels[1:], strict=False):
            if after[: len(before)] != before:
                raise ValueError(f"each level extends the one before: {after} does not start with {before}")
        self.prior_mean = prior_mean
        self.prior_strength = prior_strength
        self.strength = strength
        self.counts: dict[tuple[str, int, tuple[str, ...]], list[float]] = {}

    # -- learning -------------------------------------------------------------------------------------

    def _chain(self, action: str, context: Mapping[str, Any]) -> list[tuple[str, int, tuple[str, ...]]]:
        chain = [(ALL, -1, ()), (action, 0, ())]
        for depth, keys in enumerate(self.levels, start=1):
            values = tuple(context.get(key) for key in keys)
            if any(value is None or value == "" for value in values):
                break
            chain.append((action, depth, tuple(str(value) for value in values)))
        return chain

    def update(self, action: str, context: Mapping[str, Any], reward: float, weight: float = 1.0) -> None:
        """One observation: ``reward`` in [0, 1] (1 = success), counted ``weight`` times."""
        if not 0 <= reward <= 1:
            raise ValueError(f"a reward is between 0 and 1, not {reward!r}")
        if weight < 0:
            raise ValueError("a weight is not negative")
        for key in self._chain(action, context):
            cell = self.counts.setdefault(key, [0.0, 0.0])
            cell[0] += weight * reward
            cell[1] += weight * (1 - reward)

    def update_many(self, observations: Iterable[tuple[str, Mapping[str, Any], float]]) -> None:
        for action, context, reward in observations:
            self.update(action, context, reward)

    def merge(self, other: PropensityModel, weight: float = 1.0) -> None:
        """Add another model's counts (same levels) times ``weight``."""
        if other.levels != self.levels:
            raise ValueError("only models with the same levels can be merged")
        for key, (successes, failures) in other.counts.items():
            cell = self.counts.setdefault(key, [0.0, 0.0])
            cell[0] += weight * successes
            cell[1] += weight * failures

    # -- estimating -------------------------------------------------------------------------------------

    def posterior(self, action: str, context: Mapping[str, Any]) -> Posterior:
        levels: list[Level] = []
        mean, strength = self.prior_mean, self.prior_strength
        alpha = beta = 0.0
        chain = self._chain(action, context)
        cells = [self.counts.get(key, (0.0, 0.0)) for key in chain]
        for depth, (key, (successes, failures)) in enumerate(zip(chain, cells, strict=True)):
            alpha = strength * mean + successes
            beta = strength * (1 - mean) + failures
            names = ("action",) if key[1] == 0 else ((ALL,) if key[1] < 0 else self.levels[key[1] - 1])
            values = (action,) if key[1] == 0 else ((ALL,) if key[1] < 0 else key[2])
            levels.append(Level(names, values, successes, failures, mean, alpha / (alpha + beta)))
            # The next level's prior is this level *without* the next level's own observations:
            # they are in this level's counts already, and leaning on them again would count one
            # observation once per level (one success in a new context read as a likely winner).
            # The pooled root is the exception: it is the baseline of every action, and leaving
            # one action out of it would lift all the others above it after its own success.
            if depth == 0:
                mean, strength = alpha / (alpha + beta), self.strength
                continue
            child_successes, child_failures = cells[depth + 1] if depth + 1 < len(cells) else (0.0, 0.0)
            others_successes = max(successes - child_successes, 0.0)
            others_failures = max(failures - child_failures, 0.0)
            mean = (strength * mean + others_successes) / (strength + others_successes + others_failures)
            strength = self.strength
        return Posterior(alpha, beta, tuple(levels))

    def mean(self, action: str, context: Mapping[str, Any]) -> float:
        return self.posterior(action, context).mean

    def score(self, action: str, context: Mapping[str, Any], rng: random.Random | None = None) -> float:
        """A Thompson sample with ``rng``, else the posterior mean."""
        posterior = self.posterior(action, context)
        return posterior.sample(rng) if rng is not None else posterior.mean

    def explain(self, action: str, context: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [level.to_dict() for level in self.posterior(action, context).levels]

    # -- storage ----------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "levels": [list(level) for level in self.levels],
            "prior_mean": self.prior_mean,
            "prior_strength": self.prior_strength,
            "strength": self.strength,
            "counts": [[action, depth, list(values), successes, failures]
                       for (action, depth, values), (successes, failures) in sorted(self.counts.items())],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PropensityModel:
        model = cls(data["levels"], data["prior_mean"], data["prior_strength"], data["strength"])
        for action, depth, values, successes, failures in data["counts"]:
            model.counts[(action, int(depth), tuple(values))] = [float(successes), float(failures)]
        return model
