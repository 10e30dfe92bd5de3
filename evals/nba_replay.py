"""Offline replay of the next-best-action propensity on the real Maven CRM and Olist histories.

    .venv/bin/python -m evals nba-replay [--datasets ../shared/datasets] [--seeds 5] [--bootstrap 1000]
                                         [--window 60] [--playbook FILE] [--output FILE]

The learner is the product's own :class:`assistant.journey.propensity.PropensityModel` as the
playbook's ``learning`` section sets it up (the shipped one unless ``--playbook`` names another):
by default each level's prior strength, and a new action's prior mean, are fitted by empirical
Bayes from the outcomes the model has learned so far – never from later ones – and the playbook's
``prior_mean``/``prior_strength``/``strength`` apply only where too few cells exist to fit. The
fit's own constants (``MIN_CELLS``, ``STRENGTH_RANGE``) were settled on the first half of the
time-ordered decisions only (by the log-loss of the logged action's propensity), not on these
tables. A comparison table repeats the greedy policy with fixed strengths and no fit (the method
before the fit, whose shipped strength was 5), to show how much rides on that one setting; its
best row is not a choice to make from these data. The fitted priors at the end of each history
are printed and stored. Every learner and policy walks the history in time order and sees
exactly the same outcomes: an event is learned from only once its outcome
was known strictly before the day of the decision being scored (no peeking). Events decided
before any outcome was known are skipped (nobody can rank yet) and counted.

Two complementary measures:

- **Replay** (Li, Chu, Langford, Wang 2011, "Unbiased offline evaluation of contextual-bandit-based
  news article recommendation algorithms"): the policy picks one action for the logged context;
  only events where its pick equals the logged action count, and its value is the mean reward
  over those matched events. The policies learn from every logged outcome before the decision
  (what the product does: outcomes are recorded whatever the assistant proposed), so each step
  scores a fixed policy on a fresh event. Li et al.'s estimate is unbiased only when the logging
  policy chose uniformly at random; here people chose, so the figure is the success rate on the
  decisions where the policy agrees with what was done – read it together with the matched count.
- **Ranking, no matching needed**: the AUC and log-loss of each learner's propensity for the
  *logged* action against its outcome (does it tell winners from losers?), and for successful
  events the rank of the logged action in each policy's ranking (hit@1, hit@3, MRR). The latter
  rewards predicting *what was sold* – exposure – not what succeeds once proposed, which is a
  different question; it is reported because it is the usual next-item figure.

Maven (next best product): a closed deal (Won/Lost) is a decision at ``engage_date`` to propose
its product (7 catalogue products; pipeline ``GTXPro`` is ``GTX Pro``) to its account; the reward
is Won; the outcome is known at ``close_date``. Context levels, general first: sector, sector and
size band (employees < 1,000 / < 5,000 / more), sector, size and the account itself (the account's
own history with the product). Value-weighted variants rank by propensity × list price, as the
product ranks by propensity × value; their replay value is the close value of matched won deals.

Olist (which landing page converts a lead from a channel; and which leads to call first): a
marketing-qualified lead is a decision at ``first_contact_date``; the action is the landing page
it came through, the context its origin channel (levels: page, then page and origin); the reward
is a closed deal within ``--window`` days (60 by default: about four in five of all closed deals
close within 60 days of first contact). The outcome is known when the window ends, for wins and
losses alike, so early wins do not bias recent estimates. The closed-deals log records deals
steadily only from 2018-01-08: before that it holds three deals (2017-12-05, -11 and -14), then
nothing for 25 days, while from January on no two won dates lie more than 8 days apart. Leads
contacted before the steady record began would be labelled failures for deals that closed
unrecorded (11 of December's 200 leads ever closed, 0.055, against 0.10–0.15 of each later month's), so the log's
start is its first won date after the last gap of more than ``LOG_GAP_DAYS``; leads before it,
and leads whose window runs past the last won date, are left out. Candidates are the pages seen before the day of
the decision. Replay answers "which page to put in front of a channel's leads"; lead ranking
(AUC and precision of the top 10 % per month, each lead scored by its page and origin) answers
"whom to call first" and needs no matching. Olist closed deals carry no comparable value, so
there is no value-weighted replay there.

Baselines: *popularity* – the action logged most often so far (``most chosen``), with the most
successes so far (``most won``) or, on Maven, with the most revenue so far (``most revenue``, the
value-weighted counterpart), from the same outcomes; *random* – uniform over the candidates;
*price only* (Maven) – the dearest product, i.e. value without propensity; *action only* – the
same Beta–Bernoulli model without context; *base rate* – the success rate so far, one number for
every action (within a day its AUC is 0.5; over the history it shows the drift of the base rate).
Uncertainty: 95 % bootstrap intervals over events (the ratio ours / popularity, and the AUC
difference, are bootstrapped on the same resamples), mean ± standard deviation over seeds for
Thompson sampling and random.

Headroom: a *hindsight* row picks, per value of the first context key (Maven: sector; Olist:
origin), the action with the best success rate over the whole history, the scored outcomes
included. Nobody can run it; it is an optimistic ceiling for any policy that picks one action per
context, and tells whether the history leaves room above popularity at all.

What the data allow: Maven's win rate hardly depends on what was offered to whom – a chi-square
test of the cells' win rates against the overall rate over all closed deals finds nothing for
product (p 0.37), sector × product (p 0.88) or account × product (p 0.75) – so on win rate no
learner can beat another there by more than noise (the hindsight row's lead on Maven is mostly
selection on the outcomes it is scored on). Olist's conversion differs strongly by landing page
and by origin (p < 1e-20 each), but the pages that convert best are also the busiest, which
popularity finds as well: on Olist even the hindsight ceiling does not beat it.

Output: the tables on stdout and ``evals/results/nba_replay.json`` (no timestamps: a rerun gives
the same file).
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import random
import statistics
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.journey.playbook import load_playbook
from assistant.journey.propensity import Posterior, PropensityModel
from evals.classify_eval import format_table
from evals.metrics import auc, interval, log_loss, precision_at

HERE = Path(__file__).resolve().parent
DEFAULT_DATASETS = HERE.parents[1] / "shared" / "datasets"
RESULTS_FILE = HERE / "results" / "nba_replay.json"
COMMAND = ".venv/bin/python -m evals nba-replay"
MAVEN_LEVELS = (("sector",), ("sector", "size"), ("sector", "size", "account"))
OLIST_LEVELS = (("origin",),)
LOG_GAP_DAYS = 14  # a log silent for longer than two weeks was not recording (Olist: 25 days before 2018-01-08)
HINDSIGHT_MIN = 30  # the hindsight ceiling only picks actions logged at least this often in a context
TOP_SHARE = 0.10  # lead ranking: precision of the top 10 % of a month's leads
STRENGTHS = (5.0, 20.0, 50.0, 200.0)  # comparison only: fixed strengths, no fit (5 was the product's before the fit)


@dataclass(frozen=True)
class Event:
    """One logged decision: what was done in which context, and how it turned out."""

    decided: date
    resolved: date  # the day its outcome became known
    action: str
    context: Mapping[str, str]
    reward: float  # 1 success, 0 failure
    value: float = 0.0  # realised value (Maven: close value of a won deal)
    period: str = ""  # month of the decision, for per-month figures


# -- learners and policies ------------------------------------------------------------------------


class Learner(Protocol):
    name: str

    def learn(self, event: Event) -> None: ...


class Estimator(Learner, Protocol):
    def estimate(self, action: str, context: Mapping[str, str]) -> float:
        """How strongly it backs ``action`` here: a probability, or for popularity a count."""
        ...


class Policy(Protocol):
    name: str
    source: Learner  # fed every outcome once, however many policies share it

    def rank(self, candidates: Sequence[str], context: Mapping[str, str]) -> list[str]: ...


class Propensity:
    """The product's PropensityModel fed the replay's outcomes, with posteriors cached between
    updates (a policy scores hundreds of candidates per event; the model does not change within a day)."""

    def __init__(self, name: str, levels: Sequence[Sequence[str]], priors: Mapping[str, Any]) -> None:
        self.name = name
        self.model = PropensityModel(levels, **priors)
        self.version = 0  # counts updates: what a policy's cached ranking was made from
        self._posteriors: dict[tuple[tuple[str, str], ...], dict[str, Posterior]] = {}

    def learn(self, event: Event) -> None:
        self.model.update(event.action, event.context, event.reward)
        self.version += 1
        self._posteriors.clear()

    def posteriors(self, candidates: Sequence[str], context: Mapping[str, str]) -> list[Posterior]:
        known = self._posteriors.setdefault(tuple(context.items()), {})
        for action in candidates:
            if action not in known:
                known[action] = self.model.posterior(action, context)
        return [known[action] for action in candidates]

    def estimate(self, action: str, context: Mapping[str, str]) -> float:
        return self.posteriors([action], context)[0].mean


@dataclass
class PropensityPolicy:
    """Rank by propensity (× value when given): the posterior mean (greedy) or, with ``rng``, a
    Thompson draw per candidate – ``Posterior.sample``, what ``PropensityModel.score(rng)`` returns."""

    name: str
    source: Propensity
    values: Mapping[str, float] | None = None
    rng: random.Random | None = None
    _greedy: dict[tuple[Any, ...], list[str]] = field(default_factory=dict, repr=False)
    _greedy_version: int = -1

    def rank(self, candidates: Sequence[str], context: Mapping[str, str]) -> list[str]:
        if self.rng is None:  # greedy: the same ranking until the model learns (candidates only ever grow)
            if self._greedy_version != self.source.version:
                self._greedy, self._greedy_version = {}, self.source.version
            key = (len(candidates), *context.items())
            if key not in self._greedy:
                self._greedy[key] = self._ranking(candidates, context)
            return self._greedy[key]
        return self._ranking(candidates, context)

    def _ranking(self, candidates: Sequence[str], context: Mapping[str, str]) -> list[str]:
        posteriors = self.source.posteriors(candidates, context)
        propensities = [p.sample(self.rng) for p in posteriors] if self.rng else [p.mean for p in posteriors]
        weights = [self.values[a] for a in candidates] if self.values else [1.0] * len(candidates)
        order = sorted(range(len(candidates)), key=lambda i: propensities[i] * weights[i], reverse=True)
        return [candidates[i] for i in order]  # stable: ties keep the candidates' order


class Popularity:
    """The baseline: the action logged most often so far (``by`` "chosen"), with the most
    successes so far ("won") or with the most realised value so far ("value": Maven's revenue)."""

    def __init__(self, name: str, by: str) -> None:
        if by not in ("chosen", "won", "value"):
            raise ValueError(f"popularity counts what was chosen, won or earned, not {by!r}")
        self.name, self.by, self.counts = name, by, Counter[str]()
        self.source = self

    def learn(self, event: Event) -> None:
        self.counts[event.action] += {"chosen": 1.0, "won": event.reward, "value": event.value}[self.by]

    def estimate(self, action: str, context: Mapping[str, str]) -> float:
        return self.counts[action]

    def rank(self, candidates: Sequence[str], context: Mapping[str, str]) -> list[str]:
        return sorted(candidates, key=lambda action: self.counts[action], reverse=True)


class BaseRate:
    """The success rate so far, the same for every action: the reference for log-loss (AUC 0.5)."""

    def __init__(self, name: str = "base rate so far") -> None:
        self.name, self.successes, self.total = name, 0.0, 0.0

    def learn(self, event: Event) -> None:
        self.successes += event.reward
        self.total += 1

    def estimate(self, action: str, context: Mapping[str, str]) -> float:
        return (self.successes + 1) / (self.total + 2)


class Hindsight:
    """Not a policy anyone could run: per value of the context ``key``, the action with the best
    success rate over the *whole* history, future included (among actions logged there at least
    ``HINDSIGHT_MIN`` times; elsewhere the best such action overall). Its replay figure is an
    optimistic ceiling for every policy that picks one action per context – optimistic because it
    chooses on the very outcomes it is scored on – and so shows how much room the history leaves
    above popularity."""

    def __init__(self, name: str, events: Sequence[Event], key: str) -> None:
        self.name, self.key, self.source = name, key, self
        overall: dict[str, list[float]] = {}
        per_context: dict[str, dict[str, list[float]]] = {}
        for event in events:
            for cells in (overall, per_context.setdefault(str(event.context.get(key, "")), {})):
                cell = cells.setdefault(event.action, [0.0, 0.0])
                cell[0] += event.reward
                cell[1] += 1
        self.overall = best_rate(overall) or min(overall)
        self.best = {where: action for where, cells in per_context.items() if (action := best_rate(cells))}

    def learn(self, event: Event) -> None:
        return None

    def rank(self, candidates: Sequence[str], context: Mapping[str, str]) -> list[str]:
        pick = self.best.get(str(context.get(self.key, "")), self.overall)
        return [pick, *(action for action in candidates if action != pick)]


def best_rate(cells: Mapping[str, Sequence[float]]) -> str | None:
    """The action with the best success rate among those tried ``HINDSIGHT_MIN`` times (ties: the first by name)."""
    tried = [(-successes / total, action) for action, (successes, total) in cells.items() if total >= HINDSIGHT_MIN]
    return min(tried)[1] if tried else None


@dataclass
class FixedOrder:
    """A policy that does not learn: uniformly random (with ``rng``) or by a fixed value, dearest first."""

    name: str
    rng: random.Random | None = None
    values: Mapping[str, float] = field(default_factory=dict)

    @property
    def source(self) -> FixedOrder:
        return self

    def learn(self, event: Event) -> None:
        return None

    def rank(self, candidates: Sequence[str], context: Mapping[str, str]) -> list[str]:
        if self.rng is not None:
            return self.rng.sample(list(candidates), len(candidates))
        return sorted(candidates, key=lambda action: self.values[action], reverse=True)


# -- the replay -----------------------------------------------------------------------------------


@dataclass
class ReplayLog:
    """Per evaluated event, in decision order: the truth, and what every policy and estimator said."""

    events: list[Event] = field(default_factory=list)
    matched: dict[str, list[bool]] = field(default_factory=dict)
    rank: dict[str, list[int]] = field(default_factory=dict)  # 1-based rank of the logged action, 0 = not a candidate
    estimate: dict[str, list[float]] = field(default_factory=dict)
    skipped: int = 0  # decided before any outcome was known

    def array(self, attribute: str) -> np.ndarray:
        return np.array([getattr(event, attribute) for event in self.events], dtype=float)


def replay(events: Sequence[Event], policies: Sequence[Policy], estimators: Sequence[Estimator] = (),
           catalogue: Sequence[str] | None = None) -> ReplayLog:
    """Walk the events by decision day; before scoring a decision, every learner learns each
    outcome known strictly before that day. Candidates: the ``catalogue``, else the actions logged
    on earlier days."""
    learners: dict[int, Learner] = {id(x): x for x in [*estimators, *(p.source for p in policies)]}
    by_decision = sorted(events, key=lambda e: e.decided)
    outcomes = deque(sorted(events, key=lambda e: e.resolved))
    candidates: list[str] = sorted(catalogue or ())
    announced, learned = 0, 0
    log = ReplayLog(matched={p.name: [] for p in policies}, rank={p.name: [] for p in policies},
                    estimate={e.name: [] for e in estimators})
    for event in by_decision:
        while outcomes and outcomes[0].resolved < event.decided:
            outcome = outcomes.popleft()
            for learner in learners.values():
                learner.learn(outcome)
            learned += 1
        while catalogue is None and by_decision[announced].decided < event.decided:
            if by_decision[announced].action not in candidates:
                bisect.insort(candidates, by_decision[announced].action)
            announced += 1
        if not learned:
            log.skipped += 1
            continue
        log.events.append(event)
        for policy in policies:
            ranking = policy.rank(candidates, event.context)
            log.matched[policy.name].append(bool(ranking) and ranking[0] == event.action)
            log.rank[policy.name].append(ranking.index(event.action) + 1 if event.action in ranking else 0)
        for estimator in estimators:
            log.estimate[estimator.name].append(estimator.estimate(event.action, event.context))
    return log


# -- metrics ---------------------------------------------------------------------------------------


def replay_mean(matched: np.ndarray, target: np.ndarray) -> float:
    """Li et al.'s estimate: the mean of ``target`` over the matched events."""
    return float(target[matched].mean()) if matched.any() else float("nan")


def bootstrap_replay(matched: np.ndarray, target: np.ndarray, resamples: np.ndarray) -> np.ndarray:
    """The replay mean on each resample of events (rows of ``resamples`` are event indices)."""
    hits = matched[resamples]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (hits * target[resamples]).sum(axis=1) / hits.sum(axis=1)


def policy_figures(log: ReplayLog, name: str, resamples: np.ndarray) -> dict[str, Any]:
    matched, ranks = np.array(log.matched[name]), np.array(log.rank[name])
    reward, value = log.array("reward"), log.array("value")
    won = reward > 0.5
    reciprocal = np.where(ranks > 0, 1.0 / np.maximum(ranks, 1), 0.0)

    def over_successes(hits: np.ndarray) -> float:
        return round(float(hits[won].mean()), 4) if won.any() else float("nan")

    return {
        "matched": int(matched.sum()), "matched_share": round(float(matched.mean()), 4),
        "success_rate": round(replay_mean(matched, reward), 4),
        "success_rate_ci": interval(bootstrap_replay(matched, reward, resamples)),
        "value_per_matched": round(replay_mean(matched, value), 1),
        "value_per_matched_ci": [round(v, 1) for v in interval(bootstrap_replay(matched, value, resamples))],
        "hit_at_1": over_successes(ranks == 1), "hit_at_3": over_successes((ranks >= 1) & (ranks <= 3)),
        "mrr": over_successes(reciprocal),
    }


def estimator_figures(log: ReplayLog, name: str, resamples: np.ndarray, probabilistic: bool) -> dict[str, Any]:
    scores, reward = np.array(log.estimate[name]), log.array("reward")
    boot = np.array([auc(scores[rows], reward[rows]) for rows in resamples])
    return {"auc": round(auc(scores, reward), 4), "auc_ci": interval(boot),
            "log_loss": round(log_loss(scores, reward), 4) if probabilistic else None}


def monthly_lead_ranking(log: ReplayLog, name: str) -> dict[str, dict[str, float]]:
    """Per month of decisions: the AUC of the lead scores and the success share of the top 10 %."""
    periods, reward = np.array([e.period for e in log.events]), log.array("reward")
    scores, result = np.array(log.estimate[name]), {}
    for period in sorted(set(periods)):
        rows = periods == period
        top = max(1, round(TOP_SHARE * rows.sum()))
        result[period] = {"leads": int(rows.sum()), "base_rate": round(float(reward[rows].mean()), 4),
                          "auc": round(auc(scores[rows], reward[rows]), 4),
                          "precision_top": round(precision_at(scores[rows], reward[rows], top), 4)}
    return result


def auc_difference(log: ReplayLog, ours: str, baseline: str, resamples: np.ndarray) -> dict[str, Any]:
    """AUC of ours minus the baseline's on the same events, with a paired bootstrap interval."""
    mine, theirs, reward = np.array(log.estimate[ours]), np.array(log.estimate[baseline]), log.array("reward")
    boot = np.array([auc(mine[rows], reward[rows]) - auc(theirs[rows], reward[rows]) for rows in resamples])
    return {"ours": ours, "baseline": baseline, "difference": round(auc(mine, reward) - auc(theirs, reward), 4),
            "ci": interval(boot)}


def seed_spread(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean and standard deviation over seeds of every numeric figure."""
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    spread: dict[str, Any] = {"seeds": len(runs)}
    for key in keys:
        values = [float(run[key]) for run in runs]
        spread[key] = round(statistics.fmean(values), 4)
        spread[f"{key}_sd"] = round(statistics.stdev(values), 4) if len(values) > 1 else 0.0
    return spread


# -- the two histories -------------------------------------------------------------------------------


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def size_band(employees: str) -> str:
    count = int(employees)
    return "small" if count < 1_000 else "mid" if count < 5_000 else "large"


def maven_events(folder: Path) -> tuple[list[Event], dict[str, float]]:
    """Closed deals as product proposals, and the catalogue's list prices."""
    prices = {row["product"]: float(row["sales_price"]) for row in read_csv(folder / "products.csv")}
    by_squashed = {name.replace(" ", ""): name for name in prices}  # pipeline "GTXPro" = "GTX Pro"
    accounts = {row["account"]: row for row in read_csv(folder / "accounts.csv")}
    events = []
    for row in read_csv(folder / "sales_pipeline.csv"):
        if row["deal_stage"] not in ("Won", "Lost"):
            continue
        account = accounts.get(row["account"])
        context = {"sector": account["sector"], "size": size_band(account["employees"]), "account": row["account"]} if account else {}
        won = row["deal_stage"] == "Won"
        events.append(Event(date.fromisoformat(row["engage_date"]), date.fromisoformat(row["close_date"]),
                            by_squashed[row["product"].replace(" ", "")], context, float(won),
                            float(row["close_value"] or 0) if won else 0.0, row["engage_date"][:7]))
    return events, prices


def recording_start(days: Iterable[date], gap_days: int = LOG_GAP_DAYS) -> date:
    """The first day of a log's steady record: its first date after the last gap of more than
    ``gap_days`` between two consecutive dates in the log's first half (a gap later on says
    nothing about where the record begins)."""
    ordered = sorted(days)
    if not ordered:
        raise ValueError("an empty log has no start")
    start, limit = ordered[0], timedelta(days=gap_days)
    first_half = ordered[: len(ordered) // 2 + 1]
    for before, after in zip(first_half, first_half[1:], strict=False):
        if after - before > limit:
            start = after
    return start


def olist_events(folder: Path, window_days: int) -> list[Event]:
    """Leads whose whole conversion window lies inside the closed-deals log, labelled by a deal
    within the window; the outcome is known when the window ends."""
    won = {row["mql_id"]: datetime.fromisoformat(row["won_date"]).date()
           for row in read_csv(folder / "olist_closed_deals_dataset.csv")}
    window = timedelta(days=window_days)
    log_start, log_end = recording_start(won.values()), max(won.values())
    events = []
    for row in read_csv(folder / "olist_marketing_qualified_leads_dataset.csv"):
        contacted = date.fromisoformat(row["first_contact_date"])
        if contacted < log_start or contacted + window > log_end:
            continue
        closed = won.get(row["mql_id"])
        converted = closed is not None and closed <= contacted + window
        events.append(Event(contacted, contacted + window, row["landing_page_id"], {"origin": row["origin"]},
                            float(converted), period=row["first_contact_date"][:7]))
    return events


# -- one dataset, all policies -------------------------------------------------------------------------


def event_resamples(events: int, bootstrap: int) -> np.ndarray:
    """``bootstrap`` resamples of event indices, seeded: the same for every policy (paired)."""
    return np.random.default_rng(0).integers(0, events, size=(bootstrap, events))


def ratio(log: ReplayLog, ours: str, baseline: str, target: str, resamples: np.ndarray) -> dict[str, Any]:
    """ours / baseline for the replay mean of ``target``, with a paired bootstrap interval."""
    values = log.array(target)
    mine, theirs = np.array(log.matched[ours]), np.array(log.matched[baseline])
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = bootstrap_replay(mine, values, resamples) / bootstrap_replay(theirs, values, resamples)
    return {"ours": ours, "baseline": baseline, "target": target,
            "ratio": round(replay_mean(mine, values) / replay_mean(theirs, values), 3),
            "ci": [round(v, 3) for v in interval(boot)]}


def seeded(label: str, make: Callable[[str, random.Random], Policy], seeds: Sequence[int]) -> list[Policy]:
    return [make(f"{label} seed {seed}", random.Random(seed)) for seed in seeds]


@dataclass(frozen=True)
class Run:
    """What every dataset is replayed with."""

    seeds: tuple[int, ...]
    bootstrap: int
    priors: Mapping[str, Any]  # prior_mean, prior_strength, strength, empirical_bayes: the playbook's ``learning``


def product_priors(playbook: Path | None = None) -> dict[str, Any]:
    """The propensity priors the product ranks with (the shipped playbook unless one is named)."""
    learning = load_playbook(playbook).learning
    return {"prior_mean": learning.prior_mean, "prior_strength": learning.prior_strength, "strength": learning.strength,
            "empirical_bayes": learning.empirical_bayes}


def policy_groups(ours: Propensity, run: Run, prices: Mapping[str, float] | None,
                  hindsight: Hindsight) -> dict[str, list[Policy]]:
    """The policies side by side, by table row; a row with several seeds is one policy per seed."""
    chosen, won = Popularity("popularity: most chosen", "chosen"), Popularity("popularity: most won", "won")
    groups: dict[str, list[Policy]] = {
        "random": seeded("random", lambda name, rng: FixedOrder(name, rng=rng), run.seeds),
        chosen.name: [chosen], won.name: [won],
        "ours greedy (posterior mean)": [PropensityPolicy("ours greedy", ours)],
        "ours Thompson": seeded("ours Thompson", lambda name, rng: PropensityPolicy(name, ours, rng=rng), run.seeds),
    }
    if prices:
        groups |= {
            "ours EV greedy (mean × price)": [PropensityPolicy("ours EV greedy", ours, prices)],
            "ours EV Thompson": seeded("ours EV Thompson", lambda name, rng: PropensityPolicy(name, ours, prices, rng), run.seeds),
            "price only (dearest product)": [FixedOrder("price only", values=prices)],
            "popularity: most revenue": [Popularity("popularity: most revenue", "value")],
        }
    return groups | {hindsight.name: [hindsight]}


def evaluate(events: Sequence[Event], levels: Sequence[Sequence[str]], action_label: str, run: Run,
             prices: Mapping[str, float] | None = None) -> tuple[dict[str, Any], ReplayLog]:
    """Every policy and estimator over one history; with ``prices`` (the catalogue) also the
    value-weighted policies, else the candidates are the actions seen so far."""
    added = [level[len(before):] for before, level in zip(((),) + tuple(levels), levels, strict=False)]
    ours = Propensity("ours: action > " + " > ".join(" and ".join(keys) for keys in added), levels, run.priors)
    key = levels[0][0]
    hindsight = Hindsight(f"hindsight: best per {key} (a ceiling: knows the outcomes)", events, key)
    groups = policy_groups(ours, run, prices, hindsight)
    popular = groups["popularity: most won"][0]
    estimators = [(BaseRate(), True), (popular, False), (Propensity(action_label, (), run.priors), True), (ours, True)]
    sensitivity = [Propensity(f"fixed strength {s:g}", levels, {**run.priors, "strength": s, "empirical_bayes": False})
                   for s in STRENGTHS]
    policies = [p for members in groups.values() for p in members] + [PropensityPolicy(e.name, e) for e in sensitivity]
    log = replay(events, policies, [e for e, _ in estimators] + sensitivity, list(prices) if prices else None)
    resamples = event_resamples(len(log.events), run.bootstrap)
    policy_rows: dict[str, Any] = {}
    for label, members in groups.items():
        runs = [policy_figures(log, p.name, resamples) for p in members]
        policy_rows[label] = runs[0] if len(runs) == 1 else seed_spread(runs)
    product = "fitted (empirical Bayes)" if run.priors["empirical_bayes"] else f"fixed {run.priors['strength']:g}"
    strengths = [(f"{product}, the product's", "ours greedy", ours.name), *((e.name, e.name, e.name) for e in sensitivity)]
    baselines = ("popularity: most chosen", "popularity: most won")
    report: dict[str, Any] = {
        "events": len(log.events), "skipped_before_first_outcome": log.skipped,
        "success_rate_logged": round(float(log.array("reward").mean()), 4), "policies": policy_rows,
        "estimators": {e.name: estimator_figures(log, e.name, resamples[:200], probabilistic) for e, probabilistic in estimators},
        "ratios": [*(ratio(log, "ours greedy", name, "reward", resamples) for name in baselines),
                   ratio(log, hindsight.name, "popularity: most won", "reward", resamples)],
        "auc_difference": auc_difference(log, ours.name, popular.name, resamples[:200]),
        "strength_sensitivity": {label: {**policy_figures(log, policy, resamples),
                                         **estimator_figures(log, learner, resamples[:200], True)}
                                 for label, policy, learner in strengths},
        "fitted_at_the_end": ours.model.hyperparameters().to_dict(),
    }
    if prices:
        report["ratios"] += [ratio(log, "ours EV greedy", name, "value", resamples)
                             for name in (*baselines, "popularity: most revenue", "price only")]
    return report, log


def evaluate_maven(folder: Path, run: Run) -> dict[str, Any]:
    events, prices = maven_events(folder)
    report, _ = evaluate(events, MAVEN_LEVELS, "product only (win rate so far)", run, prices)
    report["setup"] = {"decisions": "closed deals (Won/Lost) at engage_date; outcome known at close_date",
                       "levels": [list(level) for level in MAVEN_LEVELS], "list_prices": prices}
    return report


def evaluate_olist(folder: Path, run: Run, window_days: int) -> dict[str, Any]:
    events = olist_events(folder, window_days)
    report, log = evaluate(events, OLIST_LEVELS, "page only (conversion so far)", run)
    report["lead_ranking_by_month"] = {name: monthly_lead_ranking(log, name) for name in report["estimators"]}
    report["setup"] = {"decisions": f"leads at first_contact_date; success = closed deal within {window_days} days, "
                                    "known when the window ends",
                       "levels": [list(level) for level in OLIST_LEVELS], "window_days": window_days,
                       "leads": len(events), "landing_pages": len({e.action for e in events})}
    return report


# -- output ------------------------------------------------------------------------------------------


def figure(figures: Mapping[str, Any], key: str, digits: int = 3) -> str:
    """``0.634 [0.611, 0.657]`` for one run, ``0.634 ± 0.012`` over seeds."""
    value = figures.get(key)
    if value is None or value != value:  # absent or NaN
        return "-"
    if f"{key}_sd" in figures:
        return f"{value:.{digits}f} ± {figures[f'{key}_sd']:.{digits}f}"
    low, high = figures.get(f"{key}_ci", (None, None))
    return f"{value:.{digits}f}" + (f" [{low:.{digits}f}, {high:.{digits}f}]" if low is not None else "")


def fitted_line(fit: Mapping[str, Any]) -> str:
    """What the empirical-Bayes fit made of the whole history; "(playbook)" where too few cells were there to fit."""
    start = "- (pooled root)" if fit["action_mean"] is None else f"{fit['action_mean']:.4f}"
    strengths = " > ".join(f"{s:.3g}" + ("" if ok else " (playbook)") for s, ok in zip(fit["strengths"], fit["fitted"], strict=True))
    return f"fitted at the end: typical action's rate {start}; strengths action > {strengths}"


def render(name: str, report: Mapping[str, Any], with_value: bool) -> str:
    lines = [f"== {name}: {report['events']} decisions scored ({report['skipped_before_first_outcome']} skipped: "
             f"no outcome known yet); logged success rate {report['success_rate_logged']:.3f}"]
    headers = ["policy", "matched", "share", "replay success rate [95% CI]", *(["value per matched [95% CI]"] if with_value else []),
               "hit@1 (successes)", "hit@3", "MRR"]
    rows = [[label, figure(f, "matched", 0 if "matched_sd" not in f else 1), figure(f, "matched_share"),
             figure(f, "success_rate"), *([figure(f, "value_per_matched", 0)] if with_value else []),
             figure(f, "hit_at_1"), figure(f, "hit_at_3"), figure(f, "mrr")] for label, f in report["policies"].items()]
    lines += [format_table(headers, rows), ""]
    rows = [[label, figure(f, "auc"), figure(f, "log_loss")] for label, f in report["estimators"].items()]
    lines += [format_table(["propensity of the logged action", "AUC [95% CI]", "log-loss"], rows), ""]
    rows = [[strength, f["matched"], figure(f, "success_rate"), figure(f, "auc"), figure(f, "log_loss")]
            for strength, f in report["strength_sensitivity"].items()]
    lines += ["prior strengths, greedy: the product's against fixed ones (picking the best row here would be tuning on "
              "the test data)",
              format_table(["prior strength", "matched", "replay success rate [95% CI]", "AUC [95% CI]", "log-loss"], rows),
              fitted_line(report["fitted_at_the_end"]), ""]
    d = report["auc_difference"]
    lines.append(f"AUC {d['ours']} − {d['baseline']}: {d['difference']:+.3f} [{d['ci'][0]:+.3f}, {d['ci'][1]:+.3f}] (paired)")
    for r in report["ratios"]:
        lines.append(f"{r['ours']} / {r['baseline']} ({'success rate' if r['target'] == 'reward' else 'value'}): "
                     f"{r['ratio']:.3f} [{r['ci'][0]:.3f}, {r['ci'][1]:.3f}]")
    if "lead_ranking_by_month" in report:
        months = sorted(next(iter(report["lead_ranking_by_month"].values())))
        rows = [[label, *(f"{by_month[m]['auc']:.3f} / {by_month[m]['precision_top']:.3f}" for m in months)]
                for label, by_month in report["lead_ranking_by_month"].items()]
        first = report["lead_ranking_by_month"][next(iter(report["lead_ranking_by_month"]))]
        rows.append(["(leads, base rate)", *(f"{first[m]['leads']}, {first[m]['base_rate']:.3f}" for m in months)])
        lines += ["", f"lead ranking per month: AUC / success share of the top {TOP_SHARE:.0%} of the month's leads",
                  format_table(["scored by", *months], rows)]
    return "\n".join(lines)


def without_nan(value: Any) -> Any:
    """NaN (a figure over no events) as null: JSON has no NaN."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: without_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_nan(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS, help="The shared datasets folder.")
    parser.add_argument("--seeds", type=int, default=5, help="Seeds for Thompson sampling and the random policy.")
    parser.add_argument("--bootstrap", type=int, default=1000, help="Bootstrap resamples of events for the intervals.")
    parser.add_argument("--window", type=int, default=60, help="Olist: days from first contact in which a deal counts.")
    parser.add_argument("--playbook", type=Path, help="Playbook whose learning priors are used (default: the shipped one).")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="Where the JSON report goes.")
    args = parser.parse_args(argv)
    maven, olist = args.datasets / "maven_crm_sales_opportunities", args.datasets / "olist_marketing_funnel"
    if not maven.is_dir() or not olist.is_dir():
        raise SystemExit(f"error: {args.datasets} does not hold maven_crm_sales_opportunities/ and olist_marketing_funnel/; pass --datasets")
    run = Run(tuple(range(args.seeds)), args.bootstrap, product_priors(args.playbook))
    started = time.perf_counter()
    report = {"command": f"{COMMAND} --seeds {args.seeds} --bootstrap {args.bootstrap} --window {args.window}"
                         + (f" --playbook {args.playbook}" if args.playbook else ""),
              "priors": dict(run.priors),
              "maven": evaluate_maven(maven, run), "olist": evaluate_olist(olist, run, args.window)}
    print(render("Maven CRM, next best product (reward: won)", report["maven"], with_value=True))
    print()
    print(render(f"Olist, landing page per channel (reward: closed deal within {args.window} days)", report["olist"], with_value=False))
    print(f"\n{time.perf_counter() - started:.1f} s")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(without_nan(report), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"written: {args.output}")
    return report


if __name__ == "__main__":
    main()
