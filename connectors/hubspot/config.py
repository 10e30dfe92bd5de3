"""What a HubSpot source is configured with, and the cursor one sync leaves behind.

The access token is a credential: the composition root fills it in from the settings
(``hubspot.access_token``) each time it builds the connector, and it is never stored with
the source. ``secret_fields`` names such fields and ``stored_config`` leaves them out (the
field is also excluded from every ``model_dump``), so persisting a config cannot leak it.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from connectors.base import Cursor, SourceConfig
from knowledge.documents import Visibility

ObjectType = Literal["companies", "contacts", "deals", "notes", "calls", "meetings", "emails"]

SYNCED_OBJECTS: tuple[ObjectType, ...] = ("companies", "contacts", "deals", "notes", "calls", "meetings", "emails")
"""CRM v3 object types in the order a sync reads them (accounts first, so a partial run
already holds the records the others point to)."""

ENGAGEMENT_OBJECTS: frozenset[str] = frozenset({"notes", "calls", "meetings", "emails"})

SEARCH_RESULT_CEILING = 10_000
"""HubSpot's search API refuses to page past this many results of one query."""


class HubSpotSourceConfig(SourceConfig):
    """One HubSpot portal, read through the CRM v3 API with a private app's token."""

    model_config = ConfigDict(extra="forbid")

    secret_fields: ClassVar[frozenset[str]] = frozenset({"access_token"})
    """Fields filled in from the settings at run time and never stored with the source."""

    base_url: str = Field(default="https://api.hubapi.com", description="API base URL.")
    access_token: SecretStr | None = Field(
        default=None, exclude=True, description="Private app access token (Bearer). From settings.hubspot, never stored."
    )
    objects: list[ObjectType] = Field(
        default_factory=lambda: list(SYNCED_OBJECTS), description="CRM object types to sync (owners always are)."
    )
    page_size: int = Field(default=100, ge=1, le=200, description="Objects per request (lists allow 100, search 200).")
    max_retries: int = Field(default=6, ge=0, description="Retries on 429, 5xx and network errors before the sync fails.")
    timeout_seconds: float = Field(default=30.0, gt=0, description="Per-request timeout.")
    backoff_seconds: float = Field(default=1.0, ge=0, description="First wait before a retry without Retry-After; doubles.")
    max_retry_wait_seconds: float = Field(default=120.0, ge=0, description="Cap on one wait, Retry-After included.")
    search_result_ceiling: int = Field(
        default=SEARCH_RESULT_CEILING, ge=1, description="How far the search API pages one query (HubSpot: 10,000)."
    )
    full_resync_days: float | None = Field(
        default=7.0,
        gt=0,
        description="List everything again when the last complete listing is older than this, so deletions the "
        "archive listing cannot show (merged records, removed associations) leave the store. None: never.",
    )
    visibility: Visibility = Field(
        default=Visibility.INTERNAL, description="CRM text (notes, calls, meetings, e-mails) is internal content."
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL such as https://api.hubapi.com")
        return value

    @field_validator("objects")
    @classmethod
    def _known_order_without_repeats(cls, value: list[ObjectType]) -> list[ObjectType]:
        return [name for name in SYNCED_OBJECTS if name in value]


class ObjectCursor(BaseModel):
    """Where one object type stands.

    ``since`` is the newest modification time fully processed and ``ids_at_since`` the ids
    already processed at exactly that time: the next search asks for ``>= since`` (a
    strict ``>`` would lose records modified in the same millisecond) and skips those ids
    unless they were modified again. ``listed_at`` is when the last complete listing ran.
    """

    since: datetime | None = None
    ids_at_since: list[str] = Field(default_factory=list)
    listed_at: datetime | None = None


class HubSpotRunStats(BaseModel):
    """Counts from one run, for the cursor (what `journey sources` can show)."""

    requests: int = 0
    retries: int = 0
    listed: dict[str, int] = Field(default_factory=dict)
    searched: dict[str, int] = Field(default_factory=dict)
    archived: dict[str, int] = Field(default_factory=dict)
    search_restarts: int = 0
    documents_without_account: int = 0
    associations_paged: int = 0
    """Objects whose associations of one type ran past the page a list response holds."""
    moved_contacts: int = 0
    """Contacts that engagements take their account from, seen with another company."""
    reaccounted: dict[str, int] = Field(default_factory=dict)
    """Engagements yielded again (unmodified) because their contact changed company."""


class HubSpotCursor(Cursor):
    objects: dict[str, ObjectCursor] = Field(default_factory=dict)
    engagement_contacts: dict[str, str] = Field(default_factory=dict)
    """Contact id -> the company id ('' for none) engagements without a company of their own
    took their account from (see ``connectors.hubspot.accounts``)."""
    last_run_at: datetime | None = None
    stats: HubSpotRunStats = Field(default_factory=HubSpotRunStats)
