"""Journey plans: where each account and each person stands, and since when.

An account gets an *archetype* (advocate, customer, expansion, negotiation, evaluation, lost,
awareness) and a timeline of phase starts inside the demo window. Each contact joins that
timeline at some point (champions first, budget owners late) and follows it to a final stage,
which is the ground truth written to ``truth/stages.csv``. Touchpoints and deals are generated
from these plans afterwards, so they cannot contradict them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from assistant.demo.world import Account, Contact

ARCHETYPE_SHARES = (
    ("advocate", 6), ("customer", 11), ("expansion", 5), ("negotiation", 6), ("evaluation", 8), ("lost", 6), ("awareness", 8),
)
"""Accounts per archetype for 50 accounts; other sizes scale these shares."""
COMMITTEE_SIZE = {
    "advocate": (4, 6), "customer": (4, 5), "expansion": (4, 6), "negotiation": (4, 6), "evaluation": (3, 5),
    "lost": (3, 5), "awareness": (1, 3),
}
WON = ("advocate", "customer", "expansion")
DAY = timedelta(days=1)


@dataclass
class AccountPlan:
    account: Account
    archetype: str
    line: str
    aware_at: datetime
    consider_at: datetime
    purchase_at: datetime | None = None
    close_at: datetime | None = None
    advocacy_at: datetime | None = None
    expansion_line: str | None = None
    expansion_at: datetime | None = None
    open_stage: str | None = None
    """Pipeline stage of the account's open deal (new business or expansion)."""
    stalled: bool = False
    lost_reason: str = ""
    reengaged_at: datetime | None = None
    referred_by: str = ""
    success_manager: str = ""
    case_study: str = ""
    legacy: bool = False
    """A customer since before the demo's history: deal and first touches predate the window."""
    done: set[str] = field(default_factory=set)
    """Things that happen once per account (the first demo), as the timeline records them."""
    """"logistics" or "manufacturing" when this account is the subject of a published case study."""

    @property
    def won(self) -> bool:
        return self.archetype in WON


@dataclass
class ContactPlan:
    contact: Contact
    persona: str
    account: AccountPlan
    joins_at: datetime
    role: str
    """champion, decider, member, or expansion (evaluates the new product line)."""
    phases: list[tuple[str, datetime, datetime, str]] = field(default_factory=list)
    """(stage, from, until, product line), in time order, clipped to the contact's presence.
    ``dormant`` is a phase without engagement (after a lost deal, a stalled evaluation); its
    journey stage is the one the person fell back to, ``consideration``."""
    note: str = ""

    @property
    def final(self) -> tuple[str, datetime, datetime, str]:
        return self.phases[-1]

    @property
    def stage(self) -> str:
        """The journey stage this person is in at the reference time (the ground truth)."""
        stage = self.final[0]
        return "consideration" if stage == "dormant" else stage


def archetype_list(rng: random.Random, count: int) -> list[str]:
    total = sum(n for _, n in ARCHETYPE_SHARES)
    names = [name for name, n in ARCHETYPE_SHARES for _ in range(max(1, round(n * count / total)))]
    while len(names) > count:
        # Trim the most frequent archetype; ties go to the one listed first (no set order).
        names.remove(max((name for name, _ in ARCHETYPE_SHARES), key=names.count))
    while len(names) < count:
        names.append("evaluation")
    rng.shuffle(names)
    return names


def plan_accounts(
    rng: random.Random, accounts: list[Account], lines_for: dict[str, list[str]], start: datetime, reference: datetime,
) -> list[AccountPlan]:
    """One plan per account; ``lines_for`` maps an industry key to the product lines it buys."""
    archetypes = archetype_list(rng, len(accounts))
    featured = _case_study_accounts(accounts, lines_for)
    for index in sorted(featured):
        if archetypes[index] != "advocate":
            swap = next((j for j, a in enumerate(archetypes) if a == "advocate" and j not in featured), None)
            if swap is not None:
                archetypes[swap] = archetypes[index]
            archetypes[index] = "advocate"
    plans = []
    for index, (account, archetype) in enumerate(zip(accounts, archetypes, strict=True)):
        kind, line = featured.get(index, ("", rng.choice(lines_for[account.industry_key])))
        plan = _plan(rng, account, archetype, line, lines_for[account.industry_key], start, reference)
        plan.case_study = kind
        plans.append(plan)
    _spread_open_stages(plans)
    _link_referrals(rng, plans, reference)
    return plans


def _spread_open_stages(plans: list[AccountPlan]) -> None:
    """Open new-business deals take turns over their stages, so every pipeline stage is populated."""
    turns = {"evaluation": ("Qualifizierung", "Bedarfsanalyse"), "negotiation": ("Angebot", "Verhandlung")}
    for archetype, stages in turns.items():
        for index, plan in enumerate(p for p in plans if p.archetype == archetype):
            plan.open_stage = stages[index % len(stages)]


def _case_study_accounts(accounts: list[Account], lines_for: dict[str, list[str]]) -> dict[int, tuple[str, str]]:
    """The two published case studies: a logistics user of TrackCloud, a manufacturer on Insight."""
    featured: dict[int, tuple[str, str]] = {}
    wanted = (("logistics", "trackcloud", ("logistics", "wholesale", "retail_supplier")),
              ("manufacturing", "insight", ("automotive", "machinery", "plastics", "food", "chemicals")))
    for kind, line, industries in wanted:
        index = next((i for i, a in enumerate(accounts) if a.industry_key in industries and i not in featured), None)
        if index is None:
            index = next((i for i, a in enumerate(accounts) if line in lines_for[a.industry_key] and i not in featured), None)
        if index is not None:
            featured[index] = (kind, line)
    return featured


def _working_day(moment: datetime) -> datetime:
    """Deals close on working days (the following Monday for a weekend)."""
    return moment + (7 - moment.weekday()) * DAY if moment.weekday() >= 5 else moment


def _days_before(reference: datetime, low: int, high: int, rng: random.Random) -> datetime:
    return reference - rng.randint(low, high) * DAY


def _plan(
    rng: random.Random, account: Account, archetype: str, line: str, lines: list[str], start: datetime, reference: datetime,
) -> AccountPlan:
    window = (reference - start).days
    earliest = start + 3 * DAY
    if archetype == "awareness":
        aware = _days_before(reference, 5, 60, rng)
        return AccountPlan(account, archetype, line, aware, reference)
    if archetype in WON:
        # Many customers bought before the demo's history begins: there they only use,
        # renew, complain and recommend.
        legacy = archetype in ("advocate", "customer") and rng.random() < 0.45
        if legacy:
            close = start - rng.randint(30, 540) * DAY
            plan = _backwards(rng, account, archetype, line, close, close - 200 * DAY)
            plan.legacy = True
        else:
            close = _days_before(reference, *{"advocate": (230, min(330, window - 90)), "customer": (50, 300), "expansion": (190, min(320, window - 80))}[archetype], rng)
            plan = _backwards(rng, account, archetype, line, close, earliest)
        plan.close_at = close = _working_day(close)
        if archetype == "advocate":
            since = max(close + 120 * DAY, start + 20 * DAY)
            plan.advocacy_at = since + rng.randint(0, max(0, (reference - since).days - 40)) * DAY
        if archetype == "expansion":
            others = [other for other in ("edgebox", "trackcloud", "insight") if other != line]
            plan.expansion_line = rng.choice([o for o in others if o in lines] or others)
            plan.expansion_at = _days_before(reference, 25, 110, rng)
            plan.open_stage = rng.choice(["Qualifizierung", "Bedarfsanalyse", "Angebot", "Verhandlung"])
        return plan
    if archetype == "lost":
        close = _working_day(_days_before(reference, 40, 200, rng))
        plan = _backwards(rng, account, archetype, line, close, earliest)
        plan.close_at = close
        plan.lost_reason = rng.choice(["Preis zu hoch", "Wettbewerber gewählt", "Projekt verschoben", "Kein Budget", "Keine Entscheidung"])
        if plan.lost_reason == "Projekt verschoben" or rng.random() < 0.25:
            plan.reengaged_at = close + rng.randint(25, max(26, (reference - close).days - 5)) * DAY
        return plan
    if archetype == "negotiation":
        aware = max(earliest, _days_before(reference, 100, 300, rng))
        consider = aware + rng.randint(10, 40) * DAY
        purchase = max(consider + 20 * DAY, _days_before(reference, 15, 60, rng))
        return AccountPlan(account, archetype, line, aware, consider, purchase_at=min(purchase, reference - 5 * DAY),
                           open_stage=rng.choice(["Angebot", "Verhandlung"]))
    # evaluation: in consideration, some of them stalled for months
    aware = max(earliest, _days_before(reference, 40, 240, rng))
    consider = min(aware + rng.randint(7, 35) * DAY, reference - 10 * DAY)
    stalled = (reference - consider).days > 110 and rng.random() < 0.6
    return AccountPlan(account, archetype, line, aware, consider, open_stage=rng.choice(["Qualifizierung", "Bedarfsanalyse"]), stalled=stalled)


def _backwards(rng: random.Random, account: Account, archetype: str, line: str, close: datetime, earliest: datetime) -> AccountPlan:
    """Awareness, consideration and purchase before a known close date, inside the window."""
    cycle = rng.randint(70, 170)
    aware = max(earliest, close - cycle * DAY)
    span = (close - aware).days
    consider = aware + max(3, int(span * rng.uniform(0.12, 0.3))) * DAY
    purchase = aware + max(6, int(span * rng.uniform(0.65, 0.82))) * DAY
    return AccountPlan(account, archetype, line, aware, consider, purchase_at=purchase)


def _link_referrals(rng: random.Random, plans: list[AccountPlan], reference: datetime) -> None:
    """Some prospects came through an advocate's word of mouth, after that advocate became one:
    a prospect whose first touch lies after the advocacy start, or an early-stage one moved there."""
    advocates = [p for p in plans if p.archetype == "advocate" and p.advocacy_at is not None]
    taken: set[str] = set()
    for advocate in advocates:
        if rng.random() < 0.3:
            continue
        assert advocate.advocacy_at is not None
        earliest = advocate.advocacy_at + 3 * DAY
        fitting = [p for p in plans if p.archetype in ("awareness", "evaluation", "negotiation") and p.account.account_id not in taken
                   and (p.aware_at >= earliest or (p.archetype == "awareness" and earliest < reference - 10 * DAY))]
        if not fitting:
            continue
        referred = rng.choice(fitting)
        taken.add(referred.account.account_id)
        if referred.aware_at < earliest:
            referred.aware_at = earliest + rng.randint(0, max(0, (reference - earliest).days - 8)) * DAY
            referred.consider_at = reference
        referred.referred_by = advocate.account.account_id
        referred.account.referred_by = advocate.account.account_id


def plan_contacts(
    rng: random.Random, plan: AccountPlan, contacts: list[Contact], personas: list[str], start: datetime, reference: datetime,
) -> list[ContactPlan]:
    """Each contact's entry point and phases (inside the window); the first contact is the champion."""
    result = []
    expansion_roles = _expansion_members(rng, personas) if plan.expansion_line else set()
    for index, (contact, persona) in enumerate(zip(contacts, personas, strict=True)):
        role = "champion" if index == 0 else "decider" if persona == "budget_owner" else "member"
        if index in expansion_roles:
            role = "expansion"
        joins = _joins_at(rng, plan, role, persona, reference)
        cp = ContactPlan(contact, persona, plan, joins, role)
        cp.phases = _phases(rng, plan, cp, start, reference)
        cp.note = _note(plan, cp)
        result.append(cp)
    return result


def _expansion_members(rng: random.Random, personas: list[str]) -> set[int]:
    chosen = {i for i, p in enumerate(personas) if p in ("technical_expert", "budget_owner", "experience_seeker")}
    ordered = sorted(chosen)
    rng.shuffle(ordered)
    return set(ordered[: rng.randint(1, 2)])


def _joins_at(rng: random.Random, plan: AccountPlan, role: str, persona: str, reference: datetime) -> datetime:
    if role == "champion" or plan.archetype == "awareness":
        return plan.aware_at + (0 if role == "champion" else rng.randint(0, max(0, (reference - plan.aware_at).days - 1))) * DAY
    until = plan.purchase_at or plan.close_at or reference - 7 * DAY
    if role == "decider" and plan.purchase_at and rng.random() < 0.6:
        low, high = plan.purchase_at - 10 * DAY, until
    else:
        low, high = plan.aware_at + 2 * DAY, max(plan.aware_at + 3 * DAY, until - 5 * DAY)
    days = max(0, (high - low).days)
    return min(low + rng.randint(0, days) * DAY, reference - DAY)


def _phases(
    rng: random.Random, plan: AccountPlan, cp: ContactPlan, start: datetime, reference: datetime,
) -> list[tuple[str, datetime, datetime, str]]:
    line = plan.line
    marks: list[tuple[str, datetime, str]] = [("awareness", plan.aware_at, line)]
    if plan.archetype != "awareness":
        marks.append(("consideration", plan.consider_at, line))
    if plan.purchase_at and (plan.archetype != "negotiation" or cp.role in ("champion", "decider") or cp.persona == "influencer"):
        if plan.archetype != "lost" or cp.role != "member":
            marks.append(("purchase", plan.purchase_at, line))
    if plan.won and plan.close_at:
        marks.append(("retention", plan.close_at, line))
        if plan.advocacy_at and (cp.role == "champion" or rng.random() < (0.6 if cp.persona == "experience_seeker" else 0.2)):
            marks.append(("advocacy", plan.advocacy_at, line))
        if cp.role == "expansion" and plan.expansion_at and plan.expansion_line:
            marks.append(("consideration", plan.expansion_at, plan.expansion_line))
            if plan.open_stage in ("Angebot", "Verhandlung"):
                purchase = min(reference - 3 * DAY, plan.expansion_at + max(7, (reference - plan.expansion_at).days // 2) * DAY)
                marks.append(("purchase", purchase, plan.expansion_line))
    if plan.archetype == "lost" and plan.close_at:
        # After the lost deal the person falls back: dormant, and perhaps comparing again later.
        marks.append(("dormant", plan.close_at, line))
        if plan.reengaged_at:
            marks.append(("consideration", plan.reengaged_at, line))
    if plan.stalled:
        marks.append(("dormant", plan.consider_at + rng.randint(25, 45) * DAY, line))
    return _clip(marks, max(cp.joins_at, start), reference)


def _clip(marks: list[tuple[str, datetime, str]], joins: datetime, reference: datetime) -> list[tuple[str, datetime, datetime, str]]:
    marks.sort(key=lambda m: m[1])
    phases = []
    for i, (stage, begin, line) in enumerate(marks):
        end = marks[i + 1][1] if i + 1 < len(marks) else reference
        if end <= joins:
            continue
        phases.append((stage, max(begin, joins), end, line))
    return phases


def _note(plan: AccountPlan, cp: ContactPlan) -> str:
    stage, _, _, line = cp.final
    if plan.archetype == "lost":
        return f"lost ({plan.lost_reason})" + ("; dormant" if stage == "dormant" else "; re-engaged")
    if plan.stalled:
        return "stalled" if stage == "dormant" else "evaluation"
    if cp.role == "expansion" and line == plan.expansion_line:
        return f"customer evaluating new line {line}"
    if plan.referred_by and cp.role == "champion":
        return f"referred by {plan.referred_by}"
    if plan.legacy:
        return f"{plan.archetype} since before the history"
    return plan.archetype
