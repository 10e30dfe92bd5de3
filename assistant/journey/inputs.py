"""What the journey classifier reads: a conversation and, optionally, the person's history.

The JSON shape of ``journey classify`` (every field but ``messages`` optional)::

    {"messages": [{"role": "user", "content": "..."}],
     "touchpoints": [{"timestamp", "channel", "kind", "world", "type", "detail", "title", "url", "product_line"}],
     "deal_stage": "Negotiation", "deals": [{"stage", "status", "product_line", "updated_at"}],
     "customer_status": "customer", "customer_product_lines": ["edgebox"], "tickets": [{"timestamp", "subject"}],
     "job_title": "Leiterin Einkauf", "department": "Einkauf", "buying_role": "Decision Maker",
     "product_line": "insight", "stage_override": {"stage": "purchase", "at": "...", "by": "..."},
     "now": "2025-03-01T12:00:00Z"}

Unknown fields are ignored and named in ``unknown_fields`` (an evaluation harness may send its
labels along); a message may be a plain string (a message of the person).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

COMPANY_ROLES = frozenset({"assistant", "agent", "rep", "bot", "system", "sales", "support", "ai", "operator",
                           "tool", "vertrieb", "berater"})


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ChatMessage(_Lenient):
    role: str = "user"
    content: str = ""
    timestamp: datetime | None = Field(default=None, validation_alias=AliasChoices("timestamp", "created_at", "at"))

    @field_validator("content", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        """``None`` is an empty message; a list of parts (``[{"type": "text", "text": ...}]``) is its text."""
        if value is None:
            return ""
        if isinstance(value, list):
            return " ".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in value)
        return value

    @field_validator("timestamp")
    @classmethod
    def _tz(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    @property
    def from_person(self) -> bool:
        """Written by the person (not by the assistant or a rep); unknown roles count as the person."""
        return self.role.strip().lower() not in COMPANY_ROLES


class TouchpointInput(_Lenient):
    timestamp: datetime | None = Field(default=None, validation_alias=AliasChoices("timestamp", "occurred_at", "at", "date"))
    channel: str | None = None
    kind: str | None = None
    world: str | None = None
    type: str | None = None
    detail: str | None = None
    title: str | None = None
    url: str | None = Field(default=None, validation_alias=AliasChoices("url", "content_uri", "uri", "page"))
    campaign: str | None = None
    product_line: str | None = None

    @field_validator("timestamp")
    @classmethod
    def _tz(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    def text(self) -> str:
        """Everything written about the touchpoint, for text cues (URLs split into words)."""
        return " . ".join(part for part in (self.title, self.detail, self.url, self.campaign) if part)

    def label(self) -> str:
        return " / ".join(part for part in (self.type, self.channel, self.title or self.detail) if part) or "touchpoint"


class DealInput(_Lenient):
    stage: str | None = None
    status: str | None = None
    product_line: str | None = None
    updated_at: datetime | None = Field(default=None, validation_alias=AliasChoices("updated_at", "closed_on", "timestamp"))

    @field_validator("updated_at")
    @classmethod
    def _tz(cls, value: datetime | None) -> datetime | None:
        return _utc(value)


class TicketInput(_Lenient):
    timestamp: datetime | None = Field(default=None, validation_alias=AliasChoices("timestamp", "created_at", "at"))
    subject: str | None = None
    status: str | None = None

    @field_validator("timestamp")
    @classmethod
    def _tz(cls, value: datetime | None) -> datetime | None:
        return _utc(value)


class StageOverride(_Lenient):
    """A rep's explicit decision; it holds until newer evidence contradicts it."""

    stage: str
    at: datetime | None = None
    by: str | None = None
    note: str | None = None

    @field_validator("at")
    @classmethod
    def _tz(cls, value: datetime | None) -> datetime | None:
        return _utc(value)


class JourneyInput(_Lenient):
    messages: list[ChatMessage] = []
    touchpoints: list[TouchpointInput] = []
    deal_stage: str | None = None
    deals: list[DealInput] = []
    customer_status: str | None = None
    customer_product_lines: list[str] = []
    tickets: list[TicketInput] = []
    job_title: str | None = None
    department: str | None = None
    buying_role: str | None = None
    product_line: str | None = None
    stage_override: StageOverride | None = Field(default=None, validation_alias=AliasChoices("stage_override", "override"))
    now: datetime | None = None
    unknown_fields: list[str] = Field(default=[], exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("the input is a JSON object with a messages list")
        known = {name for name, field in cls.model_fields.items() if name != "unknown_fields"}
        known |= {"override"}
        data = dict(data)
        data["unknown_fields"] = sorted(key for key in data if key not in known)
        messages = data.get("messages")
        if isinstance(messages, str):
            data["messages"] = [messages]
        if isinstance(data.get("messages"), list):
            data["messages"] = [{"role": "user", "content": m} if isinstance(m, str) else m for m in data["messages"]]
        for key in ("touchpoints", "deals", "tickets", "customer_product_lines", "messages"):
            if data.get(key) is None:
                data.pop(key, None)
        return data

    @field_validator("now")
    @classmethod
    def _tz(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    def reference_time(self) -> datetime:
        """``now`` if given, else the newest time in the input, else the wall clock: results
        for a recorded case do not change with the day they are computed."""
        if self.now is not None:
            return self.now
        times = [t.timestamp for t in self.touchpoints if t.timestamp]
        times += [m.timestamp for m in self.messages if m.timestamp]
        times += [t.timestamp for t in self.tickets if t.timestamp]
        times += [d.updated_at for d in self.deals if d.updated_at]
        if self.stage_override and self.stage_override.at:
            times.append(self.stage_override.at)
        return max(times) if times else datetime.now(UTC)

    def person_messages(self) -> list[tuple[int, ChatMessage]]:
        """(position in ``messages``, message) of what the person wrote, oldest first."""
        return [(i, m) for i, m in enumerate(self.messages) if m.from_person and m.content.strip()]

    def all_deals(self) -> list[DealInput]:
        deals = list(self.deals)
        if self.deal_stage:
            deals.append(DealInput(stage=self.deal_stage))
        return deals
