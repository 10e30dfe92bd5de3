"""The propensity model's empirical-Bayes priors: how much a context leans on its parent is fitted
from the model's own counts – little where contexts really differ, much where they do not – a new
action starts from the typical action, too few cells fall back to the playbook, and the fit never
knows more than the model was told (in the replay: nothing decided later)."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from assistant.journey.learning import new_model
from assistant.journey.playbook import load_playbook
from assistant.journey.propensity import STRENGTH_RANGE, PropensityModel, fit_beta, fit_strength, log_gamma
from evals import nba_replay as nr

PRIORS = {"prior_mean": 0.2, "prior_strength": 2.0, "strength": 5.0}
STAGES = (("stage",),)
SECTORS = (("sector",),)


def observe(model: PropensityModel, action: str, successes: int, failures: int, **context: str) -> None:
    for reward, times in ((1.0, successes), (0.0, failures)):
        for _ in range(times):
            model.update(action, context, reward)


def staged(rates: Sequence[float], per_stage: int = 40, empirical_bayes: bool = True) -> PropensityModel:
    """One action seen ``per_stage`` times in each stage, succeeding at the stage's rate."""
    model = PropensityModel(STAGES, **PRIORS, empirical_bayes=empirical_bayes)
    for index, rate in enumerate(rates):
        wins = round(rate * per_stage)
        observe(model, "webinar", wins, per_stage - wins, stage=f"s{index}")
    return model


# -- the arithmetic ---------------------------------------------------------------------------------


def test_log_gamma_matches_the_standard_library() -> None:
    points = np.array([1e-4, 0.003, 0.2, 0.5, 1.0, 2.5, 7.99, 8.0, 13.2, 500.0, 1e6])
    assert log_gamma(points) == pytest.approx([math.lgamma(x) for x in points], rel=1e-9, abs=1e-9)


def test_the_strength_fit_tells_different_rates_from_identical_ones() -> None:
    counts = np.full(20, 50.0)
    identical = np.full(20, 15.0)  # every cell 15 of 50
    different = np.array([5.0, 30.0] * 10)  # 10 % and 60 %
    means = np.full(20, 0.3)
    assert fit_strength(identical, counts - identical, means) > 1000  # nothing to tell apart: pool
    assert fit_strength(different, counts - different, np.full(20, 0.35)) < 10  # they differ: each speaks for itself


def test_the_beta_fit_recovers_a_known_spread_of_rates() -> None:
    rng = np.random.default_rng(5)
    rates = rng.beta(0.2 * 10, 0.8 * 10, size=600)  # mean 0.2, strength 10
    trials = rng.integers(10, 60, size=600).astype(float)
    successes = rng.binomial(trials.astype(int), rates).astype(float)
    mean, strength = fit_beta(successes, trials - successes)
    assert mean == pytest.approx(0.2, abs=0.02)
    assert 7 < strength < 14


# -- the model ----------------------------------------------------------------------------------------


def test_contexts_with_identical_rates_are_shrunk_hard_and_different_ones_hardly() -> None:
    alike, unlike = staged([0.3] * 6), staged([0.1, 0.6] * 3)
    for model in (alike, unlike):
        observe(model, "webinar", 3, 0, stage="new")  # three of three in a stage seen only now
        observe(model, "offer_trial", 10, 30)  # two more actions: the action level is fitted as well
        observe(model, "send_case_study", 12, 28)
    new_stage = {"stage": "new"}
    fit_alike, fit_unlike = alike.hyperparameters(), unlike.hyperparameters()
    assert fit_alike.fitted == fit_unlike.fitted == (True, True)
    assert fit_alike.strengths[1] > 1000 and fit_unlike.strengths[1] < 10
    assert alike.mean("webinar", new_stage) == pytest.approx(0.3, abs=0.01)  # three lucky leads change nothing
    assert unlike.mean("webinar", new_stage) > 0.55  # where stages differ, three of three say a lot
    fixed = staged([0.3] * 6, empirical_bayes=False)
    observe(fixed, "webinar", 3, 0, stage="new")
    assert fixed.mean("webinar", new_stage) > 0.5  # the fixed strength 5 chased the lucky cell


def test_a_new_action_starts_from_the_typical_action_not_the_busiest() -> None:
    model = PropensityModel(STAGES, **PRIORS)
    fixed = PropensityModel(STAGES, **PRIORS, empirical_bayes=False)
    for each in (model, fixed):
        observe(each, "busy", 500, 500)  # one action seen a thousand times, half of them successes
        for index in range(10):
            observe(each, f"small{index}", 1, 9)  # ten rarely used ones at one in ten
    pooled = (0.4 + 510) / (2 + 1100)
    assert fixed.mean("brand_new", {}) == pytest.approx(pooled)  # the volume-weighted rate
    fit = model.hyperparameters()
    assert fit.action_mean is not None and fit.action_mean < 0.25
    assert model.mean("brand_new", {}) == pytest.approx(fit.action_mean)
    assert model.mean("busy", {}) == pytest.approx(0.5, abs=0.01)  # a thousand observations speak for themselves


def test_too_few_cells_fall_back_to_the_playbook_priors() -> None:
    model = PropensityModel(STAGES, **PRIORS)
    fixed = PropensityModel(STAGES, **PRIORS, empirical_bayes=False)
    for each in (model, fixed):
        observe(each, "a", 3, 5, stage="consideration")
        observe(each, "b", 1, 6, stage="consideration")
    fit = model.hyperparameters()
    assert fit.fitted == (False, False) and fit.strengths == (5.0, 5.0) and fit.action_mean is None
    context = {"stage": "consideration"}
    assert model.explain("a", context) == fixed.explain("a", context)
    model.update("d", {"stage": "purchase"}, 1.0, weight=0.0)  # cells without observations do not count
    assert model.hyperparameters().fitted == (False, False)
    observe(model, "c", 0, 4, stage="purchase")  # a third action: three cells at each level
    assert model.hyperparameters().fitted == (True, True)
    only_failures = PropensityModel(STAGES, **PRIORS)
    for action in "xyz":
        observe(only_failures, action, 0, 3, stage="awareness")
    assert only_failures.hyperparameters().fitted == (False, False)  # nothing but failures: no spread to fit


def test_explain_names_the_prior_of_every_level() -> None:
    model = staged([0.1, 0.6] * 3)
    observe(model, "offer_trial", 10, 30, stage="s0")
    observe(model, "send_case_study", 12, 28, stage="s1")
    fit = model.hyperparameters()
    root, action, stage = model.explain("webinar", {"stage": "s2"})
    assert (root["prior_mean"], root["prior_strength"], root["prior_fitted"]) == (0.2, 2.0, False)
    assert action["prior_mean"] == pytest.approx(fit.action_mean, abs=1e-4)
    assert action["prior_strength"] == pytest.approx(fit.strengths[0], abs=0.01) and action["prior_fitted"]
    assert stage["prior_strength"] == pytest.approx(fit.strengths[1], abs=0.01) and stage["prior_fitted"]
    assert (stage["successes"], stage["observations"]) == (4, 40)


def test_the_fit_follows_every_update_and_survives_storage() -> None:
    rng = random.Random(11)
    model = PropensityModel(STAGES, **PRIORS)
    for step in range(300):
        action, stage, reward = rng.choice("abcd"), rng.choice(["s1", "s2", "s3"]), float(rng.random() < 0.3)
        model.update(action, {"stage": stage}, reward)
        if step % 50 == 0:
            model.mean("a", {"stage": "s1"})  # fit now, so a stale fit would show below
    for action, successes, failures in [("a", 4, 0), ("b", 0, 6)]:
        observe(model, action, successes, failures, stage="s1")
        twin = PropensityModel(STAGES, **PRIORS)
        assert not any(twin.hyperparameters().fitted)  # fitted on no counts: must not outlive the merge
        twin.merge(model)  # the same counts, fitted afresh
        fresh = PropensityModel.from_dict(json.loads(json.dumps(model.to_dict())))
        assert fresh.hyperparameters() == twin.hyperparameters() == model.hyperparameters()
        assert fresh.explain("c", {"stage": "s2"}) == twin.explain("c", {"stage": "s2"}) == model.explain("c", {"stage": "s2"})
    assert model.to_dict()["hyperparameters"] == model.hyperparameters().to_dict()
    assert PropensityModel.from_dict({**model.to_dict(), "empirical_bayes": False}).hyperparameters().fitted == (False, False)


def test_the_playbook_switches_the_fit(tmp_path: Path) -> None:
    assert load_playbook().learning.empirical_bayes and new_model(load_playbook()).empirical_bayes
    company = tmp_path / "acme.yaml"
    company.write_text("extends: default\nlearning:\n  empirical_bayes: false\n", encoding="utf-8")
    assert not new_model(load_playbook(company)).empirical_bayes


# -- no future in the replay ------------------------------------------------------------------------------


def test_in_the_replay_the_fit_rests_on_exactly_the_outcomes_known_before_the_decision() -> None:
    rng = random.Random(3)
    start = date(2024, 1, 1)
    events = []
    for _ in range(400):
        day, action, sector = rng.randrange(80), rng.choice("abcdef"), rng.choice(["it", "retail", "energy"])
        rate = 0.1 + 0.12 * "abcdef".index(action)  # the actions differ: the fit has something to find
        events.append(nr.Event(start + timedelta(days=day), start + timedelta(days=day + rng.randrange(15)),
                               action, {"sector": sector}, float(rng.random() < rate)))
    source = nr.Propensity("ours", SECTORS, PRIORS | {"empirical_bayes": True})

    class Probe:
        """At every decision: the learner's fit equals one made afresh from what was known before."""

        name = "probe"

        def __init__(self) -> None:
            self.source, self.checked, self.fitted = source, 0, 0
            self.afresh: dict[date, PropensityModel] = {}

        def rank(self, candidates: Sequence[str], context: Mapping[str, str]) -> list[str]:
            today = next(e.decided for e in events if e.context is context)
            if today not in self.afresh:
                self.afresh[today] = PropensityModel(SECTORS, **PRIORS)
                for e in events:
                    if e.resolved < today:
                        self.afresh[today].update(e.action, e.context, e.reward)
            known = self.afresh[today].hyperparameters()
            source.posteriors(candidates, context)  # what the policies rank with
            assert source.model.hyperparameters() == known
            self.checked += 1
            self.fitted += known.fitted[0]
            return list(candidates)

    probe = Probe()
    log = nr.replay(events, [probe], catalogue=list("abcdef"))
    assert probe.checked == len(log.events) > 300 and probe.fitted > 300
    assert STRENGTH_RANGE[0] <= min(source.model.hyperparameters().strengths)

