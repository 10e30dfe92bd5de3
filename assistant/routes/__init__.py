"""HTTP routes of the API, one module per area; ``assistant.api`` includes their routers."""

from assistant.routes.events import router as events_router

__all__ = ["events_router"]
