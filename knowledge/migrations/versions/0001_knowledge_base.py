"""Knowledge-base bookkeeping: sources, cursors, sync runs, documents, chunks, keyword index.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from knowledge.models import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "cursors",
        sa.Column("source_name", sa.String(200), sa.ForeignKey("sources.name", ondelete="CASCADE"), primary_key=True),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source_name", sa.String(200), sa.ForeignKey("sources.name", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_sync_runs_source_name", "sync_runs", ["source_name"])
    op.create_table(
        "documents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("source_name", sa.String(200), sa.ForeignKey("sources.name", ondelete="CASCADE"), nullable=False),
        sa.Column("uri", sa.String(2000), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(120), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("embedding_model", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(200), nullable=True),
        sa.Column("etag", sa.String(400), nullable=True),
        sa.Column("last_modified", sa.String(100), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=True),
        sa.Column("indexed_at", UtcDateTime(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.UniqueConstraint("source_name", "uri", name="uq_documents_source_uri"),
    )
    op.create_index("ix_documents_account_id", "documents", ["account_id"])
    op.create_table(
        "chunks",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("document_id", sa.String(64), sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("section", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("source_name", sa.String(200), nullable=False),
        sa.Column("uri", sa.String(2000), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_chunks_document", "chunks", ["document_id"])
    op.create_index("ix_chunks_source_name", "chunks", ["source_name"])
    _create_keyword_index()


def _create_keyword_index() -> None:
    """The keyword index holds analysed (lower-cased, stemmed) terms per chunk.

    SQLite: an FTS5 table ranked with bm25(). PostgreSQL: a tsvector on the 'simple'
    configuration (the terms are already stemmed per language) with a GIN index.
    """
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE chunk_terms USING fts5(chunk_id UNINDEXED, terms, tokenize='unicode61')")
    else:
        op.create_table(
            "chunk_terms",
            sa.Column("chunk_id", sa.String(64), sa.ForeignKey("chunks.id", ondelete="CASCADE"), primary_key=True),
            sa.Column("terms", sa.Text(), nullable=False),
        )
        op.execute("ALTER TABLE chunk_terms ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED")
        op.execute("CREATE INDEX ix_chunk_terms_tsv ON chunk_terms USING gin (tsv)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS chunk_terms")
    for table in ("chunks", "documents", "sync_runs", "cursors", "sources"):
        op.drop_table(table)
