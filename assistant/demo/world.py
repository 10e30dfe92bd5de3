"""The generated demo world in memory: plain records the writers turn into files.

Field names follow the CSV columns a CRM export would have; the CSV mapping shipped with the
demo (``mapping.yaml``) maps them onto the profile store. Ground truth that the product must
infer on its own (persona, journey stage, archetype) lives in ``Truth`` and only ever goes to
``truth/*.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

STAGES = ("awareness", "consideration", "purchase", "retention", "advocacy")
PERSONAS = ("skeptic", "experience_seeker", "influencer", "budget_owner", "technical_expert")


@dataclass
class Owner:
    owner_id: str
    name: str
    email: str
    team: str
    office: str
    role: str
    manager_id: str = ""
    manager_name: str = ""


@dataclass
class Account:
    account_id: str
    name: str
    domain: str
    industry_key: str
    industry: str
    employees: int
    annual_revenue: Decimal
    country_code: str
    country: str
    city: str
    region: str
    language: str
    founded_year: int
    owner_id: str
    customer_status: str = "Interessent"
    created_at: datetime | None = None
    phone: str = ""
    referred_by: str = ""


@dataclass
class Contact:
    contact_id: str
    account_id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    job_title: str
    department: str
    buying_role: str
    language: str
    owner_id: str
    lifecycle_stage: str = "Lead"
    created_at: datetime | None = None
    first_touch_channel: str = ""
    first_touch_at: datetime | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class Deal:
    deal_id: str
    name: str
    account_id: str
    contact_id: str
    owner_id: str
    pipeline: str
    stage: str
    status: str
    probability: int
    line: str
    created_on: date
    engaged_on: date | None
    closed_on: date | None
    expected_close_on: date | None = None
    lost_reason: str = ""
    amount: Decimal = Decimal("0")
    contacts: list[tuple[str, str, bool]] = field(default_factory=list)
    """(contact_id, role, is_primary) of the buying committee on this deal."""


@dataclass
class DealLine:
    line_id: str
    deal_id: str
    sku: str
    product_name: str
    quantity: int
    unit_price: Decimal
    discount_percent: Decimal
    amount: Decimal


@dataclass
class Activity:
    """A CRM-logged touchpoint (meetings, calls, trade fairs, tickets, invoices, reviews ...)."""

    activity_id: str
    occurred_at: datetime
    activity_type: str
    channel: str
    subject: str
    notes: str
    contact_id: str
    account_id: str
    owner_id: str = ""
    deal_id: str = ""
    campaign: str = ""
    direction: str = ""
    outcome: str = ""


@dataclass
class WebEvent:
    """One Segment call (page, track, identify) as the website's analytics library sent it."""

    message_id: str
    type: str
    timestamp: datetime
    anonymous_id: str
    user_id: str = ""
    event: str = ""
    name: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)
    page: dict[str, Any] = field(default_factory=dict)
    campaign: dict[str, Any] = field(default_factory=dict)
    locale: str = "de-DE"
    user_agent: str = ""


@dataclass
class Consent:
    consent_id: str
    contact_id: str
    email: str
    purpose: str
    status: str
    recorded_at: datetime
    source: str


@dataclass
class Conversation:
    conversation_id: str
    contact_id: str
    anonymous_id: str
    account_id: str
    language: str
    started_at: datetime
    ended_at: datetime
    topic: str


@dataclass
class Message:
    message_id: str
    conversation_id: str
    ordinal: int
    role: str
    content: str
    created_at: datetime


@dataclass
class Truth:
    """What the generator intended, for evals: never part of the CRM files."""

    personas: dict[str, tuple[str, str]] = field(default_factory=dict)
    """contact_id -> (primary persona, secondary persona or "")."""
    stages: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    """contact_id -> (stage, product line of that stage, journey note)."""
    archetypes: dict[str, str] = field(default_factory=dict)
    """account_id -> archetype (advocate, customer, expansion, negotiation, evaluation, lost, awareness)."""
    identities: list[tuple[str, str, str]] = field(default_factory=list)
    """(anonymous_id, contact_id, how it becomes known: identify | never)."""
    chats: list[tuple[str, str, str, bool]] = field(default_factory=list)
    """(conversation_id, script id, contact_id or "", whether it began anonymously)."""


@dataclass
class World:
    seed: int
    reference: datetime
    start: datetime
    owners: list[Owner] = field(default_factory=list)
    product_rows: list[tuple[Any, ...]] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)
    deal_lines: list[DealLine] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    events: list[WebEvent] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    truth: Truth = field(default_factory=Truth)
