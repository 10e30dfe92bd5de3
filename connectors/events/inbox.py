"""The event inbox: accepted raw events, durable and deduplicated, read in arrival order.

The API appends a batch in one short transaction; a ``messageId`` the source already has
is skipped by the database itself (``ON CONFLICT DO NOTHING``), so a replayed batch stores
nothing new, even when two requests race. ``seq`` is the connector's cursor: it must grow in
commit order, which SQLite guarantees (one writer at a time) and PostgreSQL gets from a
table lock that serialises appends (readers are not blocked). Without it a slow append
could commit ``seq`` 100 after the processor had already moved past 200, losing 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from knowledge.db import Database
from knowledge.profiles.models import EventInboxItem

READ_CHUNK = 5000


@dataclass(frozen=True)
class InboxEvent:
    message_id: str
    type: str
    payload: dict[str, Any]


class EventInbox:
    def __init__(self, db: Database, source: str) -> None:
        self._db = db
        self.source = source

    def append(self, events: list[InboxEvent], received_at: datetime) -> int:
        """Store the events whose ``messageId`` is new; returns how many were stored."""
        if not events:
            return 0
        table = EventInboxItem.__table__
        dialect_insert = postgresql.insert if self._db.dialect == "postgresql" else sqlite.insert
        statement = (dialect_insert(table).on_conflict_do_nothing(index_elements=["source", "message_id"])
                     .returning(table.c.seq))
        rows = [{"source": self.source, "message_id": e.message_id, "type": e.type, "received_at": received_at,
                 "payload": e.payload} for e in events]
        with self._db.session() as session:
            if self._db.dialect == "postgresql":
                session.execute(text("LOCK TABLE event_inbox IN SHARE ROW EXCLUSIVE MODE"))
            return len(session.connection().execute(statement, rows).all())

    def read(self, after: int, limit: int = READ_CHUNK) -> list[tuple[int, str]]:
        """Up to ``limit`` events with ``seq`` greater than ``after``, oldest first, as JSON
        text (validated straight from JSON, which is faster than decoding it first)."""
        table = EventInboxItem.__table__
        query = (select(table.c.seq, cast(table.c.payload, Text)).where(table.c.source == self.source, table.c.seq > after)
                 .order_by(table.c.seq).limit(limit))
        with self._db.session() as session:
            return [(seq, payload) for seq, payload in session.connection().execute(query)]

    def last_seq(self) -> int:
        with self._db.session() as session:
            query = select(func.max(EventInboxItem.seq)).where(EventInboxItem.source == self.source)
            return session.scalar(query) or 0

    def counts(self, after: int) -> tuple[int, int]:
        """``(stored, waiting)``: all events of the source, and those after ``after``."""
        with self._db.session() as session:
            base = select(func.count()).select_from(EventInboxItem).where(EventInboxItem.source == self.source)
            return session.scalar(base) or 0, session.scalar(base.where(EventInboxItem.seq > after)) or 0

    def waiting(self, after: int) -> int:
        with self._db.session() as session:
            query = select(func.count()).select_from(EventInboxItem).where(
                EventInboxItem.source == self.source, EventInboxItem.seq > after)
            return session.scalar(query) or 0
