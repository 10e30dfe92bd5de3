"""The composition root: settings in, wired stores, models and services out.

The CLI and the HTTP API both start here; tests build it on a ``tmp_path`` workspace.
Heavy parts (the embedding model, Chroma) are created on first use, so commands that do
not need them (``journey sources``) start instantly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from typing import Any

from pydantic import SecretStr

from assistant.journey.classifier import JourneyClassifier
from assistant.journey.service import JourneyService
from assistant.settings import Settings
from connectors.events import EventIngestor
from connectors.base import SourceConfig
from connectors.registry import build_connector, config_model
from connectors.runner import ProgressCallback, SyncReport, SyncRunner
from knowledge.db import Database
from knowledge.dense import DenseIndex
from knowledge.documents import Visibility
from knowledge.embeddings import Embedder, create_embedder
from knowledge.indexing import Indexer
from knowledge.keyword_index import KeywordIndex, keyword_index_for
from knowledge.profiles import ProfileStore
from knowledge.profiles.identity import IdentityResolver
from knowledge.retrieval import HybridRetriever
from knowledge.sync_state import SyncState
from knowledge.vectorstores import VectorIndex
from knowledge.vectorstores.chroma import ChromaVectorIndex, collection_name


SETTINGS_MANAGED_KINDS = ("hubspot", "salesforce")
"""Sources whose connection options and credentials live in the settings, not in the database."""


class Container:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.workspace.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.database_url, echo=settings.database.echo)
        self.db.migrate()
        self.sync_state = SyncState(self.db)
        self._journey_lock = threading.Lock()

    @cached_property
    def embedder(self) -> Embedder:
        options = self.settings.embedding
        return create_embedder(
            options.provider,
            model=options.model,
            batch_size=options.batch_size,
            base_url=options.base_url,
            api_key=options.api_key.get_secret_value() if options.api_key else None,
            threads=options.threads,
        )

    @cached_property
    def vectors(self) -> VectorIndex:
        return self._vector_index(collection_name(self.settings.vector_store.collection_prefix, self.embedder.name))

    @cached_property
    def specialists(self) -> dict[str, DenseIndex]:
        """Language specialists (see ``knowledge.dense``), loaded on first use."""
        store = self.settings.vector_store

        def builder(language: str, model: str) -> Callable[[], tuple[Embedder, VectorIndex]]:
            def build() -> tuple[Embedder, VectorIndex]:
                embedder = create_embedder("sentence-transformers", model=model, batch_size=self.settings.embedding.batch_size)
                name = collection_name(store.collection_prefix, f"{language}-{embedder.name}")
                return embedder, self._vector_index(name)

            return build

        return {
            language: DenseIndex(f"{language}={model}", builder(language, model))
            for language, model in sorted(self.settings.embedding.specialists.items())
        }

    def _vector_index(self, name: str) -> VectorIndex:
        store = self.settings.vector_store
        if store.mode == "server":
            return ChromaVectorIndex.server(store.host, store.port, store.ssl, name)
        return ChromaVectorIndex.embedded(self.settings.chroma_path, name)

    @cached_property
    def keywords(self) -> KeywordIndex:
        return keyword_index_for(self.db.dialect)

    @cached_property
    def indexer(self) -> Indexer:
        ingest = self.settings.ingest
        return Indexer(
            self.db,
            self.vectors,
            self.keywords,
            self.embedder,
            chunk_chars=ingest.chunk_chars,
            overlap_chars=ingest.chunk_overlap_chars,
            specialists=self.specialists,
        )

    @cached_property
    def retriever(self) -> HybridRetriever:
        options = self.settings.retrieval
        return HybridRetriever(
            self.db,
            self.vectors,
            self.keywords,
            self.embedder,
            rrf_k=options.rrf_k,
            candidates=options.candidates,
            dense_weight=options.dense_weight,
            keyword_weight=options.keyword_weight,
            one_hit_per_document=options.one_hit_per_document,
            specialists=self.specialists,
            specialist_weight=options.specialist_weight,
            cross_languages=tuple(options.cross_languages),
            cross_language_weight=options.cross_language_weight,
        )

    @cached_property
    def profiles(self) -> ProfileStore:
        return ProfileStore(self.db, identity=self.identity)

    @cached_property
    def identity(self) -> IdentityResolver:
        """Joins persons and accounts across sources; lists and undoes merges."""
        return IdentityResolver(self.db, self.settings.identity)

    @cached_property
    def events(self) -> EventIngestor:
        """The Segment-compatible event service: an inbox, processed into profiles by a worker process."""
        return EventIngestor.with_worker(self.db, self.sync_state, self.profiles, self.settings.events.source_name,
                                         self.settings.identity)

    @cached_property
    def classifier(self) -> JourneyClassifier:
        """Stage and persona detection on the configured playbook (loaded once, also when the
        first API requests arrive together)."""
        with self._journey_lock:
            if "classifier" in self.__dict__:
                return self.__dict__["classifier"]  # type: ignore[no-any-return]
            options = self.settings.journey
            return JourneyClassifier.from_path(options.playbook_path, semantic=options.semantic,
                                              cache_dir=self.settings.workspace / "journey")

    @cached_property
    def journey(self) -> JourneyService:
        """Stage and persona decisions with their history, next best actions and their outcomes."""
        classifier = self.classifier
        with self._journey_lock:
            if "journey" in self.__dict__:
                return self.__dict__["journey"]  # type: ignore[no-any-return]
            return JourneyService(self.db, classifier)

    def sync(self, source: str, progress: ProgressCallback | None = None) -> SyncReport:
        """Run the connector of a registered source into the indexes and the profile store."""
        row = self.sync_state.get_source(source)
        if row is None:
            raise KeyError(f"no source called {source!r}; see `journey sources`")
        if row.kind == "events":  # pushed events: process what the inbox holds
            return self.events.process()
        config, connector = build_connector(row.kind, {**row.config, **self._settings_config(row.kind)})
        visibility = Visibility(getattr(config, "visibility", Visibility.PUBLIC))
        runner = SyncRunner(
            self.sync_state,
            lambda: self.indexer,
            batch_chunks=self.settings.ingest.batch_chunks,
            batch_records=self.settings.ingest.batch_records,
            progress=progress,
            profiles=self.profiles,
        )
        return runner.run(source, connector, visibility)

    def register_source(self, name: str, kind: str, config: dict[str, Any]) -> None:
        """Validate and store a source's config. Secrets (access tokens) are never stored:
        settings-managed sources get them from the settings each time they sync."""
        validated, _ = build_connector(kind, {**config, **self._settings_config(kind)})
        stored = validated.stored_config() if isinstance(validated, SourceConfig) else validated.model_dump(mode="json")
        self.sync_state.register_source(name, kind, stored)

    def crm_source(self, kind: str) -> str:
        """Register the HubSpot or Salesforce source described by the settings (if it is not
        registered yet) and return its name."""
        section = getattr(self.settings, kind, None)
        if kind not in SETTINGS_MANAGED_KINDS or section is None:
            raise ValueError(f"{kind!r} is not a CRM configured in settings; known: {', '.join(SETTINGS_MANAGED_KINDS)}")
        token = getattr(section, "access_token", None)
        if token is None or not token.get_secret_value():
            variable = f"JOURNEY_{kind.upper()}__ACCESS_TOKEN"
            raise ValueError(f"no {kind} access token: set {variable} or `access_token` in the [{kind}] table of journey.toml")
        if kind == "salesforce" and not section.instance_url:
            raise ValueError("no Salesforce instance URL: set JOURNEY_SALESFORCE__INSTANCE_URL or `instance_url` "
                             "in the [salesforce] table of journey.toml")
        name: str = section.source_name
        existing = self.sync_state.get_source(name)
        if existing is not None and existing.kind != kind:
            raise ValueError(f"source {name!r} is a {existing.kind} source; set {kind}.source_name to another name")
        self.register_source(name, kind, {})
        return name

    def _settings_config(self, kind: str) -> dict[str, Any]:
        """The connection options a settings-managed source takes from the settings."""
        if kind not in SETTINGS_MANAGED_KINDS:
            return {}
        section = getattr(self.settings, kind)
        values: dict[str, Any] = {}
        for key, value in section:
            if key == "source_name":
                continue
            values[key] = value.get_secret_value() if isinstance(value, SecretStr) else value
        accepted = config_model(kind).model_fields
        return {k: v for k, v in values.items() if v is not None and k in accepted}

    def close(self) -> None:
        if "events" in self.__dict__:
            self.events.close()
        self.db.dispose()


def build_container(settings: Settings) -> Container:
    return Container(settings)
