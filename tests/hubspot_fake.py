"""A fake HubSpot portal on loopback, for the HubSpot connector's tests.

The portal serves the recorded real CRM v3 responses in
``../shared/datasets/crm_api_fixtures/hubspot_nango`` (companies, contacts, deals, owners, the
deal pipeline, a note) over a real threaded ``http.server`` and answers list, search, batch
read and v4 association requests from them the way HubSpot does: ``after`` paging, the GTE
filter on the modification time, ascending sort, the search ceiling, archived listings,
inline associations cut after their first page (with ``paging.next``), v4 association pages
per object with opaque ``after`` tokens, primary company associations (v3 names, v4 type ids
and the "Primary" label), and HubSpot's batch size limits. Where the recordings have no
data (calls, meetings, e-mails, deal associations) a few objects are added in the recorded
shapes; each is marked ``not recorded``.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.hubspot.client import epoch_millis
from connectors.hubspot.mapping import parse_time

TOKEN = "pat-eu1-test-token"
MODIFIED = {"contacts": "lastmodifieddate"}
NOTE_ID, NOTE_CONTACT, NOTE_COMPANY = "478016441536", "713492963559", "406260751575"
HUBSPOT_COMPANY, BRIAN, MARIA, NO_COMPANY_CONTACT = "406597029111", "713802347732", "713903210728", "713940736216"
UNAUTHORIZED = {  # HubSpot's answer to a request without a valid token
    "status": "error",
    "message": "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
    "correlationId": "4d0c2b4a-0000-0000-0000-000000000000",
    "category": "INVALID_AUTHENTICATION",
}
SINGULAR = {"companies": "company", "contacts": "contact", "deals": "deal", "notes": "note", "calls": "call",
            "meetings": "meeting", "emails": "email"}
PRIMARY_TYPE_IDS = {("contacts", "companies"): 1, ("deals", "companies"): 5}
TYPE_IDS = {  # HubSpot's default (unlabeled) association type ids
    ("contacts", "companies"): 279, ("companies", "contacts"): 280, ("deals", "contacts"): 3, ("contacts", "deals"): 4,
    ("deals", "companies"): 341, ("companies", "deals"): 342,
    ("notes", "contacts"): 202, ("contacts", "notes"): 201, ("notes", "companies"): 190, ("companies", "notes"): 189,
    ("notes", "deals"): 214, ("deals", "notes"): 213, ("calls", "contacts"): 194, ("contacts", "calls"): 193,
    ("calls", "companies"): 182, ("companies", "calls"): 181, ("calls", "deals"): 206, ("deals", "calls"): 205,
    ("meetings", "contacts"): 200, ("contacts", "meetings"): 199, ("meetings", "companies"): 188,
    ("companies", "meetings"): 187, ("meetings", "deals"): 212, ("deals", "meetings"): 211,
    ("emails", "contacts"): 198, ("contacts", "emails"): 197, ("emails", "companies"): 186, ("companies", "emails"): 185,
    ("emails", "deals"): 210, ("deals", "emails"): 209,
}
Link = tuple[str, str, str, str]  # from type, from id, to type, to id


def mod_property(object_type: str) -> str:
    return MODIFIED.get(object_type, "hs_lastmodifieddate")


def iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _token(offset: int) -> str:  # HubSpot's association paging tokens are opaque
    return base64.b64encode(f"0-{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    return int(base64.b64decode(token).decode().split("-")[1]) if token else 0


def _kind(type_id: int, label: str | None) -> dict[str, Any]:
    return {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": label}


def _batch_answer(results: list[dict[str, Any]], errors: list[dict[str, Any]]) -> tuple[int, dict[str, str], Any]:
    """A batch endpoint's answer: 207 when some inputs failed."""
    body = {"status": "COMPLETE", "results": results, "numErrors": len(errors), "errors": errors}
    return (207 if errors else 200), {}, body


def _error(status: int, message: str, category: str = "VALIDATION_ERROR") -> tuple[int, dict[str, str], Any]:
    return status, {}, {"status": "error", "message": message, "category": category}


@dataclass
class Fault:
    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    times: int


@dataclass
class SeenRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class FakePortal:
    objects: dict[str, dict[str, dict[str, Any]]]
    owners: list[dict[str, Any]]
    pipelines: dict[str, Any]
    links: set[Link] = field(default_factory=set)
    primary: set[Link] = field(default_factory=set)  # directional: contact or deal -> its primary company
    clock: datetime = datetime(2026, 3, 18, 12, 0, tzinfo=timezone.utc)
    ceiling: int = 10_000
    inline_association_limit: int = 100  # links inline in a list response before paging.next
    association_page: int = 500  # links per object in one v4 batch read answer
    requests: list[SeenRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_request: Callable[[SeenRequest], None] | None = None  # "someone edits HubSpot" while a sync runs

    # changes made "in HubSpot" between syncs
    def tick(self, seconds: float = 60) -> datetime:
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def modify(self, object_type: str, object_id: str, at: datetime | None = None, **properties: Any) -> None:
        obj = self.objects[object_type][object_id]
        when = iso(at or self.tick())
        obj["properties"].update(properties, **{mod_property(object_type): when})
        obj["updatedAt"] = when

    def add(self, object_type: str, object_id: str, **properties: Any) -> None:
        when = iso(self.tick())
        self.objects[object_type][object_id] = {
            "id": object_id, "createdAt": when, "updatedAt": when, "archived": False,
            "properties": {"hs_object_id": object_id, "hs_createdate": when, mod_property(object_type): when, **properties},
        }

    def archive(self, object_type: str, object_id: str) -> None:
        obj = self.objects[object_type][object_id]
        obj["archived"], obj["archivedAt"] = True, iso(self.tick())

    def link(self, from_type: str, from_id: str, to_type: str, to_id: str, primary: bool = False) -> None:
        """Associate two objects (both ways, as HubSpot does); ``primary`` marks a contact's or
        deal's primary company, which HubSpot also keeps in the contact's ``associatedcompanyid``."""
        self.links |= {(from_type, from_id, to_type, to_id), (to_type, to_id, from_type, from_id)}
        if primary:
            self.primary = {p for p in self.primary if p[:3] != (from_type, from_id, to_type)}
            self.primary.add((from_type, from_id, to_type, to_id))
            contact = self.objects["contacts"].get(from_id) if from_type == "contacts" else None
            if contact is not None:
                contact["properties"]["associatedcompanyid"] = to_id

    def move_contact(self, contact_id: str, company_id: str | None) -> None:
        """The contact leaves its companies for ``company_id`` (its new primary one, or none)."""
        gone = {link for link in self.links if {link[0], link[2]} == {"contacts", "companies"} and contact_id in link[1::2]}
        self.links -= gone
        self.primary -= gone
        if company_id:
            self.link("contacts", contact_id, "companies", company_id, primary=True)
        self.modify("contacts", contact_id, associatedcompanyid=company_id or "")

    def fail(self, method: str, path: str, status: int, times: int = 1, headers: dict[str, str] | None = None,
             body: dict[str, Any] | None = None) -> None:
        self.faults.append(Fault(method, path, status, headers or {}, body or {"status": "error", "message": "boom"}, times))

    def seen(self, method: str, path: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # answers
    def answer(self, method: str, path: str, query: dict[str, str], body: Any, auth: str) -> tuple[int, dict[str, str], Any]:
        if auth != f"Bearer {TOKEN}":
            return 401, {}, UNAUTHORIZED
        for fault in self.faults:
            if fault.times > 0 and (fault.method, fault.path) == (method, path):
                fault.times -= 1
                return fault.status, fault.headers, fault.body
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/crm/v3/pipelines/deals":
            return 200, {}, self.pipelines
        if method == "GET" and path == "/crm/v3/owners":
            owners = [] if query.get("archived") == "true" else self.owners
            return 200, {}, _offset_page(owners, int(query.get("after", 0)), int(query.get("limit", 100)))
        if method == "GET" and parts[:3] == ["crm", "v3", "objects"] and len(parts) == 4:
            return 200, {}, self._list(parts[3], query)
        if method == "POST" and parts[:3] == ["crm", "v3", "objects"] and parts[4:] == ["search"]:
            return self._search(parts[3], body)
        if method == "POST" and parts[:3] == ["crm", "v3", "objects"] and parts[4:] == ["batch", "read"]:
            return self._batch_read(parts[3], body)
        if method == "POST" and parts[:3] == ["crm", "v4", "associations"] and parts[5:] == ["batch", "read"]:
            return self._associations(parts[3], parts[4], body)
        return 404, {}, {"status": "error", "message": f"no route {method} {path}"}

    def _targets(self, from_type: str, from_id: str, to_type: str) -> list[str]:
        wanted = (from_type, from_id, to_type)
        return sorted((t_id for (f_type, f_id, t_type, t_id) in self.links if (f_type, f_id, t_type) == wanted), key=int)

    def _v3_links(self, from_type: str, from_id: str, to_type: str) -> list[dict[str, str]]:
        """Inline (v3) links: a primary company also under the plain type name."""
        name = f"{SINGULAR[from_type]}_to_{SINGULAR[to_type]}"
        found: list[dict[str, str]] = []
        for to_id in self._targets(from_type, from_id, to_type):
            if (from_type, to_type) not in PRIMARY_TYPE_IDS:
                found.append({"id": to_id, "type": name})
                continue
            if (from_type, from_id, to_type, to_id) in self.primary:
                found.append({"id": to_id, "type": name})
            found.append({"id": to_id, "type": f"{name}_unlabeled"})
        return found

    def _v4_links(self, from_type: str, from_id: str, to_type: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for to_id in self._targets(from_type, from_id, to_type):
            kinds: list[dict[str, Any]] = [_kind(TYPE_IDS[(from_type, to_type)], None)]
            if (from_type, from_id, to_type, to_id) in self.primary:
                kinds.insert(0, _kind(PRIMARY_TYPE_IDS[(from_type, to_type)], "Primary"))
            found.append({"toObjectId": int(to_id), "associationTypes": kinds})
        return found

    def _shape(self, object_type: str, obj: dict[str, Any], properties: list[str], associations: list[str]) -> dict[str, Any]:
        always = {"hs_object_id", "createdate", mod_property(object_type)}
        shaped = {k: v for k, v in obj.items() if k != "properties"}
        shaped["properties"] = {k: v for k, v in obj["properties"].items() if k in always or k in properties}
        blocks: dict[str, Any] = {}
        for to_type in associations:
            found = self._v3_links(object_type, obj["id"], to_type)
            if not found:
                continue
            blocks[to_type] = {"results": found[: self.inline_association_limit]}
            if len(found) > self.inline_association_limit:
                after = _token(self.inline_association_limit)
                blocks[to_type]["paging"] = {"next": {"after": after, "link": f"{self.url}/crm/v4/objects/{object_type}/"
                                                      f"{obj['id']}/associations/{to_type}?after={after}"}}
        if blocks:
            shaped["associations"] = blocks
        return shaped

    def _list(self, object_type: str, query: dict[str, str]) -> dict[str, Any]:
        archived = query.get("archived") == "true"
        limit = min(int(query.get("limit", 10)), 100)
        rows = sorted((o for o in self.objects.get(object_type, {}).values() if o["archived"] == archived),
                      key=lambda o: int(o["id"]))
        start = int(query["after"]) if "after" in query else 0
        rows = [o for o in rows if int(o["id"]) >= start]
        properties = query.get("properties", "").split(",")
        associations = [a for a in query.get("associations", "").split(",") if a]
        page: dict[str, Any] = {"results": [self._shape(object_type, o, properties, associations) for o in rows[:limit]]}
        if len(rows) > limit:
            page["paging"] = {"next": {"after": rows[limit]["id"]}}  # HubSpot's list cursor is the next id
        return page

    def _search(self, object_type: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        (group,) = body["filterGroups"]
        (condition,) = group["filters"]
        if condition["propertyName"] != mod_property(object_type) or condition["operator"] != "GTE":
            return _error(400, f"unexpected filter {condition}")
        since = int(condition["value"])
        limit, offset = min(int(body["limit"]), 200), int(body.get("after", 0))
        if offset + limit > self.ceiling:
            return _error(400, f"The search API cannot page past {self.ceiling} results")

        def modified(o: dict[str, Any]) -> int:
            return epoch_millis(parse_time(o["properties"][mod_property(object_type)]))

        rows = sorted((o for o in self.objects[object_type].values() if not o["archived"] and modified(o) >= since),
                      key=lambda o: (modified(o), int(o["id"])))
        shown = rows[offset : offset + limit]
        page: dict[str, Any] = {"total": len(rows), "results": [self._shape(object_type, o, body["properties"], []) for o in shown]}
        if offset + limit < len(rows):
            page["paging"] = {"next": {"after": str(offset + limit)}}
        return 200, {}, page

    def _batch_read(self, object_type: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        if len(body["inputs"]) > 100:
            return _error(400, "Batch input cannot exceed 100 inputs")
        results, errors = [], []
        for item in body["inputs"]:
            obj = self.objects[object_type].get(item["id"])
            if obj is None or obj["archived"]:
                errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                               "message": f"Could not get some {object_type}", "context": {"ids": [item["id"]]}})
            else:
                results.append(self._shape(object_type, obj, body.get("properties") or [], []))
        return _batch_answer(results, errors)

    def _associations(self, from_type: str, to_type: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        """``POST /crm/v4/associations/{from}/{to}/batch/read``: one page of links per input."""
        if len(body["inputs"]) > 1000:
            return _error(400, "The batch read may not have more than 1000 inputs")
        results, errors = [], []
        for item in body["inputs"]:
            found = self._v4_links(from_type, item["id"], to_type)
            start = _offset(item.get("after"))
            if not found:
                errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                               "message": f"No {to_type} is associated to {SINGULAR[from_type]} {item['id']}."})
                continue
            result: dict[str, Any] = {"from": {"id": item["id"]}, "to": found[start : start + self.association_page]}
            if start + self.association_page < len(found):
                after = _token(start + self.association_page)
                result["paging"] = {"next": {"after": after, "link": None}}
            results.append(result)
        return _batch_answer(results, errors)


def _offset_page(rows: list[dict[str, Any]], offset: int, limit: int) -> dict[str, Any]:
    page: dict[str, Any] = {"results": rows[offset : offset + limit]}
    if offset + limit < len(rows):
        page["paging"] = {"next": {"after": str(offset + limit)}}
    return page


def _recorded(root: Path, name: str, method: str, path: str) -> Any:
    return json.loads((root / f"{name}.test.json").read_text())["api"][method][path]["response"]


def load_portal(datasets: Path) -> FakePortal:
    root = datasets / "crm_api_fixtures" / "hubspot_nango"
    companies = _recorded(root, "companies", "get", "/crm/v3/objects/companies")["results"]
    contacts = _recorded(root, "contacts", "get", "/crm/v3/objects/contacts")["results"]
    deals = _recorded(root, "deals", "get", "/crm/v3/objects/deals")["results"]
    listed_deals = _recorded(root, "list-deals", "get", "/crm/v3/objects/deals")["results"]
    pipeline_of = {d["id"]: d["properties"].get("pipeline") for d in listed_deals}
    for deal in deals:  # the same deals recorded twice: one recording has the owner, the other the pipeline
        if pipeline_of.get(deal["id"]):
            deal["properties"]["pipeline"] = pipeline_of[deal["id"]]
    note = _recorded(root, "create-note", "post", "/crm/v3/objects/notes")
    portal = FakePortal(
        objects={"companies": {o["id"]: o for o in companies}, "contacts": {o["id"]: o for o in contacts},
                 "deals": {o["id"]: o for o in deals}, "notes": {note["id"]: note}, "calls": {}, "meetings": {}, "emails": {}},
        owners=_recorded(root, "owners", "get", "/crm/v3/owners")["results"],
        pipelines=_recorded(root, "fetch-pipelines", "get", "/crm/v3/pipelines/deals"),
    )
    # recorded: create-association (type contact_to_company, the primary one); the note's create request
    portal.link("contacts", NOTE_CONTACT, "companies", NOTE_COMPANY, primary=True)
    portal.link("notes", NOTE_ID, "contacts", NOTE_CONTACT)
    # not recorded: Brian and Maria (sample contacts whose company property is "HubSpot") at HubSpot,
    # two deals with their company and contacts, and a call, a meeting and e-mails like the note
    portal.link("contacts", BRIAN, "companies", HUBSPOT_COMPANY, primary=True)
    portal.link("contacts", MARIA, "companies", HUBSPOT_COMPANY, primary=True)
    deal_links = (("493593663734", NOTE_COMPANY, [NOTE_CONTACT]), ("479475667160", HUBSPOT_COMPANY, [BRIAN, MARIA]))
    for deal_id, company, people in deal_links:
        portal.link("deals", deal_id, "companies", company, primary=True)
        for person in people:
            portal.link("deals", deal_id, "contacts", person)
    portal.objects["calls"]["480000000001"] = engagement(
        "480000000001", "2026-02-26T09:30:00Z", hs_call_title="Follow up with Brian", hs_call_direction="OUTBOUND",
        hs_call_body="<p>Brian wants a <b>pricing</b> overview for 40 seats.</p>", hubspot_owner_id="88842095")
    portal.link("calls", "480000000001", "contacts", BRIAN)
    portal.objects["meetings"]["480000000002"] = engagement("480000000002", "2026-02-27T14:00:00Z", hs_meeting_title="Quote review",
        hs_meeting_body="Walked Maria through the quote.", hs_internal_meeting_notes="She must convince her CFO.")
    portal.link("meetings", "480000000002", "companies", HUBSPOT_COMPANY)
    portal.link("meetings", "480000000002", "contacts", MARIA)
    portal.objects["emails"]["480000000003"] = engagement("480000000003", "2026-02-28T08:00:00Z", hs_email_subject="Question",
        hs_email_text="Do you offer an API?", hs_email_direction="INCOMING_EMAIL")
    portal.link("emails", "480000000003", "contacts", NO_COMPANY_CONTACT)
    return portal


def engagement(object_id: str, at: str, **properties: Any) -> dict[str, Any]:
    return {"id": object_id, "createdAt": at, "updatedAt": at, "archived": False,
            "properties": {"hs_object_id": object_id, "hs_timestamp": at, "hs_createdate": at, "hs_lastmodifieddate": at,
                           **properties}}


@contextmanager
def serving(portal: FakePortal) -> Iterator[FakePortal]:
    """The portal on a real threaded HTTP server on loopback."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            split = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(split.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            with portal.lock:
                seen = SeenRequest(self.command, split.path, query, body)
                portal.requests.append(seen)
                if portal.on_request is not None:
                    portal.on_request(seen)
                status, headers, answer = portal.answer(self.command, split.path, query, body, self.headers.get("Authorization", ""))
                seen.status = status
            payload = json.dumps(answer).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json;charset=utf-8", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def date_time_string(self, timestamp: float | None = None) -> str:
            return format_datetime(portal.clock, usegmt=True)  # the portal's clock, not ours

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    portal.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield portal
    finally:
        server.shutdown()
        server.server_close()
