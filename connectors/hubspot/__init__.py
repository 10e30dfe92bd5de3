"""The HubSpot connector: CRM v3 companies, contacts, deals, owners, pipelines and
engagements (notes, calls, meetings, e-mails), incremental through the search API, with
associations read in full through the v4 associations API."""

from connectors.hubspot.client import HubSpotAuthError, HubSpotClient, HubSpotError, Page, RetryPolicy
from connectors.hubspot.config import HubSpotCursor, HubSpotRunStats, HubSpotSourceConfig, ObjectCursor
from connectors.hubspot.connector import HubSpotConnector
from connectors.hubspot.mapping import StageBook

__all__ = [
    "HubSpotAuthError",
    "HubSpotClient",
    "HubSpotConnector",
    "HubSpotCursor",
    "HubSpotError",
    "HubSpotRunStats",
    "HubSpotSourceConfig",
    "ObjectCursor",
    "Page",
    "RetryPolicy",
    "StageBook",
]
