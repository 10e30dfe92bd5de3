"""Who may call the internal endpoints: holders of one of the ``api.keys`` (Bearer).

Website visitors only ever reach the public endpoints (search of public content, the event
API with its write keys). Everything that shows CRM data or changes journey records requires
a key; with no key configured those endpoints answer 403 and say how to enable them.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from assistant.settings import ApiSettings


def require_internal_key(request: Request) -> None:
    """FastAPI dependency: 401 without a valid Bearer key, 403 when no keys are configured."""
    settings: ApiSettings = request.app.state.container.settings.api
    if not settings.keys:
        raise HTTPException(403, "internal endpoints are disabled: set api.keys (JOURNEY_API__KEYS) to enable them")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "send an internal API key as 'Authorization: Bearer KEY'",
                            headers={"WWW-Authenticate": "Bearer"})
    presented = token.strip().encode()
    if not any(hmac.compare_digest(presented, key.get_secret_value().encode()) for key in settings.keys):
        raise HTTPException(401, "unknown API key", headers={"WWW-Authenticate": "Bearer"})
