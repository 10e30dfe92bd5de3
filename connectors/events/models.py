"""Segment's event spec as pydantic models: track, identify, page, screen, group, alias.

Fields keep Segment's camelCase names on the wire (``messageId``, ``anonymousId``,
``userId``, ``sentAt``...) and snake_case in Python. Unknown fields are kept, not refused:
senders add their own (``version``, ``channel``, ``_metadata``) and the raw event is stored.
Ids that arrive as numbers (some libraries send ``"userId": 42``) become strings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, model_validator

Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
EVENT_TYPES = ("track", "identify", "page", "screen", "group", "alias")


class SegmentModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow", coerce_numbers_to_str=True)


class PageContext(SegmentModel):
    url: str | None = None
    path: str | None = None
    referrer: str | None = None
    title: str | None = None
    search: str | None = None


class CampaignContext(SegmentModel):
    """``utm_*`` parameters, as analytics.js puts them in ``context.campaign``."""

    name: str | None = None
    source: str | None = None
    medium: str | None = None
    term: str | None = None
    content: str | None = None


class EventContext(SegmentModel):
    page: PageContext | None = None
    campaign: CampaignContext | None = None
    traits: dict[str, Any] | None = None
    consent: dict[str, Any] | None = None
    locale: str | None = None
    ip: str | None = None
    user_agent: str | None = Field(default=None, alias="userAgent")


class EventBase(SegmentModel):
    message_id: Identifier | None = Field(default=None, alias="messageId")
    anonymous_id: Identifier | None = Field(default=None, alias="anonymousId")
    user_id: Identifier | None = Field(default=None, alias="userId")
    timestamp: datetime | None = None
    original_timestamp: datetime | None = Field(default=None, alias="originalTimestamp")
    sent_at: datetime | None = Field(default=None, alias="sentAt")
    received_at: datetime | None = Field(default=None, alias="receivedAt")
    context: EventContext = Field(default_factory=EventContext)
    integrations: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _names_someone(self) -> EventBase:
        if self.user_id is None and self.anonymous_id is None:
            raise ValueError("userId or anonymousId is required")
        return self


class TrackEvent(EventBase):
    type: Literal["track"] = "track"
    event: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    properties: dict[str, Any] | None = None


class PageEvent(EventBase):
    type: Literal["page"] = "page"
    name: str | None = None
    category: str | None = None
    properties: dict[str, Any] | None = None


class ScreenEvent(EventBase):
    type: Literal["screen"] = "screen"
    name: str | None = None
    properties: dict[str, Any] | None = None


class IdentifyEvent(EventBase):
    type: Literal["identify"] = "identify"
    traits: dict[str, Any] | None = None


class GroupEvent(EventBase):
    type: Literal["group"] = "group"
    group_id: Identifier = Field(alias="groupId")
    traits: dict[str, Any] | None = None


class AliasEvent(EventBase):
    type: Literal["alias"] = "alias"
    previous_id: Identifier = Field(alias="previousId")

    @model_validator(mode="after")
    def _needs_user(self) -> AliasEvent:
        if self.user_id is None:
            raise ValueError("alias needs userId (the new id) and previousId")
        return self


SegmentEvent = Annotated[
    TrackEvent | PageEvent | ScreenEvent | IdentifyEvent | GroupEvent | AliasEvent, Field(discriminator="type")
]
EVENT_ADAPTER: TypeAdapter[SegmentEvent] = TypeAdapter(SegmentEvent)


def parse_event(item: Any) -> SegmentEvent:
    """Validate one event; ``ValueError`` with a short reason a sender can act on."""
    if not isinstance(item, dict):
        raise ValueError("an event must be a JSON object")
    kind = item.get("type")
    if kind not in EVENT_TYPES:
        expected = ", ".join(EVENT_TYPES)
        raise ValueError(f"type is missing (expected one of {expected})" if kind is None
                         else f"unknown type {kind!r} (expected one of {expected})")
    try:
        return EVENT_ADAPTER.validate_python(item)
    except ValidationError as exc:
        raise ValueError(describe(exc)) from None


def describe(error: ValidationError) -> str:
    """The first problem of a validation error, e.g. ``event: Field required``."""
    first = error.errors(include_url=False)[0]
    location = [str(part) for part in first["loc"]]
    if location and location[0] in EVENT_TYPES:  # the union tag pydantic puts first
        location = location[1:]
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{'.'.join(location)}: {message}" if location else message
