"""Internal account endpoints (Bearer ``api.keys``): buying committees. Filled in by the committee work."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from assistant.routes.auth import require_internal_key

router = APIRouter(prefix="/v1", tags=["accounts"], dependencies=[Depends(require_internal_key)])
