"""HTTP routes of the API, one module per area; ``assistant.api`` includes their routers."""

from assistant.routes.accounts import router as accounts_router
from assistant.routes.events import router as events_router
from assistant.routes.journey import router as journey_router

__all__ = ["accounts_router", "events_router", "journey_router"]
