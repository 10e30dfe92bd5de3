"""Writes connector records into the profile store: idempotent, hash-diffed, in bulk.

``ProfileStore.write`` takes a batch of ``ProfileRecord`` and ``RecordTombstone`` values of
one source and applies them in one transaction: a record whose values hash like the stored
one is left alone (re-importing unchanged data writes nothing), a changed one is replaced
whole, a new one inserted, a tombstone deleted. After the writes, the identity hook sees
what changed (to link persons and accounts) inside the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from sqlalchemy import delete, insert, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from knowledge.db import Database
from knowledge.models import utcnow
from knowledge.profiles.models import ENTITY_MODELS, SourcedRecord
from knowledge.profiles.records import ProfileRecord, RecordTombstone, Ref, record_id, to_json, values_hash
from knowledge.profiles.sql import chunks

BOOKKEEPING = frozenset({"id", "source", "source_id", "synced_at", "record_hash", "attributes"})
DERIVED = frozenset({"person_id", "master_id"})
"""Columns identity resolution owns; a record update never overwrites them."""


class RecordError(ValueError):
    """A record that cannot be stored (unknown entity, a value of the wrong type)."""


class IdentityHook(Protocol):
    def after_write(self, session: Session, source: str, written: dict[str, list[str]]) -> None:
        """Called inside the write transaction with the ids inserted or updated per entity."""

    def before_delete(self, session: Session, entity: str, ids: list[str]) -> None:
        """Called inside the write transaction before records are deleted."""


@dataclass
class EntityCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged, "deleted": self.deleted}


@dataclass
class RecordWriteStats:
    entities: dict[str, EntityCounts] = field(default_factory=lambda: defaultdict(EntityCounts))

    def merge(self, other: RecordWriteStats) -> None:
        for entity, counts in other.entities.items():
            mine = self.entities[entity]
            mine.added += counts.added
            mine.updated += counts.updated
            mine.unchanged += counts.unchanged
            mine.deleted += counts.deleted

    def total(self, name: str) -> int:
        return sum(getattr(c, name) for c in self.entities.values())

    def to_dict(self) -> dict[str, dict[str, int]]:
        return {entity: counts.to_dict() for entity, counts in sorted(self.entities.items())}


def model_for(entity: str) -> type[SourcedRecord]:
    try:
        return ENTITY_MODELS[entity]
    except KeyError:
        raise RecordError(f"unknown entity {entity!r}; known: {', '.join(sorted(ENTITY_MODELS))}") from None


class _Columns:
    """The writable columns of one model and how to coerce a value into each."""

    def __init__(self, model: type[SourcedRecord]) -> None:
        mapper = inspect(model)
        self.types: dict[str, type[Any] | None] = {}
        self.required: set[str] = set()
        self.defaults: dict[str, Any] = {}
        for column in mapper.columns:
            if column.key in BOOKKEEPING or column.key in DERIVED:
                continue
            column_type = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type
            try:
                python_type: type[Any] | None = column_type.python_type
            except NotImplementedError:
                python_type = None
            self.types[column.key] = python_type
            if not column.nullable and column.default is None:
                self.required.add(column.key)
            elif column.default is not None and not column.nullable:
                self.defaults[column.key] = column.default

    def coerce(self, name: str, value: Any) -> Any:
        expected = self.types[name]
        if value is None or expected is None:
            return value
        if isinstance(value, str):
            if expected is not str and not value.strip():
                return None
        elif isinstance(value, expected) and not (expected is date and isinstance(value, datetime)):
            return value
        try:
            if expected is datetime:
                if isinstance(value, date) and not isinstance(value, datetime):
                    return datetime(value.year, value.month, value.day)
                return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if expected is date:
                if isinstance(value, datetime):
                    return value.date()
                return date.fromisoformat(str(value)[:10])
            if expected is Decimal:
                return Decimal(str(value))
            if expected is int:
                return int(Decimal(str(value)))
            if expected is bool:
                return value if isinstance(value, bool) else str(value).strip().lower() in {"1", "true", "yes", "y"}
            if expected is str:
                return str(value)
        except (ValueError, InvalidOperation) as exc:
            raise RecordError(f"{name}: cannot read {value!r} as {expected.__name__}") from exc
        return value


class ProfileStore:
    def __init__(self, db: Database, identity: IdentityHook | None = None) -> None:
        self._db = db
        self.identity = identity
        self._columns: dict[str, _Columns] = {}

    def columns(self, entity: str) -> _Columns:
        if entity not in self._columns:
            self._columns[entity] = _Columns(model_for(entity))
        return self._columns[entity]

    def row_for(self, source: str, record: ProfileRecord) -> dict[str, Any]:
        """The full row a record becomes (raises ``RecordError`` if it cannot be stored)."""
        columns = self.columns(record.entity)
        row: dict[str, Any] = dict.fromkeys(columns.types)
        attributes: dict[str, Any] = {}
        for name, value in record.values.items():
            if isinstance(value, Ref):
                value = record_id(source, value.entity, value.source_id)
            if name in columns.types:
                row[name] = columns.coerce(name, value)
            elif name in BOOKKEEPING or name in DERIVED:
                raise RecordError(f"{name} is set by the store, not by a connector")
            elif value is not None:
                attributes[name] = to_json(value)
        for name, default in columns.defaults.items():
            if row[name] is None:  # rows are written whole (Core executemany): fill defaults here
                row[name] = default.arg(None) if default.is_callable else default.arg
        missing = [name for name in columns.required if row.get(name) is None]
        if missing:
            raise RecordError(f"{record.entity} {record.source_id!r} lacks {', '.join(sorted(missing))}")
        row.update(
            id=record_id(source, record.entity, record.source_id),
            source=source,
            source_id=record.source_id,
            attributes=attributes,
            record_hash=values_hash(record.values),
        )
        return row

    def write(
        self,
        source: str,
        items: Sequence[ProfileRecord | RecordTombstone],
        on_error: Callable[[ProfileRecord, RecordError], None] | None = None,
    ) -> RecordWriteStats:
        """Apply one batch in one transaction. The last item for a key wins.

        A record that cannot be stored raises ``RecordError``, or, with ``on_error``, is
        handed to it and left out while the rest of the batch is written."""
        latest: dict[tuple[str, str], ProfileRecord | RecordTombstone] = {}
        for item in items:
            latest[(item.entity, item.source_id)] = item
        rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        doomed: dict[str, list[str]] = defaultdict(list)
        for item in latest.values():
            if isinstance(item, ProfileRecord):
                try:
                    rows[item.entity].append(self.row_for(source, item))
                except RecordError as exc:
                    if on_error is None:
                        raise
                    on_error(item, exc)
            else:
                model_for(item.entity)
                doomed[item.entity].append(record_id(source, item.entity, item.source_id))
        stats = RecordWriteStats()
        written: dict[str, list[str]] = {}
        now = utcnow()
        with self._db.session() as session:
            for entity, entity_rows in rows.items():
                written[entity] = self._upsert(session, entity, entity_rows, now, stats.entities[entity])
            for entity, ids in doomed.items():
                stats.entities[entity].deleted += self._delete(session, entity, ids)
            if self.identity is not None and any(written.values()):
                self.identity.after_write(session, source, {e: ids for e, ids in written.items() if ids})
        return stats

    def _upsert(
        self, session: Session, entity: str, rows: list[dict[str, Any]], now: datetime, counts: EntityCounts
    ) -> list[str]:
        model = model_for(entity)
        stored: dict[str, str] = {}
        for chunk in chunks([row["id"] for row in rows]):
            stored.update((row_id, digest) for row_id, digest in session.execute(select(model.id, model.record_hash).where(model.id.in_(chunk))))
        inserts, updates = [], []
        for row in rows:
            previous = stored.get(row["id"])
            if previous == row["record_hash"]:
                counts.unchanged += 1
                continue
            row["synced_at"] = now
            (inserts if previous is None else updates).append(row)
        if inserts:
            # executemany batches only rows with the same columns set: group them so.
            inserts.sort(key=lambda row: tuple(value is None for value in row.values()))
            session.execute(insert(model.__table__), inserts)  # Core: no ORM bookkeeping per row
        if updates:
            session.execute(update(model), updates)
        counts.added += len(inserts)
        counts.updated += len(updates)
        return [row["id"] for row in inserts + updates]

    def _delete(self, session: Session, entity: str, ids: list[str]) -> int:
        model = model_for(entity)
        if self.identity is not None:
            self.identity.before_delete(session, entity, ids)
        deleted = 0
        for chunk in chunks(ids):
            deleted += session.execute(delete(model).where(model.id.in_(chunk))).rowcount or 0
        return deleted

    def known_source_ids(self, source: str, entity: str) -> set[str]:
        model = model_for(entity)
        with self._db.session() as session:
            return set(session.scalars(select(model.source_id).where(model.source == source)))

    def delete_missing(self, source: str, entity: str, seen: set[str]) -> int:
        """Delete the source's records of ``entity`` that a complete listing did not name."""
        gone = sorted(self.known_source_ids(source, entity) - seen)
        if not gone:
            return 0
        stats = self.write(source, [RecordTombstone(entity, source_id) for source_id in gone])
        return stats.entities[entity].deleted
