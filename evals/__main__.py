"""``python -m evals retrieval|bench|import-bench|events-bench|classify|head-cv|nba-replay|train``: evaluations and benchmarks that print their figures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

app = typer.Typer(add_completion=False, no_args_is_help=True)


@app.command()
def retrieval(
    questions: Annotated[Path | None, typer.Option(help="JSONL question set.")] = None,
    models: Annotated[str, typer.Option(help="Comma-separated: e5+minilm-en (the default), e5, minilm.")] = "e5+minilm-en,e5,minilm",
    docs: Annotated[Path | None, typer.Option(help="Folder holding the four zammad_* folders.")] = None,
) -> None:
    """Recall@1/5, MRR, nDCG@10 per language for dense, keyword and hybrid retrieval."""
    from evals import retrieval as module

    docs_dir = docs or module.DEFAULT_DOCS
    if not docs_dir.is_dir():
        raise typer.BadParameter(f"{docs_dir} not found; pass --docs")
    module.run(questions or module.DEFAULT_QUESTIONS, [m.strip() for m in models.split(",") if m.strip()], docs_dir)


@app.command()
def bench(
    docs: Annotated[Path | None, typer.Option(help="Folder holding the four zammad_* folders.")] = None,
    queries: Annotated[int, typer.Option(help="Search queries to time.")] = 200,
) -> None:
    """Ingest throughput, unchanged re-sync, search latency: ours vs the LangChain baseline."""
    from evals import benchmark

    benchmark.run(docs or benchmark.DEFAULT_DOCS, queries)


@app.command("import-bench")
def import_bench(
    data: Annotated[Path | None, typer.Option(help="The Maven CRM export folder.")] = None,
) -> None:
    """Maven CRM import, unchanged and one-row re-import: ours vs plain SQLAlchemy ORM code."""
    from evals import import_benchmark

    import_benchmark.run(data or import_benchmark.DEFAULT_DATA)


@app.command("events-bench")
def events_bench(
    events: Annotated[int, typer.Option(help="Events to send through POST /v1/batch.")] = 50_000,
    batch_size: Annotated[int, typer.Option(help="Events per batch request.")] = 500,
    single: Annotated[int, typer.Option(help="Events sent one request each, for the comparison.")] = 2_000,
) -> None:
    """Event ingestion end to end through the real HTTP API into SQLite: batch vs one request per event."""
    from evals import events_benchmark

    events_benchmark.main(["--events", str(events), "--batch-size", str(batch_size), "--single", str(single)])


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def classify(ctx: typer.Context) -> None:
    """Stage and persona accuracy, macro-F1 and confusion matrices per language and tag, through
    `journey classify --jsonl`; warm latency vs one process per case. Options: see --help of
    `python -m evals.classify_eval`."""
    from evals import classify_eval

    classify_eval.main(list(ctx.args))


@app.command("head-cv", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def head_cv(ctx: typer.Context) -> None:
    """The semantic head trained with vs without the labelled sets, each set left out in turn, and
    on the held-out set. Options: see --help of `python -m evals.head_cv`."""
    from evals import head_cv as module

    module.main(list(ctx.args))


@app.command("nba-replay", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def nba_replay(ctx: typer.Context) -> None:
    """Offline replay of the next-best-action propensity on the Maven CRM and Olist histories:
    ours (greedy and Thompson) vs popularity and random. Options: see --help of `python -m evals.nba_replay`."""
    from evals import nba_replay as module

    module.main(list(ctx.args))


@app.command("classify-bench", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def classify_bench(ctx: typer.Context) -> None:
    """Warm classification latency on the development examples: one process vs a process per case."""
    from evals import classify_benchmark

    classify_benchmark.main(list(ctx.args))


@app.command()
def train(
    part: Annotated[str, typer.Argument(help="semantic-head (ships with the package) or propensity (from a workspace).")],
    playbook: Annotated[Path | None, typer.Option(help="Playbook file (default: the shipped one).")] = None,
    out: Annotated[Path | None, typer.Option(help="Where to write the result (semantic-head: the stage head; the persona head goes beside it).")] = None,
    workspace: Annotated[Path | None, typer.Option(help="Workspace whose profile store the propensities are learned from.")] = None,
) -> None:
    """Train a learned part reproducibly. `semantic-head`: the stage model's head from the
    playbook's example sentences and the project's labelled sets, and the persona head from the
    same sets' personas, never the held-out ones
    (deterministic; commit the file). `propensity`: what preceded
    progress in a workspace's history, per action and context, written as JSON for review."""
    import json
    import sys

    if part == "semantic-head":
        from assistant.journey import train as head
        from evals.classify_eval import HELD_OUT, TRAINING_SETS

        sys.argv = ["train", *(["--playbook", str(playbook)] if playbook else []), *(["--out", str(out)] if out else []),
                    "--cases", *(str(path) for path in TRAINING_SETS), "--held-out", *(str(path) for path in HELD_OUT)]
        head.main()
    elif part == "propensity":
        from assistant.container import build_container
        from assistant.settings import load_settings

        settings = load_settings(workspace=workspace)
        if playbook is not None:
            settings.journey.playbook_path = playbook
        settings.journey.semantic = False
        container = build_container(settings)
        try:
            model, observations = container.journey.learner.model(container.db)
        finally:
            container.close()
        target = out or Path("propensity.json")
        target.write_text(json.dumps({"observations": observations, **model.to_dict()}, indent=1) + "\n", encoding="utf-8")
        print(f"learned from {observations} actions seen in the history of {settings.workspace} -> {target}")
    else:
        raise typer.BadParameter(f"unknown part {part!r}: semantic-head or propensity")


if __name__ == "__main__":
    app()
