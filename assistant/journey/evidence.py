"""Evidence items and the arithmetic both detectors share (soft caps, softmax, confidence).

A score is a sum of weighted evidence, so a sales manager can read a decision as "these cues,
with these weights, from these messages and touchpoints". Soft caps keep one source (a long
history, a message full of cues) from drowning the others; the evidence items are scaled by
the same factor, so they still add up to the score.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from assistant.journey.cues import Match
from assistant.journey.text import snippet


@dataclass(frozen=True)
class Evidence:
    target: str
    """``stage`` or ``persona``"""
    label: str
    source: str
    """message, touchpoint, deal, customer_status, ticket, job_title, department, buying_role, override, rule"""
    weight: float
    ref: int | None = None
    """Index of the message or touchpoint in the input."""
    text: str | None = None
    cue: str | None = None
    matched: str | None = None
    how: str | None = None
    at: datetime | None = None
    note: str | None = None

    def scaled(self, factor: float) -> Evidence:
        return Evidence(self.target, self.label, self.source, self.weight * factor, self.ref, self.text, self.cue,
                        self.matched, self.how, self.at, self.note)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"for": self.target, "label": self.label, "source": self.source, "weight": round(self.weight, 3)}
        for name in ("ref", "text", "cue", "matched", "how", "note"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.at is not None:
            out["at"] = self.at.isoformat()
        return out


def from_match(target: str, match: Match, source: str, ref: int | None, text: str, factor: float,
               at: datetime | None = None, note: str | None = None) -> Evidence:
    if match.negated:
        note = "negated" if note is None else f"{note}; negated"
    return Evidence(target, match.cue.label, source, match.weight * factor, ref, snippet(text), match.cue.text,
                    match.matched, match.how, at, note)


def soft_cap(value: float, cap: float) -> float:
    """Close to ``value`` while small, never above ``cap``; negative totals floor at ``-cap``."""
    if value <= 0:
        return max(value, -cap)
    return cap * (1.0 - math.exp(-value / cap))


@dataclass
class Tally:
    """Evidence per label, with the soft cap applied to a group of items as one."""

    items: list[Evidence] = field(default_factory=list)

    def add_group(self, group: list[Evidence], cap: float, factor: float = 1.0, hard: bool = False) -> dict[str, float]:
        """Add ``group`` (e.g. one message) capped per label, softly or (``hard``) by clipping;
        return what it added per label."""
        raw: dict[str, float] = defaultdict(float)
        for item in group:
            raw[item.label] += item.weight
        added: dict[str, float] = {}
        for label, total in raw.items():
            capped = (max(min(total, cap), -cap) if hard else soft_cap(total, cap)) * factor
            scale = capped / total if total else 0.0
            self.items.extend(item.scaled(scale) if total else item.scaled(0.0) for item in group if item.label == label)
            added[label] = capped
        return added

    def add_strongest(self, group: list[Evidence], cap: float, rest_share: float, factor: float = 1.0) -> None:
        """Add ``group`` per label as its strongest source (one touchpoint: all its items) plus
        ``rest_share`` of the others, capped softly: one recent strong touchpoint outweighs many
        faded weak ones."""
        by_label: dict[str, dict[tuple[str, int | None], list[Evidence]]] = defaultdict(lambda: defaultdict(list))
        for item in group:
            by_label[item.label][(item.source, item.ref)].append(item)
        for sources in by_label.values():
            ranked = sorted(sources.values(), key=lambda items: -sum(item.weight for item in items))
            weighted = [(items, 1.0 if rank == 0 or sum(i.weight for i in items) <= 0 else rest_share)
                        for rank, items in enumerate(ranked)]
            total = sum(item.weight * share for items, share in weighted for item in items)
            scale = soft_cap(total, cap) * factor / total if total else 0.0
            self.items.extend(item.scaled(share * scale) for items, share in weighted for item in items)

    def totals(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for item in self.items:
            out[item.label] += item.weight
        return dict(out)


def softmax(scores: dict[str, float], labels: list[str], temperature: float) -> dict[str, float]:
    values = [scores.get(label, 0.0) / temperature for label in labels]
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    total = sum(exps)
    return {label: e / total for label, e in zip(labels, exps)}


def confidence(probabilities: dict[str, float], mass: float, scale: float) -> float:
    """The winner's probability, discounted when little evidence stands behind it."""
    top = max(probabilities.values())
    return top * (0.25 + 0.75 * (1.0 - math.exp(-max(mass, 0.0) / scale)))


def rounded(probabilities: dict[str, float]) -> dict[str, float]:
    return {label: round(value, 4) for label, value in probabilities.items()}


def strongest(items: list[Evidence], limit: int) -> list[Evidence]:
    """The items that moved the decision most (positive first), for the output."""
    # The semantic model's "reads unlike X" items are in the scores but not worth a line each.
    kept = [item for item in items if (abs(item.weight) >= 0.01 or item.note) and not (item.source == "semantic" and item.weight <= 0)]
    kept.sort(key=lambda item: (item.weight <= 0, -abs(item.weight)))
    return kept[:limit]
