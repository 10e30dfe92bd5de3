"""The event service behind the Segment-compatible API: validate, deduplicate, store, process.

Design: a request validates its events one by one and appends the valid ones to the event
inbox (one short transaction; a known ``messageId`` stores nothing), answers, and wakes the
background processor (a worker process for the API, see ``background``). Processing runs
the ``events`` connector through the ordinary ``SyncRunner``: inbox events become
touchpoints, contacts and consent records with identity resolution, and the cursor (last
inbox ``seq``) is saved after each run. So a request never waits for identity resolution,
a burst of requests is processed in a few large batches, and a crash loses nothing: the
events are in the inbox and the next run (after any request, or ``process_all``) resumes
from the saved cursor.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from connectors.events.background import Background, BackgroundProcess, BackgroundThread, WorkerConfig
from connectors.events.connector import EventsConnector, EventsCursor, contact_state_loader
from connectors.events.inbox import EventInbox, InboxEvent
from connectors.events.models import SegmentEvent, parse_event
from connectors.runner import SyncReport, SyncRunner
from knowledge.db import Database
from knowledge.documents import Visibility
from knowledge.indexing import Indexer
from knowledge.models import SyncRun, utcnow
from knowledge.profiles import ProfileStore
from knowledge.profiles.identity import IdentityOptions
from knowledge.sync_state import SyncAlreadyRunning, SyncState

logger = logging.getLogger(__name__)
BATCH_DEFAULTS = ("context", "integrations")


@dataclass
class IngestReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"success": True, "accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def stored_payload(item: dict[str, Any], event: SegmentEvent, received_at: datetime) -> dict[str, Any]:
    """The event as the inbox keeps it: as sent (the worker validates it again), with
    ``receivedAt`` set by us, ``timestamp`` corrected for the sender's clock skew the way
    Segment does (``receivedAt - (sentAt - timestamp)``, the original kept as
    ``originalTimestamp``), and a ``messageId`` even if none was sent (derived from the
    content, so that a retried identical event is still recognised)."""
    payload = dict(item)
    payload["type"] = event.type
    if event.timestamp is not None and event.sent_at is not None:
        payload["originalTimestamp"] = _aware(event.timestamp).isoformat()
        payload["timestamp"] = (received_at - (_aware(event.sent_at) - _aware(event.timestamp))).isoformat()
    elif event.timestamp is None:
        payload["timestamp"] = received_at.isoformat()
    if event.message_id is None:
        content = {k: v for k, v in payload.items() if k not in {"sentAt", "receivedAt", "messageId"}}
        digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:32]
        payload["messageId"] = f"derived-{digest}"
    else:
        payload["messageId"] = event.message_id
    payload["receivedAt"] = received_at.isoformat()
    return payload


def with_batch_defaults(item: Any, batch: dict[str, Any]) -> Any:
    """Segment lets a batch carry ``context``, ``integrations`` and ``sentAt`` for all its
    events; an event's own values win."""
    if not isinstance(item, dict):
        return item
    merged = dict(item)
    for name in BATCH_DEFAULTS:
        shared, own = batch.get(name), item.get(name)
        if isinstance(shared, dict) and (own is None or isinstance(own, dict)):
            merged[name] = {**shared, **(own or {})}
    if "sentAt" in batch and "sentAt" not in item:
        merged["sentAt"] = batch["sentAt"]
    return merged


def _no_indexer() -> Indexer:
    raise RuntimeError("the events connector delivers records only")


class EventIngestor:
    def __init__(self, db: Database, sync_state: SyncState, profiles: ProfileStore, source: str, *,
                 batch_records: int = 5000, max_events_per_run: int = 20_000, worker: WorkerConfig | None = None) -> None:
        """``worker``: process in a worker process built from that config; without it, in a
        thread of this process."""
        self.source = source
        self._db = db
        self.inbox = EventInbox(db, source)
        self.connector = EventsConnector(self.inbox, contact_state_loader(db, source), max_events=max_events_per_run)
        self._sync_state = sync_state
        self._runner = SyncRunner(sync_state, _no_indexer, profiles=profiles, batch_records=batch_records)
        self._run_lock = threading.Lock()
        self.background: Background = BackgroundProcess(worker) if worker else BackgroundThread(self.process_all)

    @classmethod
    def with_worker(cls, db: Database, sync_state: SyncState, profiles: ProfileStore, source: str,
                    identity: IdentityOptions) -> EventIngestor:
        """The API's ingestor: processing runs in a worker process on the same database."""
        worker = WorkerConfig(db.url, source, identity.account_name_threshold, list(identity.free_mail_domains))
        return cls(db, sync_state, profiles, source, worker=worker)

    def ingest(self, items: Sequence[Any], batch: dict[str, Any] | None = None,
               received_at: datetime | None = None) -> IngestReport:
        """Validate each item (invalid ones are reported with index and reason, the rest
        kept) and append the valid ones to the inbox; a known ``messageId`` is a duplicate."""
        received_at = received_at or utcnow()
        report, valid, seen = IngestReport(), [], set()
        for index, item in enumerate(items):
            try:
                item = with_batch_defaults(item, batch) if batch else item
                event = parse_event(item)
            except ValueError as exc:
                report.rejected.append({"index": index, "reason": str(exc)})
                continue
            payload = stored_payload(item, event, received_at)
            if payload["messageId"] in seen:
                report.duplicates += 1
                continue
            seen.add(payload["messageId"])
            valid.append(InboxEvent(payload["messageId"], event.type, payload))
        report.accepted = self.inbox.append(valid, received_at)
        report.duplicates += len(valid) - report.accepted
        return report

    def process(self) -> SyncReport:
        """One connector run over the events waiting in the inbox (bounded in size)."""
        with self._run_lock:
            if self._sync_state.get_source(self.source) is None:
                self._sync_state.register_source(self.source, EventsConnector.kind, {})
            return self._runner.run(self.source, self.connector, Visibility.INTERNAL)

    def process_all(self) -> list[SyncReport]:
        """Runs until nothing waits. Another process already processing is not an error."""
        reports = []
        try:
            while self.waiting() > 0:
                reports.append(self.process())
        except SyncAlreadyRunning as exc:
            logger.info("%s", exc)
        return reports

    def trigger(self) -> None:
        """Process in the background (what the API does after each request)."""
        self.background.trigger()

    def wait_processed(self, timeout: float = 60.0) -> bool:
        """Block until every stored event is processed (the cursor is saved after a run, so
        nothing waiting means nothing in flight); ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        while self.waiting() > 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        """Stop the background processing (a run in progress finishes or is resumed later)."""
        self.background.stop()

    def processed_seq(self) -> int:
        cursor = self._sync_state.load_cursor(self.source, EventsCursor)
        return cursor.last_seq if cursor else 0

    def waiting(self) -> int:
        return self.inbox.waiting(self.processed_seq())

    def status(self) -> dict[str, Any]:
        """What the inbox holds, how far processing got, and how its last run ended."""
        processed = self.processed_seq()
        stored, waiting = self.inbox.counts(processed)
        with self._db.session() as session:
            last = session.execute(select(SyncRun.status, SyncRun.error).where(SyncRun.source_name == self.source)
                                   .order_by(SyncRun.id.desc()).limit(1)).first()
        return {"source": self.source, "stored": stored, "processed_seq": processed, "last_seq": self.inbox.last_seq(),
                "waiting": waiting, "processing": last is not None and last.status == "running",
                "last_run": last.status if last else None,
                "last_error": last.error if last is not None and last.status == "failed" else None}
