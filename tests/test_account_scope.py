"""Account-scoped internal content: CRM notes reach only reps of that account, never visitors."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.container import build_container
from assistant.settings import load_settings
from connectors.base import Connector, Cursor, LoadResult
from knowledge.documents import SearchFilters, SourceDocument, Visibility
from knowledge.profiles import ProfileRecord, Ref

pytestmark = pytest.mark.slow


class NotesCursor(Cursor):
    done: bool = False


class NotesConnector(Connector[NotesCursor]):
    """A CRM-like connector: two accounts, each with an internal call note, plus a public page."""

    kind = "test-notes"
    cursor_model = NotesCursor

    def __init__(self, acme_note_account: str = "acme") -> None:
        self.acme_note_account = acme_note_account

    def load(self, cursor, known):  # type: ignore[no-untyped-def]
        yield ProfileRecord("account", "acme", {"name": "Acme"})
        yield ProfileRecord("account", "beta", {"name": "Beta"})
        notes = {
            "acme": "Call with Acme: the CFO wants a discount of 12 percent before signing the sensor gateway contract.",
            "beta": "Call with Beta: their IT lead asked whether the sensor gateway supports MQTT over TLS.",
        }
        for account, text in notes.items():
            owner = self.acme_note_account if account == "acme" else account
            yield SourceDocument(uri=f"crm/notes/{account}", content=text.encode(), media_type="text/plain",
                                 title=f"Call note {account}", visibility=Visibility.INTERNAL, account_id=Ref("account", owner))
        yield SourceDocument(uri="docs/gateway", content=b"# Sensor gateway\n\nThe sensor gateway speaks MQTT and OPC UA.",
                             media_type="text/markdown", title="Sensor gateway")
        return LoadResult(NotesCursor(done=True), complete=True)


def test_notes_are_scoped_to_their_account_and_hidden_from_visitors(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    container = build_container(load_settings(workspace=tmp_path / "ws", embedding={"specialists": {}}))
    container.__dict__["embedder"] = embedder  # the session's already-loaded model
    from connectors.runner import SyncRunner

    container.sync_state.register_source("crm", "files", {})
    report = SyncRunner(container.sync_state, container.indexer, profiles=container.profiles).run(
        "crm", NotesConnector(), Visibility.PUBLIC
    )
    assert report.records.total("added") == 2 and report.added == 3
    retriever = container.retriever
    query = "discount sensor gateway contract"

    def uris(filters: SearchFilters) -> set[str]:
        return {h.uri for h in retriever.search(query, 10, filters)}

    everything = uris(SearchFilters())
    assert {"crm/notes/acme", "crm/notes/beta", "docs/gateway"} <= everything
    assert uris(SearchFilters(visibility=("public",))) == {"docs/gateway"}  # a visitor never sees notes
    rep_of_acme = uris(SearchFilters(account_ids=("crm:account:acme",)))
    assert "crm/notes/acme" in rep_of_acme and "crm/notes/beta" not in rep_of_acme and "docs/gateway" in rep_of_acme
    assert "crm/notes/acme" not in uris(SearchFilters(account_ids=()))  # a rep with no accounts sees no notes
    hit = next(h for h in retriever.search(query, 10, SearchFilters(account_ids=("crm:account:acme",))) if h.uri == "crm/notes/acme")
    assert (hit.account_id, hit.visibility) == ("crm:account:acme", "internal")
    for mode in ("dense", "keyword"):
        found = {h.uri for h in retriever.search(query, 10, SearchFilters(account_ids=("crm:account:beta",)), mode)}
        assert "crm/notes/acme" not in found, mode

    # The note is moved to Beta in the CRM: same text, new account. No re-embedding, new scope.
    moved = SyncRunner(container.sync_state, container.indexer, profiles=container.profiles).run(
        "crm", NotesConnector(acme_note_account="beta"), Visibility.PUBLIC
    )
    assert moved.embedded == 0
    for mode in ("dense", "keyword", "hybrid"):
        assert "crm/notes/acme" not in {h.uri for h in retriever.search(query, 10, SearchFilters(account_ids=("crm:account:acme",)), mode)}
        assert "crm/notes/acme" in {h.uri for h in retriever.search(query, 10, SearchFilters(account_ids=("crm:account:beta",)), mode)}
    container.close()
