"""Which connector class and config model serve each source kind (imported lazily)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from connectors.base import Connector


def _files() -> tuple[type[BaseModel], Callable[[Any], Connector[Any]]]:
    from connectors.files import FilesConnector, FilesSourceConfig

    return FilesSourceConfig, FilesConnector


def _web() -> tuple[type[BaseModel], Callable[[Any], Connector[Any]]]:
    from connectors.web import WebConnector, WebSourceConfig

    return WebSourceConfig, WebConnector


def _salesforce() -> tuple[type[BaseModel], Callable[[Any], Connector[Any]]]:
    from connectors.salesforce import SalesforceConnector, SalesforceSourceConfig

    return SalesforceSourceConfig, SalesforceConnector


def _csv() -> tuple[type[BaseModel], Callable[[Any], Connector[Any]]]:
    from connectors.csv import CsvConnector, CsvSourceConfig

    return CsvSourceConfig, CsvConnector


def _hubspot() -> tuple[type[BaseModel], Callable[[Any], Connector[Any]]]:
    from connectors.hubspot import HubSpotConnector, HubSpotSourceConfig

    return HubSpotSourceConfig, HubSpotConnector


CONNECTOR_KINDS: dict[str, Callable[[], tuple[type[BaseModel], Callable[[Any], Connector[Any]]]]] = {
    "files": _files,
    "web": _web,
    "hubspot": _hubspot,
    "csv": _csv,
    "salesforce": _salesforce,
}


def config_model(kind: str) -> type[BaseModel]:
    """The pydantic model of a source kind's config."""
    try:
        loader = CONNECTOR_KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown source kind {kind!r}; known: {', '.join(sorted(CONNECTOR_KINDS))}") from None
    return loader()[0]


def build_connector(kind: str, config: dict[str, Any]) -> tuple[BaseModel, Connector[Any]]:
    """Validate ``config`` for ``kind`` and build the connector."""
    try:
        loader = CONNECTOR_KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown source kind {kind!r}; known: {', '.join(sorted(CONNECTOR_KINDS))}") from None
    config_model, connector_class = loader()
    validated = config_model.model_validate(config)
    return validated, connector_class(validated)
