"""Journey commands: ``journey classify`` (stage and persona with their evidence)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from assistant.cli._common import CliError, JsonFlag, Workspace, app, open_container, out, print_json
from assistant.journey import InvalidJourneyInput, JourneyClassifier, PlaybookError
from assistant.journey.profile_input import ContactNotFound, journey_input_for_contact
from assistant.settings import load_settings

JsonlFlag = Annotated[bool, typer.Option("--jsonl", help="Read one JSON object per line, print one result per line.")]
PlaybookOption = Annotated[
    Optional[Path],
    typer.Option("--playbook", help="Company playbook YAML (default: settings journey.playbook_path, else the shipped one).",
                 show_default=False),
]
NoSemantic = Annotated[bool, typer.Option("--no-semantic", help="Cues only: do not load the packaged embedding model.")]
ContactOption = Annotated[Optional[str], typer.Option("--contact", help="Classify a stored contact (id, source id or e-mail).")]


def _playbook_path(option: Path | None, workspace: Path | None) -> tuple[Path | None, Path, bool]:
    """The playbook to use, where a head trained for a company playbook is kept, and whether
    the settings allow the embedding model."""
    settings = load_settings(workspace=workspace)
    return option or settings.journey.playbook_path, settings.workspace / "journey", settings.journey.semantic


def _classifier(playbook: Path | None, workspace: Path | None, semantic: bool) -> JourneyClassifier:
    path, cache, allowed = _playbook_path(playbook, workspace)
    try:
        return JourneyClassifier.from_path(path, semantic=semantic and allowed, cache_dir=cache)
    except PlaybookError as exc:
        raise CliError(str(exc)) from None


def _read_object(text: str, where: str) -> Any:
    if not text.strip():
        raise CliError(f"no input on {where}: pipe one JSON object such as "
                       '{"messages": [{"role": "user", "content": "Was kostet das?"}]}')
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{where} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None


def _classify_one(classifier: JourneyClassifier, data: Any) -> dict[str, Any]:
    try:
        return classifier.classify_data(data)
    except InvalidJourneyInput as exc:
        raise CliError(f"invalid input: {exc}") from None


def _classify_lines(classifier: JourneyClassifier) -> None:
    """One result or one error object per input line; a bad line does not stop the others."""
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            result = classifier.classify_data(json.loads(line))
        except json.JSONDecodeError as exc:
            result = {"line": number, "error": f"not valid JSON: {exc.msg} (column {exc.colno})"}
        except InvalidJourneyInput as exc:
            result = {"line": number, "error": f"invalid input: {exc}"}
        print_json(result)


def _print_result(result: dict[str, Any], took_ms: float) -> None:
    stage_scores = "  ".join(f"{k} {v:.2f}" for k, v in result["stage_scores"].items())
    out.print(f"[bold]stage[/] {result['stage']}  (confidence {result['stage_confidence']:.2f})   [dim]{stage_scores}[/]")
    persona = result["persona"] or "unknown (too little signal)"
    secondary = f", secondary {result['secondary_persona']}" if result.get("secondary_persona") else ""
    out.print(f"[bold]persona[/] {persona}  (confidence {result['persona_confidence']:.2f}{secondary})")
    for note in result.get("notes", []):
        out.print(f"[dim]note: {note}[/]")
    table = Table("for", "label", "weight", "source", "cue", "matched / why", "text", title="Evidence")
    for item in result["evidence"]:
        why = item.get("matched") or item.get("note") or ""
        if item.get("how") not in (None, "exact"):
            why = f"{why} ({item['how']})"
        table.add_row(item["for"], item["label"], f"{item['weight']:+.2f}", item["source"], item.get("cue") or "-", why,
                      (item.get("text") or "")[:60])
    out.print(table)
    out.print(f"[dim]{took_ms:.1f} ms[/]")


@app.command()
def classify(
    as_json: JsonFlag = False,
    as_jsonl: JsonlFlag = False,
    contact: ContactOption = None,
    playbook: PlaybookOption = None,
    no_semantic: NoSemantic = False,
    workspace: Workspace = None,
) -> None:
    """Journey stage and persona of a person, with the evidence behind both.

    Reads one JSON object on stdin – {"messages": [{"role", "content"}], "touchpoints": [...],
    "deal_stage", "job_title", "department", "customer_status", "product_line", ...} (every
    field but messages optional) – or, with --jsonl, one object per line (a bad line gives an
    error object for that line), or the stored profile of --contact.
    """
    if as_json and as_jsonl:
        raise CliError("use --json or --jsonl, not both")
    if as_jsonl and contact:
        raise CliError("--jsonl reads stdin; --contact classifies one stored contact")
    classifier = _classifier(playbook, workspace, semantic=not no_semantic)
    if as_jsonl:
        _classify_lines(classifier)
        return
    if contact:
        with open_container(workspace) as container:
            try:
                journey = journey_input_for_contact(container.db, contact)
            except ContactNotFound as exc:
                raise CliError(str(exc)) from None
        data: Any = journey
    else:
        data = _read_object(sys.stdin.read(), "stdin")
    started = time.perf_counter()
    if contact:
        result = classifier.classify(data).to_dict()
    else:
        result = _classify_one(classifier, data)
    took = (time.perf_counter() - started) * 1000
    if as_json:
        print_json(result)
    else:
        _print_result(result, took)


