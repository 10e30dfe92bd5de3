"""Hybrid retrieval: dense (vector) and keyword rankings fused by reciprocal rank.

Hits are always read back from the chunk table with the filters applied again in SQL, so
the database decides what exists and who may see it: a stale vector left by a crash, or a
vector whose metadata lags behind, can never surface.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from sqlalchemy import select

from knowledge.db import Database
from knowledge.dense import DenseIndex
from knowledge.documents import SearchFilters
from knowledge.embeddings import Embedder
from knowledge.keyword_index import KeywordIndex
from knowledge.language import detect_language
from knowledge.models import Chunk
from knowledge.text_analysis import analyze_query
from knowledge.vectorstores import VectorIndex

SearchMode = Literal["hybrid", "dense", "keyword"]


@dataclass(frozen=True)
class SearchHit:
    uri: str
    title: str
    section: str
    score: float
    text: str
    language: str
    source: str
    visibility: str
    chunk_id: str
    document_id: str
    account_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def reciprocal_rank_fusion(rankings: Sequence[Ranking], k: int = 60) -> dict[str, float]:
    """Sum over groups of ``weight / (k + rank)`` (rank from 1). Within one group an item
    counts once, with its best contribution: the cross-language rankings re-rank the same
    vectors, and a page must not score twice for being found by both."""
    per_group: dict[str, dict[str, float]] = {}
    for ranking in rankings:
        scores = per_group.setdefault(ranking.group, {})
        for rank, item in enumerate(ranking.ids, start=1):
            scores[item] = max(scores.get(item, 0.0), ranking.weight / (k + rank))
    fused: dict[str, float] = {}
    for scores in per_group.values():
        for item, score in scores.items():
            fused[item] = fused.get(item, 0.0) + score
    return fused


@dataclass(frozen=True)
class Ranking:
    """One ranked list of chunk ids with its fusion weight and group."""

    ids: list[str]
    weight: float
    group: str


def _ids(results: list[tuple[str, float]]) -> list[str]:
    return [chunk_id for chunk_id, _score in results]


class HybridRetriever:
    def __init__(
        self,
        db: Database,
        vectors: VectorIndex,
        keywords: KeywordIndex,
        embedder: Embedder,
        *,
        rrf_k: int = 60,
        candidates: int = 50,
        dense_weight: float = 1.0,
        keyword_weight: float = 1.0,
        one_hit_per_document: bool = True,
        cross_languages: tuple[str, ...] = (),
        cross_language_weight: float = 0.0,
        specialists: Mapping[str, DenseIndex] | None = None,
        specialist_weight: float = 1.0,
    ) -> None:
        self._db = db
        self._vectors = vectors
        self._keywords = keywords
        self._embedder = embedder
        self._rrf_k = rrf_k
        self._candidates = candidates
        self._weights = (dense_weight, keyword_weight)
        self._one_per_document = one_hit_per_document
        self._cross_languages = cross_languages
        self._cross_language_weight = cross_language_weight
        self._specialists = dict(specialists or {})
        self._specialist_weight = specialist_weight

    def search(
        self,
        query: str,
        k: int = 5,
        filters: SearchFilters | None = None,
        mode: SearchMode = "hybrid",
    ) -> list[SearchHit]:
        filters = filters or SearchFilters()
        query = query.strip()
        if not query or k <= 0:
            return []
        pool = max(self._candidates, k * 4)
        rankings = self._dense_rankings(query, pool, filters) if mode in ("hybrid", "dense") else []
        with self._db.session() as session:
            if mode in ("hybrid", "keyword"):
                keyword = self._keywords.search(session, analyze_query(query), pool, filters)
                rankings.append(Ranking(_ids(keyword), self._weights[1], "keyword"))
            fused = reciprocal_rank_fusion(rankings, self._rrf_k)
            rows = self._visible_chunks(session, list(fused), filters)
        return self._best(rows, fused, k)

    def _dense_rankings(self, query: str, pool: int, filters: SearchFilters) -> list[Ranking]:
        """The multilingual ranking, one per other language, and the query language's
        specialist ranking, each with its fusion weight."""
        vector = self._embedder.embed_query(query)
        language = detect_language(query, min_chars=1)
        rankings = [Ranking(_ids(self._vectors.query(vector, pool, filters)), self._weights[0], "dense")]
        for other in self._other_languages(language, filters):
            rankings.append(Ranking(_ids(self._vectors.query(vector, pool, other)), self._cross_language_weight, "dense"))
        specialist = self._specialists.get(language)
        if specialist is not None:
            specialist_vector = specialist.embedder.embed_query(query)
            ids = _ids(specialist.vectors.query(specialist_vector, pool, filters))
            rankings.append(Ranking(ids, self._specialist_weight, f"specialist-{language}"))
        return rankings

    def _other_languages(self, language: str, filters: SearchFilters) -> list[SearchFilters]:
        """Extra dense rankings restricted to each language other than the query's, so that
        content only written in another language (an English-only page for a German
        question) is not buried under same-language matches: multilingual models favour
        the query's language."""
        if self._cross_language_weight <= 0 or filters.languages is not None or language not in self._cross_languages:
            return []
        return [replace(filters, languages=(other,)) for other in self._cross_languages if other != language]

    def _visible_chunks(self, session: Any, ids: list[str], filters: SearchFilters) -> dict[str, Chunk]:
        if not ids:
            return {}
        statement = select(Chunk).where(Chunk.id.in_(ids))
        if filters.visibility is not None:
            statement = statement.where(Chunk.visibility.in_(filters.visibility))
        if filters.sources is not None:
            statement = statement.where(Chunk.source_name.in_(filters.sources))
        if filters.languages is not None:
            statement = statement.where(Chunk.language.in_(filters.languages))
        if filters.account_ids is not None:
            statement = statement.where(
                Chunk.account_id.is_(None) | Chunk.account_id.in_(filters.account_ids)
            )
        return {row.id: row for row in session.scalars(statement)}

    def _best(self, rows: dict[str, Chunk], fused: dict[str, float], k: int) -> list[SearchHit]:
        hits: list[SearchHit] = []
        seen_documents: set[str] = set()
        for chunk_id in sorted(rows, key=lambda cid: fused[cid], reverse=True):
            row = rows[chunk_id]
            if self._one_per_document and row.document_id in seen_documents:
                continue
            seen_documents.add(row.document_id)
            hits.append(
                SearchHit(
                    uri=row.uri,
                    title=row.title,
                    section=row.section,
                    score=round(fused[chunk_id], 6),
                    text=row.text,
                    language=row.language,
                    source=row.source_name,
                    visibility=row.visibility,
                    chunk_id=row.id,
                    document_id=row.document_id,
                    account_id=row.account_id,
                )
            )
            if len(hits) == k:
                break
        return hits
