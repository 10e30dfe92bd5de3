"""The Segment-compatible event API: ``POST /v1/track|identify|page|screen|group|alias|batch``.

Senders authenticate with a write key the way Segment's libraries do: HTTP Basic with the
key as user name and an empty password, or ``writeKey`` in the JSON body. A body larger than
``events.max_batch_bytes`` is refused with 413 (also after gzip decompression), malformed
JSON with 400. In a batch each event is validated on its own: the valid ones are stored, the
invalid ones come back with their index and the reason. Stored events are processed into
profile records in the background (see ``connectors.events.ingestor``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import zlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from assistant.settings import EventsSettings
from connectors.events import EventIngestor

router = APIRouter(prefix="/v1", tags=["events"])
SINGLE_EVENT_TYPES = ("track", "identify", "page", "screen", "group", "alias")
BASIC_HINT = "send the write key as the HTTP Basic user name (empty password) or as writeKey in the body"


class EventApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Basic realm="events"'} if self.status == 401 else None
        return JSONResponse({"success": False, "error": self.message}, status_code=self.status, headers=headers)


def _ingestor(request: Request) -> EventIngestor:
    return request.app.state.container.events  # type: ignore[no-any-return]


def _settings(request: Request) -> EventsSettings:
    return request.app.state.container.settings.events  # type: ignore[no-any-return]


def header_write_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise EventApiError(401, f"unsupported authorization scheme {scheme!r}; {BASIC_HINT}")
    try:
        user, _, _password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise EventApiError(401, f"malformed HTTP Basic credentials; {BASIC_HINT}") from None
    return user


def check_write_key(key: Any, settings: EventsSettings) -> None:
    known = [secret.get_secret_value() for secret in settings.write_keys]
    if not known:
        raise EventApiError(401, "the event API accepts no events: no write keys are configured (events.write_keys)")
    if not isinstance(key, str) or not key:
        raise EventApiError(401, f"missing write key; {BASIC_HINT}")
    if not any(hmac.compare_digest(key.encode(), candidate.encode()) for candidate in known):
        raise EventApiError(401, "unknown write key")


async def read_body(request: Request, limit: int) -> bytes:
    too_large = EventApiError(413, f"request body larger than {limit} bytes; send smaller batches")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise too_large
    if request.headers.get("content-encoding", "").lower() == "gzip":
        inflater = zlib.decompressobj(wbits=31)
        try:
            plain = inflater.decompress(bytes(body), limit + 1)
        except zlib.error as exc:
            raise EventApiError(400, f"body is not valid gzip: {exc}") from None
        if len(plain) > limit or inflater.unconsumed_tail:
            raise too_large
        return plain
    return bytes(body)


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventApiError(400, f"malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise EventApiError(400, "the body must be a JSON object")
    return data


async def receive(request: Request, kind: str) -> JSONResponse:
    try:
        key = header_write_key(request)
        data = parse_json(await read_body(request, _settings(request).max_batch_bytes))
        check_write_key(key if key is not None else data.get("writeKey"), _settings(request))
        ingestor = _ingestor(request)
        if kind == "batch":
            items = data.get("batch")
            if not isinstance(items, list):
                raise EventApiError(400, 'a batch body is {"batch": [event, ...]}')
            report = await run_in_threadpool(ingestor.ingest, items, data)
        else:
            event = {k: v for k, v in data.items() if k != "writeKey"} | {"type": kind}
            report = await run_in_threadpool(ingestor.ingest, [event])
            if report.rejected:
                raise EventApiError(400, f"invalid {kind} event: {report.rejected[0]['reason']}")
    except EventApiError as error:
        return error.response()
    if report.accepted:
        ingestor.trigger()
    return JSONResponse(report.to_dict())


@router.post("/batch", summary="A batch of events of any type (Segment's batch body).")
async def batch(request: Request) -> JSONResponse:
    return await receive(request, "batch")


def _single(kind: str) -> Any:
    async def endpoint(request: Request) -> JSONResponse:
        return await receive(request, kind)

    endpoint.__name__ = kind
    return endpoint


for _kind in SINGLE_EVENT_TYPES:
    router.add_api_route(f"/{_kind}", _single(_kind), methods=["POST"], summary=f"One {_kind} event.")


@router.get("/events/status", summary="What the inbox holds and how far processing got.")
async def status(request: Request) -> JSONResponse:
    try:
        check_write_key(header_write_key(request), _settings(request))
    except EventApiError as error:
        return error.response()
    return JSONResponse(await run_in_threadpool(_ingestor(request).status))
