"""Query helpers the profile store, identity resolution and the account queries share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

IN_CHUNK = 900
"""Ids per ``IN (...)`` list: below SQLite's old limit of 999 bound parameters."""


def chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    """``values`` in slices small enough for one ``IN (...)`` list."""
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def follow_chain(session: Session, key: InstrumentedAttribute[Any], pointer: InstrumentedAttribute[Any], start: str) -> str:
    """Follow ``pointer`` (a person's ``merged_into``, an account's ``master_id``) from
    ``start`` to the row that points nowhere; a cycle ends where it closes."""
    seen: set[str] = set()
    current = start
    while current not in seen:
        seen.add(current)
        nxt = session.scalar(select(pointer).where(key == current))
        if not nxt:
            return current
        current = nxt
    return current
