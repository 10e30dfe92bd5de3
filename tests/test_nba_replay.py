"""The next-best-action replay (``python -m evals nba-replay``): its logic on hand-made histories –
no outcome is learned before it was known, matched events are counted as Li et al. count them,
the popularity baseline is what it says – its metrics by hand, and one run on the real Maven data."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from assistant.journey.propensity import PropensityModel
from evals import nba_replay as nr
from evals.metrics import auc, log_loss, precision_at
from evals.nba_replay import Event, FixedOrder, Popularity, Propensity, PropensityPolicy

DAY = date(2024, 1, 1)
PRIORS = {"prior_mean": 0.2, "prior_strength": 2.0, "strength": 5.0}


def event(day: int, action: str, reward: float, known_after: int = 0, value: float = 0.0, **context: str) -> Event:
    return Event(DAY + timedelta(days=day), DAY + timedelta(days=day + known_after), action, context, reward, value)


class Spy:
    """A learner that records when it learned what."""

    name = "spy"

    def __init__(self) -> None:
        self.learned: list[Event] = []

    def learn(self, outcome: Event) -> None:
        self.learned.append(outcome)

    def estimate(self, action: str, context: Mapping[str, str]) -> float:
        return 0.0


class LastWinner:
    """Proposes whatever succeeded most recently: perfect if it could see today's outcomes."""

    name = "last winner"

    def __init__(self) -> None:
        self.last = ""
        self.source = self

    def learn(self, outcome: Event) -> None:
        if outcome.reward:
            self.last = outcome.action

    def rank(self, candidates: Sequence[str], context: Mapping[str, str]) -> list[str]:
        return sorted(candidates, key=lambda action: action != self.last)


# -- no peeking -----------------------------------------------------------------------------------


def test_an_outcome_is_learned_only_after_the_day_it_became_known() -> None:
    events = [event(0, "a", 1, known_after=3), event(1, "b", 0, known_after=1), event(2, "a", 1, known_after=0),
              event(3, "b", 1, known_after=5), event(4, "a", 0, known_after=0), event(9, "b", 1)]
    spy = Spy()
    log = nr.replay(events, [FixedOrder("fixed", values={"a": 1, "b": 0})], [spy], ["a", "b"])
    # Days 0 to 2: nothing known yet (day 1's and day 2's outcomes are known on day 2: not *before* day 2).
    assert log.skipped == 3
    assert [e.decided for e in log.events] == [DAY + timedelta(days=d) for d in (3, 4, 9)]
    # By day 9 all that was known before day 9 is learned, once: day 3's deal became known on day 8.
    assert sorted(e.decided for e in spy.learned) == [DAY + timedelta(days=d) for d in (0, 1, 2, 3, 4)]
    assert all(e.resolved < log.events[-1].decided for e in spy.learned)


def test_learned_outcomes_at_each_decision_are_exactly_those_known_before_it() -> None:
    rng = random.Random(7)
    events = [event(rng.randrange(60), rng.choice("abc"), rng.random() < 0.5, known_after=rng.randrange(10)) for _ in range(300)]

    class Probe:
        """A policy that checks, at every decision, what its learner has seen."""

        name = "probe"

        def __init__(self) -> None:
            self.source = Spy()
            self.checked = 0

        def rank(self, candidates: Sequence[str], context: Mapping[str, str]) -> list[str]:
            today = DAY + timedelta(days=int(context["day"]))
            expected = sorted(id(e) for e in events if e.resolved < today)
            assert sorted(id(e) for e in self.source.learned) == expected
            self.checked += 1
            return list(candidates)

    events = [Event(e.decided, e.resolved, e.action, {"day": str((e.decided - DAY).days)}, e.reward) for e in events]
    probe = Probe()
    log = nr.replay(events, [probe], catalogue=["a", "b", "c"])
    assert probe.checked == len(log.events) > 250


def test_a_policy_that_could_see_todays_outcomes_scores_nothing() -> None:
    # Every day "a" and "b" are proposed; "a" wins on even days, "b" on odd days; outcomes are
    # known the same evening. Learning from yesterday, "last winner" always picks the loser;
    # a replay that leaked today's outcomes would make it perfect.
    events = [event(day, action, float((day % 2 == 0) == (action == "a"))) for day in range(40) for action in "ab"]
    log = nr.replay(events, [LastWinner()], catalogue=["a", "b"])
    matched = np.array(log.matched["last winner"])
    assert matched.sum() == 39  # one matched event a day from day 1 on
    assert nr.replay_mean(matched, log.array("reward")) == 0.0


# -- matched events and the baselines ---------------------------------------------------------------


def test_only_matched_events_count_and_their_mean_is_the_replay_value() -> None:
    events = [event(0, "x", 1),  # learned from, never scored: nothing was known on day 0
              event(1, "x", 1, value=100), event(1, "y", 1, value=7), event(2, "x", 0), event(3, "y", 0), event(3, "x", 1, value=50)]
    always_x = FixedOrder("always x", values={"x": 2.0, "y": 1.0})
    log = nr.replay(events, [always_x], catalogue=["x", "y"])
    assert log.skipped == 1 and len(log.events) == 5
    matched = np.array(log.matched["always x"])
    assert matched.tolist() == [True, False, True, False, True]
    assert nr.replay_mean(matched, log.array("reward")) == pytest.approx(2 / 3)
    assert nr.replay_mean(matched, log.array("value")) == pytest.approx(50)
    figures = nr.policy_figures(log, "always x", nr.event_resamples(5, 50))
    assert figures["matched"] == 3 and figures["matched_share"] == 0.6
    # Successes: x (rank 1), y (rank 2), x (rank 1) -> hit@1 2/3, MRR (1 + 1/2 + 1) / 3
    assert figures["hit_at_1"] == pytest.approx(2 / 3, abs=1e-4)
    assert figures["mrr"] == pytest.approx(2.5 / 3, abs=1e-4)


def test_popularity_counts_choices_or_successes_known_so_far_and_breaks_ties_by_name() -> None:
    events = [event(0, "b", 0), event(0, "b", 0), event(0, "c", 1), event(1, "b", 0), event(1, "c", 1),
              event(2, "a", 1, known_after=30),  # still open at the end: never counted
              event(5, "a", 0)]
    chosen, won = Popularity("chosen", "chosen"), Popularity("won", "won")
    log = nr.replay(events, [chosen, won], catalogue=["a", "b", "c"])
    # scored: day 1 (b, c), day 2 (a), day 5 (a); day 0 is skipped
    # day 1 knows day 0: b chosen twice, c once; c won once -> chosen picks b, won picks c
    # days 2 and 5 know days 0 and 1: b 3x, c 2x chosen; c 2 wins; the open "a" is never learned
    assert log.matched["chosen"] == [True, False, False, False]
    assert log.matched["won"] == [False, True, False, False]
    assert chosen.counts == {"b": 3, "c": 2} and won.counts == {"b": 0, "c": 2}
    assert Popularity("fresh", "chosen").rank(["c", "a", "b"], {}) == ["c", "a", "b"]  # no counts: the candidates' order
    # the replay sorts a catalogue by name: z (chosen once) first, then the unseen a and b by name
    assert nr.replay([event(0, "z", 1), event(1, "b", 1)], [Popularity("p", "chosen")], catalogue=["b", "a", "z"]).rank["p"] == [3]


def test_without_a_catalogue_the_candidates_are_the_actions_seen_on_earlier_days() -> None:
    events = [event(0, "p1", 1), event(1, "p2", 0), event(1, "p3", 1), event(2, "p3", 0)]
    seen: list[list[str]] = []

    class Record(FixedOrder):
        def rank(self, candidates: Sequence[str], context: Mapping[str, str]) -> list[str]:
            seen.append(list(candidates))
            return list(candidates)

    log = nr.replay(events, [Record("record")])
    assert seen == [["p1"], ["p1"], ["p1", "p2", "p3"]]
    assert log.rank["record"] == [0, 0, 3]  # a page first seen today is not a candidate yet
    assert log.matched["record"] == [False, False, False]


# -- the product's learner --------------------------------------------------------------------------


def test_the_propensity_policy_ranks_with_the_products_model_greedy_and_thompson() -> None:
    source = Propensity("ours", (("sector",),), PRIORS)
    model = PropensityModel((("sector",),), **PRIORS)
    for action, sector, reward in [("a", "retail", 1), ("a", "retail", 0), ("b", "retail", 1), ("b", "retail", 1), ("c", "it", 1)]:
        source.learn(event(0, action, reward, sector=sector))
        model.update(action, {"sector": sector}, reward)
    context = {"sector": "retail"}
    greedy = PropensityPolicy("greedy", source)
    assert greedy.rank(["a", "b", "c"], context) == sorted("abc", key=lambda a: -model.mean(a, context))
    assert source.estimate("b", context) == model.mean("b", context)
    thompson = PropensityPolicy("thompson", source, rng=random.Random(3))
    twin = random.Random(3)
    draws = {a: model.score(a, context, twin) for a in ["a", "b", "c"]}
    assert thompson.rank(["a", "b", "c"], context) == sorted(draws, key=lambda a: -draws[a])
    priced = PropensityPolicy("value", source, values={"a": 1.0, "b": 1.0, "c": 100.0})
    assert priced.rank(["a", "b", "c"], context)[0] == "c"  # propensity × value
    assert greedy.rank(["a", "b", "c"], context)[0] == "b"
    for _ in range(10):  # what it learns changes the next greedy ranking (no stale cache)
        source.learn(event(1, "b", 0, sector="retail"))
    assert greedy.rank(["a", "b", "c"], context)[-1] == "b"


def test_one_observation_is_not_counted_again_at_every_context_level() -> None:
    levels = (("stage",), ("stage", "persona"), ("stage", "persona", "industry"))
    model = PropensityModel(levels, **PRIORS)
    for i in range(100):
        model.update("other", {}, float(i % 5 == 0))
    context = {"stage": "consideration", "persona": "skeptic", "industry": "logistics"}
    model.update("webinar", context, 1.0)
    root = model.explain("webinar", context)[0]["mean"]
    expected = (5 * root + 1) / 6  # one success on top of the pooled rate, once
    assert [level["mean"] for level in model.explain("webinar", context)[1:]] == pytest.approx([expected] * 4, abs=1e-4)
    assert model.mean("webinar", {**context, "industry": "machinery"}) == pytest.approx(expected, abs=1e-4)


# -- metrics by hand ---------------------------------------------------------------------------------


def test_auc_log_loss_and_precision_by_hand() -> None:
    # pairs (pos, neg): (0.9, 0.1) win, (0.9, 0.5) win, (0.5, 0.1) win, (0.5, 0.5) tie -> 3.5 / 4
    assert auc([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]) == pytest.approx(3.5 / 4)
    assert auc([0.3, 0.3, 0.3], [1, 0, 1]) == pytest.approx(0.5)
    assert np.isnan(auc([0.1, 0.2], [1, 1]))
    assert log_loss([0.8, 0.25], [1, 0]) == pytest.approx(-(np.log(0.8) + np.log(0.75)) / 2)
    # top 2 of [.9, .5, .5, .5]: .9 (a success) plus one of three tied (one success in three)
    assert precision_at([0.9, 0.5, 0.5, 0.5], [1, 1, 0, 0], 2) == pytest.approx((1 + 1 / 3) / 2)
    assert precision_at([0.4, 0.3, 0.2], [0, 1, 1], 2) == pytest.approx(0.5)


def test_the_bootstrap_ratio_is_paired_and_brackets_the_estimate() -> None:
    events = [event(day, action, float(action == "a" or day % 3 == 0)) for day in range(60) for action in "ab"]
    log = nr.replay(events, [FixedOrder("a", values={"a": 1, "b": 0}), FixedOrder("b", values={"a": 0, "b": 1})], catalogue=["a", "b"])
    result = nr.ratio(log, "a", "b", "reward", nr.event_resamples(len(log.events), 300))
    assert result["ratio"] == pytest.approx(59 / 19, abs=1e-3)  # days 1-59 scored; b wins on 19 of them (3, 6, ... 57)
    assert result["ci"][0] < result["ratio"] < result["ci"][1]


# -- the real data ------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_the_maven_replay_runs_and_its_numbers_are_sane(datasets: Path) -> None:
    folder = datasets / "maven_crm_sales_opportunities"
    events, prices = nr.maven_events(folder)
    assert len(events) == 6711 and set(prices) == {e.action for e in events} and len(prices) == 7
    assert all(e.resolved >= e.decided for e in events)
    report = nr.evaluate_maven(folder, nr.Run((0, 1), 50, nr.product_priors()))
    assert report["events"] + report["skipped_before_first_outcome"] == 6711 and report["events"] > 5000
    policies = report["policies"]
    assert 0.12 < policies["random"]["matched_share"] < 0.17  # one product in seven
    for row in ("popularity: most chosen", "ours greedy (posterior mean)", "ours Thompson"):
        assert policies[row]["matched"] > 300
        assert 0.5 < policies[row]["success_rate"] < 0.75  # about the logged win rate, 0.61
    # value weighting picks the dearest product: ours EV matches the price-only baseline
    assert policies["ours EV greedy (mean × price)"]["value_per_matched"] > 10 * policies["popularity: most chosen"]["value_per_matched"]
    for figures in report["estimators"].values():
        assert 0.4 < figures["auc"] < 0.6
    assert {r["baseline"] for r in report["ratios"]} == {"popularity: most chosen", "popularity: most won",
                                                         "popularity: most revenue", "price only"}
    # the value-weighted ranking earns more per matched decision than the revenue-weighted popularity
    assert policies["ours EV greedy (mean × price)"]["value_per_matched"] > policies["popularity: most revenue"]["value_per_matched"]
    hindsight = policies["hindsight: best per sector (a ceiling: knows the outcomes)"]
    assert hindsight["success_rate"] > policies["popularity: most won"]["success_rate"]  # chosen on its own outcomes
    assert report["auc_difference"]["ci"][0] <= report["auc_difference"]["difference"] <= report["auc_difference"]["ci"][1]
    # the product's priors are fitted at every level; Maven's cells hardly differ, so the fit pools
    # them and is better calibrated than the fixed strength the product used before
    assert report["fitted_at_the_end"]["fitted"] == [True] * 4
    rows = report["strength_sensitivity"]
    assert rows["fitted (empirical Bayes), the product's"]["log_loss"] < rows["fixed strength 5"]["log_loss"]


@pytest.mark.realdata
def test_the_olist_leads_lie_inside_the_closed_deals_log(datasets: Path) -> None:
    events = nr.olist_events(datasets / "olist_marketing_funnel", 60)
    assert 5000 < len(events) < 8000
    # the closed-deals log holds three deals in December 2017, then none for 25 days: leads count
    # from its steady record on, 2018-01-08
    assert min(e.decided for e in events) == date(2018, 1, 8)
    assert 0.05 < float(np.mean([e.reward for e in events])) < 0.2
    assert all(e.resolved == e.decided + timedelta(days=60) for e in events)


def test_a_log_starts_after_its_last_early_silence() -> None:
    start = date(2024, 1, 1)
    days = [start, start + timedelta(days=3), start + timedelta(days=30),
            *(start + timedelta(days=30 + i) for i in range(1, 40))]
    assert nr.recording_start(days) == start + timedelta(days=30)  # 27 silent days before it
    assert nr.recording_start(days, gap_days=30) == start  # a month's silence allowed: from the first day
    late_gap = [*(start + timedelta(days=i) for i in range(40)), start + timedelta(days=90)]
    assert nr.recording_start(late_gap) == start  # a silence at the end is not where the record begins
    with pytest.raises(ValueError, match="empty"):
        nr.recording_start([])


def test_the_hindsight_ceiling_picks_the_best_rate_per_context_among_well_tried_actions() -> None:
    def many(action: str, origin: str, successes: int, total: int) -> list[nr.Event]:
        return [nr.Event(date(2024, 1, 1), date(2024, 1, 2), action, {"origin": origin}, float(i < successes))
                for i in range(total)]
    events = [*many("busy", "web", 10, 100), *many("good", "web", 12, 40), *many("lucky", "web", 3, 3),
              *many("busy", "mail", 30, 100), *many("good", "mail", 2, 40)]
    hindsight = nr.Hindsight("h", events, "origin")
    assert hindsight.rank(["busy", "good", "lucky"], {"origin": "web"})[0] == "good"  # 0.3; "lucky" tried too rarely
    assert hindsight.rank(["busy", "good", "lucky"], {"origin": "mail"})[0] == "busy"
    assert hindsight.rank(["busy", "good"], {"origin": "fax"})[0] == "busy"  # unknown context: best overall (40/200 vs 14/80)
