"""The ``events`` connector: Segment-compatible events turned into profile records.

The API (``assistant.routes.events``) validates events one by one and appends the valid
ones to a durable inbox table, deduplicated on ``messageId`` (``inbox``); a worker process
(``background``, ``worker``) runs the checkpointed ``EventsConnector`` over it (cursor: the
last inbox ``seq``), so events become touchpoints, contacts and consent through
``ProfileStore.write`` with identity resolution, incrementally and resumably.
"""

from connectors.events.connector import EventsConnector, EventsCursor
from connectors.events.inbox import EventInbox, InboxEvent
from connectors.events.ingestor import EventIngestor, IngestReport
from connectors.events.models import (
    AliasEvent,
    GroupEvent,
    IdentifyEvent,
    PageEvent,
    ScreenEvent,
    SegmentEvent,
    TrackEvent,
    parse_event,
)

__all__ = [
    "AliasEvent",
    "EventInbox",
    "EventIngestor",
    "EventsConnector",
    "EventsCursor",
    "GroupEvent",
    "IdentifyEvent",
    "InboxEvent",
    "IngestReport",
    "PageEvent",
    "ScreenEvent",
    "SegmentEvent",
    "TrackEvent",
    "parse_event",
]
