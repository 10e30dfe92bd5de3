"""The HTTP API (FastAPI). Routes get their services from the app's container, built once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool

from assistant.container import Container
from assistant.routes import accounts_router, events_router, journey_router
from knowledge.documents import SearchFilters, Visibility


def _container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


def create_app(container: Container) -> FastAPI:
    app = FastAPI(title="Journey Assistant", version="0.1.0")
    app.state.container = container
    app.include_router(events_router)
    app.include_router(journey_router)
    app.include_router(accounts_router)

    @app.get("/healthz")
    def healthz(request: Request) -> dict[str, Any]:
        statuses = _container(request).sync_state.statuses()
        return {
            "status": "ok",
            "sources": len(statuses),
            "documents": sum(s.documents for s in statuses),
            "chunks": sum(s.chunks for s in statuses),
            "records": sum(s.records for s in statuses),
        }

    @app.get("/v1/search")
    async def search(
        request: Request,
        q: Annotated[str, Query(min_length=1, max_length=2000, description="The question or keywords.")],
        k: Annotated[int, Query(ge=1, le=100)] = 5,
        visibility: Visibility | None = None,
        language: Annotated[str | None, Query(pattern=r"^[a-z]{2}$")] = None,
        source: Annotated[list[str] | None, Query()] = None,
        account: Annotated[list[str] | None, Query(description="Account ids whose internal content may appear.")] = None,
    ) -> list[dict[str, Any]]:
        filters = SearchFilters.of(visibility.value if visibility else None, language, source, account)
        retriever = _container(request).retriever
        hits = await run_in_threadpool(retriever.search, q, k, filters)
        return [hit.to_dict() for hit in hits]

    return app
