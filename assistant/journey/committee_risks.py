"""What puts a buying committee at risk, in plain English and German, with the people and facts
each risk rests on.

The rules, checked in this order (severity rises with an open deal, since then the risk costs
a deal, not only a relationship):

- ``no_contacts``: nobody is known at the account (the other rules are skipped).
- ``no_engaged_budget_owner``: nobody who controls the budget (persona ``budget_owner`` or a CRM
  role such as Economic Buyer or Decision Maker) is engaged. When nobody is identified at all
  and some personas are unknown, the message says so: the gap may be missing data.
- ``no_engaged_technical_expert``: the same for the person who evaluates the substance.
- ``no_one_engaged`` / ``single_threaded``: nobody or only one person engaged; one person's
  leave or silence ends the conversation with the account.
- ``champion_quiet``: the champion the CRM names has not engaged within the window.
- ``no_champion``: an open deal and nobody to sell for us inside.
- ``decision_maker_never_contacted``: a budget owner or decision maker without a single
  touchpoint or message.
- ``purchase_without_budget_owner``: an open deal in a purchase stage (quote, negotiation,
  contract) while no budget owner is engaged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.journey.committee import Champion, CommitteeMember

SEVERITIES = ("high", "medium", "low")


@dataclass(frozen=True)
class Risk:
    id: str
    severity: str
    """``high``, ``medium`` or ``low``."""
    message: str
    message_de: str
    persons: list[str] = field(default_factory=list)
    """Member ids the risk is about."""
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Role:
    risk_id: str
    en: str
    de: str
    why: Callable[[CommitteeMember], str | None]
    severity: tuple[str, str]
    """(with an open deal, without)"""


def _budget(member: CommitteeMember) -> str | None:
    return member.why_budget_owner()


def _technical(member: CommitteeMember) -> str | None:
    return member.why_technical()


BUDGET_OWNER = _Role("no_engaged_budget_owner", "budget owner", "budgetverantwortliche Person", _budget, ("high", "medium"))
TECHNICAL_EXPERT = _Role("no_engaged_technical_expert", "technical expert", "technische Fachperson", _technical,
                         ("medium", "low"))


def committee_risks(members: list[CommitteeMember], champion: Champion | None, open_deals: list[dict[str, Any]],
                    engaged_days: int) -> list[Risk]:
    """Every risk that applies, the most severe first."""
    deal = bool(open_deals)
    if not members:
        return [Risk("no_contacts", _pick(deal, "high", "medium"), "No contacts are known at this account.",
                     "Bei diesem Account sind keine Kontakte bekannt.")]
    risks = [
        *_missing_role(members, BUDGET_OWNER, deal, engaged_days),
        *_missing_role(members, TECHNICAL_EXPERT, deal, engaged_days),
        *_threading(members, deal, engaged_days),
        *_champion(members, champion, deal, engaged_days),
        *_never_contacted(members, deal),
        *_purchase_without_budget_owner(members, open_deals),
    ]
    return sorted(risks, key=lambda r: SEVERITIES.index(r.severity))


def _pick(deal: bool, with_deal: str, without: str) -> str:
    return with_deal if deal else without


def _when(member: CommitteeMember) -> tuple[str, str]:
    days = member.engagement.days_since_engaged
    if days is None:
        return "has never engaged", "war nie aktiv"
    return f"last engaged {days} days ago", f"war zuletzt vor {days} Tagen aktiv"


def _names(members: list[CommitteeMember]) -> str:
    return ", ".join(m.name for m in members)


def _persona(member: CommitteeMember) -> str:
    if member.persona is None:
        return "persona unknown (too little signal)"
    return f"persona {member.persona} ({member.persona_confidence:.2f})"


def _missing_role(members: list[CommitteeMember], role: _Role, deal: bool, engaged_days: int) -> list[Risk]:
    holders = [(m, why) for m in members if (why := role.why(m))]
    if any(m.engagement.engaged for m, _ in holders):
        return []
    severity = _pick(deal, *role.severity)
    if holders:
        quiet = [m for m, _ in holders]
        whens = [_when(m) for m in quiet]
        return [Risk(
            role.risk_id, severity,
            f"No engaged {role.en} in the last {engaged_days} days: "
            + "; ".join(f"{m.name} {en}" for m, (en, _) in zip(quiet, whens)) + ".",
            f"Keine aktive {role.de} in den letzten {engaged_days} Tagen: "
            + "; ".join(f"{m.name} {de}" for m, (_, de) in zip(quiet, whens)) + ".",
            [m.id for m in quiet], [f"{m.name}: {why}; {en}" for (m, why), (en, _) in zip(holders, whens)],
        )]
    unknown = [m for m in members if m.persona is None]
    en, de = f"No contact identified as {role.en}.", f"Keine {role.de} unter den Kontakten erkannt."
    if unknown:
        en += f" {len(unknown)} of {len(members)} contacts have too little signal to tell: {_names(unknown)}."
        de += f" {len(unknown)} von {len(members)} Kontakten haben zu wenig Signal für eine Einschätzung: {_names(unknown)}."
    evidence = [f"{m.name}: {_persona(m)}" + (f"; CRM roles {', '.join(m.roles)}" if m.roles else "") for m in members]
    return [Risk(role.risk_id, severity, en, de, [m.id for m in unknown], evidence)]


def _threading(members: list[CommitteeMember], deal: bool, engaged_days: int) -> list[Risk]:
    engaged = [m for m in members if m.engagement.engaged]
    if len(engaged) > 1:
        return []
    severity = _pick(deal, "high", "medium")
    if engaged:
        only = engaged[0]
        return [Risk(
            "single_threaded", severity,
            f"Single-threaded: only {only.name} engaged in the last {engaged_days} days (of {len(members)} contacts).",
            f"Nur ein Gesprächsfaden: nur {only.name} war in den letzten {engaged_days} Tagen aktiv "
            f"(von {len(members)} Kontakten).",
            [only.id], [f"{only.name}: {only.engagement.engagements_90d} interactions in 90 days"]
            + [f"{m.name}: {_when(m)[0]}" for m in members if m is not only],
        )]
    seen = [m for m in members if m.engagement.days_since_engaged is not None]
    latest = min(seen, key=lambda m: m.engagement.days_since_engaged or 0) if seen else None
    en = f"Nobody at the account engaged in the last {engaged_days} days"
    de = f"Niemand beim Account war in den letzten {engaged_days} Tagen aktiv"
    if latest is not None:
        en += f"; the last was {latest.name}, {latest.engagement.days_since_engaged} days ago."
        de += f"; zuletzt {latest.name} vor {latest.engagement.days_since_engaged} Tagen."
    else:
        en, de = en + "; nobody ever has.", de + "; noch nie jemand."
    return [Risk("no_one_engaged", severity, en, de, [latest.id] if latest else [],
                 [f"{m.name}: {_when(m)[0]}" for m in members])]


def _champion(members: list[CommitteeMember], champion: Champion | None, deal: bool, engaged_days: int) -> list[Risk]:
    if champion is None:
        if not deal or not any(m.engagement.engaged for m in members):
            return []  # nobody engaged is its own risk
        return [Risk("no_champion", "medium",
                     "No champion: nobody engaged besides the budget owner sells for us inside the account.",
                     "Kein Champion: außer der budgetverantwortlichen Person ist niemand aktiv, der intern für uns wirbt.",
                     [], [f"{m.name}: {_persona(m)}; {_when(m)[0]}" for m in members])]
    member = next(m for m in members if m.id == champion.id)
    if member.engagement.engaged:
        return []
    en, de = _when(member)
    return [Risk("champion_quiet", _pick(deal, "high", "medium"),
                 f"Champion {member.name} has gone quiet: {en} (window {engaged_days} days).",
                 f"Champion {member.name} ist verstummt: {de} (Zeitfenster {engaged_days} Tage).",
                 [member.id], [f"{member.name}: {champion.reason}; {en}"])]


def _never_contacted(members: list[CommitteeMember], deal: bool) -> list[Risk]:
    risks = []
    for member in members:
        why = member.why_budget_owner()
        if why and not member.engagement.contacted:
            risks.append(Risk(
                "decision_maker_never_contacted", _pick(deal, "high", "medium"),
                f"Decision maker {member.name} ({why}) has never been contacted: no touchpoint, no message.",
                f"Entscheider/in {member.name} ({why}) wurde nie kontaktiert: kein Kontaktpunkt, keine Nachricht.",
                [member.id], [f"{member.name}: {why}; no touchpoint or message on record"],
            ))
    return risks


def _purchase_without_budget_owner(members: list[CommitteeMember], open_deals: list[dict[str, Any]]) -> list[Risk]:
    buying = [d for d in open_deals if d["journey_stage"] == "purchase"]
    owners = [m for m in members if m.why_budget_owner()]
    if not buying or any(m.engagement.engaged for m in owners):
        return []
    deals = ", ".join(f"'{d['name'] or d['id']}' ({d['stage']})" for d in buying)
    return [Risk(
        "purchase_without_budget_owner", "high",
        f"Open deal {deals} is in the purchase stage, but no budget owner is engaged.",
        f"Offener Deal {deals} ist in der Kaufphase, aber keine budgetverantwortliche Person ist aktiv.",
        [m.id for m in owners],
        [f"deal {d['id']}: stage {d['stage']} = purchase, amount {d['amount'] or '-'} {d['currency'] or ''}".rstrip()
         for d in buying] + [f"{m.name}: {m.why_budget_owner()}; {_when(m)[0]}" for m in owners],
    )]
