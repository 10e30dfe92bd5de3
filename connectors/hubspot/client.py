"""HTTP for the HubSpot connector: CRM v3 lists, search, batch reads, owners, pipelines,
and the v4 associations batch read (HubSpot's recommended one: it pages per object and
says which association is the primary one).

One ``HubSpotClient`` per sync run. It retries what may pass (429 honouring Retry-After,
5xx and network errors with doubling waits, up to ``max_retries``), stops at once on what
will not (401/403: the token; other 4xx: the request), and turns every failure into a
``HubSpotError`` whose message says what to do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from connectors.base import ConnectorError
from connectors.http_headers import parse_http_date, parse_retry_after

_ASSOCIATION_BATCH = 1000  # HubSpot refuses more ids in one associations batch read
_OBJECT_BATCH = 100  # ... and more than 100 in one objects batch read
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class HubSpotError(ConnectorError):
    """A HubSpot request failed; the message is meant for people (sync reports, the CLI)."""


class HubSpotAuthError(HubSpotError):
    """The access token is missing, invalid, expired or lacks a scope: retrying cannot help."""


@dataclass(frozen=True)
class Page:
    """One page of a list or search: its objects and the ``after`` token of the next."""

    results: list[dict[str, Any]]
    after: str | None


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 6
    backoff_seconds: float = 1.0
    max_wait_seconds: float = 120.0

    def backoff(self, retry: int) -> float:
        return min(self.backoff_seconds * 2**retry, self.max_wait_seconds)


class HubSpotClient:
    """Talks to one portal. ``server_time`` is the portal's clock (the last ``Date``
    header): cursors are kept in HubSpot's time, never in ours."""

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        timeout_seconds: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not access_token:
            raise HubSpotAuthError(
                "no HubSpot access token: set hubspot.access_token (JOURNEY_HUBSPOT__ACCESS_TOKEN) to a private app token"
            )
        self._retry = retry
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            timeout=timeout_seconds,
            transport=transport,
        )
        self.server_time: datetime | None = None
        self.requests = 0
        self.retries = 0

    def __enter__(self) -> HubSpotClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- endpoints --------------------------------------------------------------------

    def list_objects(
        self,
        object_type: str,
        properties: Sequence[str],
        *,
        associations: Sequence[str] = (),
        after: str | None = None,
        limit: int = 100,
        archived: bool = False,
    ) -> Page:
        """``GET /crm/v3/objects/{type}``: every (or every archived) object, by id."""
        params: dict[str, str] = {"limit": str(min(limit, 100)), "properties": ",".join(properties)}
        if associations:
            params["associations"] = ",".join(associations)
        if archived:
            params["archived"] = "true"
        if after is not None:
            params["after"] = after
        return _page(self.request("GET", f"/crm/v3/objects/{object_type}", params=params))

    def search_modified(
        self,
        object_type: str,
        properties: Sequence[str],
        *,
        modified_property: str,
        since: datetime,
        after: str | None = None,
        limit: int = 100,
    ) -> Page:
        """``POST /crm/v3/objects/{type}/search``: objects modified at or after ``since``,
        oldest first. Archived objects are never returned."""
        body: dict[str, Any] = {
            "filterGroups": [
                {"filters": [{"propertyName": modified_property, "operator": "GTE", "value": str(epoch_millis(since))}]}
            ],
            "sorts": [{"propertyName": modified_property, "direction": "ASCENDING"}],
            "properties": list(properties),
            "limit": min(limit, 200),
        }
        if after is not None:
            body["after"] = after
        return _page(self.request("POST", f"/crm/v3/objects/{object_type}/search", json=body))

    def read_objects(self, object_type: str, ids: Iterable[str], properties: Sequence[str]) -> list[dict[str, Any]]:
        """``POST /crm/v3/objects/{type}/batch/read``: the objects with these ids; archived
        or deleted ones are left out (HubSpot reports them as errors of a 207)."""
        wanted = sorted(set(ids))
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), _OBJECT_BATCH):
            inputs = [{"id": object_id} for object_id in wanted[start : start + _OBJECT_BATCH]]
            body = {"properties": list(properties), "inputs": inputs}
            found.extend(self.request("POST", f"/crm/v3/objects/{object_type}/batch/read", json=body).get("results") or [])
        return found

    def read_associations(self, from_type: str, to_type: str, ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """``POST /crm/v4/associations/{from}/{to}/batch/read``, every page of every object:
        ``{id: [{"toObjectId", "associationTypes"}...]}``; objects without associations are
        left out. An object with more associations than one page holds comes back with
        ``paging.next.after``; it is asked for again with that token until it has none."""
        pending: list[dict[str, str]] = [{"id": object_id} for object_id in sorted(set(ids))]
        asked: set[tuple[str, str]] = set()
        found: dict[str, list[dict[str, Any]]] = {}
        path = f"/crm/v4/associations/{from_type}/{to_type}/batch/read"
        while pending:
            inputs, pending = pending[:_ASSOCIATION_BATCH], pending[_ASSOCIATION_BATCH:]
            for result in self.request("POST", path, json={"inputs": inputs}).get("results") or []:
                source_id = str((result.get("from") or {}).get("id", ""))
                if not source_id:
                    continue
                found.setdefault(source_id, []).extend(t for t in result.get("to") or [] if t.get("toObjectId") is not None)
                after = ((result.get("paging") or {}).get("next") or {}).get("after")
                if after in (None, ""):
                    continue
                if (source_id, str(after)) in asked:
                    raise HubSpotError(f"HubSpot returned the same association page twice for {from_type} {source_id} "
                                       f"to {to_type} (after={after}); stopping instead of looping")
                asked.add((source_id, str(after)))
                pending.append({"id": source_id, "after": str(after)})
        return {object_id: links for object_id, links in found.items() if links}

    def owners(self, *, after: str | None = None, limit: int = 100, archived: bool = False) -> Page:
        """``GET /crm/v3/owners``: the portal's users who own records (or the archived ones)."""
        params = {"limit": str(min(limit, 100))}
        if archived:
            params["archived"] = "true"
        if after is not None:
            params["after"] = after
        return _page(self.request("GET", "/crm/v3/owners", params=params))

    def deal_pipelines(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/crm/v3/pipelines/deals").get("results") or [])

    # --- transport --------------------------------------------------------------------

    def request(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, json: Any = None
    ) -> dict[str, Any]:
        """Send one request with retries; the decoded JSON body of the success."""
        what = f"{method} {path}"
        for retry in range(self._retry.max_retries + 1):
            last_try = retry == self._retry.max_retries
            self.requests += 1
            try:
                response = self._http.request(method, path, params=params, json=json)
            except httpx.TransportError as exc:
                if last_try:
                    raise HubSpotError(f"HubSpot unreachable for {what} after {retry} retries: {exc!r}") from exc
                self._wait(self._retry.backoff(retry))
                continue
            self._note_server_time(response)
            if response.status_code < 300:
                return _json_body(response, what)
            wait = self._wait_for(response, what, retry, last_try)
            self._wait(wait)
        raise AssertionError("unreachable: the last try returns or raises")

    def _wait_for(self, response: httpx.Response, what: str, retry: int, last_try: bool) -> float:
        """How long to wait before retrying ``response``, or raise if it must not be retried."""
        status = response.status_code
        message = error_message(response)
        if status in (401, 403):
            hint = "check hubspot.access_token" + (" and the private app's scopes" if status == 403 else "")
            raise HubSpotAuthError(f"HubSpot refused the access token ({status}): {message}; {hint}")
        if status == 429 and _policy(response) == "DAILY":
            raise HubSpotError(f"HubSpot's daily API limit is used up (429): {message}; the next sync resumes from its cursor")
        if status != 429 and status < 500:
            raise HubSpotError(f"HubSpot rejected {what} ({status}): {message}")
        if last_try:
            raise HubSpotError(f"HubSpot kept answering {status} to {what} after {retry} retries: {message}")
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is not None:
            return min(retry_after, self._retry.max_wait_seconds)
        return self._retry.backoff(retry)

    def _wait(self, seconds: float) -> None:
        self.retries += 1
        self._sleep(seconds)

    def _note_server_time(self, response: httpx.Response) -> None:
        when = parse_http_date(response.headers.get("Date"))
        if when is not None:
            self.server_time = when


def _page(body: dict[str, Any]) -> Page:
    after = ((body.get("paging") or {}).get("next") or {}).get("after")
    return Page(results=list(body.get("results") or []), after=str(after) if after not in (None, "") else None)


def _json_body(response: httpx.Response, what: str) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError as exc:
        raise HubSpotError(f"HubSpot answered {what} with something that is not JSON: {response.text[:200]!r}") from exc
    return body if isinstance(body, dict) else {"results": body}


def _policy(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("policyName") if isinstance(body, dict) else None


def error_message(response: httpx.Response) -> str:
    """HubSpot's own words from an error body (``message``, then ``category``), else the text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = body.get("message") or body.get("category")
        scopes = sorted({
            scope
            for error in body.get("errors") or [] if isinstance(error, dict)
            for key in ("requiredGranularScopes", "requiredScopes")
            for scope in (error.get("context") or {}).get(key) or []
        })
        if message and scopes:
            return f"{message} (it needs {', '.join(scopes)})"
        if message:
            return str(message)
    text = response.text.strip()
    return text[:300] if text else response.reason_phrase or f"HTTP {response.status_code}"


def epoch_millis(when: datetime) -> int:
    """What HubSpot's search filters take for datetime properties."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (when - _EPOCH) // timedelta(milliseconds=1)
