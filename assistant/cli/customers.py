"""Customer-data commands: ``journey accounts`` and ``journey account NAME_OR_ID``."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from assistant.cli._common import CliError, JsonFlag, Workspace, app, open_container, out, print_json
from knowledge.profiles.identity import IdentityError
from knowledge.profiles.queries import AccountNotFound, ProfileQueries


def _money(value: float | None) -> str:
    return f"{value:,.0f}" if value else "-"


@app.command()
def accounts(
    search: Annotated[Optional[str], typer.Option(help="Only accounts whose name contains this text.")] = None,
    source: Annotated[Optional[str], typer.Option(help="Only accounts from this source.")] = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="At most this many accounts.")] = None,
    workspace: Workspace = None,
    as_json: JsonFlag = False,
) -> None:
    """List accounts with contacts, open pipeline, won deals and last touchpoint."""
    with open_container(workspace) as container:
        rows = [s.to_dict() for s in ProfileQueries(container.db).accounts(search=search, source=source, limit=limit)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print("No accounts. Import some with `journey import` or `journey demo`.")
        return
    table = Table("account", "industry", "country", "owner", "contacts", "open deals", "open amount", "won", "won amount", "last touch", "id")
    for r in rows:
        table.add_row(r["name"], r["industry"] or "-", r["country"] or "-", r["owner"] or "-", str(r["contacts"]),
                      str(r["open_deals"]), _money(r["open_amount"]), str(r["won_deals"]), _money(r["won_amount"]),
                      (r["last_touchpoint_at"] or "-")[:10], r["id"])
    out.print(table)


@app.command()
def account(
    name_or_id: Annotated[str, typer.Argument(help="Account id, source id or (close enough) name.")],
    touchpoints: Annotated[int, typer.Option(min=0, max=1000, help="How many latest touchpoints to show.")] = 20,
    workspace: Workspace = None,
    as_json: JsonFlag = False,
) -> None:
    """One account: profile, contacts, open and closed deals, latest touchpoints."""
    with open_container(workspace) as container:
        queries = ProfileQueries(container.db)
        try:
            profile = queries.account_profile(queries.find_account(name_or_id), touchpoints=touchpoints)
        except AccountNotFound as exc:
            raise CliError(str(exc)) from exc
    if as_json:
        print_json(profile)
        return
    _print_profile(profile)


def _print_profile(profile: dict[str, Any]) -> None:
    a, totals = profile["account"], profile["totals"]
    facts = [a.get(k) for k in ("industry", "country", "city") if a.get(k)]
    out.print(f"[bold]{a['name']}[/]  [dim]{a['id']}[/]")
    out.print("  " + " · ".join(str(f) for f in facts + [f"owner {a['owner']}" if a.get("owner") else ""] if f))
    if profile["merged_accounts"]:
        out.print("  merged: " + ", ".join(m["id"] for m in profile["merged_accounts"]))
    out.print(f"  open deals {totals['open']} ({_money(totals['open_amount'])}) · won {totals['won']} "
              f"({_money(totals['won_amount'])}) · lost {totals['lost']}\n")
    if profile["contacts"]:
        table = Table("contact", "title", "department", "e-mail", "stage", title="Contacts")
        for c in profile["contacts"]:
            name = c["full_name"] or " ".join(p for p in (c["first_name"], c["last_name"]) if p) or c["id"]
            table.add_row(name, c["job_title"] or "-", c["department"] or "-", c["email"] or "-", c["lifecycle_stage"] or "-")
        out.print(table)
    for title, deals in (("Open deals", profile["open_deals"]), ("Closed deals", profile["closed_deals"][:20])):
        if deals:
            table = Table("deal", "stage", "status", "amount", "products", "owner", "closed", title=title)
            for d in deals:
                table.add_row(d["name"] or d["id"].rsplit(":", 1)[-1], d["stage"] or "-", d["status"], _money(d["amount"]),
                              ", ".join(d["products"]) or "-", d["owner"] or "-", d["closed_on"] or "-")
            out.print(table)
    if profile["latest_touchpoints"]:
        table = Table("when", "type", "channel", "kind", "world", "what", title="Latest touchpoints")
        for t in profile["latest_touchpoints"]:
            table.add_row((t["occurred_at"] or "")[:16], t["type"], t["channel"] or "-", t["kind"] or "-", t["world"] or "-",
                          t["title"] or t["content_uri"] or "-")
        out.print(table)


@app.command()
def merges(
    entity: Annotated[Optional[str], typer.Option(help="Only `person` or `account` merges.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    workspace: Workspace = None,
    as_json: JsonFlag = False,
) -> None:
    """Identity merges with their reason and evidence (undo one with `journey unmerge ID`)."""
    with open_container(workspace) as container:
        try:
            rows = container.identity.merges(entity)[:limit]
        except IdentityError as exc:
            raise CliError(str(exc)) from exc
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print("No merges.")
        return
    table = Table("id", "entity", "kept", "merged into it", "reason", "evidence", "when", "undone")
    for m in rows:
        evidence = ", ".join(f"{k}={v}" for k, v in (m["evidence"] or {}).items())
        table.add_row(str(m["id"]), m["entity"], m["winner_id"], m["loser_id"], m["reason"], evidence[:60],
                      m["created_at"][:16], (m["reverted_at"] or "")[:16])
    out.print(table)


@app.command()
def unmerge(
    merge_id: Annotated[int, typer.Argument(help="The merge to undo (see `journey merges`).")],
    workspace: Workspace = None,
    as_json: JsonFlag = False,
) -> None:
    """Undo a merge exactly; the pair goes on the never-merge list."""
    with open_container(workspace) as container:
        try:
            result = container.identity.unmerge(merge_id)
        except IdentityError as exc:
            raise CliError(str(exc)) from exc
    if as_json:
        print_json(result)
        return
    merge = result["merge"]
    out.print(f"undone: {merge['entity']} {merge['loser_id']} is apart from {merge['winner_id']} again; they will not be merged again")


@app.command("never-merge")
def never_merge(
    entity: Annotated[str, typer.Argument(help="`person` or `account`.")],
    first: Annotated[str, typer.Argument(help="A person or account id.")],
    second: Annotated[str, typer.Argument(help="The other one.")],
    reason: Annotated[Optional[str], typer.Option(help="Why (kept with the pair).")] = None,
    workspace: Workspace = None,
) -> None:
    """Tell identity resolution never to merge these two (e.g. two companies with similar names)."""
    with open_container(workspace) as container:
        try:
            container.identity.never_merge(entity, first, second, reason)
        except IdentityError as exc:
            raise CliError(str(exc)) from exc
    out.print(f"{first} and {second} will never be merged")
