"""How HubSpot engagements (notes, calls, meetings, e-mails) become touchpoints and
internal documents.

Touchpoint source ids prefix the engagement type (``hubspot:touchpoint:note-478016441536``)
because the four are separate object types in HubSpot. Their text becomes a document
``hubspot/{type}/{id}`` that is internal and belongs to one account.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.hubspot.mapping import (
    SINGULAR,
    Associations,
    modified_at,
    object_uri,
    optional_ref,
    parse_time,
    properties_of,
)
from knowledge.documents import SourceDocument, Visibility
from knowledge.profiles import ProfileRecord, Ref


@dataclass(frozen=True)
class EngagementKind:
    type: str
    label: str
    channel: str
    world: str | None  # a note records something that happened anywhere: its world is unknown
    title_property: str | None
    body_properties: tuple[str, ...]
    direction_property: str | None = None
    extra_properties: tuple[str, ...] = ()


ENGAGEMENTS: dict[str, EngagementKind] = {
    "notes": EngagementKind("note", "Note", "note", None, None, ("hs_note_body",)),
    "calls": EngagementKind(
        "call", "Call", "phone", "offline", "hs_call_title", ("hs_call_body",), "hs_call_direction",
        ("hs_call_duration", "hs_call_status", "hs_call_disposition"),
    ),
    "meetings": EngagementKind(
        "meeting", "Meeting", "meeting", "offline", "hs_meeting_title", ("hs_meeting_body", "hs_internal_meeting_notes"),
        None, ("hs_meeting_start_time", "hs_meeting_end_time", "hs_meeting_location", "hs_meeting_outcome"),
    ),
    "emails": EngagementKind(
        # A plain-text part is preferred; the HTML part is the fallback.
        "email", "E-mail", "email", "online", "hs_email_subject", ("hs_email_text",), "hs_email_direction",
        ("hs_email_status",),
    ),
}

DIRECTIONS = {
    "INBOUND": "inbound",
    "OUTBOUND": "outbound",
    "INCOMING_EMAIL": "inbound",
    "EMAIL": "outbound",
    "FORWARDED_EMAIL": "outbound",
}

_HTML = re.compile(r"<\s*(p|div|br|span|html|body|ul|ol|li|b|i|u|strong|em|a|table|tr|td|h[1-6])\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def looks_like_html(text: str) -> bool:
    return bool(_HTML.search(text))


def plain_text(text: str) -> str:
    """Tags dropped, entities decoded, whitespace collapsed (for titles and previews)."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()


def touchpoint_id(object_type: str, object_id: str) -> str:
    return f"{SINGULAR[object_type]}-{object_id}"


def engagement_text(object_type: str, obj: Mapping[str, Any]) -> tuple[str, str]:
    """An engagement's text and its media type ('' when it has none)."""
    return _body(ENGAGEMENTS[object_type], properties_of(obj))


def _body(kind: EngagementKind, p: Mapping[str, Any]) -> tuple[str, str]:
    """The engagement's text and its media type ('' when it has none)."""
    parts = [str(p[name]).strip() for name in kind.body_properties if p.get(name) and str(p[name]).strip()]
    if not parts and kind.type == "email" and p.get("hs_email_html"):
        parts = [str(p["hs_email_html"]).strip()]
    if not parts:
        return "", "text/plain"
    if any(looks_like_html(part) for part in parts):
        return "\n<hr>\n".join(part if looks_like_html(part) else f"<p>{html.escape(part)}</p>" for part in parts), "text/html"
    return "\n\n".join(parts), "text/plain"


def engagement_touchpoint(
    object_type: str, obj: Mapping[str, Any], associations: Associations, account_id: str | None
) -> ProfileRecord:
    """The touchpoint a note, call, meeting or e-mail is. ``account_id`` is its company,
    or the company of its contact when the engagement names none."""
    kind = ENGAGEMENTS[object_type]
    p = properties_of(obj)
    object_id = str(obj["id"])
    occurred_at = parse_time(p.get("hs_timestamp") or p.get("hs_createdate") or obj.get("createdAt"))
    text, _ = _body(kind, p)
    preview = plain_text(text)
    title = plain_text(str(p.get(kind.title_property) or "")) if kind.title_property else ""
    contacts, deals = associations.get("contacts") or [], associations.get("deals") or []
    values: dict[str, Any] = {
        "occurred_at": occurred_at,
        "channel": kind.channel,
        "kind": "owned",
        "world": kind.world,
        "type": kind.type,
        "direction": DIRECTIONS.get(str(p.get(kind.direction_property) or "").upper()) if kind.direction_property else None,
        "title": (title or preview[:120] or None),
        "detail": preview[:1000] or None,
        "content_uri": object_uri(object_type, object_id) if text else None,
        "contact_id": optional_ref("contact", contacts[0] if contacts else None),
        "account_id": optional_ref("account", account_id),
        "deal_id": optional_ref("deal", deals[0] if deals else None),
        "owner_id": optional_ref("owner", p.get("hubspot_owner_id")),
        "hubspot_contact_ids": contacts or None,
        "hubspot_company_ids": associations.get("companies"),
        "hubspot_deal_ids": deals or None,
    }
    for name in kind.extra_properties:
        if p.get(name) not in (None, ""):
            values[name.removeprefix("hs_")] = p[name]
    return ProfileRecord("touchpoint", touchpoint_id(object_type, object_id), values)


def engagement_document(
    object_type: str, obj: Mapping[str, Any], associations: Associations, account_id: str
) -> SourceDocument | None:
    """The engagement's text as internal content of its account (None if it has no text)."""
    kind = ENGAGEMENTS[object_type]
    p = properties_of(obj)
    text, media_type = _body(kind, p)
    if not text:
        return None
    occurred_at = parse_time(p.get("hs_timestamp") or p.get("hs_createdate") or obj.get("createdAt"))
    headline = plain_text(str(p.get(kind.title_property) or "")) if kind.title_property else ""
    day = occurred_at.date().isoformat() if occurred_at else "undated"
    title = f"{kind.label} {day}: {headline or plain_text(text)[:80]}"
    if media_type == "text/html":
        # HubSpot stores rich text as a fragment; a whole page (with its charset) is what
        # the HTML loader reads without guessing.
        text = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
                f"<body>{text}</body></html>")
    return SourceDocument(
        uri=object_uri(object_type, str(obj["id"])),
        content=text.encode("utf-8"),
        media_type=media_type,
        title=title,
        updated_at=modified_at(obj, object_type),
        visibility=Visibility.INTERNAL,
        account_id=Ref("account", account_id),
        metadata={
            "hubspot_type": kind.type,
            "occurred_at": occurred_at.isoformat() if occurred_at else None,
            "contact_ids": associations.get("contacts") or [],
            "deal_ids": associations.get("deals") or [],
        },
    )
