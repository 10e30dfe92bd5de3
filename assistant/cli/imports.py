"""`journey import`: CSV/JSON exports into the profile store through the csv connector."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table
from sqlalchemy import func, select

from assistant.cli._common import CliError, JsonFlag, Workspace, app, out, open_container, print_json, progress_line
from assistant.container import Container
from connectors.csv import CsvCursor, preset_names
from connectors.runner import SyncReport
from knowledge.profiles.models import ENTITY_MODELS
from knowledge.sync_state import SyncAlreadyRunning

MAX_REJECTED_LISTED = 100
"""Rejected rows listed in the summary; the count covers all of them."""
HUMAN_REJECTED_LISTED = 20


def _source_config(directory: Path, preset: str | None, mapping: Path | None) -> tuple[str, dict[str, Any]]:
    """The default source name and the csv connector's config for the command's arguments."""
    if (preset is None) == (mapping is None):
        raise CliError("give either --preset NAME or --mapping FILE")
    root = directory.expanduser().resolve()
    if not root.is_dir():
        raise CliError(f"{directory}: no such folder" if not root.exists() else f"{directory}: not a folder")
    if preset is not None:
        if preset not in preset_names():
            raise CliError(f"unknown preset {preset!r}; known: {', '.join(preset_names())}")
        return preset, {"root": str(root), "preset": preset}
    assert mapping is not None
    mapping_path = mapping.expanduser().resolve()
    if not mapping_path.is_file():
        raise CliError(f"{mapping}: no such mapping file")
    return mapping_path.stem, {"root": str(root), "mapping": str(mapping_path)}


def _split_locator(locator: str) -> dict[str, Any]:
    """``accounts.csv:12`` -> file and line; ``leads.json#3`` -> file and item."""
    for separator, unit in ((":", "line"), ("#", "item")):
        file, found, position = locator.rpartition(separator)
        if found and position.isdigit():
            return {"file": file, unit: int(position)}
    return {"file": locator}


def _stored_counts(container: Container, source: str) -> dict[str, int]:
    counts = {}
    with container.db.session() as session:
        for entity, model in ENTITY_MODELS.items():
            counts[entity] = int(session.scalar(select(func.count()).select_from(model).where(model.source == source)) or 0)
    return counts


def _summary(container: Container, source: str, report: SyncReport) -> dict[str, Any]:
    cursor = container.sync_state.load_cursor(source, CsvCursor) or CsvCursor()
    stored = _stored_counts(container, source)
    changes = report.records.to_dict()
    tables = {
        entity: {**changes.get(entity, {"added": 0, "updated": 0, "unchanged": 0, "deleted": 0}), "stored": stored[entity]}
        for entity in sorted(ENTITY_MODELS)
        if stored[entity] or entity in changes
    }
    rejected = [
        {**_split_locator(failure["uri"]), "entity": failure.get("entity"), "reason": failure["reason"]}
        for failure in report.failed
    ]
    files = [
        {"file": name, "status": "read" if name in cursor.read else "unchanged", "rows": state.rows, "rejected": state.rejected}
        for name, state in sorted(cursor.files.items())
    ]
    return {
        "source": source,
        "tables": tables,
        "files": files,
        "rejected": rejected[:MAX_REJECTED_LISTED],
        "rejected_count": len(rejected),
        "warnings": cursor.warnings,
        "resumed": report.resumed,
        "seconds": round(report.seconds, 3),
    }


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table("table", "added", "updated", "unchanged", "deleted", "stored", title=f"import into source {summary['source']}")
    for entity, counts in summary["tables"].items():
        table.add_row(entity, *(str(counts[key]) for key in ("added", "updated", "unchanged", "deleted", "stored")))
    out.print(table)
    read = [f["file"] for f in summary["files"] if f["status"] == "read"]
    unchanged = len(summary["files"]) - len(read)
    note = f", {unchanged} unchanged since the last import" if unchanged else ""
    out.print(f"{len(read)} files read{note}, in {summary['seconds']:.1f}s")
    for warning in summary["warnings"]:
        out.print(f"[yellow]warning[/] {warning}")
    for row in summary["rejected"][:HUMAN_REJECTED_LISTED]:
        where = f"{row['file']} line {row['line']}" if "line" in row else f"{row['file']} item {row.get('item', '?')}"
        out.print(f"[red]rejected[/] {where}: {row['reason']}", highlight=False)
    hidden = summary["rejected_count"] - min(len(summary["rejected"]), HUMAN_REJECTED_LISTED)
    if hidden > 0:
        out.print(f"[red]... and {hidden} more rejected rows[/] (see --json)")


@app.command("import")
def import_(
    directory: Annotated[Path, typer.Argument(help="Folder holding the export files.", show_default=False)],
    preset: Annotated[Optional[str], typer.Option(help="A shipped mapping: maven-crm or olist-funnel.")] = None,
    mapping: Annotated[Optional[Path], typer.Option(help="A mapping YAML file (see connectors/csv/README.md).")] = None,
    source: Annotated[
        Optional[str], typer.Option(help="Source name (default: the preset's name or the mapping file's stem).")
    ] = None,
    workspace: Workspace = None,
    as_json: JsonFlag = False,
) -> None:
    """Import CRM or marketing exports (CSV, JSON, JSON Lines) into the profile store; re-running
    it only writes what changed."""
    default_name, config = _source_config(directory, preset, mapping)
    name = source or default_name
    with open_container(workspace) as container:
        try:
            container.register_source(name, "csv", config)
        except ValueError as exc:  # a mapping error, pydantic's ValidationError, a source of another kind
            raise CliError(" ".join(str(exc).split())) from exc
        with progress_line(f"importing into {name}", unit="batches") as advance:
            try:
                report = container.sync(name, progress=advance)
            except (ValueError, SyncAlreadyRunning) as exc:  # missing file, wrong encoding, unknown column
                raise CliError(" ".join(str(exc).split())) from exc
        summary = _summary(container, name, report)
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary)
