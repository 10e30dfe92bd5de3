"""Bookkeeping of sources, their cursors and their sync runs."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select

from knowledge.db import Database
from knowledge.models import Chunk, Document, Source, SourceCursor, SyncRun, utcnow
from knowledge.profiles.models import ENTITY_MODELS

CursorModel = TypeVar("CursorModel", bound=BaseModel)
MAX_STORED_FAILURES = 1000


class SyncAlreadyRunning(RuntimeError):
    """Another live process is syncing the same source."""


@dataclass(frozen=True)
class SourceStatus:
    name: str
    kind: str
    config: dict[str, Any]
    documents: int
    chunks: int
    records: int
    last_sync_at: datetime | None
    last_status: str | None
    last_success_at: datetime | None
    last_error: str | None
    last_failures: int

    def to_dict(self) -> dict[str, Any]:
        age = (utcnow() - self.last_success_at).total_seconds() if self.last_success_at else None
        return {
            "name": self.name,
            "kind": self.kind,
            "config": self.config,
            "documents": self.documents,
            "chunks": self.chunks,
            "records": self.records,
            "last_sync_at": self.last_sync_at.isoformat() if self.last_sync_at else None,
            "last_status": self.last_status,
            "last_success_at": self.last_success_at.isoformat() if self.last_success_at else None,
            "freshness_seconds": round(age, 1) if age is not None else None,
            "last_error": self.last_error,
            "failed_items": self.last_failures,
        }


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SyncState:
    def __init__(self, db: Database) -> None:
        self._db = db

    def register_source(self, name: str, kind: str, config: dict[str, Any]) -> None:
        with self._db.session() as session:
            source = session.get(Source, name)
            if source is None:
                session.add(Source(name=name, kind=kind, config=config))
            elif source.kind != kind:
                raise ValueError(f"source {name!r} is a {source.kind} source, not {kind}; choose another --source name")
            else:
                source.config = config

    def get_source(self, name: str) -> Source | None:
        with self._db.session() as session:
            return session.get(Source, name)

    def start_run(self, name: str) -> tuple[int, bool]:
        """Open a run; returns its id and whether an earlier run of the source died mid-way."""
        host = socket.gethostname()
        with self._db.session() as session:
            crashed = False
            for run in session.scalars(select(SyncRun).where(SyncRun.source_name == name, SyncRun.status == "running")):
                pid, run_host = run.stats.get("pid"), run.stats.get("host")
                if run_host == host and isinstance(pid, int) and pid != os.getpid() and _process_alive(pid):
                    raise SyncAlreadyRunning(f"source {name!r} is being synced by process {pid}; try again later")
                run.status, run.finished_at, crashed = "interrupted", utcnow(), True
                run.error = "the process ended before the sync finished; resumed by a later run"
            run = SyncRun(source_name=name, status="running", stats={"pid": os.getpid(), "host": host})
            session.add(run)
            session.flush()
            return run.id, crashed

    def finish_run(
        self,
        run_id: int,
        status: str,
        stats: dict[str, Any],
        failures: list[dict[str, str]],
        error: str | None = None,
    ) -> None:
        with self._db.session() as session:
            run = session.get(SyncRun, run_id)
            if run is None:
                return
            run.status, run.finished_at, run.error = status, utcnow(), error
            run.stats = stats
            run.failures = failures[:MAX_STORED_FAILURES]

    def load_cursor(self, name: str, model: type[CursorModel]) -> CursorModel | None:
        with self._db.session() as session:
            row = session.get(SourceCursor, name)
            if row is None:
                return None
            try:
                return model.model_validate(row.value)
            except ValidationError:
                return None  # a cursor from an older version: start over, hash-diff keeps it cheap

    def save_cursor(self, name: str, cursor: BaseModel) -> None:
        with self._db.session() as session:
            value = cursor.model_dump(mode="json")
            row = session.get(SourceCursor, name)
            if row is None:
                session.add(SourceCursor(source_name=name, value=value))
            else:
                row.value = value

    def statuses(self) -> list[SourceStatus]:
        with self._db.session() as session:
            documents = dict(session.execute(select(Document.source_name, func.count()).group_by(Document.source_name)).all())
            chunks = dict(session.execute(select(Chunk.source_name, func.count()).group_by(Chunk.source_name)).all())
            records: dict[str, int] = {}
            for model in ENTITY_MODELS.values():
                for name, count in session.execute(select(model.source, func.count()).group_by(model.source)).tuples():
                    records[name] = records.get(name, 0) + count
            result = []
            for source in session.scalars(select(Source).order_by(Source.name)):
                last = session.scalars(
                    select(SyncRun).where(SyncRun.source_name == source.name).order_by(SyncRun.id.desc()).limit(1)
                ).first()
                success = session.scalars(
                    select(SyncRun.finished_at)
                    .where(SyncRun.source_name == source.name, SyncRun.status == "succeeded")
                    .order_by(SyncRun.id.desc())
                    .limit(1)
                ).first()
                result.append(
                    SourceStatus(
                        name=source.name,
                        kind=source.kind,
                        config=source.config,
                        documents=documents.get(source.name, 0),
                        chunks=chunks.get(source.name, 0),
                        records=records.get(source.name, 0),
                        last_sync_at=last.started_at if last else None,
                        last_status=last.status if last else None,
                        last_success_at=success,
                        last_error=last.error if last else None,
                        last_failures=len(last.failures) if last else 0,
                    )
                )
            return result
