"""Ranking metrics with binary relevance."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence


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
