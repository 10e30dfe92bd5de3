"""The Salesforce connector: CRM records of one org through REST SOQL queries."""

from connectors.salesforce.client import (
    SalesforceAuthError,
    SalesforceClient,
    SalesforceError,
    SalesforceQueryError,
    SalesforceRateLimited,
    SalesforceUnavailable,
)
from connectors.salesforce.config import SYNCED_OBJECTS, SalesforceSourceConfig
from connectors.salesforce.connector import SalesforceConnector, SalesforceCursor

__all__ = [
    "SYNCED_OBJECTS",
    "SalesforceAuthError",
    "SalesforceClient",
    "SalesforceConnector",
    "SalesforceCursor",
    "SalesforceError",
    "SalesforceQueryError",
    "SalesforceRateLimited",
    "SalesforceSourceConfig",
    "SalesforceUnavailable",
]
