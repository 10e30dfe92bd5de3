"""The keyword index: analysed terms per chunk in the profile store's own database.

It lives in the same database (and the same transaction) as the chunk rows, so the keyword
index and the chunk table can never disagree. SQLite uses FTS5 with BM25; PostgreSQL a
``tsvector`` with a GIN index ranked by ``ts_rank_cd``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from knowledge.documents import SearchFilters


class KeywordIndex(Protocol):
    def add(self, session: Session, rows: Sequence[tuple[str, str]]) -> None:
        """Index ``(chunk id, analysed terms)`` pairs."""

    def delete(self, session: Session, chunk_ids: Sequence[str]) -> None: ...

    def search(self, session: Session, terms: Sequence[str], k: int, filters: SearchFilters) -> list[tuple[str, float]]:
        """``(chunk id, score)`` best first, for chunks matching any term."""


def _filter_sql(filters: SearchFilters) -> tuple[str, dict[str, object], list[str]]:
    """SQL conditions on ``chunks c`` plus their parameters and the expanding ones."""
    conditions: list[str] = []
    params: dict[str, object] = {}
    for column, values in (
        ("visibility", filters.visibility),
        ("source_name", filters.sources),
        ("language", filters.languages),
    ):
        if values is not None:
            conditions.append(f"c.{column} IN :f_{column}")
            params[f"f_{column}"] = list(values)
    if filters.account_ids is not None:
        conditions.append("(c.account_id IS NULL OR c.account_id IN :f_accounts)")
        params["f_accounts"] = list(filters.account_ids) or [""]
    sql = "".join(f" AND {c}" for c in conditions)
    return sql, params, [name for name in params]


class SqliteFtsKeywordIndex:
    def add(self, session: Session, rows: Sequence[tuple[str, str]]) -> None:
        if rows:
            session.execute(
                text("INSERT INTO chunk_terms (chunk_id, terms) VALUES (:id, :terms)"),
                [{"id": chunk_id, "terms": terms} for chunk_id, terms in rows],
            )

    def delete(self, session: Session, chunk_ids: Sequence[str]) -> None:
        if chunk_ids:
            statement = text("DELETE FROM chunk_terms WHERE chunk_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            )
            for start in range(0, len(chunk_ids), 500):
                session.execute(statement, {"ids": list(chunk_ids[start : start + 500])})

    def search(self, session: Session, terms: Sequence[str], k: int, filters: SearchFilters) -> list[tuple[str, float]]:
        if not terms:
            return []
        match = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
        where, params, expanding = _filter_sql(filters)
        statement = text(
            "SELECT t.chunk_id, bm25(chunk_terms) AS rank FROM chunk_terms t "
            "JOIN chunks c ON c.id = t.chunk_id "
            f"WHERE chunk_terms MATCH :match{where} ORDER BY rank LIMIT :k"
        ).bindparams(*(bindparam(name, expanding=True) for name in expanding))
        rows = session.execute(statement, {"match": match, "k": k, **params}).all()
        return [(chunk_id, -float(rank)) for chunk_id, rank in rows]


class PostgresKeywordIndex:
    def add(self, session: Session, rows: Sequence[tuple[str, str]]) -> None:
        if rows:
            session.execute(
                text("INSERT INTO chunk_terms (chunk_id, terms) VALUES (:id, :terms)"),
                [{"id": chunk_id, "terms": terms} for chunk_id, terms in rows],
            )

    def delete(self, session: Session, chunk_ids: Sequence[str]) -> None:
        if chunk_ids:
            session.execute(text("DELETE FROM chunk_terms WHERE chunk_id = ANY(:ids)"), {"ids": list(chunk_ids)})

    def search(self, session: Session, terms: Sequence[str], k: int, filters: SearchFilters) -> list[tuple[str, float]]:
        if not terms:
            return []
        # Terms come from the analyser (word characters only), so they are safe tsquery lexemes.
        query = " | ".join(f"'{term}'" for term in terms)
        where, params, expanding = _filter_sql(filters)
        statement = text(
            "SELECT t.chunk_id, ts_rank_cd(t.tsv, q, 1) AS rank "
            "FROM chunk_terms t JOIN chunks c ON c.id = t.chunk_id, to_tsquery('simple', :query) q "
            f"WHERE t.tsv @@ q{where} ORDER BY rank DESC LIMIT :k"
        ).bindparams(*(bindparam(name, expanding=True) for name in expanding))
        rows = session.execute(statement, {"query": query, "k": k, **params}).all()
        return [(chunk_id, float(rank)) for chunk_id, rank in rows]


def keyword_index_for(dialect: str) -> KeywordIndex:
    if dialect == "sqlite":
        return SqliteFtsKeywordIndex()
    if dialect == "postgresql":
        return PostgresKeywordIndex()
    raise ValueError(f"no keyword index for database {dialect!r}; use SQLite or PostgreSQL")
