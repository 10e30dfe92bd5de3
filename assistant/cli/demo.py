"""`journey demo`: generate and load the demo company through the real connectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from assistant.cli._common import CliError, JsonFlag, Workspace, app, err, open_container, out, print_json, progress_line
from assistant.demo import DEFAULT_SEED, DemoLoadReport, counts, generate_demo, load_demo, read_manifest
from connectors.base import ConnectorError
from knowledge.sync_state import SyncAlreadyRunning

LOADED_MARKER = "demo-loaded.json"
"""Which seed the workspace holds, so loading another one over it is a conscious choice."""


def _check_out_dir(out_dir: Path, seed: int, force: bool) -> None:
    manifest = read_manifest(out_dir)
    if manifest is None:
        if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
            raise CliError(f"{out_dir} is not empty and holds no generated demo; choose another --out or pass --force")
        return
    if manifest.get("seed") != seed and not force:
        raise CliError(f"{out_dir} holds the demo for seed {manifest.get('seed')}; pass --force to replace it with seed {seed}")


def _check_workspace(marker: Path, seed: int, force: bool) -> list[str]:
    if not marker.is_file():
        return []
    loaded = json.loads(marker.read_text(encoding="utf-8")).get("seed")
    if loaded == seed:
        return []
    if not force:
        raise CliError(f"this workspace holds the demo for seed {loaded}; use another --workspace, or pass --force "
                       f"to load seed {seed} over it (CRM records and docs are replaced, website events of seed {loaded} stay)")
    return [f"website events of seed {loaded} stay in source demo-events; start from a fresh workspace for a clean demo"]


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed of the generated company: the same seed gives byte-identical files.")] = DEFAULT_SEED,
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Folder to generate into (default: <workspace>/demo).", show_default=False)] = None,
    workspace: Workspace = None,
    as_json: JsonFlag = False,
    force: Annotated[bool, typer.Option("--force", help="Write into a folder (or workspace) that holds something else.")] = False,
) -> None:
    """Generate the demo company Velmora Systems GmbH and load it through the csv, files and event connectors.

    Running it again changes nothing; the summary shows the stored counts per table, documents and chunks."""
    with open_container(workspace) as container:
        target = (out_dir or container.settings.workspace / "demo").expanduser().resolve()
        marker = container.settings.workspace / LOADED_MARKER
        _check_out_dir(target, seed, force)
        warnings = _check_workspace(marker, seed, force)
        generated, written = generate_demo(target, seed)
        if not as_json:
            world = generated.world
            out.print(f"[bold]Velmora Systems GmbH[/] (seed {seed}, history {world.start:%Y-%m-%d} – {world.reference:%Y-%m-%d}) in {target}")
            out.print(f"files: {len(written.written)} written, {len(written.unchanged)} unchanged, {len(written.removed)} removed")
        try:
            with progress_line("loading demo", unit="items") as advance:
                report = load_demo(container, target, progress=advance, step=lambda name: err.print(f"[dim]loading {name}[/]") if err.is_terminal else None)
        except (SyncAlreadyRunning, ConnectorError, ValueError) as exc:
            raise CliError(f"loading the demo failed: {exc}") from exc
        marker.write_text(json.dumps({"seed": seed, "out": str(target)}) + "\n", encoding="utf-8")
    summary = {
        "seed": seed, "out": str(target), "start": generated.world.start.isoformat(), "reference": generated.world.reference.isoformat(),
        "files": {"written": len(written.written), "unchanged": len(written.unchanged), "removed": len(written.removed)},
        "generated": counts(generated), "load": report.to_dict(), "failures": report.failures[:100], "warnings": warnings,
    }
    if as_json:
        print_json(summary)
        return
    _print_summary(report, warnings)


def _print_summary(report: DemoLoadReport, warnings: list[str]) -> None:
    loaded = report.to_dict()["sources"]
    changes: dict[str, dict[str, int]] = {}
    for records in (loaded["demo-crm"]["records"], loaded["demo-events"]["records"]):
        for entity, counts in records.items():
            mine = changes.setdefault(entity, {"added": 0, "updated": 0, "deleted": 0})
            for key in mine:
                mine[key] += counts.get(key, 0)
    table = Table("table", "stored", "added", "updated", "deleted")
    for entity, stored in report.tables.items():
        change = changes.get(entity, {})
        table.add_row(entity, str(stored), str(change.get("added", 0)), str(change.get("updated", 0)), str(change.get("deleted", 0)))
    out.print(table)
    docs, internal, events = loaded["demo-docs"], loaded["demo-docs-internal"], loaded["demo-events"]
    out.print(f"documents: {report.documents} stored ({docs['added'] + internal['added']} added, "
              f"{docs['updated'] + internal['updated']} updated, {docs['unchanged'] + internal['unchanged']} unchanged), "
              f"chunks: {report.chunks} stored ({docs['embedded'] + internal['embedded']} embedded now)")
    out.print(f"events: {events['accepted']} accepted, {events['duplicates']} already known, {events['rejected_count']} rejected")
    for failure in report.failures[:20]:
        out.print(f"  [red]failed[/] {failure.get('source')}: {failure.get('uri', failure.get('index'))}: {failure.get('reason')}")
    for warning in warnings:
        out.print(f"[yellow]warning:[/] {warning}")
