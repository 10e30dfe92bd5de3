"""Value types connectors use to deliver profile records (as opposed to documents)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from knowledge.documents import content_hash


def record_id(source: str, entity: str, source_id: str) -> str:
    """The stable primary key of a record: ``"{source}:{entity}:{source_id}"``."""
    return f"{source}:{entity}:{source_id}"


@dataclass(frozen=True)
class Ref:
    """A reference to another record of the same source, by that record's source id.

    The store turns it into the record's primary key, so a connector never needs to know
    the name its source was registered under: ``Ref("account", "Acme Corporation")``.
    """

    entity: str
    source_id: str


@dataclass(frozen=True)
class ProfileRecord:
    """One record for the profile store. ``values`` are column names of the entity's model
    (see ``knowledge.profiles.models``); values that are no column go to ``attributes``.
    ``Ref`` values are resolved to record ids of the same source."""

    entity: str
    source_id: str
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.entity, self.source_id)


@dataclass(frozen=True)
class RecordTombstone:
    """The record was deleted (or archived) at the source and must leave the store."""

    entity: str
    source_id: str


@dataclass(frozen=True)
class RecordFailure:
    """A row or API object that could not be turned into a record (kept out, reported)."""

    entity: str
    locator: str
    reason: str

    @property
    def uri(self) -> str:
        return self.locator


def _jsonable(value: Any) -> Any:
    if isinstance(value, Ref):
        return {"$ref": [value.entity, value.source_id]}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value else "NaN"
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, (Ref, datetime, date, Decimal)):
        return _jsonable(value)
    return str(value)


def values_hash(values: dict[str, Any]) -> str:
    """Hash of a record's values, independent of key order: equal values, equal hash.
    (``json`` walks the plain values in C; only dates, decimals and refs need a call back.)"""
    try:
        text = json.dumps(values, sort_keys=True, ensure_ascii=False, default=_json_default)
    except TypeError:  # keys of mixed types cannot be sorted: make them all strings first
        text = json.dumps(_jsonable(values), sort_keys=True, ensure_ascii=False, default=str)
    return content_hash(text)


def to_json(value: Any) -> Any:
    """A record value as it can be stored in a JSON column."""
    return _jsonable(value)
