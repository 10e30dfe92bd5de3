"""What every ``journey`` command shares: the Typer app, consoles, options, errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from assistant.container import Container, build_container
from assistant.settings import load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Journey Assistant: journey-aware answers from your own content.")
# Piped output is not cut at 80 columns: tables and paths stay whole for the next tool.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, soft_wrap=True)

Workspace = Annotated[
    Optional[Path],
    typer.Option("--workspace", "-w", help="Workspace directory (default ./.journey, env JOURNEY_WORKSPACE).", show_default=False),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


class CliError(Exception):
    """A user mistake: printed as one line, exit code 2."""


@contextmanager
def open_container(workspace: Path | None) -> Iterator[Container]:
    container = build_container(load_settings(workspace=workspace))
    try:
        yield container
    finally:
        container.close()


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


@contextmanager
def progress_line(label: str, unit: str = "docs") -> Iterator[Any]:
    """A progress line on stderr (only on a terminal, so JSON on stdout stays clean)."""
    with Progress(
        SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed} " + unit),
        TextColumn("{task.fields[last]}"), TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task(label, total=None, last="")

        def advance(event: str, uri: str) -> None:
            progress.update(task, advance=1, last=f"{event} {uri[-50:]}")

        yield advance
