"""A stored person as classifier input: ``journey classify --contact ID``.

Reads the profile store: the contact (and the person's other contact records), their job
title, department and buying role, the account's customer status and the product lines it has
bought, the person's deals (owned or with a role on them), touchpoints and their latest
conversation. An account merged into another one (``master_id``) stands for its master, here as
in ``journey account`` and ``journey committee``: ``load_person`` is the one lookup of a person
and their account that classification, next best actions and the buying committee share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from assistant.journey.inputs import ChatMessage, DealInput, JourneyInput, TouchpointInput
from knowledge.db import Database
from knowledge.profiles.models import Account, Consent, Contact, Conversation, Deal, DealContact, DealProduct, Message, Product, Touchpoint
from knowledge.profiles.sql import follow_chain

MAX_TOUCHPOINTS = 300
MAX_MESSAGES = 40


class ContactNotFound(LookupError):
    """No contact has this id, source id or e-mail address."""


def _find(session: Session, key: str) -> list[Contact]:
    """The contact records of the person behind ``key`` (record id, source id, e-mail or person id)."""
    contact = session.get(Contact, key)
    if contact is None:
        contact = session.scalars(
            select(Contact).where(or_(Contact.source_id == key, Contact.email == key.lower(), Contact.person_id == key)).limit(1)
        ).first()
    if contact is None:
        raise ContactNotFound(f"no contact {key!r}: give a contact id (source:contact:ID), its source id, e-mail or person id")
    if contact.person_id is None:
        return [contact]
    return list(session.scalars(select(Contact).where(Contact.person_id == contact.person_id)))


def _first(contacts: list[Contact], field: str) -> str | None:
    return next((getattr(c, field) for c in contacts if getattr(c, field)), None)


def _deals(session: Session, contact_ids: list[str]) -> list[Deal]:
    roles = select(DealContact.deal_id).where(DealContact.contact_id.in_(contact_ids))
    return list(session.scalars(select(Deal).where(or_(Deal.contact_id.in_(contact_ids), Deal.id.in_(roles)))))


def _lines(session: Session, deal_ids: list[str]) -> dict[str, str]:
    """The product line of each deal (of its first product that has one)."""
    if not deal_ids:
        return {}
    rows = session.execute(
        select(DealProduct.deal_id, Product.product_line).join(Product, Product.id == DealProduct.product_id)
        .where(DealProduct.deal_id.in_(deal_ids), Product.product_line.is_not(None))
    ).tuples()
    found: dict[str, str] = {}
    for deal_id, line in rows:
        found.setdefault(deal_id, line)
    return found


def _deal_input(deal: Deal, line: str | None) -> DealInput:
    when = deal.updated_at or (datetime.combine(deal.closed_on, datetime.min.time()) if deal.closed_on else None)
    return DealInput(stage=deal.stage, status=deal.status, product_line=line, updated_at=when)


def _touchpoints(session: Session, contact_ids: list[str], person_id: str | None) -> list[TouchpointInput]:
    who = Touchpoint.contact_id.in_(contact_ids)
    if person_id:
        who = or_(who, Touchpoint.person_id == person_id)
    rows = session.scalars(select(Touchpoint).where(who).order_by(Touchpoint.occurred_at.desc()).limit(MAX_TOUCHPOINTS))
    return [
        TouchpointInput(timestamp=t.occurred_at, channel=t.channel, kind=t.kind, world=t.world, type=t.type, detail=t.detail,
                        title=t.title, url=t.content_uri, campaign=t.campaign)
        for t in reversed(list(rows))
    ]


def _messages(session: Session, contact_ids: list[str], person_id: str | None) -> list[ChatMessage]:
    who = Conversation.contact_id.in_(contact_ids)
    if person_id:
        who = or_(who, Conversation.person_id == person_id)
    latest = session.scalars(select(Conversation).where(who).order_by(Conversation.started_at.desc()).limit(1)).first()
    if latest is None:
        return []
    rows = session.scalars(select(Message).where(Message.conversation_id == latest.id).order_by(Message.ordinal))
    return [ChatMessage(role=m.role, content=m.content, timestamp=m.created_at) for m in list(rows)[-MAX_MESSAGES:]]


@dataclass
class PersonProfile:
    """One stored person as journey decisions and next best actions see them."""

    key: str
    person_id: str
    contact_ids: list[str]
    name: str | None
    email: str | None
    account_id: str | None
    account_name: str | None
    industry: str | None
    customer_status: str | None
    won_deals: int
    open_deals: int
    consents: dict[str, tuple[str, datetime]]
    """purpose → (granted|withdrawn, when): the newest decision per purpose."""
    journey: JourneyInput


def _consents(session: Session, contact_ids: list[str], person_id: str | None) -> dict[str, tuple[str, datetime]]:
    who = Consent.contact_id.in_(contact_ids)
    if person_id:
        who = or_(who, Consent.person_id == person_id)
    newest: dict[str, tuple[str, datetime]] = {}
    for consent in session.scalars(select(Consent).where(who).order_by(Consent.recorded_at)):
        newest[consent.purpose] = (consent.status, consent.recorded_at)
    return newest


def _account_group(session: Session, contacts: list[Contact]) -> tuple[Account | None, list[str]]:
    """The person's account resolved to its master (following ``master_id`` to the end) and the
    ids of the master and every account merged into it (``[]`` without an account)."""
    account_id = _first(contacts, "account_id")
    if account_id is None:
        return None, []
    master_id = follow_chain(session, Account.id, Account.master_id, account_id)
    account = session.get(Account, master_id) or session.get(Account, account_id)
    if account is None:
        return None, []
    merged = session.scalars(select(Account.id).where(Account.master_id == account.id, Account.id != account.id))
    return account, [account.id, *merged]


def load_person(db: Database, key: str, now: datetime | None = None) -> PersonProfile:
    """The person behind ``key`` (``ContactNotFound`` otherwise) with their classifier input,
    account, consents and deals. A merged account stands for its master: the account shown, its
    customer status, the product lines it bought and its deal counts are the master's, with the
    deals of every account merged into it."""
    with db.session() as session:
        contacts = _find(session, key)
        ids = [c.id for c in contacts]
        person_id = contacts[0].person_id
        account, account_ids = _account_group(session, contacts)
        account_deals = list(session.scalars(select(Deal).where(Deal.account_id.in_(account_ids)))) if account_ids else []
        journey = _journey_input(session, contacts, account, account_deals, now)
        first = contacts[0]
        name = first.full_name or " ".join(part for part in (first.first_name, first.last_name) if part) or None
        return PersonProfile(
            key=key,
            person_id=person_id or first.id,
            contact_ids=ids,
            name=name,
            email=_first(contacts, "email"),
            account_id=account.id if account else None,
            account_name=account.name if account else None,
            industry=account.industry if account else None,
            customer_status=journey.customer_status,
            won_deals=sum(d.status == "won" for d in account_deals),
            open_deals=sum(d.status == "open" for d in account_deals),
            consents=_consents(session, ids, person_id),
            journey=journey,
        )


def journey_input_for_contact(db: Database, key: str, now: datetime | None = None) -> JourneyInput:
    """Everything the classifier reads about one stored person: ``load_person(...).journey``."""
    return load_person(db, key, now).journey


def _journey_input(session: Session, contacts: list[Contact], account: Account | None, account_deals: list[Deal],
                   now: datetime | None) -> JourneyInput:
    """The classifier input: the person's own deals, their account's (master's) customer status
    and the product lines its group (``account_deals``) has won."""
    ids = [c.id for c in contacts]
    person_id = contacts[0].person_id
    deals = _deals(session, ids)
    lines = _lines(session, [d.id for d in {*deals, *account_deals}])
    owned = sorted({lines[d.id] for d in account_deals if d.status == "won" and d.id in lines})
    return JourneyInput(
        messages=_messages(session, ids, person_id),
        touchpoints=_touchpoints(session, ids, person_id),
        deals=[_deal_input(d, lines.get(d.id)) for d in deals],
        customer_status=(account.customer_status if account else None) or _first(contacts, "lifecycle_stage"),
        customer_product_lines=owned,
        job_title=_first(contacts, "job_title"),
        department=_first(contacts, "department"),
        buying_role=_first(contacts, "buying_role"),
        now=now or datetime.now(UTC),
    )
