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

Tasks and Events with a description also become internal documents of their account (see
``activities``). A run lists every document only when it read Task and Event in full, so
only such a run says ``complete`` (an incremental run, or one with Task or Event left out,
must not have the runner delete the notes it did not re-read); other runs remove a note
through a ``Tombstone`` when its activity was deleted or lost its text or its account.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import httpx
from pydantic import Field

from connectors.base import Connector, Cursor, KnownDocument, LoadResult, SyncItem
from connectors.salesforce.activities import (
    ACTIVITY_OBJECTS,
    activity_account,
    activity_document,
    activity_text,
    activity_uri,
)
from connectors.salesforce.client import SalesforceAuthError, SalesforceClient, SalesforceQueryError
from connectors.salesforce.config import SalesforceSourceConfig
from connectors.salesforce.objects import SPECS, SObjectSpec, parse_time
from knowledge.documents import Tombstone
from knowledge.profiles import ProfileRecord, RecordFailure, RecordTombstone


class SalesforceCursor(Cursor):
    """Per object name, the last SystemModstamp whose records were all read."""

    modstamps: dict[str, datetime] = Field(default_factory=dict)


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


@dataclass
class _Notes:
    """The run's view of the content store: what is indexed, and the activities whose text
    stayed out for lack of an account."""

    known: Mapping[str, KnownDocument]
    without_account: int = 0

    def forget(self, sobject: str, record_id: str) -> Generator[SyncItem, None, None]:
        """Remove the activity's document, if one was indexed."""
        uri = activity_uri(sobject, record_id)
        if uri in self.known:
            yield Tombstone(uri)

    def warnings(self) -> tuple[str, ...]:
        if not self.without_account:
            return ()
        return (f"{self.without_account} Salesforce tasks/events with a description but no account were not indexed "
                "(internal notes without an account would reach every rep)",)


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
    records, and the text of Tasks and Events into internal documents of their account.
    Auth errors, rate limits and outages that outlast the retries stop the sync
    (the cursor stays where it was); a query Salesforce rejects fails that object only,
    reported with the object's name, and the other objects are still synced."""

    kind: ClassVar[str] = "salesforce"
    cursor_model: ClassVar[type[SalesforceCursor]] = SalesforceCursor
    delivers_documents: ClassVar[bool] = True

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
        notes = _Notes(known)
        with self._open_client() as client:
            available = client.available_objects()
            for name in self.config.objects:
                since = modstamps.get(name)
                run = runs[name] = _ObjectRun(full_listing=since is None)
                yield from self._sync_object(client, SPECS[name], available, since, run, notes)
                if run.finished and run.newest is not None:
                    settled = self._settled(run.newest, client)
                    modstamps[name] = max(settled, since) if since else settled  # never backwards
        # Left out of the config, an object keeps its saved cursor: notes deleted now would not come back
        # when it is synced again, so only a run that listed Task and Event in full lists every note.
        activities_listed = all(name in runs and runs[name].full_listing for name in ACTIVITY_OBJECTS)
        complete = activities_listed and all(run.finished for run in runs.values())
        return LoadResult(SalesforceCursor(modstamps=modstamps), complete, _complete_entities(runs), notes.warnings())

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
        notes: _Notes,
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
                    yield from self._items(spec, record, run, notes)
        except SalesforceQueryError as exc:
            yield RecordFailure(spec.entity, f"salesforce:{spec.name}", f"{exc}; {spec.name} not synced this run")
            return
        run.finished = True

    @staticmethod
    def _items(
        spec: SObjectSpec, record: Mapping[str, Any], run: _ObjectRun, notes: _Notes
    ) -> Generator[SyncItem, None, None]:
        record_id = record.get("Id")
        modstamp = parse_time(record.get("SystemModstamp"))
        if not isinstance(record_id, str) or not record_id or modstamp is None:
            yield RecordFailure(spec.entity, f"salesforce:{spec.name}/{record_id or '?'}",
                                f"{spec.name} record without Id or SystemModstamp")
            return
        run.newest = modstamp if run.newest is None else max(run.newest, modstamp)
        is_activity = spec.name in ACTIVITY_OBJECTS
        if record.get("IsDeleted") is True:
            yield RecordTombstone(spec.entity, record_id)
            if is_activity:
                yield from notes.forget(spec.name, record_id)
            return
        values = spec.to_values(record)
        if values is not None:
            yield ProfileRecord(spec.entity, record_id, values)
        if is_activity:
            yield from _activity_items(spec.name, record, record_id, values is not None, notes)


def _activity_items(
    sobject: str, record: Mapping[str, Any], record_id: str, has_record: bool, notes: _Notes
) -> Generator[SyncItem, None, None]:
    """The activity's note as a document of its account, or the removal of an indexed one
    that lost its text, its account or its record (an invitee's copy of an event)."""
    account = activity_account(record)
    text = activity_text(record)
    if has_record and text and account:
        document = activity_document(sobject, record, account)
        if document is not None:
            yield document
            return
    if has_record and text:
        notes.without_account += 1
    yield from notes.forget(sobject, record_id)
