"""Internal account endpoints (Bearer ``api.keys``): buying committees."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from assistant.container import Container
from assistant.journey.committee import DEFAULT_ENGAGED_DAYS, BuyingCommittee, buying_committee
from assistant.routes.auth import require_internal_key
from knowledge.profiles.queries import AccountNotFound, ProfileQueries

router = APIRouter(prefix="/v1", tags=["accounts"], dependencies=[Depends(require_internal_key)])


def _committee(container: Container, account: str, now: datetime | None, engaged_days: int) -> BuyingCommittee:
    """Runs in a worker thread: the classifier (and its model) loads there on first use, and only
    once the account is known."""
    account_id = ProfileQueries(container.db).find_account(account)
    return buying_committee(container.db, container.classifier, account_id, now=now, engaged_days=engaged_days)


@router.get("/accounts/{account:path}/committee", response_model=None)
async def committee(
    request: Request,
    account: str,
    now: Annotated[datetime | None, Query(description="Judge engagement as of this time (default: now).")] = None,
    engaged_days: Annotated[int, Query(ge=1, le=3650, description="Engaged = a touchpoint or message within this many days.")] = DEFAULT_ENGAGED_DAYS,
) -> dict[str, Any] | JSONResponse:
    """The account's buying committee: members with roles, personas, stages and engagement, the
    champion and the risks. ``account`` is an id, a source id or a close-enough name."""
    container: Container = request.app.state.container
    try:
        result = await run_in_threadpool(_committee, container, account, now, engaged_days)
    except AccountNotFound as exc:
        return JSONResponse({"detail": str(exc), "candidates": exc.candidates}, status_code=404)
    return result.to_dict()
