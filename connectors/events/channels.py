"""Where a visit came from and what a tracked event was, in the domain's touchpoint terms.

``acquisition`` reads ``utm_medium``/``utm_source`` first (what the marketer tagged), then
the referrer (what the browser saw): paid search and ads are ``paid``; e-mail is ``owned``;
social, referrals, organic search and AI assistants are ``earned``; no referrer is a
``direct`` visit to an ``owned`` channel. ``track_touchpoint`` maps Segment event names
("Webinar Registered", "Trade Fair Visit") to touchpoint types with their usual kind and
world; unknown names stay type ``event``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

SEARCH_MEDIUMS = frozenset({"cpc", "ppc", "paidsearch", "paid_search", "paid-search", "sem", "paid", "ads", "ad", "advertising"})
DISPLAY_MEDIUMS = frozenset({"display", "banner", "cpm", "retargeting", "programmatic", "video_ad"})
PAID_SOCIAL_MEDIUMS = frozenset({"paid_social", "paidsocial", "paid-social", "social_paid", "sponsored"})
EMAIL_MEDIUMS = frozenset({"email", "e-mail", "newsletter", "mail", "mailing"})
SOCIAL_MEDIUMS = frozenset({"social", "social-media", "social_media", "sm", "organic_social"})
REFERRAL_MEDIUMS = frozenset({"referral", "partner", "word_of_mouth", "pr", "press"})
ORGANIC_MEDIUMS = frozenset({"organic", "seo"})
AFFILIATE_MEDIUMS = frozenset({"affiliate", "affiliates"})

SEARCH_HOSTS = ("google.", "bing.", "duckduckgo.", "ecosia.", "yahoo.", "baidu.", "yandex.", "qwant.", "startpage.")
AI_HOSTS = ("chatgpt.com", "chat.openai.com", "perplexity.ai", "gemini.google.com", "copilot.microsoft.com", "claude.ai")
SOCIAL_HOSTS = ("linkedin.", "lnkd.in", "facebook.", "fb.", "t.co", "twitter.", "x.com", "xing.", "instagram.",
                "youtube.", "tiktok.", "reddit.", "mastodon.")
MAIL_HOSTS = ("mail.", "webmail.", "outlook.live.com", "outlook.office.com", "outlook.office365.com")
SOCIAL_SOURCES = frozenset({"linkedin", "facebook", "twitter", "x", "xing", "instagram", "youtube", "tiktok"})
KINDS = frozenset({"owned", "paid", "earned"})
WORLDS = frozenset({"online", "offline"})


def host_of(url: str | None) -> str:
    if not url:
        return ""
    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    return host.lower().removeprefix("www.")


def _host_in(host: str, hosts: tuple[str, ...]) -> bool:
    return any(host == h or host.startswith(h) or f".{h}" in f".{host}" for h in hosts)


def utm_from_url(url: str | None) -> dict[str, str]:
    """``utm_*`` parameters of a landing page URL in ``context.campaign``'s terms
    (``utm_campaign`` is its ``name``), for senders that do not fill it themselves."""
    if not url or "utm_" not in url:
        return {}
    query = parse_qs(urlsplit(url).query)
    return {("name" if key == "utm_campaign" else key[4:]): values[0]
            for key, values in query.items() if key.startswith("utm_") and values}


def acquisition(medium: str | None, source: str | None, referrer: str | None, url: str | None) -> tuple[str, str | None]:
    """``(channel, kind)`` of a visit."""
    return _acquisition((medium or "").strip().lower(), (source or "").strip().lower(), host_of(referrer), host_of(url))


@lru_cache(maxsize=8192)
def _acquisition(medium: str, source: str, referrer_host: str, url_host: str) -> tuple[str, str | None]:
    # cached: a site sees the same few referrers and campaigns over and over
    social_source = _host_in(source, SOCIAL_HOSTS) or source in SOCIAL_SOURCES
    if medium:
        if medium in PAID_SOCIAL_MEDIUMS or (medium in SEARCH_MEDIUMS and social_source):
            return "paid_social", "paid"
        for mediums, found in ((SEARCH_MEDIUMS, ("paid_search", "paid")), (DISPLAY_MEDIUMS, ("display", "paid")),
                               (AFFILIATE_MEDIUMS, ("affiliate", "paid")), (EMAIL_MEDIUMS, ("email", "owned")),
                               (SOCIAL_MEDIUMS, ("social", "earned")), (REFERRAL_MEDIUMS, ("referral", "earned")),
                               (ORGANIC_MEDIUMS, ("organic_search", "earned"))):
            if medium in mediums:
                return found
        return medium[:80], None  # a medium we do not know: keep what the marketer called it
    if not referrer_host:
        return "direct", "owned"
    if referrer_host == url_host:
        return "website", "owned"  # navigation inside the site
    if _host_in(referrer_host, MAIL_HOSTS):
        return "email", "owned"  # a link clicked in a webmail client
    if _host_in(referrer_host, AI_HOSTS):
        return "ai_assistant", "earned"
    if _host_in(referrer_host, SEARCH_HOSTS):
        return "organic_search", "earned"
    if _host_in(referrer_host, SOCIAL_HOSTS):
        return "social", "earned"
    return "referral", "earned"


@dataclass(frozen=True)
class TrackType:
    """A touchpoint type with its usual channel, kind and world (``None``: from the visit)."""

    type: str
    channel: str | None = None
    kind: str | None = None
    world: str = "online"


_TRACK_TYPES: dict[tuple[str, ...], TrackType] = {
    ("webinarregistered", "webinarattended", "webinarjoined", "webinarwatched", "webinar"):
        TrackType("webinar", "webinar", "owned"),
    ("demorequested", "demobooked", "demorequest"): TrackType("demo_request"),
    ("trialstarted", "trial"): TrackType("trial"),
    ("signedup", "signup", "accountcreated"): TrackType("signup"),
    ("formsubmitted", "leadformsubmitted", "contactformsubmitted", "contactrequested"): TrackType("form"),
    ("filedownloaded", "whitepaperdownloaded", "documentdownloaded", "downloadcompleted", "casestudydownloaded"):
        TrackType("download"),
    ("tradefairvisit", "tradefairvisited", "tradeshowvisit", "tradeshowvisited", "boothvisited", "tradefair"):
        TrackType("trade_fair", "trade_fair", "owned", "offline"),
    ("reviewwritten", "reviewsubmitted", "reviewpublished", "review"): TrackType("review", "reviews", "earned"),
    ("chatmessage", "chatmessagesent", "chatmessagereceived", "chatstarted", "chat"): TrackType("chat", "chat", "owned"),
    ("emailopened", "emaillinkclicked", "emailclicked", "emailreceived", "emailsent", "email"):
        TrackType("email", "email", "owned"),
    ("meetingbooked", "meetingscheduled", "meetingheld", "meeting"): TrackType("meeting", "meeting", "owned", "offline"),
    ("callcompleted", "phonecall", "callbooked", "call"): TrackType("call", "phone", "owned", "offline"),
    ("ticketcreated", "supportticketcreated", "supportrequested", "supportticket"):
        TrackType("support_ticket", "support", "owned"),
    ("ordercompleted", "checkoutcompleted", "purchased", "purchase"): TrackType("purchase"),
    ("productviewed", "productclicked"): TrackType("product_view"),
    ("videoplaybackstarted", "videoplaybackcompleted", "videowatched", "video"): TrackType("video"),
    ("productssearched", "searched", "search"): TrackType("search"),
}
TRACK_TYPES: dict[str, TrackType] = {name: kind for names, kind in _TRACK_TYPES.items() for name in names}
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def track_type(event_name: str) -> TrackType | None:
    """The touchpoint type of a tracked event name, in any spelling: "Webinar Registered",
    "webinar_registered", "webinarRegistered"."""
    return TRACK_TYPES.get(_NOT_ALNUM.sub("", event_name.lower()))


def overrides(properties: dict[str, Any]) -> dict[str, str]:
    """What the sender says itself: ``properties.kind``, ``world`` (or ``offline``/``virtual``
    flags) and ``channel`` win over the defaults."""
    found: dict[str, str] = {}
    if str(properties.get("kind", "")).lower() in KINDS:
        found["kind"] = str(properties["kind"]).lower()
    world = str(properties.get("world", "")).lower()
    if world in WORLDS:
        found["world"] = world
    elif properties.get("offline") is True or properties.get("virtual") is False:
        found["world"] = "offline"
    elif properties.get("virtual") is True or properties.get("offline") is False:
        found["world"] = "online"
    if isinstance(properties.get("channel"), str) and properties["channel"].strip():
        found["channel"] = properties["channel"].strip()[:80]
    return found
