"""The web connector: a website, read through its sitemap or by following its links."""

from connectors.web.client import FetchResult, RetryPolicy, WebClient, WebFetchError
from connectors.web.config import WebCursor, WebRunStats, WebSourceConfig
from connectors.web.connector import WebConnector

__all__ = [
    "FetchResult",
    "RetryPolicy",
    "WebClient",
    "WebConnector",
    "WebCursor",
    "WebFetchError",
    "WebRunStats",
    "WebSourceConfig",
]
