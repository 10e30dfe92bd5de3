"""``journey committee ACCOUNT``: an account's buying committee, its champion and its risks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Optional

import typer
from rich.table import Table

from assistant.cli._common import CliError, JsonFlag, Workspace, app, open_container, out, print_json
from assistant.journey.committee import DEFAULT_ENGAGED_DAYS, BuyingCommittee, CommitteeMember, as_utc, buying_committee
from knowledge.profiles.queries import AccountNotFound, ProfileQueries

SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "dim"}


def parse_now(text: str | None) -> datetime | None:
    """An ISO date or time (naive means UTC) for ``--now``."""
    if text is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        raise CliError(f"--now {text!r} is not an ISO date or time (e.g. 2025-08-31 or 2025-08-31T18:00:00Z)") from None


@app.command()
def committee(
    account: Annotated[str, typer.Argument(help="Account id, source id or (close enough) name.")],
    now: Annotated[Optional[str], typer.Option(help="Judge engagement as of this ISO time (default: now), for reproducible reports.")] = None,
    engaged_days: Annotated[int, typer.Option(min=1, max=3650, help="Engaged = a touchpoint or message within this many days.")] = DEFAULT_ENGAGED_DAYS,
    workspace: Workspace = None,
    as_json: JsonFlag = False,
) -> None:
    """The buying committee: each person's role, persona, stage and engagement, the champion and the risks."""
    at = parse_now(now)
    with open_container(workspace) as container:
        try:
            account_id = ProfileQueries(container.db).find_account(account)  # before the model loads
        except AccountNotFound as exc:
            raise CliError(str(exc)) from exc
        result = buying_committee(container.db, container.classifier, account_id, now=at, engaged_days=engaged_days)
    if as_json:
        print_json(result.to_dict())
        return
    _print_committee(result)


def _persona(member: CommitteeMember) -> str:
    if member.persona is None:
        return "[dim]unknown (too little signal)[/]"
    second = f", then {member.secondary_persona}" if member.secondary_persona else ""
    return f"{member.persona} {member.persona_confidence:.2f}{second}"


def _last(member: CommitteeMember) -> str:
    e = member.engagement
    if e.last_engaged_at is None:
        return "never"
    return f"{e.last_engaged_at.date().isoformat()} ({e.days_since_engaged} d)"


def _print_committee(result: BuyingCommittee) -> None:
    a = result.account
    out.print(f"[bold]{a['name']}[/]  [dim]{a['id']}[/]  buying committee as of {result.as_of.date().isoformat()}")
    if result.merged_accounts:
        out.print("  merged: " + ", ".join(result.merged_accounts))
    for deal in result.open_deals:
        out.print(f"  open deal: {deal['name'] or deal['id']} · {deal['stage'] or '-'} ({deal['journey_stage'] or '?'})")
    if result.members:
        table = Table("person", "title", "department", "buying role", "persona", "stage", "last engaged",
                      "touchpoints 90d", "engaged", title=f"Committee (engaged = within {result.engaged_days} days)")
        champion = result.champion.id if result.champion else None
        for m in result.members:
            name = f"{m.name} [bold green](champion)[/]" if m.id == champion else m.name
            table.add_row(name, m.job_title or "-", m.department or "-", ", ".join(m.roles) or "-", _persona(m),
                          f"{m.stage} {m.stage_confidence:.2f}", _last(m), str(m.engagement.touchpoints_90d),
                          "yes" if m.engagement.engaged else "[red]no[/]")
        out.print(table)
    if result.champion:
        out.print(f"Champion: [bold]{result.champion.name}[/] ({result.champion.reason})")
    else:
        out.print("Champion: none")
    if not result.risks:
        out.print("Risks: none found")
    for risk in result.risks:
        out.print(f"[{SEVERITY_STYLE[risk.severity]}]{risk.severity:>6}[/] {risk.message}", highlight=False)
        for fact in risk.evidence:
            out.print(f"         [dim]· {fact}[/]", highlight=False)
