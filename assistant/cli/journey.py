"""Journey commands: ``journey classify`` (stage and persona with their evidence), ``journey
override`` and ``journey history`` (a rep's stage decision and the decision history),
``journey next-actions`` and ``journey outcome`` (next best actions and what became of them)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from assistant.cli._common import CliError, JsonFlag, Workspace, app, open_container, out, print_json
from assistant.journey import InvalidJourneyInput, JourneyClassifier, PlaybookError
from assistant.journey.profile_input import ContactNotFound
from assistant.journey.service import MAX_ACTIONS, JourneyError, JourneyService, ProposalNotFound
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
    started = time.perf_counter()
    if contact:
        with open_container(workspace) as container:
            container.classifier = classifier  # type: ignore[misc]  (the one --playbook chose)
            try:
                result = container.journey.assess(contact).to_dict()
            except ContactNotFound as exc:
                raise CliError(str(exc)) from None
    else:
        result = _classify_one(classifier, _read_object(sys.stdin.read(), "stdin"))
    took = (time.perf_counter() - started) * 1000
    if as_json:
        print_json(result)
    else:
        _print_result(result, took)




Contact = Annotated[str, typer.Argument(help="Contact id (source:contact:ID), its source id, e-mail or person id.")]


@contextmanager
def _service(workspace: Path | None, playbook: Path | None = None) -> Iterator[JourneyService]:
    with open_container(workspace) as container:
        if playbook is not None:
            container.classifier = _classifier(playbook, workspace, semantic=True)  # type: ignore[misc]
        try:
            yield container.journey
        except PlaybookError as exc:
            raise CliError(str(exc)) from None
        except (ContactNotFound, ProposalNotFound, JourneyError) as exc:
            raise CliError(str(exc).strip("'\"")) from None


@app.command()
def override(
    contact: Contact,
    stage: Annotated[str, typer.Argument(help="The stage id the rep decided on.")],
    by: Annotated[Optional[str], typer.Option("--by", help="Who decided (a rep's name or e-mail).")] = None,
    note: Annotated[Optional[str], typer.Option("--note", help="Why.")] = None,
    product_line: Annotated[Optional[str], typer.Option("--product-line", help="Only for this product line.")] = None,
    as_json: JsonFlag = False,
    workspace: Workspace = None,
) -> None:
    """Set a person's stage by hand. It holds until newer strong evidence contradicts it."""
    with _service(workspace) as service:
        decision = service.override_stage(contact, stage, by, note, product_line)
    if as_json:
        print_json(decision.to_dict())
    else:
        out.print(f"stage of {contact} set to [bold]{decision.value}[/] by {decision.by_label()} ({decision.id})")


@app.command()
def history(
    contact: Contact,
    kind: Annotated[Optional[str], typer.Option("--kind", help="stage or persona (default both).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    as_json: JsonFlag = False,
    workspace: Workspace = None,
) -> None:
    """The stage and persona decisions about a person, newest first."""
    if kind not in (None, "stage", "persona"):
        raise CliError(f"--kind is stage or persona, not {kind!r}")
    with _service(workspace) as service:
        views = service.history(contact, kind, limit)
    if as_json:
        print_json([view.to_dict() for view in views])
        return
    table = Table("decided", "kind", "value", "confidence", "source", "by", "superseded", title=f"Decisions about {contact}")
    for view in views:
        table.add_row(view.decided_at.strftime("%Y-%m-%d %H:%M"), view.kind, view.value or "unknown", f"{view.confidence:.2f}",
                      view.source, view.decided_by or "-", view.superseded_at.strftime("%Y-%m-%d %H:%M") if view.superseded_at else "-")
    out.print(table)


@app.command("next-actions")
def next_actions(
    contact: Contact,
    n: Annotated[int, typer.Option("-n", "--top", min=1, max=MAX_ACTIONS, help="How many actions.")] = 3,
    language: Annotated[str, typer.Option("--language", help="Language of titles and explanations: en or de.")] = "en",
    no_explore: Annotated[bool, typer.Option("--no-explore", help="Rank by the estimated propensity only (no Thompson sampling).")] = False,
    playbook: PlaybookOption = None,
    as_json: JsonFlag = False,
    workspace: Workspace = None,
) -> None:
    """The next best actions for a person, each with its explanation and evidence; actions
    left out are listed with the reason (consent, cooldown, rules)."""
    if language not in ("en", "de"):
        raise CliError(f"--language is en or de, not {language!r}")
    with _service(workspace, playbook) as service:
        result = service.next_actions(contact, n, explore=not no_explore, language=language).to_dict()
    if as_json:
        print_json(result)
        return
    persona = result["persona"] or "unknown (too little signal)"
    out.print(f"[bold]{result['name'] or contact}[/] ({result['account'] or 'no account'}): stage {result['stage']} "
              f"({result['stage_confidence']:.2f}), persona {persona}")
    for action in result["actions"]:
        out.print(f"{action['rank']}. [bold]{action['title'][language]}[/] [dim]{action['channel']} · score {action['score']:.3f} · id {action['id']}[/]")
        out.print(f"   {action['explanation']}")
    if not result["actions"]:
        out.print("no action is eligible right now")
    for item in result["skipped"]:
        out.print(f"[dim]not proposed: {item['action']} – {item['reason']}[/]")


@app.command()
def outcome(
    action_id: Annotated[str, typer.Argument(help="The proposal id journey next-actions printed (act_...).")],
    result: Annotated[str, typer.Argument(help="accepted, dismissed or converted.")],
    by: Annotated[Optional[str], typer.Option("--by", help="Who recorded it.")] = None,
    note: Annotated[Optional[str], typer.Option("--note", help="A note.")] = None,
    as_json: JsonFlag = False,
    workspace: Workspace = None,
) -> None:
    """Record what became of a proposed action; later rankings learn from it."""
    with _service(workspace) as service:
        recorded = service.record_outcome(action_id, result, by, note)
    if as_json:
        print_json(recorded)
    else:
        cooldown = f"; not proposed again for {recorded['cooldown_days']} days" if recorded.get("cooldown_days") else ""
        out.print(f"{recorded['action']} ({action_id}): {result}{cooldown}")
