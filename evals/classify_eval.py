"""Stage and persona classification through the real ``journey classify`` CLI.

    .venv/bin/python -m evals.classify_eval [--cases FILE ...| --held-out [blind4|blind5]] [--persona-threshold 0.5]
                                            [--bench-rounds 3] [--per-process 20] [--no-bench]
    .venv/bin/python -m evals.classify_eval --counts     # the set's counts, as Markdown tables

One ``journey classify --jsonl --workspace <temp dir>`` process classifies every case of the
labelled set (``evals/datasets/journey_cases.jsonl`` unless ``--cases`` names another JSONL file
of the same shape). Reported: accuracy and macro-F1 of stage and persona per language and per
tag, confusion matrices, per-label precision/recall/F1, every case it got wrong, and how the
persona detector abstains on the cases labelled ``persona: null`` (a ``null`` persona or a
``persona_confidence`` below ``--persona-threshold`` counts as abstaining; cases labelled null
are left out of the persona accuracy and F1).

Latency: a 1-case ``--jsonl`` run (best of three: the start-up) and a run over the set repeated
``--bench-rounds`` times; warm time per case = (bulk - start-up) / (cases - 1). The arrival times
of the output lines give a second estimate. The obvious alternative, one ``journey classify
--json`` process per case, is timed on ``--per-process`` cases spread over the set, and its
answers are checked against the ``--jsonl`` ones. Prints everything and writes
``evals/results/classify.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_CASES = HERE / "datasets" / "journey_cases.jsonl"
TRAINING_SETS = [HERE / "datasets" / name for name in (
    "journey_cases.jsonl", "journey_dev_de.jsonl", "journey_dev_en.jsonl", "journey_blind3_de.jsonl", "journey_blind3_en.jsonl",
    "journey_terse_de.jsonl", "journey_terse_en.jsonl", "journey_threads_de.jsonl", "journey_threads_en.jsonl",
    "journey_indirect_de.jsonl", "journey_indirect_en.jsonl", "journey_formal_de.jsonl", "journey_formal_en.jsonl",
    "journey_history_de.jsonl", "journey_history_en.jsonl", "journey_voices_de.jsonl", "journey_voices_en.jsonl")]
"""The labelled sets the semantic head learns from (``python -m evals train semantic-head``).
``journey_blind4_*`` and ``journey_blind5_*`` are held out: never trained or tuned on, measured
as the fresh-eyes figures."""
HELD_OUT_SETS = {name: [HERE / "datasets" / f"journey_{name}_{language}.jsonl" for language in ("de", "en")]
                 for name in ("blind4", "blind5")}
HELD_OUT = [path for paths in HELD_OUT_SETS.values() for path in paths]
RESULTS_FILE = HERE / "results" / "classify.json"
STAGES = ("awareness", "consideration", "purchase", "retention", "advocacy")
PERSONAS = ("skeptic", "experience_seeker", "influencer", "budget_owner", "technical_expert")
LANGUAGES = ("de", "en")
TAGS = ("no_history", "history", "hard", "short", "mixed_language", "sarcasm", "conflict", "backward", "typo")
RESULT_KEYS = ("stage", "stage_scores", "stage_confidence", "persona", "persona_scores", "persona_confidence", "evidence")
ABSTAINED = "(none)"  # a null prediction in tables and confusion matrices
SWEEP = (0.3, 0.4, 0.5, 0.6, 0.7)


@dataclass(frozen=True)
class Case:
    id: str
    language: str
    input: dict[str, Any]
    stage: str
    persona: str | None
    tags: tuple[str, ...]


def load_cases(path: Path) -> list[Case]:
    """The labelled cases of a JSONL file; a malformed line is reported with its number."""
    cases: list[Case] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            case = Case(item["id"], item["language"], item["input"], item["stage"], item.get("persona"),
                        tuple(item.get("tags", ())))
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}:{number}: not a valid case ({exc!r})") from exc
        problem = (f"stage {case.stage!r}" if case.stage not in STAGES else
                   f"persona {case.persona!r}" if case.persona is not None and case.persona not in PERSONAS else
                   "input.messages missing" if not isinstance(case.input.get("messages"), list) else None)
        if problem:
            raise ValueError(f"{path}:{number}: {case.id}: invalid {problem}")
        cases.append(case)
    if not cases:
        raise ValueError(f"{path}: no cases")
    return cases


# -- metrics ---------------------------------------------------------------------------------


def label_set(gold: Sequence[str | None], pred: Sequence[str | None], order: Sequence[str] = ()) -> list[str]:
    """Labels seen in gold or predictions (abstentions excluded), known ones in ``order`` first."""
    seen = {label for label in (*gold, *pred) if label is not None}
    return [label for label in order if label in seen] + sorted(seen - set(order))


def accuracy(gold: Sequence[str | None], pred: Sequence[str | None]) -> float:
    return sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold) if gold else 0.0


def per_label_scores(gold: Sequence[str | None], pred: Sequence[str | None],
                     labels: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support per label; 0 where undefined (sklearn's zero_division=0).
    An abstention (``None``) is a miss for its gold label and a false positive for nobody."""
    scores = {}
    for label in labels if labels is not None else label_set(gold, pred):
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    return scores


def macro_f1(gold: Sequence[str | None], pred: Sequence[str | None], labels: Sequence[str] | None = None) -> float:
    """Unweighted mean F1 over ``labels`` (default: every label in gold or predictions)."""
    scores = per_label_scores(gold, pred, labels)
    return sum(s["f1"] for s in scores.values()) / len(scores) if scores else 0.0


def persona_macro_f1(gold: Sequence[str | None], pred: Sequence[str | None], count_null: bool = False) -> float:
    """Persona macro-F1 as the reports give it: cases labelled null left out, or with ``count_null``
    counted too (a persona named for one is a false positive of that persona)."""
    pairs = [(g, p) for g, p in zip(gold, pred, strict=True) if count_null or g is not None]
    g, p = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    return macro_f1(g, p, label_set(g, p, PERSONAS))


def confusion_matrix(gold: Sequence[str | None], pred: Sequence[str | None],
                     order: Sequence[str] = ()) -> dict[str, dict[str, int]]:
    """``matrix[gold][predicted]`` counts; an abstention is the column ``(none)``."""
    labels = label_set(gold, [], order)
    columns = label_set(gold, pred, order) + ([ABSTAINED] if any(p is None for p in pred) else [])
    matrix = {g: {c: 0 for c in columns} for g in labels}
    for g, p in zip(gold, pred, strict=True):
        if g is not None:
            matrix[g][ABSTAINED if p is None else p] += 1
    return matrix


def scores_by_group(groups: dict[str, list[int]], gold: Sequence[str | None], pred: Sequence[str | None],
                    order: Sequence[str]) -> dict[str, dict[str, float]]:
    """n, accuracy and macro-F1 for each named group of case indexes (cases with gold None skipped)."""
    table = {}
    for name, indexes in groups.items():
        kept = [i for i in indexes if gold[i] is not None]
        g, p = [gold[i] for i in kept], [pred[i] for i in kept]
        table[name] = {"n": len(kept), "accuracy": accuracy(g, p), "macro_f1": macro_f1(g, p, label_set(g, p, order))}
    return table


def case_groups(cases: Sequence[Case]) -> dict[str, list[int]]:
    """Index lists: all, per language, per tag (known tags in their order, then any others)."""
    groups = {"all": list(range(len(cases)))}
    for language in label_set([c.language for c in cases], [], LANGUAGES):
        groups[language] = [i for i, c in enumerate(cases) if c.language == language]
    for tag in label_set([t for c in cases for t in c.tags], [], TAGS):
        groups[f"tag:{tag}"] = [i for i, c in enumerate(cases) if tag in c.tags]
    return groups


def abstains(result: dict[str, Any], threshold: float) -> bool:
    confidence = result.get("persona_confidence")
    return result.get("persona") is None or not isinstance(confidence, int | float) or confidence < threshold


def abstention_report(cases: Sequence[Case], results: Sequence[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """How the persona detector treats undeterminable cases (labelled null) vs determinable ones."""
    null = [i for i, c in enumerate(cases) if c.persona is None]
    labelled = [i for i, c in enumerate(cases) if c.persona is not None]

    def at(t: float) -> dict[str, Any]:
        abstained = sum(abstains(results[i], t) for i in null)
        kept = [i for i in labelled if not abstains(results[i], t)]
        return {"threshold": t, "null_abstained": abstained, "null_abstain_rate": _rate(abstained, len(null)),
                "labelled_abstain_rate": _rate(len(labelled) - len(kept), len(labelled)),
                # accuracy on the labelled cases it dared to answer
                "selective_accuracy": accuracy([cases[i].persona for i in kept], [results[i].get("persona") for i in kept])}

    def median_confidence(indexes: list[int]) -> float | None:
        values = [float(results[i].get("persona_confidence") or 0.0) for i in indexes]
        return statistics.median(values) if values else None

    return {**at(threshold), "null_cases": len(null), "labelled_cases": len(labelled),
            "median_confidence_null": median_confidence(null), "median_confidence_labelled": median_confidence(labelled),
            "sweep": [at(t) for t in SWEEP]}


def contract_problems(result: dict[str, Any]) -> list[str]:
    """Where one output line breaks the documented ``journey classify`` contract."""
    problems = [f"missing {key}" for key in RESULT_KEYS if key not in result]
    if result.get("stage") not in STAGES:
        problems.append("unknown stage")
    if result.get("persona") is not None and result.get("persona") not in PERSONAS:
        problems.append("unknown persona")
    if not isinstance(result.get("stage_scores"), dict) or set(STAGES) - set(result.get("stage_scores") or {}):
        problems.append("stage_scores lacks a stage")
    for key in ("stage_confidence", "persona_confidence"):
        if key in result and not (isinstance(result[key], int | float) and 0.0 <= result[key] <= 1.0):
            problems.append(f"{key} not in [0, 1]")
    if not result.get("evidence"):
        problems.append("no evidence")
    return problems


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def evaluate(cases: Sequence[Case], results: Sequence[dict[str, Any]], threshold: float = 0.5) -> dict[str, Any]:
    """Every figure of the report from the cases and the classifier's answers (one per case)."""
    if len(cases) != len(results):
        raise ValueError(f"{len(results)} results for {len(cases)} cases")
    groups = case_groups(cases)
    report: dict[str, Any] = {"cases": len(cases)}
    for field, order in (("stage", STAGES), ("persona", PERSONAS)):
        gold = [getattr(c, field) for c in cases]
        pred = [r.get(field) if isinstance(r.get(field), str) else None for r in results]  # junk counts as abstaining
        labelled = [i for i, g in enumerate(gold) if g is not None]
        g, p = [gold[i] for i in labelled], [pred[i] for i in labelled]
        report[field] = {"groups": scores_by_group(groups, gold, pred, order),
                         "confusion": confusion_matrix(g, p, order),
                         "per_label": per_label_scores(g, p, label_set(g, p, order)),
                         "wrong": [{"id": cases[i].id, "expected": gold[i], "got": pred[i],
                                    "confidence": results[i].get(f"{field}_confidence"), "tags": list(cases[i].tags)}
                                   for i in labelled if gold[i] != pred[i]]}
    # The stricter persona figure: null-labelled cases count too, a persona named for one is a false positive.
    report["persona"]["with_null_cases"] = {"n": len(cases), "macro_f1": persona_macro_f1(
        [c.persona for c in cases], [r.get("persona") if isinstance(r.get("persona"), str) else None for r in results], True)}
    report["persona_abstention"] = abstention_report(cases, results, threshold)
    problems: dict[str, int] = {}
    for result in results:
        for problem in contract_problems(result):
            problems[problem] = problems.get(problem, 0) + 1
    report["contract_problems"] = problems
    return report


def dataset_counts(cases: Sequence[Case]) -> dict[str, dict[str, dict[str, int]]]:
    """Cases per stage, persona and tag, split by language (what the dataset README shows)."""
    languages = label_set([c.language for c in cases], [], LANGUAGES)
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for name, values, order in (("stage", lambda c: [c.stage], STAGES),
                                ("persona", lambda c: [c.persona or "null"], (*PERSONAS, "null")),
                                ("tag", lambda c: list(c.tags), TAGS)):
        keys = label_set([v for c in cases for v in values(c)], [], order)
        counts[name] = {key: {**{lang: sum(key in values(c) for c in cases if c.language == lang) for lang in languages},
                              "all": sum(key in values(c) for c in cases)} for key in keys}
    counts["language"] = {lang: {"all": sum(c.language == lang for c in cases)} for lang in languages}
    return counts


def print_counts(cases: Sequence[Case]) -> None:
    """The counts as Markdown tables, for evals/datasets/README.md."""
    for name, table in dataset_counts(cases).items():
        columns = list(next(iter(table.values())))
        print(f"| {name} | {' | '.join(columns)} |\n|---|{'---:|' * len(columns)}")
        print("\n".join(f"| `{key}` | {' | '.join(str(v) for v in row.values())} |" for key, row in table.items()) + "\n")


# -- running the CLI --------------------------------------------------------------------------


class ClassifyFailed(RuntimeError):
    """``journey classify`` exited badly or did not answer every input line."""


@dataclass
class JsonlRun:
    results: list[dict[str, Any]]
    seconds: float  # process start to exit
    line_seconds: list[float]  # when each output line arrived, from process start


def journey_command(explicit: str | None = None) -> list[str]:
    """The ``journey`` entry point of this interpreter's environment (or the one given)."""
    if explicit:
        return shlex.split(explicit)
    beside = Path(sys.executable).with_name("journey")
    found = str(beside) if beside.exists() else shutil.which("journey")
    if not found:
        raise SystemExit("the `journey` command was not found; install the package or pass --journey")
    return [found]


def _environment() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}


def run_jsonl(command: list[str], inputs: Sequence[dict[str, Any]], workspace: Path, timeout: float = 900) -> JsonlRun:
    """One ``classify --jsonl`` process over ``inputs``; lines are timed as they arrive."""
    payload = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in inputs).encode("utf-8")
    start = time.perf_counter()
    process = subprocess.Popen([*command, "classify", "--jsonl", "--workspace", str(workspace)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_environment())
    stderr: list[bytes] = []
    threading.Thread(target=_feed, args=(process.stdin, payload), daemon=True).start()
    reader = threading.Thread(target=lambda: stderr.append(process.stderr.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    killer = threading.Timer(timeout, process.kill)
    killer.start()
    results, arrivals = [], []
    try:
        for raw in process.stdout:  # type: ignore[union-attr]
            if raw.strip():
                arrivals.append(time.perf_counter() - start)
                results.append(_parse_line(raw, len(results) + 1))
        code = process.wait()
        reader.join(timeout=10)
    finally:
        killer.cancel()
    seconds = time.perf_counter() - start
    if code != 0 or len(results) != len(inputs):
        tail = b"".join(stderr).decode("utf-8", "replace")[-1500:]
        raise ClassifyFailed(f"journey classify --jsonl: exit {code}, {len(results)} of {len(inputs)} answers\n{tail}")
    return JsonlRun(results, seconds, arrivals)


def _feed(pipe: Any, payload: bytes) -> None:
    try:
        pipe.write(payload)
        pipe.close()
    except BrokenPipeError:  # the process died; run_jsonl reports its stderr
        pass


def _parse_line(raw: bytes, number: int) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ClassifyFailed(f"output line {number} is not JSON: {raw[:200]!r}") from exc
    if not isinstance(value, dict):
        raise ClassifyFailed(f"output line {number} is not a JSON object: {raw[:200]!r}")
    return value


def run_single(command: list[str], item: dict[str, Any], workspace: Path) -> tuple[dict[str, Any], float]:
    """One ``classify --json`` process for one input: its answer and its wall time."""
    start = time.perf_counter()
    done = subprocess.run([*command, "classify", "--json", "--workspace", str(workspace)], capture_output=True,
                          input=json.dumps(item, ensure_ascii=False).encode("utf-8"), env=_environment(), timeout=300)
    seconds = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        raise ClassifyFailed(f"journey classify --json: exit {done.returncode}\n{done.stderr.decode('utf-8', 'replace')[-1500:]}")
    return _parse_line(lines[-1], 1), seconds


def benchmark(command: list[str], cases: Sequence[Case], first: JsonlRun, workspace: Path,
              rounds: int, per_process: int) -> dict[str, Any]:
    """Warm time per case in one --jsonl process vs one --json process per case."""
    inputs = [c.input for c in cases]
    startup = min(run_jsonl(command, inputs[:1], workspace).seconds for _ in range(3))
    bulk = run_jsonl(command, inputs * rounds, workspace)
    n = len(inputs) * rounds
    warm_ms = (bulk.seconds - startup) / (n - 1) * 1000 if n > 1 else None
    streamed_ms = (bulk.line_seconds[-1] - bulk.line_seconds[0]) / (n - 1) * 1000 if n > 1 else None
    report: dict[str, Any] = {"startup_s": startup, "bulk_cases": n, "bulk_s": bulk.seconds, "warm_ms_per_case": warm_ms,
                              "streamed_ms_per_case": streamed_ms, "set_jsonl_s": first.seconds}
    sample = sorted({round(k * (len(cases) - 1) / max(per_process - 1, 1)) for k in range(per_process)}) if per_process else []
    times, disagreements = [], []
    for index in sample:
        result, seconds = run_single(command, cases[index].input, workspace)
        times.append(seconds)
        if (result.get("stage"), result.get("persona")) != (first.results[index].get("stage"), first.results[index].get("persona")):
            disagreements.append(cases[index].id)
    if times:
        per_ms = statistics.mean(times) * 1000
        report.update({"per_process_cases": len(times), "per_process_ms_mean": per_ms,
                       "per_process_ms_median": statistics.median(times) * 1000,
                       "set_per_process_s_estimated": per_ms / 1000 * len(cases),
                       "ratio_per_case": per_ms / warm_ms if warm_ms and warm_ms > 0 else None,
                       "ratio_whole_set": per_ms / 1000 * len(cases) / first.seconds,
                       "json_vs_jsonl_disagreements": disagreements})
    return report


# -- printing ---------------------------------------------------------------------------------


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table: numeric columns right-aligned, text left-aligned."""
    raw = [list(row) for row in rows]
    numeric = [all(isinstance(r[i], int | float) or r[i] is None for r in raw) for i in range(len(headers))]
    cells = [[_cell(v) for v in row] for row in raw]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if right else v.ljust(w) for v, w, right in zip(values, widths, numeric, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "-" if value is None else str(value)


def format_confusion(matrix: dict[str, dict[str, int]]) -> str:
    columns = list(next(iter(matrix.values()))) if matrix else []
    return format_table(["gold \\ predicted", *columns], ([g, *row.values()] for g, row in matrix.items()))


def print_report(report: dict[str, Any], show_cases: bool = True) -> None:
    for field in ("stage", "persona"):
        block = report[field]
        print(f"\n== {field} ({'cases labelled null left out' if field == 'persona' else 'all cases'})")
        print(format_table(["group", "n", "accuracy", "macro-F1"],
                           ([name, s["n"], s["accuracy"], s["macro_f1"]] for name, s in block["groups"].items())))
        if "with_null_cases" in block:
            strict = block["with_null_cases"]
            print(f"counting the cases labelled null too ({strict['n']}; a persona named for one counts against it): "
                  f"macro-F1 {_cell(strict['macro_f1'])}")
        print(f"\nconfusion matrix ({field}, rows = gold):\n{format_confusion(block['confusion'])}")
        print("\n" + format_table(["label", "precision", "recall", "F1", "support"],
                                  ([k, s["precision"], s["recall"], s["f1"], s["support"]] for k, s in block["per_label"].items())))
        print(f"\nwrong {field} ({len(block['wrong'])}):")
        if not show_cases:
            print("(not listed for the held-out set: look at it and it is no longer held out)")
            continue
        print(format_table(["id", "expected", "got", "confidence", "tags"],
                           ([w["id"], w["expected"], w["got"] or ABSTAINED, w["confidence"], ",".join(w["tags"])]
                            for w in block["wrong"])))
    abstention = report["persona_abstention"]
    print(f"\n== persona abstention (threshold {abstention['threshold']}; abstaining = persona null or confidence below it)")
    print(f"cases labelled null: {abstention['null_cases']}, abstained on {abstention['null_abstained']} "
          f"(rate {_cell(abstention['null_abstain_rate'])}); median confidence null {_cell(abstention['median_confidence_null'])} "
          f"vs labelled {_cell(abstention['median_confidence_labelled'])}")
    print(format_table(["threshold", "null abstain rate", "labelled abstain rate", "selective accuracy"],
                       ([s["threshold"], s["null_abstain_rate"], s["labelled_abstain_rate"], s["selective_accuracy"]]
                        for s in abstention["sweep"])))
    print(f"\ncontract problems: {report['contract_problems'] or 'none'}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--cases", type=Path, nargs="+", default=[DEFAULT_CASES], help="JSONL file(s) of labelled cases.")
    chosen.add_argument("--held-out", nargs="?", const="all", choices=["all", *HELD_OUT_SETS],
                        help="The held-out sets (journey_blind4_*, journey_blind5_*; all unless one is named): "
                             "figures only, the cases it gets wrong are listed nowhere.")
    parser.add_argument("--journey", help="Command that runs the CLI (default: `journey` beside this Python).")
    parser.add_argument("--persona-threshold", type=float, default=0.5, help="Persona confidence below this counts as abstaining.")
    parser.add_argument("--bench-rounds", type=int, default=3, help="How many times the set is repeated for the warm timing.")
    parser.add_argument("--per-process", type=int, default=20, help="Cases timed with one `classify --json` process each.")
    parser.add_argument("--no-bench", action="store_true", help="Accuracy only, no latency benchmark.")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="Where the JSON report goes.")
    parser.add_argument("--counts", action="store_true", help="Only print the set's counts (Markdown) and exit.")
    args = parser.parse_args(argv)
    if args.held_out:
        args.cases = HELD_OUT if args.held_out == "all" else HELD_OUT_SETS[args.held_out]
    cases = [case for path in args.cases for case in load_cases(path)]
    source = " + ".join(path.name for path in args.cases)
    if args.counts:
        print_counts(cases)
        return {"counts": dataset_counts(cases)}
    command = journey_command(args.journey)
    try:
        with tempfile.TemporaryDirectory(prefix="classify-eval-") as tmp:
            first = run_jsonl(command, [c.input for c in cases], Path(tmp))
            report = evaluate(cases, first.results, args.persona_threshold)
            print(f"{len(cases)} cases from {source} through `{shlex.join(command)} classify --jsonl`: {first.seconds:.2f} s")
            print_report(report, show_cases=not args.held_out)
            latency = None if args.no_bench else benchmark(command, cases, first, Path(tmp), args.bench_rounds, args.per_process)
    except (ClassifyFailed, OSError, subprocess.TimeoutExpired) as exc:
        raise SystemExit(f"error: {exc}") from None
    if latency:
        print("\n== latency (one --jsonl process vs one --json process per case)")
        print(format_table(["measure", "value"], [[k, (", ".join(v) or "none") if isinstance(v, list) else v] for k, v in latency.items()]))
    output = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "cases_files": [str(path) for path in args.cases],
              "command": [*command, "classify", "--jsonl"],
              "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
              **report, "latency": latency,
              "predictions": [{"id": c.id, **{k: r.get(k) for k in ("stage", "stage_confidence", "persona", "persona_confidence")}}
                              for c, r in zip(cases, first.results, strict=True)]}
    if args.held_out:  # figures only: which case went wrong stays unknown, here as on screen
        output.pop("predictions")
        for field in ("stage", "persona"):
            output[field] = {k: v for k, v in output[field].items() if k != "wrong"}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.output}")
    return output


if __name__ == "__main__":
    main()
