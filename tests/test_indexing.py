"""Incremental sync through the real stack: files connector, loaders, the packaged embedding
model, Chroma and the keyword index, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.container import Container
from assistant.settings import Settings
from knowledge.documents import SearchFilters

pytestmark = pytest.mark.slow

PAGES = {
    "guide/install.md": "# Installation\n\nInstall the helpdesk with the package manager.\n\n## Requirements\n\nYou need PostgreSQL 15 and 4 GB of memory.\n",
    "guide/users.md": "# Users\n\nAdministrators invite agents by e-mail.\n\n## Roles\n\nEach agent gets a role that grants permissions.\n",
    "de/rechnungen.md": "# Rechnungen\n\nRechnungen werden monatlich per E-Mail verschickt. Die Zahlung erfolgt per Lastschrift oder Überweisung.\n",
    "notes.txt": "Internal note: the enterprise discount is 15 percent for three-year contracts.\n",
}


def write_pages(root: Path, pages: dict[str, str]) -> None:
    for relative, text in pages.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def container(tmp_path: Path, database_url: str, embedder: object) -> Container:
    settings = Settings(workspace=tmp_path / "ws", database={"url": database_url})
    container = Container(settings)
    container.__dict__["embedder"] = embedder  # share the session's loaded model
    yield container
    container.close()


def ingest(container: Container, root: Path, name: str = "docs", visibility: str = "public") -> dict:
    container.register_source(name, "files", {"root": str(root), "visibility": visibility})
    return container.sync(name).to_dict()


def test_first_sync_indexes_everything_and_search_finds_it(container: Container, tmp_path: Path) -> None:
    root = tmp_path / "docs"
    write_pages(root, PAGES)
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")  # unsupported type: skipped, not failed
    report = ingest(container, root)
    assert (report["added"], report["updated"], report["deleted"], report["failed"]) == (4, 0, 0, [])
    assert report["chunks"] == report["embedded"] >= 4
    assert container.vectors.count() == report["chunks"]

    hits = container.retriever.search("Which PostgreSQL version and how much memory are required?", k=3)
    assert hits[0].uri == "guide/install.md"
    assert hits[0].section == "Requirements"
    assert hits[0].title == "Installation"
    assert hits[0].source == "docs"
    german = container.retriever.search("Wie bezahle ich die Rechnung?", k=1)
    assert german[0].uri == "de/rechnungen.md" and german[0].language == "de"


def test_unchanged_resync_embeds_nothing(container: Container, tmp_path: Path) -> None:
    root = tmp_path / "docs"
    write_pages(root, PAGES)
    first = ingest(container, root)
    second = ingest(container, root)
    assert second["unchanged"] == 4
    assert (second["added"], second["updated"], second["deleted"], second["embedded"]) == (0, 0, 0, 0)
    # touching mtimes without changing content re-reads but still embeds nothing
    for path in root.rglob("*.md"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    third = ingest(container, root)
    assert (third["unchanged"], third["embedded"]) == (4, 0)
    assert container.vectors.count() == first["chunks"]


def test_changed_document_is_rechunked_and_only_new_chunks_embedded(container: Container, tmp_path: Path) -> None:
    root = tmp_path / "docs"
    write_pages(root, PAGES)
    ingest(container, root)
    changed = PAGES["guide/users.md"] + "\n## Deactivation\n\nDeactivated agents cannot log in anymore.\n"
    (root / "guide/users.md").write_text(changed, encoding="utf-8")
    report = ingest(container, root)
    assert (report["updated"], report["unchanged"], report["added"]) == (1, 3, 0)
    assert report["embedded"] == 1  # the two old sections keep their vectors
    hits = container.retriever.search("can a deactivated agent still sign in", k=1)
    assert (hits[0].uri, hits[0].section) == ("guide/users.md", "Deactivation")
    with container.db.session() as session:
        from sqlalchemy import func, select

        from knowledge.models import Chunk

        chunks = session.scalar(select(func.count()).select_from(Chunk))
    assert container.vectors.count() == chunks


def test_deleted_file_leaves_both_indexes(container: Container, tmp_path: Path) -> None:
    root = tmp_path / "docs"
    write_pages(root, PAGES)
    ingest(container, root)
    (root / "guide/install.md").unlink()
    report = ingest(container, root)
    assert report["deleted"] == 1
    for mode in ("dense", "keyword", "hybrid"):
        uris = {h.uri for h in container.retriever.search("install PostgreSQL requirements memory", k=10, mode=mode)}
        assert "guide/install.md" not in uris, mode
    assert container.vectors.count() == sum(s.chunks for s in container.sync_state.statuses())


def test_visibility_language_and_source_filters(container: Container, tmp_path: Path) -> None:
    public, internal = tmp_path / "public", tmp_path / "internal"
    write_pages(public, {k: v for k, v in PAGES.items() if k != "notes.txt"})
    write_pages(internal, {"notes.txt": PAGES["notes.txt"]})
    ingest(container, public, "site")
    ingest(container, internal, "crm-notes", visibility="internal")
    query = "enterprise discount for a three-year contract"
    for mode in ("dense", "keyword", "hybrid"):
        visible = container.retriever.search(query, k=10, filters=SearchFilters(visibility=("public",)), mode=mode)
        assert all(h.visibility == "public" for h in visible)
        assert "notes.txt" not in {h.uri for h in visible}
    assert container.retriever.search(query, k=1, filters=SearchFilters(visibility=("internal",)))[0].uri == "notes.txt"
    german = container.retriever.search("Zahlung", k=10, filters=SearchFilters(languages=("de",)))
    assert german and {h.language for h in german} == {"de"}
    only_site = container.retriever.search(query, k=10, filters=SearchFilters(sources=("site",)))
    assert {h.source for h in only_site} == {"site"}


def test_bad_files_are_reported_per_item_and_the_rest_is_indexed(container: Container, tmp_path: Path) -> None:
    root = tmp_path / "docs"
    write_pages(root, PAGES)
    (root / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2)
    (root / "latin1.txt").write_bytes("Größe und Maße der Geräte für Kunden".encode("latin-1"))
    (root / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (root / "empty.md").write_text("", encoding="utf-8")
    (root / "huge.txt").write_text("word " * 1000, encoding="utf-8")
    container.register_source("docs", "files", {"root": str(root), "max_bytes": 2048})
    report = container.sync("docs").to_dict()
    failed = {f["uri"]: f["reason"] for f in report["failed"]}
    assert set(failed) == {"binary.md", "broken.pdf", "empty.md", "huge.txt"}
    assert "binary" in failed["binary.md"]
    assert "too large" in failed["huge.txt"]
    assert report["added"] == 5  # the four pages and the latin-1 file (with a warning)
    assert any("latin1.txt" == w["uri"] for w in report["warnings"])


def test_crash_between_vector_write_and_commit_is_repaired(container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "docs"
    write_pages(root, PAGES)
    indexer = container.indexer

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("simulated crash after the vector upsert")

    monkeypatch.setattr(indexer, "_commit", crash)
    with pytest.raises(RuntimeError):
        ingest(container, root)
    assert container.vectors.count() > 0  # vectors written, nothing committed
    monkeypatch.undo()
    report = ingest(container, root)
    assert report["added"] == 4
    statuses = {s.name: s for s in container.sync_state.statuses()}
    assert statuses["docs"].last_status == "succeeded"
    assert container.vectors.count() == statuses["docs"].chunks


def test_orphaned_vectors_of_an_interrupted_run_are_reconciled(container: Container, tmp_path: Path) -> None:
    root = tmp_path / "docs"
    write_pages(root, PAGES)
    first = ingest(container, root)
    import numpy as np

    container.vectors.upsert(["orphan-1"], np.ones((1, 384), dtype=np.float32), [{"source": "docs", "visibility": "public"}])
    container.sync_state.start_run("docs")  # a run that never finished (its process is gone)
    with container.db.session() as session:
        from sqlalchemy import update

        from knowledge.models import SyncRun

        session.execute(update(SyncRun).where(SyncRun.status == "running").values(stats={"pid": 999_999_999, "host": "x"}))
    report = ingest(container, root)
    assert report["resumed"] is True
    assert container.vectors.count() == first["chunks"]


def test_english_specialist_holds_only_english_chunks_and_follows_deletes(container: Container, tmp_path: Path) -> None:
    root = tmp_path / "docs"
    write_pages(root, PAGES)
    ingest(container, root)
    specialist = container.specialists["en"]
    with container.db.session() as session:
        from sqlalchemy import func, select

        from knowledge.models import Chunk

        english = session.scalar(select(func.count()).select_from(Chunk).where(Chunk.language == "en"))
        german = session.scalar(select(func.count()).select_from(Chunk).where(Chunk.language == "de"))
    assert english and german
    assert specialist.vectors.count() == english
    hits = container.retriever.search("How much memory does the installation need?", k=1)
    assert hits[0].uri == "guide/install.md"
    (root / "guide/install.md").unlink()
    ingest(container, root)
    assert specialist.vectors.count() < english
    assert "guide/install.md" not in {h.uri for h in container.retriever.search("memory requirements", k=10)}


def test_changing_the_embedding_setup_reembeds_everything(tmp_path: Path, embedder: object) -> None:
    root = tmp_path / "docs"
    write_pages(root, PAGES)
    first = Container(Settings(workspace=tmp_path / "ws", embedding={"specialists": {}}))
    first.__dict__["embedder"] = embedder
    assert ingest(first, root)["embedded"] > 0
    first.close()
    second = Container(Settings(workspace=tmp_path / "ws"))  # now with the English specialist
    second.__dict__["embedder"] = embedder
    report = ingest(second, root)
    assert report["updated"] == 4 and report["embedded"] == report["chunks"]
    assert second.specialists["en"].vectors.count() > 0
    second.close()


def test_german_question_finds_a_page_that_exists_only_in_english(container: Container, tmp_path: Path) -> None:
    root = tmp_path / "docs"
    write_pages(root, {
        "de/benutzer.md": "# Benutzer\n\nAdministratoren laden Agenten per E-Mail ein und vergeben Rollen.\n",
        "de/gruppen.md": "# Gruppen\n\nGruppen bündeln Agenten. Jedes Ticket gehört zu genau einer Gruppe.\n",
        "de/einstellungen.md": "# Einstellungen\n\nAdministratoren ändern hier Einstellungen des Systems, etwa Sprache und Zeitzone.\n",
        "de/sicherheit.md": "# Sicherheit\n\nPasswortrichtlinien und Zwei-Faktor-Anmeldung schützen die Konten der Administratoren.\n",
        "en/audit-log.md": "# Audit log\n\nThe audit log records which administrator changed which setting and when, "
        "with the old and the new value. Entries are kept for twelve months.\n",
    })
    ingest(container, root)
    hits = container.retriever.search("Kann ich nachvollziehen, welcher Admin wann eine Einstellung geändert hat?", k=3)
    assert "en/audit-log.md" in [h.uri for h in hits]


def test_changing_chunk_size_rechunks_unchanged_documents(tmp_path: Path, embedder: object) -> None:
    root = tmp_path / "docs"
    write_pages(root, PAGES)
    first = Container(Settings(workspace=tmp_path / "ws", embedding={"specialists": {}}))
    first.__dict__["embedder"] = embedder
    ingest(first, root)
    first.close()
    smaller = Container(Settings(workspace=tmp_path / "ws", embedding={"specialists": {}}, ingest={"chunk_chars": 200}))
    smaller.__dict__["embedder"] = embedder
    report = ingest(smaller, root)
    assert report["updated"] == 4 and report["unchanged"] == 0
    smaller.close()


def test_making_unchanged_content_internal_hides_it_without_re_embedding(container: Container, tmp_path: Path) -> None:
    root = tmp_path / "docs"
    write_pages(root, PAGES)
    ingest(container, root)
    query = "enterprise discount for a three-year contract"
    public = SearchFilters(visibility=("public",))
    assert "notes.txt" in {h.uri for h in container.retriever.search(query, k=10, filters=public)}
    report = ingest(container, root, visibility="internal")  # same files, now internal
    assert report["embedded"] == 0 and report["unchanged"] == 4
    for mode in ("dense", "keyword", "hybrid"):
        assert container.retriever.search(query, k=10, filters=public, mode=mode) == [], mode
    hits = container.retriever.search(query, k=1, filters=SearchFilters(visibility=("internal",)), mode="dense")
    assert hits[0].uri == "notes.txt" and hits[0].visibility == "internal"
