"""The HubSpot connector: CRM v3 companies, contacts, deals, owners and engagements.

The first sync of an object type lists everything (``GET /crm/v3/objects/{type}`` with
``after`` paging and inline associations); later syncs ask the search API for what was
modified since the cursor (and the v4 associations batch read for their links), then list
archived objects to delete them. Every ``full_resync_days`` the listing runs again, so what
the archive cannot show (merged records, removed deal contacts) leaves the store too.
Associations are followed to their last page, inline ones through the v4 batch read. How
engagements keep their account when a contact changes company: ``connectors.hubspot.accounts``.

Search pages are read keyset-style: each page restarts the query from the newest
modification time processed so far and skips the ids already processed at exactly that
time. HubSpot's ``after`` is an offset, so paging on with it would skip a record whenever
one modified during the run moves to the end of the result list; restarting also keeps
every query far below the search API's 10,000-result ceiling. ``after`` is only used while
a page brings no newer time (many records modified in the same millisecond); if such a
block reaches the ceiling, the type is listed in full instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import httpx

from connectors.base import Connector, KnownDocument, LoadResult, SyncItem
from connectors.hubspot.accounts import EngagementAccounts
from connectors.hubspot.client import HubSpotClient, RetryPolicy
from connectors.hubspot.config import (
    ENGAGEMENT_OBJECTS,
    HubSpotCursor,
    HubSpotRunStats,
    HubSpotSourceConfig,
    ObjectCursor,
)
from connectors.hubspot.engagements import (
    engagement_document,
    engagement_text,
    engagement_touchpoint,
    touchpoint_id,
)
from connectors.hubspot.mapping import (
    ASSOCIATIONS,
    ENTITY,
    PROPERTIES,
    Associations,
    StageBook,
    company_record,
    contact_company,
    contact_record,
    deal_records,
    inline_associations,
    modified_at,
    modified_property,
    object_uri,
    ordered_associations,
    owner_record,
    parse_time,
    truncated_associations,
)
from knowledge.documents import Tombstone
from knowledge.profiles import RecordFailure, RecordTombstone

ENTITY_SOURCES: dict[str, frozenset[str]] = {
    "account": frozenset({"companies"}),
    "contact": frozenset({"contacts"}),
    "deal": frozenset({"deals"}),
    "deal_contact": frozenset({"deals"}),
    "touchpoint": ENGAGEMENT_OBJECTS,
}
"""The object types a profile entity comes from: an entity is complete after a run that
listed every one of them (that the source syncs)."""


class _CeilingReached(Exception):
    """More records share one modification time than the search API can page through."""


@dataclass
class _Watermark:
    """The newest modification time processed and the ids processed at exactly it."""

    since: datetime | None = None
    ids: set[str] = field(default_factory=set)

    def done(self, modified: datetime | None, object_id: str) -> bool:
        return modified is not None and modified == self.since and object_id in self.ids

    def advance(self, modified: datetime | None, object_id: str) -> None:
        if modified is None:
            return
        if self.since is None or modified > self.since:
            self.since, self.ids = modified, {object_id}
        elif modified == self.since:
            self.ids.add(object_id)


class HubSpotConnector(Connector[HubSpotCursor]):
    """Syncs one HubSpot portal into the profile store and its CRM text into the content
    store (internal, scoped to the account). See the module docstring for how."""

    kind: ClassVar[str] = "hubspot"
    cursor_model: ClassVar[type[HubSpotCursor]] = HubSpotCursor

    def __init__(
        self,
        config: HubSpotSourceConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self._transport = transport
        self._sleep = sleep

    def load(
        self, cursor: HubSpotCursor | None, known: Mapping[str, KnownDocument]
    ) -> Generator[SyncItem, None, LoadResult[HubSpotCursor]]:
        with self._open_client() as client:
            portal = _PortalSync(self.config, client, cursor or HubSpotCursor(), known)
            return (yield from portal.run())

    def _open_client(self) -> HubSpotClient:
        config = self.config
        token = config.access_token.get_secret_value() if config.access_token else ""
        return HubSpotClient(
            config.base_url,
            token,
            timeout_seconds=config.timeout_seconds,
            retry=RetryPolicy(config.max_retries, config.backoff_seconds, config.max_retry_wait_seconds),
            transport=self._transport,
            sleep=self._sleep,
        )


class _PortalSync:
    """One run over one portal."""

    def __init__(
        self, config: HubSpotSourceConfig, client: HubSpotClient, previous: HubSpotCursor, known: Mapping[str, KnownDocument]
    ) -> None:
        self.config = config
        self.client = client
        self.previous = previous
        self.known = known
        self.stats = HubSpotRunStats()
        self.stages = StageBook([])
        self.accounts = EngagementAccounts(client, previous.engagement_contacts)
        self.searched_ids: dict[str, set[str]] = {}

    def run(self) -> Generator[SyncItem, None, LoadResult[HubSpotCursor]]:
        self.stages = StageBook(self.client.deal_pipelines())
        now = self.client.server_time or datetime.now(timezone.utc)
        yield from self._owners()
        states: dict[str, ObjectCursor] = {}
        listed: set[str] = set()
        for object_type in self.config.objects:
            state = self.previous.objects.get(object_type)
            if state is None or self._listing_due(state, now):
                states[object_type] = yield from self._list_all(object_type)
                listed.add(object_type)
                continue
            try:
                states[object_type] = yield from self._search_changed(object_type, state)
            except _CeilingReached:
                states[object_type] = yield from self._list_all(object_type)
                listed.add(object_type)
                continue
            if object_type in ENGAGEMENT_OBJECTS:
                yield from self._reaccount(object_type)
            yield from self._archived(object_type, state)
        self.stats.requests, self.stats.retries = self.client.requests, self.client.retries
        self.stats.moved_contacts = len(self.accounts.moved)
        engagements = ENGAGEMENT_OBJECTS & set(self.config.objects)
        cursor = HubSpotCursor(objects=states, last_run_at=now, stats=self.stats,
                               engagement_contacts=self.accounts.remembered(engagements <= listed))
        return LoadResult(cursor, complete=engagements <= listed, complete_entities=self._complete_entities(listed))

    def _complete_entities(self, listed: set[str]) -> frozenset[str]:
        configured = set(self.config.objects)
        complete = {"owner"}
        for entity, sources in ENTITY_SOURCES.items():
            feeding = sources & configured
            if feeding and feeding <= listed:
                complete.add(entity)
        return frozenset(complete)

    def _listing_due(self, state: ObjectCursor, now: datetime) -> bool:
        if state.since is None:
            return True
        days = self.config.full_resync_days
        if days is None:
            return False
        return state.listed_at is None or now - state.listed_at >= timedelta(days=days)

    # --- owners -----------------------------------------------------------------------

    def _owners(self) -> Generator[SyncItem, None, None]:
        """Active owners, then archived ones (kept as inactive: records still name them)."""
        for archived in (False, True):
            after: str | None = None
            while True:
                page = self.client.owners(after=after, limit=self.config.page_size, archived=archived)
                for owner in page.results:
                    try:
                        yield owner_record({**owner, "archived": archived or owner.get("archived", False)})
                    except (KeyError, TypeError, ValueError) as exc:
                        yield RecordFailure("owner", f"hubspot/owners/{owner.get('id')}", f"unreadable owner: {exc}")
                if page.after is None:
                    break
                after = page.after

    # --- complete listing -------------------------------------------------------------

    def _list_all(self, object_type: str) -> Generator[SyncItem, None, ObjectCursor]:
        """Every object of the type. The cursor it leaves never passes the portal's clock at
        the start: a record modified while the listing ran is read again next time."""
        started = self.client.server_time
        newest = _Watermark()
        after: str | None = None
        count = 0
        while True:
            page = self.client.list_objects(
                object_type, PROPERTIES[object_type], associations=ASSOCIATIONS[object_type],
                after=after, limit=self.config.page_size,
            )
            yield from self._take(object_type, self._inline_associations(object_type, page.results))
            for obj in page.results:
                newest.advance(_modified_or_none(obj, object_type), str(obj.get("id")))
            count += len(page.results)
            if page.after is None:
                break
            after = page.after
        self.stats.listed[object_type] = count
        if newest.since is not None and (started is None or newest.since <= started):
            return ObjectCursor(since=newest.since, ids_at_since=sorted(newest.ids), listed_at=started or newest.since)
        return ObjectCursor(since=started, listed_at=started)

    # --- incremental search -----------------------------------------------------------

    def _search_changed(self, object_type: str, state: ObjectCursor) -> Generator[SyncItem, None, ObjectCursor]:
        assert state.since is not None
        mark = _Watermark(state.since, set(state.ids_at_since))
        query_since: datetime = state.since
        after: str | None = None
        count = 0
        size = self.config.page_size
        while True:
            page = self.client.search_modified(
                object_type, PROPERTIES[object_type], modified_property=modified_property(object_type),
                since=query_since, after=after, limit=size,
            )
            fresh = [obj for obj in page.results if not mark.done(_modified_or_none(obj, object_type), str(obj.get("id")))]
            found = self._read_associations(object_type, [str(obj["id"]) for obj in fresh if "id" in obj])
            if object_type in ENGAGEMENT_OBJECTS:  # what _reaccount need not read again
                self.searched_ids.setdefault(object_type, set()).update(str(obj.get("id")) for obj in fresh)
            yield from self._take(object_type, [(obj, found.get(str(obj.get("id")), {})) for obj in fresh])
            for obj in fresh:
                mark.advance(_modified_or_none(obj, object_type), str(obj.get("id")))
            count += len(fresh)
            if page.after is None:
                break
            if mark.since is not None and mark.since > query_since:
                query_since, after = mark.since, None
                self.stats.search_restarts += 1
            elif page.after.isdigit() and int(page.after) + size <= self.config.search_result_ceiling:
                after = page.after
            else:
                raise _CeilingReached(object_type)
        self.stats.searched[object_type] = count
        return ObjectCursor(since=mark.since, ids_at_since=sorted(mark.ids), listed_at=state.listed_at)

    # --- associations -------------------------------------------------------------------

    def _read_associations(
        self, object_type: str, ids: list[str], target_types: Iterable[str] | None = None
    ) -> dict[str, Associations]:
        """Every association of these objects (of ``target_types``, default: all synced)."""
        if not ids:
            return {}
        raw: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for target_type in ASSOCIATIONS[object_type] if target_types is None else target_types:
            for object_id, links in self.client.read_associations(object_type, target_type, ids).items():
                raw.setdefault(object_id, {})[target_type] = links
        return {object_id: ordered_associations(object_type, links) for object_id, links in raw.items()}

    def _inline_associations(
        self, object_type: str, objects: list[dict[str, Any]]
    ) -> list[tuple[dict[str, Any], Associations]]:
        """Listed objects with their inline associations; where those stop at the first page
        (a deal with 600 contacts), that type is read again in full."""
        taken = [(obj, inline_associations(object_type, obj)) for obj in objects]
        truncated: dict[str, set[str]] = {}
        for obj in objects:
            for target_type in truncated_associations(obj):
                truncated.setdefault(target_type, set()).add(str(obj.get("id")))
        for target_type, ids in truncated.items():
            self.stats.associations_paged += len(ids)
            complete = self._read_associations(object_type, sorted(ids), [target_type])
            for obj, associations in taken:
                if str(obj.get("id")) in ids:
                    associations.pop(target_type, None)
                    associations.update(complete.get(str(obj.get("id")), {}))
        return taken

    def _reaccount(self, object_type: str) -> Generator[SyncItem, None, None]:
        """Engagements whose account came from a contact that changed company, again (their
        content unchanged: the runner restamps their documents)."""
        ids = self.accounts.engagements_of_moved(object_type, skip=self.searched_ids.get(object_type, set()))
        found = self._read_associations(object_type, ids)
        ids = [object_id for object_id in ids if self.accounts.through_moved_contact(found.get(object_id, {}))]
        if not ids:
            return
        objects = self.client.read_objects(object_type, ids, PROPERTIES[object_type])
        self.stats.reaccounted[object_type] = len(objects)
        yield from self._take(object_type, [(obj, found.get(str(obj.get("id")), {})) for obj in objects])

    def _archived(self, object_type: str, state: ObjectCursor) -> Generator[SyncItem, None, None]:
        """Tombstones for objects archived since the cursor (the search never shows them)."""
        after: str | None = None
        count = 0
        while True:
            page = self.client.list_objects(
                object_type, [modified_property(object_type)], archived=True, after=after, limit=self.config.page_size
            )
            for obj in page.results:
                archived_at = _time_or_none(obj.get("archivedAt"))
                if archived_at is not None and state.since is not None and archived_at < state.since:
                    continue  # archived before the previous run: already gone
                count += 1
                yield from self._tombstones(object_type, str(obj["id"]))
            if page.after is None:
                break
            after = page.after
        self.stats.archived[object_type] = count

    def _tombstones(self, object_type: str, object_id: str) -> Iterable[SyncItem]:
        if object_type in ENGAGEMENT_OBJECTS:
            yield RecordTombstone("touchpoint", touchpoint_id(object_type, object_id))
            uri = object_uri(object_type, object_id)
            if uri in self.known:
                yield Tombstone(uri)
        else:
            yield RecordTombstone(ENTITY[object_type], object_id)

    # --- objects to items -------------------------------------------------------------

    def _take(self, object_type: str, objects: list[tuple[dict[str, Any], Associations]]) -> Iterable[SyncItem]:
        """The records (and documents) of one page of objects; a bad object is a failure."""
        accounts = self.accounts.accounts(objects) if object_type in ENGAGEMENT_OBJECTS else {}
        for obj, associations in objects:
            object_id = str(obj.get("id", ""))
            try:
                if object_type == "companies":
                    yield company_record(obj)
                elif object_type == "contacts":
                    yield contact_record(obj, associations)
                    self.accounts.see_contact(object_id, contact_company(obj, associations))
                elif object_type == "deals":
                    yield from deal_records(obj, associations, self.stages)
                else:
                    yield from self._engagement(object_type, obj, associations, accounts.get(object_id))
            except (KeyError, TypeError, ValueError) as exc:
                entity = ENTITY.get(object_type, "touchpoint")
                yield RecordFailure(entity, object_uri(object_type, object_id), f"unreadable {object_type[:-1]}: {exc}")

    def _engagement(
        self, object_type: str, obj: dict[str, Any], associations: Associations, account_id: str | None
    ) -> Iterable[SyncItem]:
        yield engagement_touchpoint(object_type, obj, associations, account_id)
        text, _ = engagement_text(object_type, obj)
        if text and account_id:
            yield engagement_document(object_type, obj, associations, account_id)
            return
        if text:
            # Internal text with no account would reach every rep: it stays out of the
            # content store (the touchpoint keeps a preview) until it has an account.
            self.stats.documents_without_account += 1
        uri = object_uri(object_type, str(obj["id"]))
        if uri in self.known:
            yield Tombstone(uri)


def _time_or_none(value: Any) -> datetime | None:
    try:
        return parse_time(value)
    except (TypeError, ValueError):
        return None


def _modified_or_none(obj: Mapping[str, Any], object_type: str) -> datetime | None:
    try:
        return modified_at(obj, object_type)
    except (TypeError, ValueError):
        return None
