"""Internal journey endpoints (Bearer ``api.keys``): classification, stage overrides, next best
actions and their outcomes."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from assistant.routes.auth import require_internal_key

router = APIRouter(prefix="/v1", tags=["journey"], dependencies=[Depends(require_internal_key)])
