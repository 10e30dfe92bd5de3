"""What a web source is configured with, and what one sync of it leaves behind."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.base import Cursor
from connectors.web.urls import normalise_url
from knowledge.documents import Visibility

DEFAULT_USER_AGENT = "JourneyAssistantBot/0.1 (+https://github.com/journey-assistant)"


class WebSourceConfig(BaseModel):
    """One website to index, read through its sitemap or by following its links."""

    model_config = ConfigDict(extra="forbid")

    start_url: str = Field(description="Home page, docs root, or a sitemap URL (*.xml).")
    mode: Literal["auto", "sitemap", "crawl"] = Field(
        "auto",
        description="auto: a sitemap if the start URL is one, robots.txt lists one or "
        "/sitemap.xml exists, else crawl links from the start URL.",
    )
    include: list[str] = Field(
        default_factory=list, description="URL path globs to index, e.g. /docs/*."
    )
    exclude: list[str] = Field(
        default_factory=list, description="URL path globs never to visit, e.g. /blog/*."
    )
    max_pages: int = Field(2000, ge=1, description="Pages fetched per run at most.")
    max_depth: int = Field(10, ge=0, description="Link hops from the start URL (crawl).")
    requests_per_second: float = Field(
        4.0, gt=0, description="Polite rate for every request of a run; a larger "
        "robots.txt Crawl-delay wins."
    )
    timeout_seconds: float = Field(15.0, gt=0, description="Connect/read timeout.")
    user_agent: str = DEFAULT_USER_AGENT
    max_bytes: int = Field(
        10 * 1024 * 1024, ge=1, description="Larger pages are reported, not indexed."
    )
    visibility: Visibility = Visibility.PUBLIC
    include_pdfs: bool = Field(
        True, description="Index application/pdf answers and follow links to .pdf files."
    )
    retry_attempts: int = Field(3, ge=1, description="Tries per request on transient errors.")
    retry_backoff_seconds: float = Field(
        0.5, ge=0, description="First wait between tries; doubles each time."
    )
    max_retry_wait_seconds: float = Field(
        30.0, ge=0, description="Cap on one wait, including a server's Retry-After."
    )

    @field_validator("start_url")
    @classmethod
    def _must_be_http_url(cls, value: str) -> str:
        normalised = normalise_url(value)
        if normalised is None:
            raise ValueError("start_url must be an http(s) URL with a host")
        return normalised


class WebRunStats(BaseModel):
    """Counts from one run, for the sync report."""

    pages_fetched: int = 0
    documents: int = 0
    unchanged: int = 0
    tombstones: int = 0
    failures: int = 0
    robots_disallowed: int = 0
    noindex: int = 0
    duplicates: int = 0
    skipped: int = 0  # unknown 404s, unsupported media types, refused redirects


class WebCursor(Cursor):
    """The web connector re-lists the whole site every run, so the cursor is a record
    of the last run rather than a resume point."""

    last_run_started: datetime | None = None
    last_run_finished: datetime | None = None
    listing: Literal["sitemap", "crawl"] | None = None
    complete: bool = False
    stats: WebRunStats = Field(default_factory=WebRunStats)
