"""SQLAlchemy 2 models of the customer profile store: CRM records, touchpoints, identities.

Every record that comes from a connector has a stable primary key
``"{source}:{entity}:{source_id}"`` (``maven-crm:deal:1C1I7A6R``, ``hubspot:contact:51``),
keeps the ``source`` and ``source_id`` it came from, the time it was last written
(``synced_at``) and a hash of its values (``record_hash``) so that re-syncing unchanged data
writes nothing. Values a mapping did not place in a column land in ``attributes``.

References between records (a deal's account, a touchpoint's contact) are plain indexed
strings, not foreign keys: connectors deliver records in any order (a HubSpot deal can arrive
before its company) and an opportunity may name an account the export does not contain.

A *person* is the unified profile behind CRM contacts, anonymous visitors and chat users;
identity resolution joins them (``identity_links``) and records every merge so it can be undone.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from knowledge.models import Base, utcnow

ID = String(300)
Money = Numeric(18, 2)


class SourcedRecord:
    """Columns every connector-delivered record has."""

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    source_id: Mapped[str] = mapped_column(String(300))
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)
    record_hash: Mapped[str] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Person(Base):
    """One human as the company knows them, across CRM contacts, visits and chats."""

    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(300), default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None, index=True)
    merged_into: Mapped[str | None] = mapped_column(ID, default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Account(SourcedRecord, Base):
    """A company (customer, prospect, partner). ``master_id`` points to the account it was
    merged into by identity resolution; ``None`` means it stands for itself."""

    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(String(300), index=True)
    domain: Mapped[str | None] = mapped_column(String(255), default=None, index=True)
    industry: Mapped[str | None] = mapped_column(String(120), default=None)
    employees: Mapped[int | None] = mapped_column(Integer, default=None)
    annual_revenue: Mapped[Decimal | None] = mapped_column(Money, default=None)
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    country: Mapped[str | None] = mapped_column(String(120), default=None)
    city: Mapped[str | None] = mapped_column(String(120), default=None)
    founded_year: Mapped[int | None] = mapped_column(Integer, default=None)
    parent_account_id: Mapped[str | None] = mapped_column(ID, default=None)
    parent_name: Mapped[str | None] = mapped_column(String(300), default=None)
    owner_id: Mapped[str | None] = mapped_column(ID, default=None, index=True)
    customer_status: Mapped[str | None] = mapped_column(String(40), default=None)
    master_id: Mapped[str | None] = mapped_column(ID, default=None, index=True)
    created_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime | None] = mapped_column(default=None)


class Contact(SourcedRecord, Base):
    """A person as one CRM (or lead list) knows them. ``lifecycle_stage`` distinguishes
    leads from contacts and customers; ``first_touch_*`` is how the lead first came."""

    __tablename__ = "contacts"

    person_id: Mapped[str | None] = mapped_column(ID, default=None, index=True)
    account_id: Mapped[str | None] = mapped_column(ID, default=None, index=True)
    first_name: Mapped[str | None] = mapped_column(String(120), default=None)
    last_name: Mapped[str | None] = mapped_column(String(120), default=None)
    full_name: Mapped[str | None] = mapped_column(String(300), default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None, index=True)
    phone: Mapped[str | None] = mapped_column(String(60), default=None)
    job_title: Mapped[str | None] = mapped_column(String(200), default=None)
    department: Mapped[str | None] = mapped_column(String(120), default=None)
    buying_role: Mapped[str | None] = mapped_column(String(60), default=None)
    lifecycle_stage: Mapped[str | None] = mapped_column(String(40), default=None)
    company_name: Mapped[str | None] = mapped_column(String(300), default=None)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    owner_id: Mapped[str | None] = mapped_column(ID, default=None)
    first_touch_channel: Mapped[str | None] = mapped_column(String(80), default=None)
    first_touch_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime | None] = mapped_column(default=None)


class Owner(SourcedRecord, Base):
    """A sales rep (or any CRM user who owns records), with team, manager and office."""

    __tablename__ = "owners"

    name: Mapped[str] = mapped_column(String(300), index=True)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    team: Mapped[str | None] = mapped_column(String(120), default=None)
    manager_name: Mapped[str | None] = mapped_column(String(300), default=None)
    manager_id: Mapped[str | None] = mapped_column(ID, default=None)
    office: Mapped[str | None] = mapped_column(String(120), default=None)
    role: Mapped[str | None] = mapped_column(String(60), default=None)
    active: Mapped[bool] = mapped_column(default=True)


class Product(SourcedRecord, Base):
    __tablename__ = "products"

    name: Mapped[str] = mapped_column(String(300), index=True)
    product_line: Mapped[str | None] = mapped_column(String(120), default=None)
    price: Mapped[Decimal | None] = mapped_column(Money, default=None)
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)


class Deal(SourcedRecord, Base):
    """An opportunity. ``status`` is ``open``, ``won`` or ``lost``; ``stage`` is the
    pipeline's own stage name."""

    __tablename__ = "deals"

    name: Mapped[str | None] = mapped_column(String(300), default=None)
    account_id: Mapped[str | None] = mapped_column(ID, default=None, index=True)
    contact_id: Mapped[str | None] = mapped_column(ID, default=None, index=True)
    owner_id: Mapped[str | None] = mapped_column(ID, default=None, index=True)
    pipeline: Mapped[str | None] = mapped_column(String(120), default=None)
    stage: Mapped[str | None] = mapped_column(String(120), default=None)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    amount: Mapped[Decimal | None] = mapped_column(Money, default=None)
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    created_on: Mapped[date | None] = mapped_column(Date, default=None)
    engaged_on: Mapped[date | None] = mapped_column(Date, default=None)
    closed_on: Mapped[date | None] = mapped_column(Date, default=None)
    updated_at: Mapped[datetime | None] = mapped_column(default=None)


class DealProduct(SourcedRecord, Base):
    __tablename__ = "deal_products"

    deal_id: Mapped[str] = mapped_column(ID, index=True)
    product_id: Mapped[str | None] = mapped_column(ID, default=None, index=True)
    product_name: Mapped[str | None] = mapped_column(String(300), default=None)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    amount: Mapped[Decimal | None] = mapped_column(Money, default=None)


class DealContact(SourcedRecord, Base):
    """A contact's role on a deal (Salesforce OpportunityContactRole, HubSpot association)."""

    __tablename__ = "deal_contacts"

    deal_id: Mapped[str] = mapped_column(ID, index=True)
    contact_id: Mapped[str] = mapped_column(ID, index=True)
    role: Mapped[str | None] = mapped_column(String(120), default=None)
    is_primary: Mapped[bool] = mapped_column(default=False)


class Touchpoint(SourcedRecord, Base):
    """One contact between a person and the company: when, where, what.

    ``kind`` is ``owned|paid|earned``, ``world`` is ``online|offline``, ``type`` is what
    happened (page_view, email, meeting, call, trade_fair, webinar, review, support_ticket,
    chat, ...). The person is known through ``contact_id`` and/or ``anonymous_id``;
    ``person_id`` is what identity resolution derived from them.
    """

    __tablename__ = "touchpoints"
    __table_args__ = (Index("ix_touchpoints_person_time", "person_id", "occurred_at"),)

    occurred_at: Mapped[datetime] = mapped_column(index=True)
    channel: Mapped[str | None] = mapped_column(String(80), default=None, index=True)
    kind: Mapped[str | None] = mapped_column(String(10), default=None)
    world: Mapped[str | None] = mapped_column(String(10), default=None)
    type: Mapped[str] = mapped_column(String(40), default="event")
    direction: Mapped[str | None] = mapped_column(String(10), default=None)
    campaign: Mapped[str | None] = mapped_column(String(200), default=None)
    content_uri: Mapped[str | None] = mapped_column(String(2000), default=None)
    title: Mapped[str | None] = mapped_column(String(500), default=None)
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    person_id: Mapped[str | None] = mapped_column(ID, default=None)
    contact_id: Mapped[str | None] = mapped_column(ID, default=None, index=True)
    anonymous_id: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    account_id: Mapped[str | None] = mapped_column(ID, default=None, index=True)
    deal_id: Mapped[str | None] = mapped_column(ID, default=None)
    owner_id: Mapped[str | None] = mapped_column(ID, default=None)


class Consent(SourcedRecord, Base):
    """A consent decision: ``status`` is ``granted`` or ``withdrawn`` for a ``purpose``
    (marketing_email, phone, tracking, ...). The newest decision per purpose holds."""

    __tablename__ = "consents"

    person_id: Mapped[str | None] = mapped_column(ID, default=None, index=True)
    contact_id: Mapped[str | None] = mapped_column(ID, default=None)
    anonymous_id: Mapped[str | None] = mapped_column(String(200), default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    purpose: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(SourcedRecord, Base):
    """A chat (widget, rep console) with the person it was with, if known."""

    __tablename__ = "conversations"

    person_id: Mapped[str | None] = mapped_column(ID, default=None, index=True)
    contact_id: Mapped[str | None] = mapped_column(ID, default=None)
    anonymous_id: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    account_id: Mapped[str | None] = mapped_column(ID, default=None)
    channel: Mapped[str] = mapped_column(String(40), default="chat")
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class Message(SourcedRecord, Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation", "conversation_id", "ordinal"),)

    conversation_id: Mapped[str] = mapped_column(ID)
    ordinal: Mapped[int] = mapped_column(Integer, default=0)
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdentityLink(Base):
    """An identifier that belongs to a person: ``email``, ``anonymous_id``, ``user_id``,
    ``phone`` or ``record`` (a CRM record id such as ``hubspot:contact:51``)."""

    __tablename__ = "identity_links"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_identity_links_kind_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(320))
    source: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdentityMerge(Base):
    """One merge of two persons or two accounts, with its reason and what it moved, so it
    can be shown and undone (``reverted_at``)."""

    __tablename__ = "identity_merges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(20))
    winner_id: Mapped[str] = mapped_column(ID, index=True)
    loser_id: Mapped[str] = mapped_column(ID, index=True)
    reason: Mapped[str] = mapped_column(String(60))
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    moved: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reverted_at: Mapped[datetime | None] = mapped_column(default=None)


class NeverMerge(Base):
    """A pair that identity resolution must never merge (told by a person, or by undoing a
    merge)."""

    __tablename__ = "never_merge"
    __table_args__ = (UniqueConstraint("entity", "left_id", "right_id", name="uq_never_merge_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(20))
    left_id: Mapped[str] = mapped_column(ID)
    right_id: Mapped[str] = mapped_column(ID)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EventInboxItem(Base):
    """A raw event as the event API accepted it, kept until and after it is processed.

    The API appends here (durable, deduplicated on ``(source, message_id)``) and answers at
    once; the ``events`` connector turns rows into profile records with ``seq`` as its cursor.
    """

    __tablename__ = "event_inbox"
    __table_args__ = (UniqueConstraint("source", "message_id", name="uq_event_inbox_source_message"),)

    # BIGINT on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the auto-numbered rowid.
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class JourneyDecision(Base):
    """One stage or persona decision about a person, append-only: the classifier's, or a rep's
    override. A newer decision of the same kind (and product line) sets ``superseded_at`` on the
    one before, so the history shows what was believed when and why."""

    __tablename__ = "journey_decisions"
    __table_args__ = (Index("ix_journey_decisions_person", "person_id", "kind", "decided_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    person_id: Mapped[str] = mapped_column(ID)
    contact_id: Mapped[str | None] = mapped_column(ID, default=None)
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[str | None] = mapped_column(String(60), default=None)
    product_line: Mapped[str | None] = mapped_column(String(120), default=None)
    confidence: Mapped[float] = mapped_column(default=0.0)
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    source: Mapped[str] = mapped_column(String(20))
    decided_by: Mapped[str | None] = mapped_column(String(200), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(default=None)
    playbook_fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    input_digest: Mapped[str | None] = mapped_column(String(64), default=None)


class ActionProposal(Base):
    """A next best action proposed for a person, with the score, its parts and the explanation
    shown; ``status`` is the newest outcome (``proposed`` until one is recorded)."""

    __tablename__ = "action_proposals"
    __table_args__ = (Index("ix_action_proposals_person_action", "person_id", "action_id", "proposed_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    person_id: Mapped[str] = mapped_column(ID)
    contact_id: Mapped[str | None] = mapped_column(ID, default=None)
    account_id: Mapped[str | None] = mapped_column(ID, default=None, index=True)
    action_id: Mapped[str] = mapped_column(String(60))
    stage: Mapped[str | None] = mapped_column(String(60), default=None)
    persona: Mapped[str | None] = mapped_column(String(60), default=None)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float] = mapped_column(default=0.0)
    components: Mapped[dict[str, Any]] = mapped_column(default=dict)
    explanation: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome_at: Mapped[datetime | None] = mapped_column(default=None)
    playbook_fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)


class ActionOutcome(Base):
    """What became of a proposal: ``accepted``, ``dismissed`` or ``converted``; append-only."""

    __tablename__ = "action_outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("action_proposals.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(200), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)


ENTITY_MODELS: dict[str, type[SourcedRecord]] = {
    "account": Account,
    "contact": Contact,
    "owner": Owner,
    "product": Product,
    "deal": Deal,
    "deal_product": DealProduct,
    "deal_contact": DealContact,
    "touchpoint": Touchpoint,
    "consent": Consent,
    "conversation": Conversation,
    "message": Message,
}
"""The entities connectors may deliver, by the name a record or mapping uses."""
