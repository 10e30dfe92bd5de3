"""SQLAlchemy 2 models of the profile store's bookkeeping tables.

The CRM tables (accounts, contacts, deals, touchpoints...) join this same ``Base`` later.
Every row keeps the source it came from, so a source can be re-synced or removed whole.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UtcDateTime}


class Source(Base):
    """A configured connector instance (a docs folder, a website, later a CRM)."""

    __tablename__ = "sources"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    cursor: Mapped[SourceCursor | None] = relationship(
        back_populates="source", cascade="all, delete-orphan", uselist=False
    )


class SourceCursor(Base):
    """The checkpoint a connector returned after its last fully written sync."""

    __tablename__ = "cursors"

    source_name: Mapped[str] = mapped_column(
        ForeignKey("sources.name", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    source: Mapped[Source] = relationship(back_populates="cursor")


class SyncRun(Base):
    """One run of a connector: when, how it ended, what it counted and what failed."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_name: Mapped[str] = mapped_column(ForeignKey("sources.name", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    failures: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class Document(Base):
    """A document as indexed: its hashes decide whether a re-sync must touch it."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("source_name", "uri", name="uq_documents_source_uri"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_name: Mapped[str] = mapped_column(ForeignKey("sources.name", ondelete="CASCADE"))
    uri: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(Text, default="")
    media_type: Mapped[str | None] = mapped_column(String(120), default=None)
    language: Mapped[str] = mapped_column(String(8), default="und")
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    account_id: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    embedding_model: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str | None] = mapped_column(String(200), default=None)
    etag: Mapped[str | None] = mapped_column(String(400), default=None)
    last_modified: Mapped[str | None] = mapped_column(String(100), default=None)
    updated_at: Mapped[datetime | None] = mapped_column(default=None)
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)

    chunks: Mapped[list[Chunk]] = relationship(
        back_populates="document", cascade="all, delete-orphan", passive_deletes=True
    )


class Chunk(Base):
    """A retrievable passage. Its id is derived from its content, so an unchanged chunk of a
    changed document keeps its id and its embedding."""

    __tablename__ = "chunks"
    __table_args__ = (Index("ix_chunks_document", "document_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    ordinal: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(200), index=True)
    uri: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="und")
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    account_id: Mapped[str | None] = mapped_column(String(200), default=None)
    updated_at: Mapped[datetime | None] = mapped_column(default=None)

    document: Mapped[Document] = relationship(back_populates="chunks")
