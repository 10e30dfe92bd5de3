"""Internal journey endpoints (Bearer ``api.keys``): classification, decisions and rep
overrides, next best actions and their outcomes. The same JSON as the CLI's ``--json``.

* ``POST /v1/journey/classify`` – body: the ``journey classify`` input object
* ``GET  /v1/contacts/{contact}/journey`` – stage and persona of a stored person (recorded)
* ``GET  /v1/contacts/{contact}/journey/history`` – their decision history
* ``POST /v1/contacts/{contact}/stage-override`` – ``{"stage", "by", "note", "product_line"}``
* ``GET  /v1/contacts/{contact}/next-actions?n=3&language=en&explore=true``
* ``POST /v1/actions/{proposal_id}/outcome`` – ``{"outcome": "accepted|dismissed|converted", "by", "note"}``
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from assistant.journey.classifier import InvalidJourneyInput
from assistant.journey.profile_input import ContactNotFound
from assistant.journey.service import MAX_ACTIONS, JourneyError, JourneyService, ProposalNotFound
from assistant.routes.auth import require_internal_key

router = APIRouter(prefix="/v1", tags=["journey"], dependencies=[Depends(require_internal_key)])
T = TypeVar("T")


class OverrideRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage: str = Field(min_length=1, max_length=60)
    by: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=2000)
    product_line: str | None = Field(default=None, max_length=120)


class OutcomeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["accepted", "dismissed", "converted"]
    by: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=2000)


def _service(request: Request) -> JourneyService:
    return request.app.state.container.journey  # type: ignore[no-any-return]


async def _call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking work off the event loop; known mistakes become 404/422 with the reason."""
    try:
        return await run_in_threadpool(function, *args, **kwargs)
    except (ContactNotFound, ProposalNotFound) as exc:
        raise HTTPException(404, str(exc).strip("'\"")) from None
    except (JourneyError, InvalidJourneyInput) as exc:
        raise HTTPException(422, str(exc)) from None


@router.post("/journey/classify")
async def classify(request: Request, body: Annotated[Any, Body()]) -> dict[str, Any]:
    return await _call(_service(request).classifier.classify_data, body)


@router.get("/contacts/{contact}/journey")
async def journey(request: Request, contact: str,
                  product_line: Annotated[str | None, Query(max_length=120)] = None) -> dict[str, Any]:
    assessment = await _call(_service(request).assess, contact, product_line=product_line)
    return assessment.to_dict()


@router.get("/contacts/{contact}/journey/history")
async def history(request: Request, contact: str, kind: Literal["stage", "persona"] | None = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[dict[str, Any]]:
    views = await _call(_service(request).history, contact, kind, limit)
    return [view.to_dict() for view in views]


@router.post("/contacts/{contact}/stage-override")
async def stage_override(request: Request, contact: str, body: OverrideRequest) -> dict[str, Any]:
    view = await _call(_service(request).override_stage, contact, body.stage, body.by, body.note, body.product_line)
    return view.to_dict()


@router.get("/contacts/{contact}/next-actions")
async def next_actions(request: Request, contact: str, n: Annotated[int, Query(ge=1, le=MAX_ACTIONS)] = 3,
                       language: Literal["en", "de"] = "en", explore: bool = True) -> dict[str, Any]:
    result = await _call(_service(request).next_actions, contact, n, explore=explore, language=language)
    return result.to_dict()


@router.post("/actions/{proposal_id}/outcome")
async def outcome(request: Request, proposal_id: str, body: OutcomeRequest) -> dict[str, Any]:
    return await _call(_service(request).record_outcome, proposal_id, body.outcome, body.by, body.note)
