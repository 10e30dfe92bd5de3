"""The ``events`` connector: turns the event inbox into profile records, resumably.

Its cursor is the ``seq`` of the last inbox event it handed on; the runner saves it only
after every record of the run is written. A run killed half-way is redone from the old
cursor by the next one: records are keyed by ``messageId`` and hash-diffed, contact traits
merge to the same state, so nothing is written twice and nothing is lost.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping

from pydantic import ValidationError
from sqlalchemy import select

from connectors.base import Connector, Cursor, KnownDocument, LoadResult, SyncItem
from connectors.events.inbox import READ_CHUNK, EventInbox
from connectors.events.mapping import ContactState, EventMapper, StateLoader
from connectors.events.models import EVENT_ADAPTER, SegmentEvent, describe
from knowledge.db import Database
from knowledge.profiles.models import Contact
from knowledge.profiles.person_resolution import chunks
from knowledge.profiles.records import RecordFailure, record_id


class EventsCursor(Cursor):
    last_seq: int = 0
    """The inbox ``seq`` of the last event processed."""


def contact_state_loader(db: Database, source: str) -> StateLoader:
    """Reads what the store already knows about users (their events contacts)."""

    def load(keys: Iterable[str]) -> dict[str, ContactState]:
        by_id = {record_id(source, "contact", key): key for key in keys}
        found: dict[str, ContactState] = {}
        with db.session() as session:
            for chunk in chunks(sorted(by_id)):
                for row_id, attributes in session.execute(select(Contact.id, Contact.attributes).where(Contact.id.in_(chunk))):
                    key = by_id[row_id]
                    found[key] = ContactState.from_attributes(key, attributes or {})
        return found

    return load


class EventsConnector(Connector[EventsCursor]):
    kind = "events"
    cursor_model = EventsCursor
    delivers_documents = False

    def __init__(self, inbox: EventInbox, load_states: StateLoader, *, max_events: int = 20_000,
                 chunk_events: int = READ_CHUNK) -> None:
        self.inbox = inbox
        self.load_states = load_states
        self.max_events = max_events
        self.chunk_events = chunk_events

    def load(
        self, cursor: EventsCursor | None, known: Mapping[str, KnownDocument]
    ) -> Generator[SyncItem, None, LoadResult[EventsCursor]]:
        """Up to ``max_events`` inbox events after the cursor, as records; a run ends
        early so that the cursor is saved regularly under a steady stream."""
        last = cursor.last_seq if cursor else 0
        mapper = EventMapper(self.load_states)
        handled = 0
        while handled < self.max_events:
            rows = self.inbox.read(last, min(self.chunk_events, self.max_events - handled))
            if not rows:
                break
            events: list[SegmentEvent] = []
            for seq, payload in rows:
                try:
                    events.append(EVENT_ADAPTER.validate_json(payload))
                except ValidationError as exc:  # accepted by an older version of the API
                    yield RecordFailure("event", f"inbox seq {seq}", describe(exc))
            mapper.prefetch(events)
            for event in events:
                yield from mapper.records(event)
            last = rows[-1][0]
            handled += len(rows)
        return LoadResult(EventsCursor(last_seq=last), complete=False)
