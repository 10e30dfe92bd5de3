"""Vector indexes behind a small port; the adapter is named by its backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from knowledge.documents import SearchFilters


class VectorIndex(Protocol):
    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Mapping[str, Any]]) -> None: ...

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[Mapping[str, Any]]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def query(self, vector: np.ndarray, k: int, filters: SearchFilters) -> list[tuple[str, float]]:
        """``(chunk id, similarity)`` best first."""

    def ids_for_source(self, source: str) -> set[str]: ...

    def count(self) -> int: ...
