"""An account's buying committee: who is involved, what kind of buyer each is, who is engaged,
who champions the deal, and which gaps put it at risk (``journey committee ACCOUNT``).

The committee is every contact of the account and of the accounts merged into it, one member
per person. Each member carries their buying roles from the CRM (the contact's role and their
roles on the account's deals), the journey classifier's persona and stage, and their engagement.
The champion and the risks (``assistant.journey.committee_risks``) follow rules a sales manager
can check against the table, not a learned score.

Engagement is what the person did, not what was done to them: every touchpoint and every
message they wrote counts, except one-way company touchpoints (an invoice, a printed mailing,
an outbound e-mail); an outbound call or meeting counts, as it is a conversation.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from assistant.journey.classifier import JourneyClassifier
from assistant.journey.committee_risks import Risk, committee_risks
from assistant.journey.inputs import COMPANY_ROLES
from assistant.journey.playbook import normalized_key
from assistant.journey.profile_input import load_person
from assistant.journey.stage import lookup
from knowledge.db import Database
from knowledge.profiles.models import Conversation, Deal, DealContact, Message, Touchpoint
from knowledge.profiles.queries import ProfileQueries

DEFAULT_ENGAGED_DAYS = 60
"""A person is engaged when they touched the company or wrote within this many days."""
RECENT_DAYS = 90
"""The window of the touchpoint counts."""

ONE_WAY_TYPES = frozenset({"invoice", "direct_mail"})
TWO_WAY_TYPES = frozenset({"call", "meeting", "field_visit"})
"""Outbound touchpoints of these types are conversations and count as engagement."""

BUDGET_ROLES = frozenset({"decision_maker", "economic_buyer", "economic_decision_maker", "budget_holder", "budget_owner",
                          "approver", "entscheider", "entscheiderin", "budgetverantwortlicher", "budgetverantwortliche"})
TECHNICAL_ROLES = frozenset({"technical_evaluator", "technical_buyer", "technical_expert", "technischer_entscheider"})
CHAMPION_ROLES = frozenset({"champion", "fuersprecher", "fuersprecherin"})
EVALUATING_STAGES = ("consideration", "purchase")


@dataclass(frozen=True)
class DealRole:
    deal_id: str
    deal_name: str | None
    deal_status: str
    deal_stage: str | None
    role: str | None
    """The CRM's role (``None``: the deal's primary contact without a role)."""


@dataclass(frozen=True)
class Engagement:
    last_touchpoint_at: datetime | None
    """Newest touchpoint of any kind, one-way ones included."""
    last_message_at: datetime | None
    """Newest message the person wrote."""
    last_engaged_at: datetime | None
    touchpoints_90d: int
    """All touchpoints in the last 90 days."""
    engagements_90d: int
    """Engaging touchpoints and written messages in the last 90 days."""
    days_since_engaged: int | None
    engaged: bool

    @property
    def contacted(self) -> bool:
        return self.last_touchpoint_at is not None or self.last_message_at is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.__dict__)
        for key in ("last_touchpoint_at", "last_message_at", "last_engaged_at"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


@dataclass
class CommitteeMember:
    id: str
    """The person's best contact record (the one ``journey account`` shows)."""
    person_id: str | None
    records: list[str]
    name: str
    email: str | None
    job_title: str | None
    department: str | None
    buying_role: str | None
    deal_roles: list[DealRole]
    persona: str | None
    """``None`` when there is too little signal to tell (shown as unknown, never guessed)."""
    persona_confidence: float
    secondary_persona: str | None
    stage: str
    stage_confidence: float
    engagement: Engagement

    @property
    def roles(self) -> list[str]:
        """The CRM roles of this person, contact role first, each once."""
        found = [self.buying_role, *(r.role for r in self.deal_roles)]
        return list(dict.fromkeys(r for r in found if r))

    def has_role(self, keys: frozenset[str]) -> str | None:
        return next((role for role in self.roles if normalized_key(role) in keys), None)

    def why_budget_owner(self) -> str | None:
        """Why this person counts as a budget owner (persona or CRM role), or ``None``."""
        if self.persona == "budget_owner":
            return f"persona budget_owner ({self.persona_confidence:.2f})"
        role = self.has_role(BUDGET_ROLES)
        return f"CRM role {role}" if role else None

    def why_technical(self) -> str | None:
        if self.persona == "technical_expert":
            return f"persona technical_expert ({self.persona_confidence:.2f})"
        role = self.has_role(TECHNICAL_ROLES)
        return f"CRM role {role}" if role else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "person_id": self.person_id, "records": self.records, "name": self.name, "email": self.email,
            "job_title": self.job_title, "department": self.department, "buying_role": self.buying_role,
            "deal_roles": [r.__dict__ for r in self.deal_roles], "roles": self.roles,
            "persona": self.persona, "persona_confidence": self.persona_confidence,
            "persona_signal": "enough" if self.persona else "too little", "secondary_persona": self.secondary_persona,
            "stage": self.stage, "stage_confidence": self.stage_confidence,
            "engagement": self.engagement.to_dict(), "engaged": self.engagement.engaged,
        }


@dataclass(frozen=True)
class Champion:
    id: str
    name: str
    rule: str
    """``crm`` (a CRM role says so) or ``engagement`` (the most engaged evaluator)."""
    reason: str


@dataclass
class BuyingCommittee:
    account: dict[str, Any]
    merged_accounts: list[str]
    as_of: datetime
    engaged_days: int
    open_deals: list[dict[str, Any]]
    members: list[CommitteeMember]
    champion: Champion | None
    risks: list[Risk]

    def member(self, member_id: str) -> CommitteeMember:
        return next(m for m in self.members if m.id == member_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "merged_accounts": self.merged_accounts,
            "as_of": self.as_of.isoformat(),
            "engaged_days": self.engaged_days,
            "open_deals": self.open_deals,
            "members": [m.to_dict() for m in self.members],
            "champion": self.champion.__dict__ if self.champion else None,
            "risks": [r.__dict__ for r in self.risks],
            "summary": {
                "members": len(self.members),
                "engaged": sum(m.engagement.engaged for m in self.members),
                "unknown_personas": sum(m.persona is None for m in self.members),
            },
        }


def buying_committee(db: Database, classifier: JourneyClassifier, account: str, now: datetime | None = None,
                     engaged_days: int = DEFAULT_ENGAGED_DAYS) -> BuyingCommittee:
    """The committee of the account meant by ``account`` (id, source id or close-enough name;
    ``AccountNotFound`` otherwise), as of ``now`` (default: the wall clock)."""
    now = as_utc(now) if now else datetime.now(UTC)
    queries = ProfileQueries(db)
    profile = queries.account_profile(queries.find_account(account), touchpoints=0)
    contacts = profile["contacts"]
    deals = profile["open_deals"] + profile["closed_deals"]
    with db.session() as session:
        roles = _deal_roles(session, deals)
        activity = _activity(session, contacts, now)
    members = [_member(db, classifier, row, roles, activity.get(row["id"], []), now, engaged_days) for row in contacts]
    members.sort(key=lambda m: (not m.engagement.engaged, -_timestamp(m.engagement.last_engaged_at), m.name.lower()))
    open_deals = [_deal_summary(deal, classifier) for deal in profile["open_deals"]]
    champion = choose_champion(members)
    return BuyingCommittee(
        account={key: profile["account"][key] for key in ("id", "name", "industry", "country", "customer_status", "owner")},
        merged_accounts=[m["id"] for m in profile["merged_accounts"]],
        as_of=now, engaged_days=engaged_days, open_deals=open_deals, members=members, champion=champion,
        risks=committee_risks(members, champion, open_deals, engaged_days),
    )


def choose_champion(members: list[CommitteeMember]) -> Champion | None:
    """The person who sells for us inside the account.

    1. If the CRM names a champion (the contact's buying role or a role on one of the account's
       deals is ``Champion``), that person is the champion, engaged or not: a champion who went
       quiet is a risk worth naming, not a reason to pick someone else silently. Of several, the
       most engaged.
    2. Otherwise the most engaged person (engagements in the last 90 days, then the most recent)
       among the engaged people in consideration or purchase who do not count as the budget
       owner (the budget owner is who the champion has to convince); if nobody engaged is
       evaluating, the most engaged such person in any stage (an advocate at a customer).
    3. Nobody engaged apart from budget owners: no champion.
    """
    named = [m for m in members if m.has_role(CHAMPION_ROLES)]
    if named:
        best = max(named, key=_engagement_rank)
        return Champion(best.id, best.name, "crm", f"CRM role {best.has_role(CHAMPION_ROLES)}")
    engaged = [m for m in members if m.engagement.engaged and m.why_budget_owner() is None]
    if not engaged:
        return None
    evaluating = [m for m in engaged if m.stage in EVALUATING_STAGES]
    best = max(evaluating or engaged, key=_engagement_rank)
    where = f"in {best.stage}" if evaluating else f"no one engaged is evaluating; {best.stage}"
    return Champion(best.id, best.name, "engagement",
                    f"most engaged person {where} who is not the budget owner: "
                    f"{best.engagement.engagements_90d} interactions in {RECENT_DAYS} days")


def as_utc(at: datetime) -> datetime:
    """A naive time is taken as UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _engagement_rank(member: CommitteeMember) -> tuple[bool, int, float]:
    e = member.engagement
    return (e.engaged, e.engagements_90d, _timestamp(e.last_engaged_at))


def _timestamp(at: datetime | None) -> float:
    return at.timestamp() if at else float("-inf")


def _deal_roles(session: Session, deals: list[dict[str, Any]]) -> dict[str, list[DealRole]]:
    """Contact record id -> their roles on the deals (a deal's primary contact without a role
    row gets a role-less entry)."""
    by_id = {d["id"]: d for d in deals}
    found: dict[str, list[DealRole]] = defaultdict(list)
    if not by_id:
        return found

    def role(deal_id: str, contact_id: str, name: str | None) -> None:
        deal = by_id[deal_id]
        found[contact_id].append(DealRole(deal_id, deal["name"], deal["status"], deal["stage"], name))

    listed: set[tuple[str, str]] = set()
    rows = session.execute(select(DealContact.deal_id, DealContact.contact_id, DealContact.role)
                           .where(DealContact.deal_id.in_(list(by_id))).order_by(DealContact.deal_id)).tuples()
    for deal_id, contact_id, name in rows:
        role(deal_id, contact_id, name)
        listed.add((deal_id, contact_id))
    primaries = session.execute(select(Deal.id, Deal.contact_id).where(Deal.id.in_(list(by_id)), Deal.contact_id.is_not(None)))
    for deal_id, contact_id in primaries.tuples():
        if (deal_id, contact_id) not in listed:
            role(deal_id, contact_id, None)
    return found


@dataclass(frozen=True)
class _Activity:
    at: datetime
    message: bool
    """A message the person wrote (else a touchpoint)."""
    engaging: bool


def _activity(session: Session, contacts: list[dict[str, Any]], now: datetime) -> dict[str, list[_Activity]]:
    """Member id -> every touchpoint and written message of the person up to ``now``."""
    owner: dict[str, str] = {}
    for row in contacts:
        for key in [*row["records"], row["person_id"]]:
            if key:
                owner.setdefault(key, row["id"])
    records = [r for row in contacts for r in row["records"]] or [""]
    persons = [row["person_id"] for row in contacts if row["person_id"]] or [""]
    found: dict[str, list[_Activity]] = defaultdict(list)

    def add(contact_id: str | None, person_id: str | None, item: _Activity) -> None:
        member = owner.get(contact_id or "") or owner.get(person_id or "")
        if member is not None:
            found[member].append(item)

    touchpoints = session.execute(
        select(Touchpoint.contact_id, Touchpoint.person_id, Touchpoint.occurred_at, Touchpoint.type, Touchpoint.direction)
        .where(or_(Touchpoint.contact_id.in_(records), Touchpoint.person_id.in_(persons)), Touchpoint.occurred_at <= now)
    ).tuples()
    for contact_id, person_id, at, kind, direction in touchpoints:
        add(contact_id, person_id, _Activity(at, False, is_engaging(kind, direction)))
    messages = session.execute(
        select(Conversation.contact_id, Conversation.person_id, Message.created_at, Message.role)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(or_(Conversation.contact_id.in_(records), Conversation.person_id.in_(persons)), Message.created_at <= now)
    ).tuples()
    for contact_id, person_id, at, role in messages:
        if role.strip().lower() not in COMPANY_ROLES:
            add(contact_id, person_id, _Activity(at, True, True))
    return found


def is_engaging(kind: str | None, direction: str | None) -> bool:
    """Whether a touchpoint shows the person doing something (see the module docstring)."""
    kind = normalized_key(kind or "")
    if kind in ONE_WAY_TYPES:
        return False
    return (direction or "").lower() != "outbound" or kind in TWO_WAY_TYPES


def engagement(activity: list[_Activity], now: datetime, engaged_days: int) -> Engagement:
    recent = now - timedelta(days=RECENT_DAYS)
    last = max((a.at for a in activity if a.engaging), default=None)
    return Engagement(
        last_touchpoint_at=max((a.at for a in activity if not a.message), default=None),
        last_message_at=max((a.at for a in activity if a.message), default=None),
        last_engaged_at=last,
        touchpoints_90d=sum(a.at >= recent for a in activity if not a.message),
        engagements_90d=sum(a.at >= recent for a in activity if a.engaging),
        days_since_engaged=(now - last).days if last else None,
        engaged=last is not None and now - last <= timedelta(days=engaged_days),
    )


def _member(db: Database, classifier: JourneyClassifier, row: dict[str, Any], roles: dict[str, list[DealRole]],
            activity: list[_Activity], now: datetime, engaged_days: int) -> CommitteeMember:
    """One person with the classifier's reading of them, the same as ``journey classify --contact``
    (``load_person``: a member of an account merged into the committee's account is read with the
    master's customer status and product lines)."""
    deal_roles = [role for record in row["records"] for role in roles.get(record, [])]
    result = classifier.classify(load_person(db, row["id"], now=now).journey)
    name = row["full_name"] or " ".join(p for p in (row["first_name"], row["last_name"]) if p) or row["email"] or row["id"]
    return CommitteeMember(
        id=row["id"], person_id=row["person_id"], records=row["records"], name=name, email=row["email"],
        job_title=row["job_title"], department=row["department"], buying_role=row["buying_role"], deal_roles=deal_roles,
        persona=result.persona.persona, persona_confidence=result.persona.confidence,
        secondary_persona=result.persona.secondary, stage=result.stage.stage, stage_confidence=result.stage.confidence,
        engagement=engagement(activity, now, engaged_days),
    )


def _deal_summary(deal: dict[str, Any], classifier: JourneyClassifier) -> dict[str, Any]:
    """An open deal with the journey stage its pipeline stage stands for (by the playbook)."""
    table = {normalized_key(name): mapping for name, mapping in classifier.playbook.deal_stages.items()}
    found = lookup(table, deal["stage"]) if deal["stage"] else None
    return {key: deal[key] for key in ("id", "name", "stage", "amount", "currency", "owner")} | {
        "journey_stage": found[1].stage if found else None}
