"""Propensity: how likely an action is to succeed for someone in this situation, learned from
what happened before, with room to try what has not been tried.

One Beta–Bernoulli estimate per action and *context level*, backed off from the general to the
specific. The root is every action pooled; below it the action alone; below that the action in
ever narrower contexts (for the product: stage, then stage and persona, then stage, persona and
industry). Each level's prior is a Beta with a mean and a strength (pseudo-observations)::

    alpha = strength * prior_mean + successes
    beta  = strength * (1 - prior_mean) + failures

A context's prior mean is its parent's posterior mean *without* the context's own observations
(the parent's counts include them; counting them twice would make one observation look like
several). The action level's prior mean is the typical action's success rate.

The strengths are fitted from the model's own counts (empirical Bayes): per depth, the strength
under which the cells at that depth – each with its own prior mean – are most probable (the
Beta–binomial marginal likelihood, maximised). Where contexts really differ from their parent
the fit gives a small strength, so a context speaks for itself after a few observations; where
they do not, a large one, so a few lucky observations do not make a context look like a winner.
The action level also fits its mean: a new action starts from the rate of a typical action, each
action counted once, not from the volume-weighted pooled rate (where a few busy actions decide).
A depth with fewer than ``MIN_CELLS`` observed cells, or without both a success and a failure
among them, is not fitted: it keeps the playbook's ``strength`` and the action level the pooled
root's mean (``prior_mean`` with ``prior_strength`` pseudo-observations plus every observation).
The fit reads nothing but the counts, so it never knows more than the model was told; it is
redone lazily after the counts change. With ``empirical_bayes=False`` every level uses the
fixed ``strength`` and the pooled root's mean, as before the fit existed.

``mean`` ranks by what is known (greedy); ``sample`` draws from the most specific posterior
(Thompson sampling): an action with few observations has a wide posterior and is sometimes drawn
high, which is how new actions get tried. ``explain`` lists every level with its counts and the
prior it started from, which is what a sales manager reads: "3 of 11 similar skeptics in
consideration went on to a deal".

Rewards may be fractional (an accepted proposal can count half a success) and observations may
carry a weight; counts are plain floats and serialise to JSON.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

ALL = "*"
"""The pooled root: every action together."""

MIN_CELLS = 3
"""A depth with fewer observed cells than this keeps the playbook's prior: too little to fit."""
STRENGTH_RANGE = (1.0, 10_000.0)
"""A fitted strength lies between one pseudo-observation (cells differ as much as a Beta allows
without piling up at 0 and 1) and ten thousand (cells do not differ: the parent decides)."""
MEAN_RANGE = (0.001, 0.999)
"""A fitted typical-action rate stays off 0 and 1, where a Beta prior degenerates."""
SEARCH_STEPS = 20
"""Golden-section steps per one-dimensional fit: the bracket shrinks to 0.618 ** 20 ≈ 7e-5 of its
width (a strength to within 0.1 %, far finer than the data can tell)."""


@dataclass(frozen=True)
class Level:
    """One level of the backoff chain as ``explain`` shows it."""

    keys: tuple[str, ...]
    values: tuple[str, ...]
    successes: float
    failures: float
    prior_mean: float
    mean: float
    prior_strength: float
    prior_fitted: bool

    @property
    def observations(self) -> float:
        return self.successes + self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "context": dict(zip(self.keys, self.values, strict=True)),
            "successes": round(self.successes, 3),
            "observations": round(self.observations, 3),
            "prior_mean": round(self.prior_mean, 4),
            "prior_strength": round(self.prior_strength, 2),
            "prior_fitted": self.prior_fitted,
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


@dataclass(frozen=True)
class Hyperparameters:
    """The priors below the pooled root: ``strengths[0]`` is the action level's, ``strengths[d]``
    the d-th context level's; ``fitted`` says which were fitted rather than the playbook's.
    ``action_mean`` is the typical action's rate, ``None`` when the action level starts from the
    pooled root's mean instead."""

    action_mean: float | None
    strengths: tuple[float, ...]
    fitted: tuple[bool, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"action_mean": None if self.action_mean is None else round(self.action_mean, 6),
                "strengths": [round(s, 4) for s in self.strengths], "fitted": list(self.fitted)}


# -- empirical Bayes ------------------------------------------------------------------------------------


def log_gamma(x: np.ndarray) -> np.ndarray:
    """ln Γ(x) for positive x, elementwise: x below 8 is shifted up by 8 with Γ(x + 1) = x Γ(x),
    then Stirling's series (error below 1e-11 from 8 on). numpy has no vectorised ln Γ of its own."""
    x = np.asarray(x, dtype=float)
    small = x < 8.0
    low = np.minimum(x, 8.0)  # keeps the product finite where it is not used
    shift = np.where(small, np.log(low * (low + 1) * (low + 2) * (low + 3) * (low + 4) * (low + 5) * (low + 6) * (low + 7)), 0.0)
    z = np.where(small, x + 8.0, x)
    inverse = 1.0 / z
    inverse_square = inverse * inverse
    series = inverse * (1 / 12 - inverse_square * (1 / 360 - inverse_square * (1 / 1260 - inverse_square / 1680)))
    return (z - 0.5) * np.log(z) - z + 0.5 * math.log(2 * math.pi) + series - shift


def log_marginal(successes: np.ndarray, failures: np.ndarray, means: np.ndarray | float, strength: float) -> float:
    """ln P(counts | Beta(strength·mean, strength·(1 − mean)) per cell), summed over cells, up to
    the binomial coefficients (they do not depend on the prior). Fractional counts are fine."""
    a, b = strength * means, strength * (1.0 - np.asarray(means))
    return float(np.sum(log_gamma(a + successes) - log_gamma(a) + log_gamma(b + failures) - log_gamma(b)
                        - log_gamma(strength + successes + failures)) + len(successes) * math.lgamma(strength))


def _golden_max(objective: Callable[[float], float], low: float, high: float) -> float:
    """The argmax of a unimodal function on [low, high] by golden-section search (deterministic)."""
    ratio = (math.sqrt(5) - 1) / 2
    left, right = high - ratio * (high - low), low + ratio * (high - low)
    f_left, f_right = objective(left), objective(right)
    for _ in range(SEARCH_STEPS):
        if f_left >= f_right:
            high, right, f_right = right, left, f_left
            left = high - ratio * (high - low)
            f_left = objective(left)
        else:
            low, left, f_left = left, right, f_right
            right = low + ratio * (high - low)
            f_right = objective(right)
    return (low + high) / 2


def fittable(successes: np.ndarray, failures: np.ndarray) -> bool:
    """Enough to fit a prior: ``MIN_CELLS`` observed cells with a success and a failure among them."""
    return bool(len(successes) >= MIN_CELLS and successes.sum() > 0 and failures.sum() > 0)


def fit_strength(successes: np.ndarray, failures: np.ndarray, means: np.ndarray) -> float:
    """The strength (searched on a log scale within ``STRENGTH_RANGE``) under which the cells'
    counts are most probable around their given prior means (maximum marginal likelihood)."""
    low, high = (math.log(bound) for bound in STRENGTH_RANGE)
    return math.exp(_golden_max(lambda s: log_marginal(successes, failures, means, math.exp(s)), low, high))


def fit_beta(successes: np.ndarray, failures: np.ndarray) -> tuple[float, float]:
    """Mean and strength of the Beta the cells' rates most probably came from (maximum marginal
    likelihood), by alternating one-dimensional searches from the pooled rate; mean and strength
    of a Beta are nearly orthogonal, so a few rounds settle."""
    low, high = (math.log(p / (1 - p)) for p in MEAN_RANGE)
    mean = min(max(successes.sum() / (successes.sum() + failures.sum()), MEAN_RANGE[0]), MEAN_RANGE[1])
    strength = fit_strength(successes, failures, np.full(len(successes), mean))
    for _ in range(8):
        logit = _golden_max(lambda x: log_marginal(successes, failures, 1 / (1 + math.exp(-x)), strength), low, high)
        mean, before = 1 / (1 + math.exp(-logit)), strength
        strength = fit_strength(successes, failures, np.full(len(successes), mean))
        if abs(math.log(strength / before)) < 1e-3:
            break
    return mean, strength


# -- the model ------------------------------------------------------------------------------------------

Key = tuple[str, int, tuple[str, ...]]


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
        empirical_bayes: bool = True,
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
        self.empirical_bayes = empirical_bayes
        self.counts: dict[Key, list[float]] = {}
        self._hyperparameters: Hyperparameters | None = None  # fitted lazily, forgotten on every change

    # -- learning -------------------------------------------------------------------------------------

    def _chain(self, action: str, context: Mapping[str, Any]) -> list[Key]:
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
        self._hyperparameters = None
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
        self._hyperparameters = None
        for key, (successes, failures) in other.counts.items():
            cell = self.counts.setdefault(key, [0.0, 0.0])
            cell[0] += weight * successes
            cell[1] += weight * failures

    # -- fitting the priors ------------------------------------------------------------------------------

    def hyperparameters(self) -> Hyperparameters:
        """The priors below the root, fitted from the counts (cached until they change)."""
        if self._hyperparameters is None:
            self._hyperparameters = self._fit()
        return self._hyperparameters

    def _root_mean(self) -> float:
        successes, failures = self.counts.get((ALL, -1, ()), (0.0, 0.0))
        return (self.prior_strength * self.prior_mean + successes) / (self.prior_strength + successes + failures)

    def _parent(self, key: Key) -> Key:
        action, depth, values = key
        return (action, depth - 1, values[: len(self.levels[depth - 2])] if depth > 1 else ())

    def _fit(self) -> Hyperparameters:
        """Top down: the action level's mean and strength, then each context level's strength
        given the prior means its cells get from their parents (leaving their own counts out)."""
        depths = len(self.levels) + 1
        if not self.empirical_bayes:
            return Hyperparameters(None, (self.strength,) * depths, (False,) * depths)
        by_depth: list[list[Key]] = [[] for _ in range(depths)]
        for key in sorted(self.counts):  # the same fit whatever order the counts came in
            if key[1] >= 0:
                by_depth[key[1]].append(key)
        successes, failures = self._observed(by_depth[0])
        action_mean, strength = fit_beta(successes, failures) if fittable(successes, failures) else (None, self.strength)
        strengths, fitted = [strength], [action_mean is not None]
        prior_means = dict.fromkeys(by_depth[0], self._root_mean() if action_mean is None else action_mean)
        for cells in by_depth[1:]:
            parent_strength = strengths[-1]
            for key in cells:
                parent = self._parent(key)
                prior_means[key] = self._without(prior_means[parent], parent_strength, self.counts[parent], self.counts[key])
            observed = [key for key in cells if sum(self.counts[key]) > 0]
            successes, failures = self._observed(observed)
            enough = fittable(successes, failures)
            means = np.array([prior_means[key] for key in observed])
            strengths.append(fit_strength(successes, failures, means) if enough else self.strength)
            fitted.append(enough)
        return Hyperparameters(action_mean, tuple(strengths), tuple(fitted))

    def _observed(self, keys: Sequence[Key]) -> tuple[np.ndarray, np.ndarray]:
        """Successes and failures of the cells with observations."""
        cells = [self.counts[key] for key in keys if sum(self.counts[key]) > 0]
        return np.array([c[0] for c in cells], dtype=float), np.array([c[1] for c in cells], dtype=float)

    @staticmethod
    def _without(mean: float, strength: float, parent: Sequence[float], child: Sequence[float]) -> float:
        """The parent's posterior mean without the child's own observations: the child's prior mean.
        They are in the parent's counts already, and leaning on them again would count one
        observation once per level (one success in a new context read as a likely winner)."""
        successes, failures = max(parent[0] - child[0], 0.0), max(parent[1] - child[1], 0.0)
        return (strength * mean + successes) / (strength + successes + failures)

    # -- estimating -------------------------------------------------------------------------------------

    def posterior(self, action: str, context: Mapping[str, Any]) -> Posterior:
        fit = self.hyperparameters()
        levels: list[Level] = []
        mean, strength, fitted = self.prior_mean, self.prior_strength, False
        alpha = beta = 0.0
        chain = self._chain(action, context)
        cells = [self.counts.get(key, (0.0, 0.0)) for key in chain]
        for depth, (key, (successes, failures)) in enumerate(zip(chain, cells, strict=True)):
            alpha = strength * mean + successes
            beta = strength * (1 - mean) + failures
            names = ("action",) if key[1] == 0 else ((ALL,) if key[1] < 0 else self.levels[key[1] - 1])
            values = (action,) if key[1] == 0 else ((ALL,) if key[1] < 0 else key[2])
            levels.append(Level(names, values, successes, failures, mean, alpha / (alpha + beta), strength, fitted))
            if depth + 1 == len(chain):
                break
            if depth == 0:
                # The pooled root is the baseline of every action; leaving one action out of it
                # would lift all the others above it after its own success.
                mean = alpha / (alpha + beta) if fit.action_mean is None else fit.action_mean
            else:
                mean = self._without(mean, strength, (successes, failures), cells[depth + 1])
            strength, fitted = fit.strengths[depth], fit.fitted[depth]
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
        """The counts and settings; ``hyperparameters`` (what the fit made of the counts) is for
        the reader: ``from_dict`` fits them again from the counts."""
        return {
            "levels": [list(level) for level in self.levels],
            "prior_mean": self.prior_mean,
            "prior_strength": self.prior_strength,
            "strength": self.strength,
            "empirical_bayes": self.empirical_bayes,
            "hyperparameters": self.hyperparameters().to_dict(),
            "counts": [[action, depth, list(values), successes, failures]
                       for (action, depth, values), (successes, failures) in sorted(self.counts.items())],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PropensityModel:
        model = cls(data["levels"], data["prior_mean"], data["prior_strength"], data["strength"],
                    data.get("empirical_bayes", True))
        for action, depth, values, successes, failures in data["counts"]:
            model.counts[(action, int(depth), tuple(values))] = [float(successes), float(failures)]
        return model
