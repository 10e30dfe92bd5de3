"""Hash-diff indexing into the profile store, the keyword index and the vector index.

Write order, chosen so a process killed at any instant leaves nothing a re-run cannot fix:
1. embed the chunks whose content is new and upsert them into the vector index (idempotent:
   chunk ids are derived from content);
2. in one database transaction, replace the document row, its chunk rows and its keyword
   terms: this commit is the moment the document counts as indexed;
3. delete the vectors of chunks that no longer exist.
A kill before 2 leaves unreferenced vectors and an old document hash, so the next run redoes
the document; a kill before 3 leaves unreferenced vectors, which search ignores (hits are
read back through the chunk table) and ``reconcile`` removes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update

from knowledge.chunking import chunk_document, embedding_text
from knowledge.db import Database
from knowledge.dense import DenseIndex
from knowledge.documents import ChunkDraft, KnownDocument, SourceDocument, Visibility
from knowledge.embeddings import Embedder
from knowledge.keyword_index import KeywordIndex
from knowledge.language import UNDETERMINED, detect_language
from knowledge.loaders import load_document
from knowledge.models import Chunk, Document, utcnow
from knowledge.text_analysis import analyze_document
from knowledge.vectorstores import VectorIndex


# Bump when loaders or chunking change what a document becomes: every document is then
# re-processed on its next sync even though its bytes did not change.
PIPELINE_VERSION = 2


def document_id(source: str, uri: str) -> str:
    return hashlib.sha256(f"{source}\x00{uri}".encode()).hexdigest()[:32]


def chunk_ids(doc_id: str, drafts: Sequence[ChunkDraft]) -> list[str]:
    """Content-derived ids; identical chunks in one document are told apart by occurrence."""
    seen: dict[str, int] = {}
    ids = []
    for draft in drafts:
        occurrence = seen.get(draft.content_hash, 0)
        seen[draft.content_hash] = occurrence + 1
        ids.append(hashlib.sha256(f"{doc_id}:{draft.content_hash}:{occurrence}".encode()).hexdigest()[:32])
    return ids


@dataclass
class PreparedDocument:
    """A parsed and chunked document waiting to be embedded and written."""

    source: SourceDocument
    title: str
    language: str
    visibility: str
    drafts: list[ChunkDraft]
    warnings: tuple[str, ...] = ()


@dataclass
class WriteResult:
    added: int = 0
    updated: int = 0
    chunks: int = 0
    embedded: int = 0
    uris_added: list[str] = field(default_factory=list)


class Indexer:
    def __init__(
        self,
        db: Database,
        vectors: VectorIndex,
        keywords: KeywordIndex,
        embedder: Embedder,
        *,
        chunk_chars: int = 1000,
        overlap_chars: int = 150,
        specialists: Mapping[str, DenseIndex] | None = None,
    ) -> None:
        self._db = db
        self._vectors = vectors
        self._keywords = keywords
        self._embedder = embedder
        self._chunk_chars = chunk_chars
        self._overlap_chars = overlap_chars
        self._specialists = dict(specialists or {})

    @property
    def embedding_model(self) -> str:
        """How a document's chunks and vectors were made (models, chunk sizes, pipeline
        version); a document indexed any other way is re-processed on its next sync."""
        return "|".join([
            self._embedder.name,
            *(s.signature for s in self._specialists.values()),
            f"chunks={self._chunk_chars}/{self._overlap_chars}",
            f"pipeline={PIPELINE_VERSION}",
        ])

    def _all_vectors(self) -> list[VectorIndex]:
        return [self._vectors, *(s.vectors for s in self._specialists.values())]

    def prepare(self, doc: SourceDocument, default_visibility: Visibility) -> PreparedDocument:
        """Parse, detect the language and chunk; raises ``LoaderError`` for unreadable input."""
        parsed = load_document(doc)
        language = detect_language(parsed.text)
        drafts = chunk_document(parsed, self._chunk_chars, self._overlap_chars)
        return PreparedDocument(
            source=doc,
            title=doc.title or parsed.title,
            language=language,
            visibility=str(doc.visibility or default_visibility),
            drafts=drafts,
            warnings=parsed.warnings,
        )

    def known_documents(self, source: str) -> dict[str, KnownDocument]:
        """What is indexed for ``source``; documents embedded by another model count as changed."""
        with self._db.session() as session:
            rows = session.execute(
                select(
                    Document.uri,
                    Document.content_hash,
                    Document.fingerprint,
                    Document.etag,
                    Document.last_modified,
                    Document.embedding_model,
                    Document.visibility,
                    Document.account_id,
                ).where(Document.source_name == source)
            ).all()
        current = self.embedding_model
        return {
            uri: KnownDocument(uri, digest, fingerprint, etag, modified, visibility, account)
            if model == current
            else KnownDocument(uri, f"stale:{model}")
            for uri, digest, fingerprint, etag, modified, model, visibility, account in rows
        }

    def touch(self, source: str, doc: SourceDocument) -> None:
        """Content unchanged: only refresh what the connector uses to detect change."""
        with self._db.session() as session:
            row = session.get(Document, document_id(source, doc.uri))
            if row is not None:
                row.fingerprint, row.etag, row.last_modified = doc.fingerprint, doc.etag, doc.last_modified

    def restamp(self, source: str, uri: str, visibility: str, account_id: str | None) -> bool:
        """Content unchanged, access changed (made internal, note moved to another account):
        update document, chunks and vector metadata without re-embedding. Vectors first:
        search re-applies the filters in SQL, so a crash in between never widens access,
        and the next sync sees the old access in the database and repeats this."""
        doc_id = document_id(source, uri)
        with self._db.session() as session:
            row = session.get(Document, doc_id)
            if row is None or (row.visibility, row.account_id) == (visibility, account_id):
                return False
            chunks = session.execute(select(Chunk.id, Chunk.language).where(Chunk.document_id == doc_id)).tuples().all()
        meta = {"document_id": doc_id, "source": source, "visibility": visibility, "account_id": account_id or "", "uri": uri}
        self._vectors.update_metadata([cid for cid, _ in chunks], [meta | {"language": lang} for _, lang in chunks])
        for language, specialist in self._specialists.items():
            mine = [cid for cid, lang in chunks if lang == language]
            if mine:
                specialist.vectors.update_metadata(mine, [meta | {"language": language} for _ in mine])
        with self._db.session() as session:
            session.execute(update(Document).where(Document.id == doc_id).values(visibility=visibility, account_id=account_id))
            session.execute(update(Chunk).where(Chunk.document_id == doc_id).values(visibility=visibility, account_id=account_id))
        return True

    def write(self, source: str, docs: Sequence[PreparedDocument]) -> WriteResult:
        """Embed and store a batch of changed or new documents (see the module docstring)."""
        result = WriteResult()
        if not docs:
            return result
        doc_ids = [document_id(source, d.source.uri) for d in docs]
        with self._db.session() as session:
            existing = session.execute(
                select(Chunk.document_id, Chunk.id).where(Chunk.document_id.in_(doc_ids))
            ).all()
            models = dict(
                session.execute(select(Document.id, Document.embedding_model).where(Document.id.in_(doc_ids))).all()
            )
        old_ids: dict[str, set[str]] = {doc_id: set() for doc_id in doc_ids}
        for doc_id, chunk_id in existing:
            old_ids[doc_id].add(chunk_id)
        plans = [self._plan(source, doc_id, doc, old_ids[doc_id], models.get(doc_id)) for doc_id, doc in zip(doc_ids, docs, strict=True)]
        result.embedded = self._embed_and_upsert(plans)
        self._commit(source, plans, result)
        stale = [cid for plan in plans for cid in plan.old_ids - set(plan.ids)]
        for vectors in self._all_vectors():
            vectors.delete(stale)
        return result

    def delete(self, source: str, uris: Iterable[str]) -> int:
        """Remove documents from every index; returns how many existed."""
        doc_ids = [document_id(source, uri) for uri in uris]
        if not doc_ids:
            return 0
        with self._db.session() as session:
            ids = list(session.scalars(select(Chunk.id).where(Chunk.document_id.in_(doc_ids))))
            self._keywords.delete(session, ids)
            session.execute(delete(Chunk).where(Chunk.document_id.in_(doc_ids)))
            removed = session.execute(delete(Document).where(Document.id.in_(doc_ids))).rowcount
        for vectors in self._all_vectors():
            vectors.delete(ids)
        return int(removed or 0)

    def reconcile(self, source: str) -> int:
        """Delete vectors of ``source`` that no chunk row references (left by a crash)."""
        with self._db.session() as session:
            referenced = set(session.scalars(select(Chunk.id).where(Chunk.source_name == source)))
        removed = 0
        for vectors in self._all_vectors():
            orphans = sorted(vectors.ids_for_source(source) - referenced)
            vectors.delete(orphans)
            removed += len(orphans)
        return removed

    # -- internals -------------------------------------------------------------------------

    def _plan(self, source: str, doc_id: str, doc: PreparedDocument, old: set[str], model: str | None) -> _Plan:
        ids = chunk_ids(doc_id, doc.drafts)
        reusable = old if model == self.embedding_model else set()
        metadata = [
            {
                "document_id": doc_id,
                "source": source,
                "visibility": doc.visibility,
                "language": doc.language or UNDETERMINED,
                "account_id": doc.source.account_id or "",
                "uri": doc.source.uri,
            }
            for _ in ids
        ]
        return _Plan(doc_id, doc, ids, metadata, old, reusable, existed=model is not None)

    def _embed_and_upsert(self, plans: Sequence[_Plan]) -> int:
        new: list[tuple[str, str, dict[str, Any]]] = []
        kept: list[tuple[str, dict[str, Any]]] = []
        for plan in plans:
            for chunk_id, draft, meta in zip(plan.ids, plan.doc.drafts, plan.metadata, strict=True):
                if chunk_id in plan.reusable:
                    kept.append((chunk_id, meta))
                else:
                    new.append((chunk_id, embedding_text(plan.doc.title, draft.section, draft.text), meta))
        if new:
            vectors = self._embedder.embed_documents([text for _, text, _ in new])
            self._vectors.upsert([cid for cid, _, _ in new], vectors, [meta for _, _, meta in new])
        if kept:
            # Title, visibility or account may have changed while the text did not.
            self._vectors.update_metadata([cid for cid, _ in kept], [meta for _, meta in kept])
        for language, specialist in self._specialists.items():
            self._embed_for_specialist(language, specialist, plans)
        return len(new)

    def _embed_for_specialist(self, language: str, specialist: DenseIndex, plans: Sequence[_Plan]) -> None:
        """A specialist re-embeds every chunk of a changed document in its language: it is
        small and fast, and this keeps it free of per-chunk reuse bookkeeping."""
        rows = [
            (chunk_id, embedding_text(plan.doc.title, draft.section, draft.text), meta)
            for plan in plans
            if plan.doc.language == language
            for chunk_id, draft, meta in zip(plan.ids, plan.doc.drafts, plan.metadata, strict=True)
        ]
        if rows:
            vectors = specialist.embedder.embed_documents([text for _, text, _ in rows])
            specialist.vectors.upsert([cid for cid, _, _ in rows], vectors, [meta for _, _, meta in rows])

    def _commit(self, source: str, plans: Sequence[_Plan], result: WriteResult) -> None:
        now = utcnow()
        with self._db.session() as session:
            for plan in plans:
                self._keywords.delete(session, sorted(plan.old_ids))
                session.execute(delete(Chunk).where(Chunk.document_id == plan.doc_id))
                session.merge(self._document_row(source, plan, now))
                session.add_all(self._chunk_rows(source, plan))
                session.flush()
                self._keywords.add(
                    session,
                    [
                        (cid, analyze_document(f"{plan.doc.title} {d.section} {d.text}", plan.doc.language))
                        for cid, d in zip(plan.ids, plan.doc.drafts, strict=True)
                    ],
                )
                result.chunks += len(plan.ids)
                if plan.existed:
                    result.updated += 1
                else:
                    result.added += 1
                    result.uris_added.append(plan.doc.source.uri)

    def _document_row(self, source: str, plan: _Plan, now: Any) -> Document:
        doc = plan.doc.source
        return Document(
            id=plan.doc_id,
            source_name=source,
            uri=doc.uri,
            title=plan.doc.title,
            media_type=doc.media_type,
            language=plan.doc.language,
            visibility=plan.doc.visibility,
            account_id=doc.account_id,
            content_hash=doc.content_hash,
            embedding_model=self.embedding_model,
            fingerprint=doc.fingerprint,
            etag=doc.etag,
            last_modified=doc.last_modified,
            updated_at=doc.updated_at,
            indexed_at=now,
            chunk_count=len(plan.ids),
        )

    def _chunk_rows(self, source: str, plan: _Plan) -> list[Chunk]:
        doc = plan.doc
        return [
            Chunk(
                id=cid,
                document_id=plan.doc_id,
                ordinal=draft.ordinal,
                section=draft.section,
                text=draft.text,
                content_hash=draft.content_hash,
                source_name=source,
                uri=doc.source.uri,
                title=doc.title,
                language=doc.language,
                visibility=doc.visibility,
                account_id=doc.source.account_id,
                updated_at=doc.source.updated_at,
            )
            for cid, draft in zip(plan.ids, doc.drafts, strict=True)
        ]


@dataclass
class _Plan:
    doc_id: str
    doc: PreparedDocument
    ids: list[str]
    metadata: list[dict[str, Any]]
    old_ids: set[str]
    reusable: set[str]
    existed: bool
