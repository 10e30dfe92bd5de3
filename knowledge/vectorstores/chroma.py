"""Chroma as the vector index: embedded (persistent, in the workspace) or a Chroma server.

Embeddings are always passed in explicitly; Chroma's default embedding function (which
downloads a model) is never used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.documents import SearchFilters

_MAX_BATCH = 2000  # below Chroma's max batch size on every backend


def collection_name(prefix: str, embedder_name: str) -> str:
    """One collection per embedding model: vectors of different models never mix."""
    slug = re.sub(r"[^a-zA-Z0-9_-]+", "-", embedder_name).strip("-").lower()
    return f"{prefix}_{slug}"[:60].rstrip("-_")


def chroma_where(filters: SearchFilters) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    for field, values in (
        ("visibility", filters.visibility),
        ("source", filters.sources),
        ("language", filters.languages),
    ):
        if values is not None:
            clauses.append({field: {"$in": list(values)}})
    if filters.account_ids is not None:
        clauses.append({"account_id": {"$in": ["", *filters.account_ids]}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _clean(metadata: Mapping[str, Any]) -> dict[str, Any]:
    # Chroma metadata values cannot be None.
    return {k: ("" if v is None else v) for k, v in metadata.items()}


class ChromaVectorIndex:
    def __init__(self, client: Any, name: str) -> None:
        self._collection = client.get_or_create_collection(
            name=name, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

    @classmethod
    def embedded(cls, path: Path, name: str) -> ChromaVectorIndex:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
        return cls(client, name)

    @classmethod
    def server(cls, host: str, port: int, ssl: bool, name: str) -> ChromaVectorIndex:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=ChromaSettings(anonymized_telemetry=False))
        return cls(client, name)

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(ids), _MAX_BATCH):
            end = start + _MAX_BATCH
            self._collection.upsert(
                ids=list(ids[start:end]),
                embeddings=np.asarray(vectors[start:end], dtype=np.float32),
                metadatas=[_clean(m) for m in metadatas[start:end]],
            )

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(ids), _MAX_BATCH):
            end = start + _MAX_BATCH
            self._collection.update(ids=list(ids[start:end]), metadatas=[_clean(m) for m in metadatas[start:end]])

    def delete(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), _MAX_BATCH):
            self._collection.delete(ids=list(ids[start : start + _MAX_BATCH]))

    def query(self, vector: np.ndarray, k: int, filters: SearchFilters) -> list[tuple[str, float]]:
        if k <= 0:
            return []
        result = self._collection.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=k,
            where=chroma_where(filters),
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = result["distances"][0] if result.get("distances") else [0.0] * len(ids)
        return [(chunk_id, 1.0 - float(distance)) for chunk_id, distance in zip(ids, distances, strict=True)]

    def ids_for_source(self, source: str) -> set[str]:
        return set(self._collection.get(where={"source": source}, include=[])["ids"])

    def count(self) -> int:
        return int(self._collection.count())
