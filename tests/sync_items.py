"""Test helper shared by connector tests: run a connector's ``load`` generator to the end."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

from connectors.base import LoadResult

CursorT = TypeVar("CursorT")


def drain(items: Generator[Any, None, LoadResult[CursorT]]) -> tuple[list[Any], LoadResult[CursorT]]:
    """Every item the generator yields, and the ``LoadResult`` it returns."""
    collected: list[Any] = []
    while True:
        try:
            collected.append(next(items))
        except StopIteration as stop:
            return collected, stop.value
