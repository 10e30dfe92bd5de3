"""Value types that flow from connectors through loaders and chunking into the indexes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Visibility(StrEnum):
    """Who may see a piece of content: visitors only ever get ``public``."""

    PUBLIC = "public"
    INTERNAL = "internal"


def content_hash(data: bytes | str) -> str:
    """Stable SHA-256 hex digest used for hash-diff indexing."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class SourceDocument:
    """A document as a connector delivers it: raw bytes plus where they came from.

    ``uri`` is stable within its source (a path relative to the ingested folder, or a URL)
    and is what search results cite. ``account_id`` ties internal CRM content to an account:
    a record id, or a ``knowledge.profiles.Ref`` the runner resolves within the source.
    """

    uri: str
    content: bytes
    media_type: str | None = None
    title: str | None = None
    updated_at: datetime | None = None
    visibility: Visibility | None = None
    account_id: Any = None
    fingerprint: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return content_hash(self.content)


@dataclass(frozen=True)
class KnownDocument:
    """What the store remembers of a document, so a connector can skip unchanged ones."""

    uri: str
    content_hash: str
    fingerprint: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    visibility: str | None = None
    account_id: str | None = None


@dataclass(frozen=True)
class Unchanged:
    """The connector knows, without reading the content, that ``uri`` has not changed
    (same size and mtime, HTTP 304)."""

    uri: str


@dataclass(frozen=True)
class Tombstone:
    """``uri`` was deleted at the source and must leave every index."""

    uri: str


@dataclass(frozen=True)
class ItemFailure:
    """One item could not be fetched or parsed; the sync goes on without it."""

    uri: str
    reason: str


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path, e.g. ``("Users", "Reference Guide")``."""

    path: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class ParsedDocument:
    """What a loader makes of a ``SourceDocument``: a title and ordered sections."""

    title: str
    sections: list[Section]
    warnings: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)


@dataclass(frozen=True)
class ChunkDraft:
    """A chunk before it is embedded and stored."""

    ordinal: int
    text: str
    section: str

    @property
    def content_hash(self) -> str:
        return content_hash(f"{self.section}\x00{self.text}")


@dataclass(frozen=True)
class SearchFilters:
    """Restrictions every index applies before ranking. ``None`` means "no restriction".

    ``account_ids`` keeps content that belongs to no account plus content of those accounts
    (a rep sees product docs and the internal notes of the accounts they may see).
    """

    visibility: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None
    languages: tuple[str, ...] | None = None
    account_ids: tuple[str, ...] | None = None

    @classmethod
    def of(
        cls,
        visibility: str | None = None,
        language: str | None = None,
        sources: list[str] | None = None,
        accounts: list[str] | None = None,
    ) -> SearchFilters:
        """The filters of a search request (CLI options or query parameters)."""
        return cls(
            visibility=(str(visibility),) if visibility else None,
            languages=(language,) if language else None,
            sources=tuple(sources) if sources else None,
            account_ids=tuple(accounts) if accounts is not None else None,
        )
