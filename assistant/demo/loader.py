"""Loads a generated demo folder through the real connectors, never into the stores directly.

- ``crm/*.csv`` through the ``csv`` connector with the shipped mapping (``crm-mapping.yaml``);
- ``docs/de`` and ``docs/en`` through the ``files`` connector as public content, and
  ``docs/internal`` as a second ``files`` source with visibility ``internal``;
- ``events/*.jsonl`` through the event service (``connectors.events.EventIngestor``, the same
  code behind ``POST /v1/batch``) into its own source, so demo events stay apart from live ones.

Every step is idempotent: unchanged CSVs are not read, unchanged docs are not embedded, and
events already in the inbox are recognised by their ``messageId``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from assistant.container import Container
from assistant.demo.writers import CRM_DIR, DOCS_DIR, EVENTS_DIR, MAPPING_FILE
from connectors.events import EventIngestor
from connectors.runner import ProgressCallback, SyncReport
from knowledge.profiles.models import ENTITY_MODELS

CRM_SOURCE = "demo-crm"
DOCS_SOURCE = "demo-docs"
INTERNAL_DOCS_SOURCE = "demo-docs-internal"
EVENTS_SOURCE = "demo-events"
SOURCES = (CRM_SOURCE, DOCS_SOURCE, INTERNAL_DOCS_SOURCE, EVENTS_SOURCE)
EVENT_BATCH = 1000
"""Events per ingest call, like a Segment library's batch."""


@dataclass
class DemoLoadReport:
    crm: SyncReport
    docs: SyncReport
    internal_docs: SyncReport
    events: dict[str, Any]
    tables: dict[str, int] = field(default_factory=dict)
    documents: int = 0
    chunks: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": {
                CRM_SOURCE: _records_summary(self.crm),
                DOCS_SOURCE: _docs_summary(self.docs),
                INTERNAL_DOCS_SOURCE: _docs_summary(self.internal_docs),
                EVENTS_SOURCE: self.events,
            },
            "tables": self.tables,
            "documents": self.documents,
            "chunks": self.chunks,
        }

    @property
    def failures(self) -> list[dict[str, Any]]:
        found = [dict(f, source=r.source) for r in (self.crm, self.docs, self.internal_docs) for f in r.failed]
        return found + [dict(f, source=EVENTS_SOURCE) for f in self.events.get("rejected", [])]


def _records_summary(report: SyncReport) -> dict[str, Any]:
    return {"records": report.records.to_dict(), "failed": len(report.failed), "seconds": round(report.seconds, 2)}


def _docs_summary(report: SyncReport) -> dict[str, Any]:
    return {key: getattr(report, key) for key in ("added", "updated", "deleted", "unchanged", "chunks", "embedded")} | {
        "failed": len(report.failed), "seconds": round(report.seconds, 2)}


def demo_sources(out: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """Source name -> (kind, connector config) for the connector-backed parts of the demo."""
    return {
        CRM_SOURCE: ("csv", {"root": str(out / CRM_DIR), "mapping": str(out / MAPPING_FILE)}),
        DOCS_SOURCE: ("files", {"root": str(out / DOCS_DIR), "include": ["de/**", "en/**"], "visibility": "public"}),
        INTERNAL_DOCS_SOURCE: ("files", {"root": str(out / DOCS_DIR / "internal"), "visibility": "internal"}),
    }


def load_demo(container: Container, out: Path, progress: ProgressCallback | None = None,
              step: Callable[[str], None] | None = None) -> DemoLoadReport:
    """Load the demo in ``out`` into the container's stores; ``step`` hears each phase's name."""
    out = out.resolve()
    announce = step or (lambda _name: None)
    for name, (kind, config) in demo_sources(out).items():
        container.register_source(name, kind, config)
    announce("CRM export (csv connector)")
    crm = container.sync(CRM_SOURCE, progress)
    announce("documentation (files connector)")
    docs = container.sync(DOCS_SOURCE, progress)
    internal = container.sync(INTERNAL_DOCS_SOURCE, progress)
    announce("website events (event service)")
    events = ingest_events(container, out / EVENTS_DIR)
    report = DemoLoadReport(crm, docs, internal, events)
    report.tables = stored_counts(container)
    statuses = {s.name: s for s in container.sync_state.statuses()}
    report.documents = sum(statuses[n].documents for n in (DOCS_SOURCE, INTERNAL_DOCS_SOURCE) if n in statuses)
    report.chunks = sum(statuses[n].chunks for n in (DOCS_SOURCE, INTERNAL_DOCS_SOURCE) if n in statuses)
    return report


def event_batches(folder: Path) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    batch.append(json.loads(line))
                except ValueError as exc:
                    raise ValueError(f"{path.name} line {number}: not JSON ({exc})") from None
                if len(batch) >= EVENT_BATCH:
                    yield batch
                    batch = []
    if batch:
        yield batch


def ingest_events(container: Container, folder: Path) -> dict[str, Any]:
    """Send the event files through the event service as batches, then process the inbox."""
    service = EventIngestor(container.db, container.sync_state, container.profiles, EVENTS_SOURCE)
    accepted = duplicates = 0
    rejected: list[dict[str, Any]] = []
    for batch in event_batches(folder):
        result = service.ingest(batch)
        accepted, duplicates = accepted + result.accepted, duplicates + result.duplicates
        rejected.extend(result.rejected)
    runs = service.process_all()
    records: dict[str, dict[str, int]] = {}
    for run in runs:
        for entity, counts in run.records.to_dict().items():
            mine = records.setdefault(entity, dict.fromkeys(counts, 0))
            for key, value in counts.items():
                mine[key] += value
    return {"accepted": accepted, "duplicates": duplicates, "rejected": rejected[:50], "rejected_count": len(rejected),
            "records": records, "status": service.status()}


def stored_counts(container: Container) -> dict[str, int]:
    """Rows per profile table that came from the demo's sources."""
    counts = {}
    with container.db.session() as session:
        for entity, model in ENTITY_MODELS.items():
            counts[entity] = int(session.scalar(
                select(func.count()).select_from(model).where(model.source.in_((CRM_SOURCE, EVENTS_SOURCE)))) or 0)
    return counts
