"""Segment events as profile records.

- ``page`` / ``screen`` -> a ``page_view`` / ``screen_view`` touchpoint (online; channel and
  kind from the campaign and the referrer);
- ``track`` -> a touchpoint whose type comes from the event name where the domain knows it
  (``Webinar Registered`` -> webinar), else type ``event`` titled with the name;
- ``identify`` / ``alias`` / ``group`` -> the events source's *contact* for the user, whose
  traits accumulate over calls like Segment's do (a later identify with only ``plan`` keeps
  the e-mail), carrying the anonymous ids it was seen with: identity resolution links them
  and merges the anonymous history into the person; ``group`` also gives an account;
- consent in ``traits.consent`` (``{"marketing_email": true}``) or in Segment's
  ``context.consent.categoryPreferences`` -> consent records, one per message and purpose.

Every record's id is the event's ``messageId`` (or the user's key for contacts), so
processing the same event twice writes nothing new. Strings are cut to their column's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import String, inspect

from connectors.events.channels import acquisition, overrides, track_type, utm_from_url
from connectors.events.models import (
    AliasEvent,
    EventBase,
    GroupEvent,
    IdentifyEvent,
    PageContext,
    PageEvent,
    ScreenEvent,
    SegmentEvent,
    TrackEvent,
)
from knowledge.profiles.models import ENTITY_MODELS
from knowledge.profiles.person_resolution import normalise_email
from knowledge.profiles.records import ProfileRecord, Ref

GRANTED = frozenset({"true", "yes", "granted", "opt_in", "opted_in", "optin", "1", "accepted"})
WITHDRAWN = frozenset({"false", "no", "withdrawn", "denied", "opt_out", "opted_out", "optout", "0", "rejected"})
DETAIL_PROPERTIES = ("text", "message", "comment", "body", "review", "question")


@cache
def _column_lengths(entity: str) -> dict[str, int]:
    return {c.key: c.type.length for c in inspect(ENTITY_MODELS[entity]).columns
            if isinstance(c.type, String) and c.type.length}


def record(entity: str, source_id: str, values: dict[str, Any]) -> ProfileRecord:
    """A record without ``None`` values and with strings cut to their column's size (a
    sender's 5,000-character name must not fail a whole batch on PostgreSQL)."""
    lengths = _column_lengths(entity)
    fitted = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, str) and name in lengths and len(value) > lengths[name]:
            value = value[: lengths[name]]
        fitted[name] = value
    return ProfileRecord(entity, source_id, fitted)


def text(values: dict[str, Any] | None, *names: str) -> str | None:
    """The first of ``names`` that holds text (or a number), trimmed."""
    if not values:
        return None
    for name in names:
        value = values.get(name)
        if value is None or value is True or value is False:
            continue
        if isinstance(value, str):
            if value := value.strip():
                return value
        elif isinstance(value, (int, float)):
            return str(value)
    return None


def occurred_at(event: EventBase) -> datetime:
    when = event.timestamp or event.received_at or datetime.now(UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def contact_key(event: EventBase, traits: dict[str, Any] | None) -> str | None:
    """The events contact an event is about: its user id, else its e-mail, else its
    anonymous id (traits of a visitor who never logged in)."""
    if event.user_id:
        return event.user_id
    email = normalise_email(text(traits, "email"))
    if email and len(email) <= 200:
        return email
    return f"anonymous:{event.anonymous_id}" if event.anonymous_id else None


def person_values(event: EventBase) -> dict[str, Any]:
    """Who the touchpoint is about, as identity resolution reads it."""
    extra = event.context.model_extra or {}
    group = text(extra, "groupId")
    return {
        "anonymous_id": event.anonymous_id,
        "contact_id": Ref("contact", event.user_id) if event.user_id else None,
        "email": text(event.context.traits, "email"),
        "account_id": Ref("account", group) if group else None,
    }


CAMPAIGN_FIELDS = ("name", "source", "medium", "term", "content")
NO_PAGE = PageContext()


def campaign_of(event: EventBase, url: str | None) -> dict[str, str]:
    campaign = event.context.campaign
    found = {k: v for k in CAMPAIGN_FIELDS if isinstance(v := getattr(campaign, k), str) and v} if campaign else {}
    return found or utm_from_url(url)


@dataclass
class ContactState:
    """What the events source knows about one user so far."""

    key: str
    traits: dict[str, Any] = field(default_factory=dict)
    anonymous_ids: list[str] = field(default_factory=list)
    user_id: str | None = None
    group_id: str | None = None
    first_seen: str | None = None

    @classmethod
    def from_attributes(cls, key: str, attributes: dict[str, Any]) -> ContactState:
        return cls(key, dict(attributes.get("traits") or {}), list(attributes.get("anonymous_ids") or []),
                   attributes.get("user_id"), attributes.get("group_id"), attributes.get("first_seen"))

    def snapshot(self) -> tuple[Any, ...]:
        return (repr(sorted(self.traits.items(), key=lambda kv: kv[0])), tuple(self.anonymous_ids), self.user_id, self.group_id)

    def values(self) -> dict[str, Any]:
        t = self.traits
        first, last = text(t, "firstName", "first_name"), text(t, "lastName", "last_name")
        company = t.get("company")
        language = text(t, "language", "locale")
        return {
            "email": text(t, "email"),
            "first_name": first,
            "last_name": last,
            "full_name": text(t, "name") or (" ".join(p for p in (first, last) if p) or None),
            "job_title": text(t, "title", "jobTitle", "job_title"),
            "department": text(t, "department"),
            "phone": text(t, "phone"),
            "company_name": text(company, "name") if isinstance(company, dict) else text(t, "company"),
            "language": language.replace("_", "-").split("-")[0].lower() if language else None,
            "lifecycle_stage": text(t, "lifecycleStage", "lifecycle_stage"),
            "created_at": _datetime(t.get("createdAt") or t.get("created_at")) or self.first_seen,
            "account_id": Ref("account", self.group_id) if self.group_id else None,
            "user_id": self.user_id,
            "anonymous_ids": list(self.anonymous_ids),
            "group_id": self.group_id,
            "first_seen": self.first_seen,
            "traits": t,
        }


def _datetime(value: Any) -> str | None:
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC).isoformat()
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat()
    except (ValueError, OverflowError, OSError):
        return None
    return None


StateLoader = Callable[[Iterable[str]], dict[str, ContactState]]


class EventMapper:
    """Turns events into records, keeping the contact states of one processing run."""

    def __init__(self, load_states: StateLoader) -> None:
        self._load_states = load_states
        self.states: dict[str, ContactState] = {}

    def prefetch(self, events: Iterable[SegmentEvent]) -> None:
        """Load the stored states of every user these events update, in one query."""
        keys = {contact_key(e, getattr(e, "traits", None)) for e in events
                if isinstance(e, (IdentifyEvent, AliasEvent, GroupEvent))}
        wanted = {k for k in keys if k and k not in self.states}
        if wanted:
            self.states.update(self._load_states(wanted))

    def records(self, event: SegmentEvent) -> list[ProfileRecord]:
        if isinstance(event, (PageEvent, ScreenEvent)):
            found = [page_touchpoint(event)]
        elif isinstance(event, TrackEvent):
            found = [track_touchpoint(event)]
        else:
            found = self._user_records(event)
        found.extend(consent_records(event, _context_consent(event), event.user_id))
        return found

    def _state(self, key: str) -> ContactState:
        if key not in self.states:
            self.states[key] = ContactState(key)
        return self.states[key]

    def _user_records(self, event: IdentifyEvent | AliasEvent | GroupEvent) -> list[ProfileRecord]:
        traits = (event.traits or {}) if isinstance(event, IdentifyEvent) else {}
        key = contact_key(event, traits)
        if key is None:
            return []
        state = self._state(key)
        before = state.snapshot()
        found: list[ProfileRecord] = []
        state.traits.update((k, v) for k, v in traits.items() if k != "consent")
        anonymous = [event.anonymous_id, event.previous_id if isinstance(event, AliasEvent) else None]
        state.anonymous_ids.extend(a for a in dict.fromkeys(anonymous) if a and a not in state.anonymous_ids)
        state.user_id = event.user_id or state.user_id
        state.first_seen = state.first_seen or occurred_at(event).isoformat()
        if isinstance(event, GroupEvent):
            state.group_id = event.group_id
            found.append(group_account(event))
        if state.snapshot() != before:
            found.append(record("contact", key, state.values()))
        if isinstance(event, IdentifyEvent):
            found.extend(consent_records(event, traits.get("consent"), key))
        return found


def page_touchpoint(event: PageEvent | ScreenEvent) -> ProfileRecord:
    props = event.properties or {}
    page = event.context.page or NO_PAGE
    url = text(props, "url") or page.url
    campaign = campaign_of(event, url)
    if isinstance(event, ScreenEvent):
        kind_of, channel, kind, url = "screen_view", "app", "owned", None
    else:
        kind_of = "page_view"
        channel, kind = acquisition(campaign.get("medium"), campaign.get("source"), text(props, "referrer") or page.referrer, url)
    return record("touchpoint", str(event.message_id), {
        "occurred_at": occurred_at(event), "type": kind_of, "channel": channel, "kind": kind, "world": "online",
        "campaign": campaign.get("name"), "content_uri": url, "title": text(props, "title") or page.title or event.name,
        **person_values(event),
        "referrer": text(props, "referrer") or page.referrer or None,
        "page_name": event.name if event.name != page.title else None, "page_category": getattr(event, "category", None),
        **{f"utm_{k}": v for k, v in campaign.items() if k != "name"},
    })


def track_touchpoint(event: TrackEvent) -> ProfileRecord:
    props = event.properties or {}
    known = track_type(event.event)
    page = event.context.page or NO_PAGE
    url = text(props, "url") or page.url
    campaign = campaign_of(event, url)
    if known is not None and known.channel:
        channel, kind = known.channel, known.kind
    else:
        channel, kind = acquisition(campaign.get("medium"), campaign.get("source"), page.referrer, url)
        kind = known.kind if known is not None and known.kind else kind
    values = {"channel": channel, "kind": kind, "world": known.world if known else "online", **overrides(props)}
    return record("touchpoint", str(event.message_id), {
        "occurred_at": occurred_at(event), "type": known.type if known else "event", **values,
        "campaign": text(props, "campaign") or campaign.get("name"), "content_uri": url,
        "title": (text(props, "title", "name") or event.event) if known else event.event,
        "detail": text(props, *DETAIL_PROPERTIES), **person_values(event),
        "event": event.event, "properties": props or None,
    })


def group_account(event: GroupEvent) -> ProfileRecord:
    traits = event.traits or {}
    employees = text(traits, "employees")
    return record("account", event.group_id, {
        "name": text(traits, "name") or event.group_id,
        "domain": text(traits, "domain", "website"),
        "industry": text(traits, "industry"),
        "employees": int(float(employees)) if employees and _is_number(employees) else None,
        "country": text(traits.get("address") if isinstance(traits.get("address"), dict) else traits, "country"),
        "city": text(traits.get("address") if isinstance(traits.get("address"), dict) else traits, "city"),
        "traits": traits or None,
    })


def _is_number(value: str) -> bool:
    try:
        return 0 <= float(value) < 2**31
    except ValueError:
        return False


def _context_consent(event: EventBase) -> Any:
    consent = event.context.consent or {}
    return consent.get("categoryPreferences") if isinstance(consent, dict) else None


def consent_records(event: EventBase, decisions: Any, key: str | None) -> list[ProfileRecord]:
    """One record per purpose: ``true``/``"granted"`` grant it, ``false``/``"withdrawn"``
    withdraw it; anything else is not a decision and is skipped."""
    if not isinstance(decisions, dict):
        return []
    found = []
    traits = getattr(event, "traits", None) or event.context.traits
    for purpose, decision in decisions.items():
        value = str(decision).strip().lower()
        status = "granted" if value in GRANTED else "withdrawn" if value in WITHDRAWN else None
        if status is None or not str(purpose).strip():
            continue
        purpose = str(purpose).strip()[:60]
        found.append(record("consent", f"{event.message_id}:{purpose}", {
            "contact_id": Ref("contact", key) if key else None, "anonymous_id": event.anonymous_id,
            "email": text(traits, "email"), "purpose": purpose, "status": status, "recorded_at": occurred_at(event),
        }))
    return found
