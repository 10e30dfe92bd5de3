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
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel

from knowledge.documents import ItemFailure, KnownDocument, SourceDocument, Tombstone, Unchanged


class Cursor(BaseModel):
    """Base for connector cursors: a pydantic model that round-trips through JSON."""


CursorT = TypeVar("CursorT", bound=Cursor)

SyncItem = SourceDocument | Unchanged | Tombstone | ItemFailure

__all__ = ["Connector", "Cursor", "KnownDocument", "LoadResult", "SyncItem"]


@dataclass(frozen=True)
class LoadResult(Generic[CursorT]):
    """What ``load`` returns when it is done.

    ``complete`` says the connector listed every document that exists at the source, so
    known documents it did not mention were deleted. A partial listing (a sitemap that
    failed to load, a crawl cut short by its page limit) must say ``complete=False`` so
    nothing is deleted by mistake.
    """

    cursor: CursorT
    complete: bool


class Connector(ABC, Generic[CursorT]):
    """A source of documents. Subclasses set ``kind`` and ``cursor_model``."""

    kind: ClassVar[str]
    cursor_model: ClassVar[type[Cursor]]

    @abstractmethod
    def load(
        self, cursor: CursorT | None, known: Mapping[str, KnownDocument]
    ) -> Generator[SyncItem, None, LoadResult[CursorT]]:
        """Yield the source's items (changed documents, unchanged markers, deletions,
        failures) and return the next cursor."""
