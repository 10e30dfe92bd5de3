"""Ranking metrics with binary relevance, and the score metrics of binary outcomes (AUC,
log-loss, precision at k) with percentile intervals for bootstrap samples."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

import numpy as np


def first_relevant_rank(ranked: Sequence[Hashable], relevant: set[Hashable]) -> int | None:
    """1-based rank of the first relevant item, or None."""
    for rank, item in enumerate(ranked, start=1):
        if item in relevant:
            return rank
    return None


def recall_at(ranked: Sequence[Hashable], relevant: set[Hashable], k: int) -> float:
    """1 if any relevant item is in the top k (a question is answered by any of its pages)."""
    rank = first_relevant_rank(ranked[:k], relevant)
    return 1.0 if rank is not None else 0.0


def reciprocal_rank(ranked: Sequence[Hashable], relevant: set[Hashable], k: int = 10) -> float:
    rank = first_relevant_rank(ranked[:k], relevant)
    return 1.0 / rank if rank else 0.0


def ndcg_at(ranked: Sequence[Hashable], relevant: set[Hashable], k: int = 10) -> float:
    dcg = sum(1.0 / math.log2(rank + 1) for rank, item in enumerate(ranked[:k], start=1) if item in relevant)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return dcg / ideal if ideal else 0.0


def auc(scores: Sequence[float] | np.ndarray, labels: Sequence[float] | np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney, ties count half); NaN without both classes."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=float) > 0.5
    positives, negatives = int(y.sum()), int((~y).sum())
    if not positives or not negatives:
        return float("nan")
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    average_rank = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]
    return float((average_rank[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def log_loss(probabilities: Sequence[float] | np.ndarray, labels: Sequence[float] | np.ndarray) -> float:
    """Mean negative log-likelihood of binary labels, probabilities clipped to [1e-6, 1 − 1e-6]."""
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-6, 1 - 1e-6)
    y = np.asarray(labels, dtype=float)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def precision_at(scores: Sequence[float] | np.ndarray, labels: Sequence[float] | np.ndarray, k: int) -> float:
    """Success share of the k best-scored items; a tie across the cut counts at its own success
    rate (the expectation over random tie-breaks), so tied scores earn no luck."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=float)
    k = min(k, len(s))
    if k <= 0:
        return float("nan")
    threshold = np.sort(s)[::-1][k - 1]
    above, tied = s > threshold, s == threshold
    return float((y[above].sum() + (k - above.sum()) * y[tied].mean()) / k)


def interval(samples: np.ndarray) -> list[float]:
    """The 95 % percentile interval of bootstrap samples (NaN and infinite samples left out)."""
    finite = samples[np.isfinite(samples)]
    return [round(float(v), 4) for v in np.percentile(finite, [2.5, 97.5])] if finite.size else [float("nan")] * 2
