"""A dense index = an embedding model plus its vector collection, built on first use.

The product uses one multilingual model for everything and, optionally, language
specialists: a second model whose ranking is added for queries in its language (the
retrieval evals show all-MiniLM-L6-v2 ranks English questions better than the multilingual
default, while the default is far better for German).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from knowledge.embeddings import Embedder
from knowledge.vectorstores import VectorIndex


class DenseIndex:
    def __init__(self, signature: str, build: Callable[[], tuple[Embedder, VectorIndex]]) -> None:
        self.signature = signature
        self._build = build

    @cached_property
    def _parts(self) -> tuple[Embedder, VectorIndex]:
        return self._build()

    @property
    def embedder(self) -> Embedder:
        return self._parts[0]

    @property
    def vectors(self) -> VectorIndex:
        return self._parts[1]
