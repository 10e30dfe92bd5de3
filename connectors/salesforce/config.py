"""What a Salesforce source is configured with.

The access token is a credential: the composition root fills it in from the settings
(``salesforce.access_token``) each time it builds the connector, and it is never stored
with the source. ``secret_fields`` names such fields and ``stored_config`` leaves them out,
so whoever persists a config has one obvious thing to call.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, SecretStr, field_validator

from connectors.base import SourceConfig

SObjectName = Literal["User", "Account", "Contact", "Lead", "Opportunity", "OpportunityContactRole", "Task", "Event"]

SYNCED_OBJECTS: tuple[SObjectName, ...] = (
    "User",
    "Account",
    "Contact",
    "Lead",
    "Opportunity",
    "OpportunityContactRole",
    "Task",
    "Event",
)
"""Every object the connector knows, in the order a sync reads them (owners and accounts
first, so a partial run has the records others point to)."""

_API_VERSION = re.compile(r"^v?(\d{2,3}\.\d)$")


class SalesforceSourceConfig(SourceConfig):
    """One Salesforce org, read through the REST API's SOQL query resources."""

    model_config = ConfigDict(extra="forbid")

    secret_fields: ClassVar[frozenset[str]] = frozenset({"access_token"})
    """Fields filled in from the settings at run time and never stored with the source."""

    instance_url: str = Field(description="The org's URL, e.g. https://acme.my.salesforce.com.")
    access_token: SecretStr | None = Field(
        default=None, description="OAuth access token (Bearer). From settings.salesforce, never stored."
    )
    api_version: str = Field(default="v60.0", description="REST API version, e.g. v60.0.")
    objects: list[SObjectName] = Field(
        default_factory=lambda: list(SYNCED_OBJECTS),
        description="Objects to sync. User gives owner records; leave it out if the token may not read users.",
    )
    max_retries: int = Field(default=6, ge=0, description="Retries on rate limits, 5xx and network errors.")
    timeout_seconds: float = Field(default=30.0, gt=0, description="Per-request timeout.")
    backoff_seconds: float = Field(
        default=1.0, ge=0, description="First wait before a retry without Retry-After; doubles each time."
    )
    max_retry_wait_seconds: float = Field(
        default=300.0, ge=0, description="Cap on one wait, including a server's Retry-After."
    )
    modstamp_lag_seconds: float = Field(
        default=60.0,
        ge=0,
        description="A cursor never moves past the server's clock minus this lag, so a record whose "
        "transaction committed late with an earlier SystemModstamp is still read by the next sync.",
    )

    @field_validator("instance_url")
    @classmethod
    def _http_url_with_host(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("instance_url must be an http(s) URL such as https://acme.my.salesforce.com")
        return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"

    @field_validator("api_version")
    @classmethod
    def _version_like_v60(cls, value: str) -> str:
        match = _API_VERSION.match(value.strip())
        if match is None:
            raise ValueError(f"api_version must look like v60.0, not {value!r}")
        return f"v{match.group(1)}"

    @field_validator("objects")
    @classmethod
    def _known_order_without_repeats(cls, value: list[SObjectName]) -> list[SObjectName]:
        if not value:
            raise ValueError("objects must name at least one object")
        return [name for name in SYNCED_OBJECTS if name in value]
