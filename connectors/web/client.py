"""HTTP for the web connector: one polite, rate-limited, retrying client per sync run.

Every request of a run (robots.txt, sitemaps, pages, each redirect hop and each retry)
goes through one ``RateLimiter``, so a site sees at most ``requests_per_second`` from us
whatever the run is doing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from connectors.http_headers import parse_http_date, parse_retry_after

# Validators belong to the URL they were issued for; a redirect target must not get them.
_CONDITIONAL_HEADERS = ("If-None-Match", "If-Modified-Since")
_TRANSIENT_ERRORS = (httpx.TimeoutException, httpx.NetworkError)


class WebFetchError(Exception):
    """A URL could not be fetched; ``reason`` is short and meant for sync reports."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RedirectRefused(WebFetchError):
    """A redirect pointed where the caller does not want to go (another host, a URL
    robots.txt disallows); the target was not fetched."""

    def __init__(self, location: str) -> None:
        super().__init__(f"redirect not followed: {location}")
        self.location = location


class UnsupportedContent(WebFetchError):
    """The response is a success but of a media type the caller cannot use."""

    def __init__(self, media_type: str) -> None:
        super().__init__(f"not HTML: {media_type or 'no content type'}")
        self.media_type = media_type


@dataclass(frozen=True)
class FetchResult:
    """One finished fetch. ``content`` is only read for 2xx answers (else empty)."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes

    @property
    def media_type(self) -> str:
        return media_type_of(self.headers)


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures (connect errors, timeouts, 5xx, 429) are retried.

    ``backoff_seconds`` is the first wait and doubles per attempt; ``max_wait_seconds``
    caps both that and a server's Retry-After, so one page cannot stall a run for long.
    """

    attempts: int = 3
    backoff_seconds: float = 0.5
    max_wait_seconds: float = 30.0


class RateLimiter:
    """Spaces request starts at least ``interval`` seconds apart (single-threaded use)."""

    def __init__(
        self,
        requests_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / requests_per_second if requests_per_second > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._last_start: float | None = None

    def slow_down_to(self, seconds: float) -> None:
        """Never go faster than one request per ``seconds`` (robots.txt Crawl-delay);
        applies from the very next request on."""
        self.interval = max(self.interval, seconds)

    def wait(self) -> None:
        now = self._clock()
        if self._last_start is not None:
            ready_at = self._last_start + self.interval
            if ready_at > now:
                self._sleep(ready_at - now)
                now = ready_at
        self._last_start = now


class _RetryableStatus(Exception):
    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class WebClient:
    """GETs URLs politely and turns every way a fetch can go wrong into ``WebFetchError``.

    Redirects are followed here, hop by hop, rather than by httpx itself: that lets us
    refuse a hop to another host *before* fetching it, name a loop as a loop, drop
    conditional headers on hops, and rate-limit and retry each hop like any request.
    """

    def __init__(
        self,
        *,
        user_agent: str,
        timeout_seconds: float,
        requests_per_second: float,
        max_bytes: int,
        retry: RetryPolicy = RetryPolicy(),
        max_redirects: int = 10,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate_limiter = RateLimiter(requests_per_second, sleep=sleep)
        self._retry = retry
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        self._sleep = sleep
        self._http = httpx.Client(
            headers={"User-Agent": user_agent},
            timeout=timeout_seconds,
            follow_redirects=False,
            transport=transport,
        )

    def __enter__(self) -> WebClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        may_follow: Callable[[str], bool] | None = None,
        accept_types: Collection[str] | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """Fetch ``url``, following redirects that ``may_follow`` allows.

        Any status below 500 except 429 is returned as a result for the caller to judge
        (304, 404, 410...); a success whose media type is not in ``accept_types`` raises
        ``UnsupportedContent`` before its body is downloaded. ``max_bytes`` overrides the
        client's body limit for this call (sitemaps may be larger than pages).
        """
        limit = max_bytes if max_bytes is not None else self._max_bytes
        try:
            request = self._http.build_request("GET", url, headers=headers)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise WebFetchError(f"invalid URL: {exc}") from exc
        seen = {str(request.url)}
        for _ in range(self._max_redirects + 1):
            result, next_request = self._send_with_retries(request, accept_types, limit)
            if next_request is None:
                return result
            target = str(next_request.url)
            if target in seen:
                raise WebFetchError("redirect loop")
            if may_follow is not None and not may_follow(target):
                raise RedirectRefused(target)
            seen.add(target)
            for name in _CONDITIONAL_HEADERS:
                next_request.headers.pop(name, None)
            request = next_request
        raise WebFetchError("too many redirects")

    def _send_with_retries(
        self, request: httpx.Request, accept_types: Collection[str] | None, max_bytes: int
    ) -> tuple[FetchResult, httpx.Request | None]:
        retrying = Retrying(
            stop=stop_after_attempt(self._retry.attempts),
            wait=self._wait_before_retry,
            retry=retry_if_exception_type((_RetryableStatus, *_TRANSIENT_ERRORS)),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(self._send_once, request, accept_types, max_bytes)
        except _RetryableStatus as exc:
            raise WebFetchError(f"HTTP {exc.status} after {self._retry.attempts} attempts") from exc
        except httpx.TimeoutException as exc:
            raise WebFetchError("timeout") from exc
        except httpx.ConnectError as exc:
            raise WebFetchError(f"unreachable: {_describe_os_error(exc)}") from exc
        except httpx.HTTPError as exc:
            raise WebFetchError(f"network error: {_describe_os_error(exc)}") from exc

    def _wait_before_retry(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RetryableStatus) and error.retry_after is not None:
            return min(error.retry_after, self._retry.max_wait_seconds)
        backoff = self._retry.backoff_seconds * 2 ** (state.attempt_number - 1)
        return min(backoff, self._retry.max_wait_seconds)

    def _send_once(
        self, request: httpx.Request, accept_types: Collection[str] | None, max_bytes: int
    ) -> tuple[FetchResult, httpx.Request | None]:
        self.rate_limiter.wait()
        response = self._http.send(request, stream=True)
        try:
            status = response.status_code
            if status >= 500 or status == 429:
                raise _RetryableStatus(status, parse_retry_after(response.headers.get("Retry-After")))
            if response.next_request is not None:
                return self._result(response, b""), response.next_request
            content = b""
            if response.is_success:
                media_type = media_type_of(response.headers)
                if accept_types is not None and media_type not in accept_types:
                    raise UnsupportedContent(media_type)
                content = _read_capped(response, max_bytes)
            return self._result(response, content), None
        finally:
            response.close()

    @staticmethod
    def _result(response: httpx.Response, content: bytes) -> FetchResult:
        return FetchResult(
            url=str(response.url),
            status=response.status_code,
            headers=response.headers,
            content=content,
        )


def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    # Content-Length may be absent or lie, so the streamed (decoded) size is what counts.
    too_large = WebFetchError(f"page too large: over {max_bytes} bytes")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def media_type_of(headers: httpx.Headers) -> str:
    """``text/html; charset=utf-8`` -> ``text/html``."""
    return headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


def _describe_os_error(exc: Exception) -> str:
    # "[Errno 111] Connection refused" -> "connection refused"
    text = str(exc) or type(exc).__name__
    return re.sub(r"^\[Errno -?\d+\]\s*", "", text).strip().lower()
