"""Runs a connector into the indexes: hash-diff, batched embedding, deletions, cursor.

The cursor is saved only after every write of the run succeeded. A run that dies is
resumed by running the sync again: documents already committed are unchanged by hash and
skipped, the rest is redone, and vectors orphaned by the crash are reconciled away.
"""

from __future__ import annotations

import time
from functools import cached_property
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from connectors.base import Connector, LoadResult
from knowledge.documents import ItemFailure, KnownDocument, SourceDocument, Tombstone, Unchanged, Visibility
from knowledge.indexing import Indexer, PreparedDocument
from knowledge.loaders import LoaderError
from knowledge.profiles import (
    ProfileRecord,
    ProfileStore,
    RecordError,
    RecordFailure,
    RecordTombstone,
    RecordWriteStats,
    Ref,
    record_id,
)
from knowledge.sync_state import SyncState

ProgressCallback = Callable[[str, str], None]


@dataclass
class SyncReport:
    source: str
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    chunks: int = 0
    embedded: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    complete: bool = False
    resumed: bool = False
    seconds: float = 0.0
    records: RecordWriteStats = field(default_factory=RecordWriteStats)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "added": self.added,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "chunks": self.chunks,
            "embedded": self.embedded,
            "records": self.records.to_dict(),
            "failed": self.failed,
            "warnings": self.warnings,
            "complete": self.complete,
            "resumed": self.resumed,
            "seconds": round(self.seconds, 3),
        }


class _LazyKnownDocuments(Mapping[str, KnownDocument]):
    """The source's indexed documents, read on first use: a CRM sync with no notes to
    write then never builds the indexer (Chroma, the embedding model)."""

    def __init__(self, load: Callable[[], dict[str, KnownDocument]]) -> None:
        self._load = load

    @cached_property
    def _documents(self) -> dict[str, KnownDocument]:
        return self._load()

    def __getitem__(self, uri: str) -> KnownDocument:
        return self._documents[uri]

    def __iter__(self) -> Iterator[str]:
        return iter(self._documents)

    def __len__(self) -> int:
        return len(self._documents)


class SyncRunner:
    def __init__(
        self,
        state: SyncState,
        indexer: Indexer | Callable[[], Indexer],
        *,
        batch_chunks: int = 256,
        progress: ProgressCallback | None = None,
        profiles: ProfileStore | None = None,
        batch_records: int = 5000,
    ) -> None:
        self._state = state
        self._indexer_or_factory = indexer
        self._profiles = profiles
        self._batch_chunks = batch_chunks
        self._batch_records = batch_records
        self._progress = progress or (lambda _event, _uri: None)

    @cached_property
    def _indexer(self) -> Indexer:
        """Built on first use: a records-only sync never loads the embedding model."""
        if isinstance(self._indexer_or_factory, Indexer):
            return self._indexer_or_factory
        return self._indexer_or_factory()

    def run(self, source: str, connector: Connector[Any], default_visibility: Visibility) -> SyncReport:
        started = time.perf_counter()
        report = SyncReport(source=source)
        run_id, report.resumed = self._state.start_run(source)
        try:
            if report.resumed and connector.delivers_documents:
                self._indexer.reconcile(source)
            result = self._consume(source, connector, default_visibility, report)
            report.complete = result.complete
            report.warnings.extend({"uri": source, "warning": warning} for warning in result.warnings)
            self._state.save_cursor(source, result.cursor)
        except BaseException as exc:
            report.seconds = time.perf_counter() - started
            self._state.finish_run(run_id, "failed", report.to_dict(), report.failed, error=str(exc) or type(exc).__name__)
            raise
        report.seconds = time.perf_counter() - started
        self._state.finish_run(run_id, "succeeded", report.to_dict(), report.failed)
        return report

    def _consume(
        self, source: str, connector: Connector[Any], visibility: Visibility, report: SyncReport
    ) -> LoadResult[Any]:
        known: Mapping[str, KnownDocument] = (
            _LazyKnownDocuments(lambda: self._indexer.known_documents(source)) if connector.delivers_documents else {}
        )
        seen: set[str] = set()
        seen_records: dict[str, set[str]] = {}
        pending: list[PreparedDocument] = []
        records: list[ProfileRecord | RecordTombstone] = []
        items = connector.load(self._state.load_cursor(source, connector.cursor_model), known)
        while True:
            try:
                item = next(items)
            except StopIteration as stop:
                result: LoadResult[Any] = stop.value
                break
            if isinstance(item, (ProfileRecord, RecordTombstone)):
                if isinstance(item, ProfileRecord):
                    seen_records.setdefault(item.entity, set()).add(item.source_id)
                records.append(item)
                if len(records) >= self._batch_records:
                    self._flush_records(source, records, report)
                continue
            if isinstance(item, RecordFailure):
                report.failed.append({"entity": item.entity, "uri": item.locator, "reason": item.reason})
                self._progress("failed", item.locator)
                continue
            seen.add(item.uri)
            if isinstance(item, SourceDocument):
                if isinstance(item.account_id, Ref):
                    item = replace(item, account_id=record_id(source, item.account_id.entity, item.account_id.source_id))
                self._take_document(source, item, known, visibility, pending, report)
                if sum(len(p.drafts) for p in pending) >= self._batch_chunks:
                    self._flush(source, pending, report)
            elif isinstance(item, Unchanged):
                previous = known.get(item.uri)
                if previous is not None and previous.visibility not in (None, str(visibility)):
                    self._indexer.restamp(source, item.uri, str(visibility), previous.account_id)
                report.unchanged += 1
                self._progress("unchanged", item.uri)
            elif isinstance(item, Tombstone):
                report.deleted += self._indexer.delete(source, [item.uri])
                self._progress("deleted", item.uri)
            elif isinstance(item, ItemFailure):
                report.failed.append({"uri": item.uri, "reason": item.reason})
                self._progress("failed", item.uri)
        self._flush(source, pending, report)
        self._flush_records(source, records, report)
        if result.complete and connector.delivers_documents:
            gone = sorted(set(known) - seen)
            if gone:
                report.deleted += self._indexer.delete(source, gone)
            for uri in gone:
                self._progress("deleted", uri)
        for entity in sorted(result.complete_entities):
            deleted = self._require_profiles().delete_missing(source, entity, seen_records.get(entity, set()))
            report.records.entities[entity].deleted += deleted
        return result

    def _require_profiles(self) -> ProfileStore:
        if self._profiles is None:
            raise RuntimeError("this connector delivers profile records but the runner has no profile store")
        return self._profiles

    def _flush_records(self, source: str, records: list[ProfileRecord | RecordTombstone], report: SyncReport) -> None:
        """Write a batch of records; a record the store refuses is reported, the rest written."""
        if not records:
            return

        def refuse(record: ProfileRecord, error: RecordError) -> None:
            report.failed.append({"entity": record.entity, "uri": record.source_id, "reason": str(error)})
            self._progress("failed", record.source_id)

        report.records.merge(self._require_profiles().write(source, records, on_error=refuse))
        self._progress("records", str(len(records)))
        records.clear()

    def _take_document(
        self,
        source: str,
        doc: SourceDocument,
        known: Mapping[str, KnownDocument],
        visibility: Visibility,
        pending: list[PreparedDocument],
        report: SyncReport,
    ) -> None:
        previous = known.get(doc.uri)
        if previous is not None and previous.content_hash == doc.content_hash:
            access = (str(doc.visibility or visibility), doc.account_id)
            if (previous.visibility, previous.account_id) != access:
                self._indexer.restamp(source, doc.uri, *access)
            if (previous.fingerprint, previous.etag, previous.last_modified) != (doc.fingerprint, doc.etag, doc.last_modified):
                self._indexer.touch(source, doc)
            report.unchanged += 1
            self._progress("unchanged", doc.uri)
            return
        try:
            prepared = self._indexer.prepare(doc, visibility)
        except LoaderError as exc:
            report.failed.append({"uri": doc.uri, "reason": str(exc)})
            self._progress("failed", doc.uri)
            return
        report.warnings.extend({"uri": doc.uri, "warning": w} for w in prepared.warnings)
        pending.append(prepared)

    def _flush(self, source: str, pending: list[PreparedDocument], report: SyncReport) -> None:
        if not pending:
            return
        written = self._indexer.write(source, pending)
        report.added += written.added
        report.updated += written.updated
        report.chunks += written.chunks
        report.embedded += written.embedded
        for prepared in pending:
            self._progress("indexed", prepared.source.uri)
        pending.clear()
