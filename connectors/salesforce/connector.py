"""The Salesforce connector: CRM records through SOQL, incremental on SystemModstamp.

Each object is read with one query,
``SELECT … FROM Obj WHERE SystemModstamp > <cursor> ORDER BY SystemModstamp ASC``,
sent to ``/queryAll`` when the object has ``IsDeleted``. ``queryAll`` also returns the
records deleted (or merged away) since the cursor, with ``IsDeleted = true``; they become
tombstones. One query thus carries changes and deletions in one order under one cursor,
and needs no second time window as ``getDeleted`` would (which also only reaches 30 days
back). Records purged from the recycle bin before a sync saw them are caught by a full
sync: a run without a cursor lists everything and declares its entities complete, so the
runner removes stored records it did not name.

The cursor holds, per object, the last SystemModstamp fully processed: it moves only when
the object's query ran to its last page, and never past the org's clock minus
``modstamp_lag_seconds`` (late commits). A run that dies is rerun from the saved cursor;
records written before the crash come again and are unchanged by hash.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import httpx
from pydantic import Field

from connectors.base import Connector, Cursor, KnownDocument, LoadResult, SyncItem
from connectors.salesforce.client import SalesforceAuthError, SalesforceClient, SalesforceQueryError
from connectors.salesforce.config import SalesforceSourceConfig
from connectors.salesforce.objects import SPECS, SObjectSpec
from knowledge.profiles import ProfileRecord, RecordFailure, RecordTombstone


class SalesforceCursor(Cursor):
    """Per object name, the last SystemModstamp whose records were all read."""

    modstamps: dict[str, datetime] = Field(default_factory=dict)


def parse_modstamp(value: Any) -> datetime | None:
    """``2026-05-01T07:25:37.000+0000`` -> an aware datetime (None if unreadable)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def soql_datetime(value: datetime) -> str:
    """A SOQL dateTime literal. Sub-seconds are dropped, which can only re-read a record
    (``>`` a slightly earlier instant), never skip one."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_soql(sobject: str, fields: list[str], since: datetime | None) -> str:
    where = f" WHERE SystemModstamp > {soql_datetime(since)}" if since else ""
    return f"SELECT {', '.join(fields)} FROM {sobject}{where} ORDER BY SystemModstamp ASC"


@dataclass
class _ObjectRun:
    """How reading one object went: whether it listed everything (no cursor), whether
    its query ran to the last page, and the newest SystemModstamp it saw."""

    full_listing: bool
    finished: bool = False
    newest: datetime | None = None


def _complete_entities(runs: Mapping[str, _ObjectRun]) -> frozenset[str]:
    """Entities whose every object (Contact *and* Lead for contacts) was listed in full
    this run: stored records of theirs that the run did not name are gone at the source.
    An entity with an object left out of the config is never complete."""
    entities = {spec.entity for spec in SPECS.values()}
    return frozenset(
        entity for entity in entities
        if all(
            name in runs and runs[name].full_listing and runs[name].finished
            for name, spec in SPECS.items() if spec.entity == entity
        )
    )


class SalesforceConnector(Connector[SalesforceCursor]):
    """Syncs Users, Accounts, Contacts, Leads, Opportunities, contact roles, Tasks and
    Events of one org into owner, account, contact, deal, deal_contact and touchpoint
    records. Auth errors, rate limits and outages that outlast the retries stop the sync
    (the cursor stays where it was); a query Salesforce rejects fails that object only,
    reported with the object's name, and the other objects are still synced."""

    kind: ClassVar[str] = "salesforce"
    cursor_model: ClassVar[type[SalesforceCursor]] = SalesforceCursor
    delivers_documents: ClassVar[bool] = False

    def __init__(
        self,
        config: SalesforceSourceConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.config = config
        self._transport = transport
        self._sleep = sleep

    def load(
        self, cursor: SalesforceCursor | None, known: Mapping[str, KnownDocument]
    ) -> Generator[SyncItem, None, LoadResult[SalesforceCursor]]:
        modstamps = dict(cursor.modstamps) if cursor else {}
        runs: dict[str, _ObjectRun] = {}
        with self._open_client() as client:
            available = client.available_objects()
            for name in self.config.objects:
                since = modstamps.get(name)
                run = runs[name] = _ObjectRun(full_listing=since is None)
                yield from self._sync_object(client, SPECS[name], available, since, run)
                if run.finished and run.newest is not None:
                    settled = self._settled(run.newest, client)
                    modstamps[name] = max(settled, since) if since else settled  # never backwards
        complete = all(run.finished for run in runs.values())
        return LoadResult(SalesforceCursor(modstamps=modstamps), complete, _complete_entities(runs))

    def _open_client(self) -> SalesforceClient:
        config = self.config
        if config.access_token is None or not config.access_token.get_secret_value().strip():
            raise SalesforceAuthError(
                "no Salesforce access token: set salesforce.access_token (JOURNEY_SALESFORCE__ACCESS_TOKEN)"
            )
        extra: dict[str, Any] = {"sleep": self._sleep} if self._sleep is not None else {}
        return SalesforceClient(
            instance_url=config.instance_url,
            access_token=config.access_token.get_secret_value(),
            api_version=config.api_version,
            max_retries=config.max_retries,
            timeout_seconds=config.timeout_seconds,
            backoff_seconds=config.backoff_seconds,
            max_retry_wait_seconds=config.max_retry_wait_seconds,
            transport=self._transport,
            **extra,
        )

    def _settled(self, newest: datetime, client: SalesforceClient) -> datetime:
        """The cursor to keep: the newest SystemModstamp read, but no later than the org's
        clock minus the lag, so records committed late with an earlier stamp are re-read."""
        now = client.server_time or datetime.now(timezone.utc)
        return min(newest, now - timedelta(seconds=self.config.modstamp_lag_seconds))

    def _sync_object(
        self,
        client: SalesforceClient,
        spec: SObjectSpec,
        available: Mapping[str, Mapping[str, Any]],
        since: datetime | None,
        run: _ObjectRun,
    ) -> Generator[SyncItem, None, None]:
        info = available.get(spec.name)
        if info is None or info.get("queryable") is False:
            yield RecordFailure(spec.entity, f"salesforce:{spec.name}",
                                f"the org has no queryable {spec.name} object for this user; {spec.name} not synced")
            return
        try:
            fields = spec.readable_fields(client.field_types(spec.name))
            soql = build_soql(spec.name, fields, since)
            for page in client.query(soql, sobject=spec.name, include_deleted="IsDeleted" in fields):
                for record in page:
                    yield from self._items(spec, record, run)
        except SalesforceQueryError as exc:
            yield RecordFailure(spec.entity, f"salesforce:{spec.name}", f"{exc}; {spec.name} not synced this run")
            return
        run.finished = True

    @staticmethod
    def _items(spec: SObjectSpec, record: Mapping[str, Any], run: _ObjectRun) -> Generator[SyncItem, None, None]:
        record_id = record.get("Id")
        modstamp = parse_modstamp(record.get("SystemModstamp"))
        if not isinstance(record_id, str) or not record_id or modstamp is None:
            yield RecordFailure(spec.entity, f"salesforce:{spec.name}/{record_id or '?'}",
                                f"{spec.name} record without Id or SystemModstamp")
            return
        run.newest = modstamp if run.newest is None else max(run.newest, modstamp)
        if record.get("IsDeleted") is True:
            yield RecordTombstone(spec.entity, record_id)
            return
        values = spec.to_values(record)
        if values is None:
            return
        yield ProfileRecord(spec.entity, record_id, values)
