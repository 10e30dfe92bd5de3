"""HTTP for the Salesforce connector: SOQL queries with paging, describes, retries, errors.

Salesforce answers errors with a JSON list such as
``[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]``.
Every such answer becomes a ``SalesforceError`` whose text says what was refused and what
to check, so a sync report or a CLI line is enough to fix it. Rate limits (429,
``REQUEST_LIMIT_EXCEEDED``), 5xx answers and network errors are retried, honouring
Retry-After, up to ``max_retries`` times.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import httpx

from connectors.base import ConnectorError
from connectors.http_headers import parse_http_date, parse_retry_after

USER_AGENT = "JourneyAssistant/0.1 (salesforce connector)"


class SalesforceError(ConnectorError):
    """Salesforce refused or failed a request; the text is meant for people."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, error_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class SalesforceAuthError(SalesforceError):
    """The token is invalid or its user may not use the API: nothing can be synced."""


class SalesforceQueryError(SalesforceError):
    """One query or describe was refused (a field, the object, the SOQL, an expired
    query locator); other objects can still be synced."""


class SalesforceRateLimited(SalesforceError):
    """429 or REQUEST_LIMIT_EXCEEDED: try again later."""

    retryable = True


class SalesforceUnavailable(SalesforceError):
    """5xx answers or network failures."""

    retryable = True


def _first_error(response: httpx.Response) -> tuple[str | None, str]:
    """``(errorCode, message)`` from a Salesforce error body (a list of errors, one error
    object, or an OAuth error), else the start of the body as text."""
    try:
        body: Any = response.json()
    except ValueError:
        text = " ".join(response.text.split())
        return None, text[:200] or response.reason_phrase or f"HTTP {response.status_code}"
    if isinstance(body, list) and body and isinstance(body[0], dict):
        extra = f" (and {len(body) - 1} more errors)" if len(body) > 1 else ""
        first = body[0]
        return first.get("errorCode"), " ".join(str(first.get("message", "")).split()) + extra
    if isinstance(body, dict):
        code = body.get("errorCode") or body.get("error")
        message = body.get("message") or body.get("error_description") or ""
        return (str(code) if code else None), " ".join(str(message).split())
    return None, " ".join(str(body).split())[:200]


def error_for(response: httpx.Response, what: str) -> SalesforceError:
    """The error a non-success answer stands for; ``what`` names the request
    (``"the Account query"``)."""
    status = response.status_code
    code, message = _first_error(response)
    label = f"{code}" if code else f"HTTP {status}"
    if code == "REQUEST_LIMIT_EXCEEDED" or status == 429:
        return SalesforceRateLimited(
            f"Salesforce API request limit exceeded ({label}): {message}", status=status, error_code=code
        )
    if status == 401 or code == "INVALID_SESSION_ID":
        return SalesforceAuthError(
            f"Salesforce refused the session ({label}): {message}; check salesforce.access_token",
            status=status,
            error_code=code,
        )
    if status == 403:
        return SalesforceAuthError(
            f"Salesforce denied {what} ({label}): {message}; check the API permissions of the user "
            "behind salesforce.access_token",
            status=status,
            error_code=code,
        )
    if status >= 500:
        return SalesforceUnavailable(f"Salesforce failed {what} ({label}): {message}", status=status, error_code=code)
    if status in (400, 404):
        return SalesforceQueryError(f"Salesforce rejected {what} ({label}): {message}", status=status, error_code=code)
    return SalesforceError(f"Salesforce answered {what} with HTTP {status} ({label}): {message}", status=status, error_code=code)


class SalesforceClient:
    """One org's REST API for one sync run: describes and SOQL queries (``/query`` and,
    for deleted records too, ``/queryAll``), following ``nextRecordsUrl``."""

    def __init__(
        self,
        *,
        instance_url: str,
        access_token: str,
        api_version: str,
        max_retries: int = 6,
        timeout_seconds: float = 30.0,
        backoff_seconds: float = 1.0,
        max_retry_wait_seconds: float = 300.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.instance_url = instance_url.rstrip("/")
        self.api_version = api_version
        self.api_path = f"/services/data/{api_version}"
        self.server_time: datetime | None = None
        """The ``Date`` of the latest answer: the org's clock, not ours."""
        self._max_retries = max_retries
        self._backoff = backoff_seconds
        self._max_wait = max_retry_wait_seconds
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.instance_url,
            headers={
                "Authorization": f"Bearer {access_token}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=timeout_seconds,
            follow_redirects=False,
            transport=transport,
        )

    def __enter__(self) -> SalesforceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def available_objects(self) -> dict[str, dict[str, Any]]:
        """The org's objects by name (global describe). Also proves the token, the
        instance URL and the API version before any data is read."""
        try:
            body = self._get_json(f"{self.api_path}/sobjects", what="the list of objects")
        except SalesforceQueryError as exc:
            raise SalesforceError(
                f"Salesforce has no REST API {self.api_version} at {self.instance_url} ({exc.error_code or exc.status}); "
                "check salesforce.instance_url and salesforce.api_version",
                status=exc.status,
                error_code=exc.error_code,
            ) from exc
        objects = body.get("sobjects") if isinstance(body, dict) else None
        if not isinstance(objects, list):
            raise SalesforceError(f"Salesforce's list of objects at {self.instance_url} has no 'sobjects'")
        return {str(o["name"]): o for o in objects if isinstance(o, dict) and "name" in o}

    def field_types(self, sobject: str) -> dict[str, str]:
        """The fields this token can read on ``sobject``, with their types."""
        what = f"the {sobject} describe"
        body = self._get_json(f"{self.api_path}/sobjects/{sobject}/describe", what=what)
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, list):
            raise SalesforceQueryError(f"Salesforce answered {what} without a field list")
        return {str(f["name"]): str(f.get("type", "")) for f in fields if isinstance(f, dict) and "name" in f}

    def query(self, soql: str, *, sobject: str, include_deleted: bool = False) -> Iterator[list[dict[str, Any]]]:
        """Run ``soql`` and yield its records page by page, following ``nextRecordsUrl``.
        ``include_deleted`` uses ``/queryAll``, which also returns deleted and archived
        records (``IsDeleted = true``)."""
        what = f"the {sobject} query"
        resource = "queryAll" if include_deleted else "query"
        page = self._get_json(f"{self.api_path}/{resource}", params={"q": soql}, what=what)
        while True:
            records = page.get("records") if isinstance(page, dict) else None
            if not isinstance(records, list):
                raise SalesforceQueryError(f"Salesforce answered {what} without a record list")
            yield [r for r in records if isinstance(r, dict)]
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = self._get_json(urljoin(self.instance_url + "/", str(next_url)), what=what)

    def _get_json(self, url: str, *, what: str, params: dict[str, str] | None = None) -> Any:
        response = self._get(url, what=what, params=params)
        try:
            return response.json()
        except ValueError as exc:
            raise SalesforceQueryError(f"Salesforce answered {what} with something that is not JSON") from exc

    def _get(self, url: str, *, what: str, params: dict[str, str] | None) -> httpx.Response:
        """GET with retries on rate limits, 5xx and network errors."""
        retries = 0
        while True:
            retry_after: float | None = None
            try:
                response = self._http.get(url, params=params)
            except (httpx.TimeoutException, httpx.NetworkError) as exc:
                error: SalesforceError = SalesforceUnavailable(
                    f"cannot reach Salesforce at {self.instance_url} for {what}: {type(exc).__name__} {exc}".rstrip()
                )
            else:
                self._note_server_time(response)
                if response.is_success:
                    return response
                error = error_for(response, what)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if not error.retryable:
                raise error
            if retries >= self._max_retries:
                raise type(error)(
                    f"{error} (gave up after {retries} retries; the next sync resumes from the saved cursor)",
                    status=error.status,
                    error_code=error.error_code,
                )
            self._sleep(self._wait_seconds(retries, retry_after))
            retries += 1

    def _wait_seconds(self, retries_so_far: int, retry_after: float | None) -> float:
        wait = retry_after if retry_after is not None else self._backoff * 2**retries_so_far
        return min(wait, self._max_wait)

    def _note_server_time(self, response: httpx.Response) -> None:
        when = parse_http_date(response.headers.get("Date"))
        if when is not None:
            self.server_time = when
