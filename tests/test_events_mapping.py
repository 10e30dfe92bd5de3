"""Segment events as profile records: channels, touchpoint types, traits, consent (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from connectors.events.channels import acquisition
from connectors.events.mapping import ContactState, EventMapper
from connectors.events.models import parse_event
from knowledge.profiles import ProfileRecord, Ref


def mapper(stored: dict[str, ContactState] | None = None) -> EventMapper:
    def load(keys: Iterable[str]) -> dict[str, ContactState]:
        return {key: stored[key] for key in keys if stored and key in stored}

    return EventMapper(load)


def records(raw: dict[str, Any], using: EventMapper | None = None) -> list[ProfileRecord]:
    event = parse_event({"messageId": "m1", "anonymousId": "anon-1", **raw})
    using = using or mapper()
    using.prefetch([event])
    return using.records(event)


def one(raw: dict[str, Any]) -> dict[str, Any]:
    (record,) = records(raw)
    return record.values


@pytest.mark.parametrize(("medium", "source", "referrer", "url", "expected"), [
    ("cpc", "google", None, None, ("paid_search", "paid")),
    ("paid", "linkedin", None, None, ("paid_social", "paid")),
    ("display", None, None, None, ("display", "paid")),
    ("newsletter", None, None, None, ("email", "owned")),
    ("social", None, None, None, ("social", "earned")),
    ("referral", None, None, None, ("referral", "earned")),
    (None, None, None, "https://www.example.de/", ("direct", "owned")),
    (None, None, "https://www.google.de/search?q=ticket", "https://www.example.de/", ("organic_search", "earned")),
    (None, None, "https://chatgpt.com/", "https://www.example.de/", ("ai_assistant", "earned")),
    (None, None, "https://www.linkedin.com/feed/", "https://www.example.de/", ("social", "earned")),
    (None, None, "https://mail.google.com/", "https://www.example.de/", ("email", "owned")),
    (None, None, "https://blog.partner.de/post", "https://www.example.de/", ("referral", "earned")),
    (None, None, "https://example.de/a", "https://www.example.de/b", ("website", "owned")),
    ("podcast", None, None, None, ("podcast", None)),
])
def test_acquisition_channel_and_kind(medium: str | None, source: str | None, referrer: str | None, url: str | None,
                                      expected: tuple[str, str | None]) -> None:
    assert acquisition(medium, source, referrer, url) == expected


def test_a_page_view_is_an_online_touchpoint_with_its_campaign_from_context_or_url() -> None:
    values = one({"type": "page", "userId": "u-1", "name": "Preise", "timestamp": "2024-05-01T09:00:00Z",
                  "context": {"page": {"url": "https://www.example.de/preise?utm_source=bing&utm_medium=cpc&utm_campaign=q2",
                                       "title": "Preise und Pakete"}, "traits": {"email": "jane@acme.com"}, "groupId": "acme"}})
    assert {k: values[k] for k in ("type", "channel", "kind", "world", "campaign", "title", "utm_source")} == {
        "type": "page_view", "channel": "paid_search", "kind": "paid", "world": "online", "campaign": "q2",
        "title": "Preise und Pakete", "utm_source": "bing"}
    assert values["contact_id"] == Ref("contact", "u-1") and values["anonymous_id"] == "anon-1"
    assert values["email"] == "jane@acme.com" and values["account_id"] == Ref("account", "acme")
    assert one({"type": "screen", "name": "Dashboard"})["type"] == "screen_view"


@pytest.mark.parametrize(("name", "properties", "expected"), [
    ("Webinar Registered", {"title": "Tickets 101"}, ("webinar", "owned", "online", "Tickets 101")),
    ("webinar_registered", {}, ("webinar", "owned", "online", "webinar_registered")),
    ("Trade Fair Visit", {"fair": "CeBIT"}, ("trade_fair", "owned", "offline", "Trade Fair Visit")),
    ("Trade Fair Visit", {"virtual": True}, ("trade_fair", "owned", "online", "Trade Fair Visit")),
    ("Review Written", {"text": "Great support", "rating": 5}, ("review", "earned", "online", "Review Written")),
    ("Chat Message", {"text": "Gibt es eine API?"}, ("chat", "owned", "online", "Chat Message")),
    ("Demo Requested", {}, ("demo_request", "owned", "online", "Demo Requested")),
    ("Button Clicked", {"label": "Testen"}, ("event", "owned", "online", "Button Clicked")),
    ("Sponsored Post Clicked", {"kind": "paid", "channel": "linkedin_ads"}, ("event", "paid", "online", "Sponsored Post Clicked")),
])
def test_tracked_events_become_domain_touchpoint_types(name: str, properties: dict[str, Any],
                                                       expected: tuple[str, str, str, str]) -> None:
    values = one({"type": "track", "event": name, "properties": properties})
    assert (values["type"], values["kind"], values["world"], values["title"]) == expected
    assert values["event"] == name
    if "text" in properties:
        assert values["detail"] == properties["text"]


def test_identify_traits_accumulate_and_an_unchanged_identify_writes_nothing() -> None:
    stored = ContactState("u-1", {"email": "jane@acme.com", "name": "Jane Doe"}, ["anon-0"], "u-1", None, "2024-01-01T00:00:00+00:00")
    using = mapper({"u-1": stored})
    (contact,) = records({"type": "identify", "userId": "u-1", "traits": {"title": "CTO", "company": {"name": "ACME"}}}, using)
    assert contact.key == ("contact", "u-1")
    values = contact.values
    assert (values["email"], values["full_name"], values["job_title"], values["company_name"]) == ("jane@acme.com", "Jane Doe", "CTO", "ACME")
    assert values["anonymous_ids"] == ["anon-0", "anon-1"] and values["user_id"] == "u-1"
    assert records({"type": "identify", "userId": "u-1", "traits": {"title": "CTO"}}, using) == []
    (anonymous,) = records({"type": "identify", "anonymousId": "anon-9", "traits": {"name": "Max"}})
    assert anonymous.key == ("contact", "anonymous:anon-9")


def test_consent_from_traits_and_from_segment_consent_context() -> None:
    found = records({"type": "identify", "userId": "u-1", "traits": {
        "email": "jane@acme.com", "consent": {"marketing_email": True, "phone": "withdrawn", "tracking": "maybe"}}})
    consents = {r.values["purpose"]: r for r in found if r.entity == "consent"}
    assert {p: r.values["status"] for p, r in consents.items()} == {"marketing_email": "granted", "phone": "withdrawn"}
    assert consents["phone"].source_id == "m1:phone" and consents["phone"].values["contact_id"] == Ref("contact", "u-1")
    assert "consent" not in next(r for r in found if r.entity == "contact").values["traits"]
    tracked = records({"type": "track", "event": "Cookie Banner Closed",
                       "context": {"consent": {"categoryPreferences": {"Advertising": False, "Analytics": True}}}})
    assert {r.values["purpose"]: r.values["status"] for r in tracked if r.entity == "consent"} == {
        "Advertising": "withdrawn", "Analytics": "granted"}


def test_group_gives_an_account_and_alias_links_the_previous_id() -> None:
    using = mapper()
    found = records({"type": "group", "userId": "u-1", "groupId": "acme",
                     "traits": {"name": "ACME Corp.", "website": "https://acme.com", "employees": "250"}}, using)
    account = next(r for r in found if r.entity == "account")
    assert (account.values["name"], account.values["domain"], account.values["employees"]) == ("ACME Corp.", "https://acme.com", 250)
    assert next(r for r in found if r.entity == "contact").values["account_id"] == Ref("account", "acme")
    (aliased,) = records({"type": "alias", "userId": "u-1", "previousId": "old-device"}, using)
    assert aliased.values["anonymous_ids"] == ["anon-1", "old-device"]


def test_long_values_are_cut_to_their_columns_and_numbers_become_ids() -> None:
    values = one({"type": "track", "event": "Chat Message", "userId": 42, "properties": {"title": "x" * 900}})
    assert len(values["title"]) == 500 and values["contact_id"] == Ref("contact", "42")


@pytest.mark.parametrize(("raw", "reason"), [
    ({"type": "track", "anonymousId": "a"}, "event: Field required"),
    ({"type": "alias", "anonymousId": "a", "previousId": "b"}, "alias needs userId (the new id) and previousId"),
    ({"type": "page", "userId": "u", "timestamp": "yesterday"}, "timestamp: Input should be a valid datetime"),
    ({"type": "group", "userId": "u"}, "groupId: Field required"),
    ({"type": "page", "userId": "u", "properties": "none"}, "properties: Input should be a valid dictionary"),
    ({"anonymousId": "a"}, "type is missing"),
])
def test_invalid_events_say_what_is_wrong(raw: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_event(raw)
    assert str(error.value).startswith(reason)
