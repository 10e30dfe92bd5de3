"""The one interface every connector implements (checkpointed, resumable).

A connector's ``load`` is a generator: it yields ``SourceDocument``, ``Unchanged``,
``Tombstone`` and ``ItemFailure`` values and *returns* a ``LoadResult`` carrying the next
cursor. The runner saves that cursor only after every write for the yielded items has
succeeded, so a crash at any point is resumed by simply running the sync again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from knowledge.documents import ItemFailure, KnownDocument, SourceDocument, Tombstone, Unchanged
from knowledge.profiles.records import ProfileRecord, RecordFailure, RecordTombstone


class ConnectorError(Exception):
    """A source refused or failed the sync as a whole (bad credentials, an outage that
    outlasted the retries). The message is meant for people: the CLI prints it as is."""


class SourceConfig(BaseModel):
    """Base for the configs of sources that need credentials. ``secret_fields`` are filled in
    from the settings each time the connector is built and never stored with the source."""

    secret_fields: ClassVar[frozenset[str]] = frozenset()

    def stored_config(self) -> dict[str, Any]:
        """The config as it may be persisted: JSON values, credentials left out."""
        return self.model_dump(mode="json", exclude=set(self.secret_fields))


class Cursor(BaseModel):
    """Base for connector cursors: a pydantic model that round-trips through JSON."""


CursorT = TypeVar("CursorT", bound=Cursor)

SyncItem = SourceDocument | Unchanged | Tombstone | ItemFailure | ProfileRecord | RecordTombstone | RecordFailure

__all__ = ["Connector", "ConnectorError", "Cursor", "SourceConfig", "KnownDocument", "LoadResult", "SyncItem"]


@dataclass(frozen=True)
class LoadResult(Generic[CursorT]):
    """What ``load`` returns when it is done.

    ``complete`` says the connector listed every document that exists at the source, so
    known documents it did not mention were deleted. A partial listing (a sitemap that
    failed to load, a crawl cut short by its page limit) must say ``complete=False`` so
    nothing is deleted by mistake.

    ``complete_entities`` does the same for profile records: for each entity named there,
    the run yielded every record the source has, so stored records of that entity the run
    did not yield were deleted at the source.
    """

    cursor: CursorT
    complete: bool
    complete_entities: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = ()
    """What the run found worth a look without failing an item ("1425 deals without an account")."""


class Connector(ABC, Generic[CursorT]):
    """A source of documents and/or profile records. Subclasses set ``kind`` and
    ``cursor_model``."""

    kind: ClassVar[str]
    cursor_model: ClassVar[type[Cursor]]
    delivers_documents: ClassVar[bool] = True
    """False for connectors that only deliver profile records: their syncs then never load
    the embedding model or the vector store."""

    @abstractmethod
    def load(
        self, cursor: CursorT | None, known: Mapping[str, KnownDocument]
    ) -> Generator[SyncItem, None, LoadResult[CursorT]]:
        """Yield the source's items (changed documents, unchanged markers, deletions,
        profile records and their tombstones, failures) and return the next cursor."""
