"""Website analytics as the Segment library records it: page, track and identify calls.

A *visit* lands on a page from a channel (organic or paid search, LinkedIn, a newsletter, a
review site, the press, an AI assistant, direct) and continues over a few pages; the landing
page carries the referrer and the UTM campaign, as analytics.js would send them. Events of a
device carry only its ``anonymousId`` until the person identifies (a form, the chat); after that
they also carry the ``userId``.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from assistant.demo.catalog import Catalog
from assistant.demo.docs import SitePage
from assistant.demo.world import WebEvent

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 Edg/124.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
)
MOBILE_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
)
SEARCH_ENGINES = ("https://www.google.de/", "https://www.google.com/", "https://www.bing.com/", "https://www.ecosia.org/")
AI_ASSISTANTS = ("https://chatgpt.com/", "https://www.perplexity.ai/", "https://copilot.microsoft.com/")
KEYWORDS = {
    "trackcloud": ["ladungsträger ortung", "rtls lager", "asset tracking software", "gitterbox tracking"],
    "edgebox": ["iot gateway opc ua", "modbus mqtt gateway", "industrie gateway hutschiene"],
    "insight": ["oee software", "predictive maintenance software", "energiemonitoring produktion"],
    "care": ["velmora support"],
}


@dataclass
class Device:
    anonymous_id: str
    user_agent: str
    user_id: str = ""
    identified_at: datetime | None = None
    """The first identify on this device; events from then on carry ``user_id``."""

    def user_at(self, at: datetime) -> str:
        return self.user_id if self.identified_at is not None and self.identified_at <= at else ""


@dataclass
class WebTracker:
    catalog: Catalog
    rng: random.Random
    events: list[WebEvent] = field(default_factory=list)

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def device(self, mobile: bool = False) -> Device:
        return Device(self.new_id(), self.rng.choice(MOBILE_AGENTS if mobile else USER_AGENTS))

    def visit(
        self, device: Device, at: datetime, pages: list[SitePage], language: str, channel: str,
        line: str | None = None, campaign: dict[str, Any] | None = None,
    ) -> datetime:
        """Page views of one visit; returns when the visit ended."""
        referrer, campaign = self._arrival(channel, line, campaign)
        moment = at
        for index, page in enumerate(pages):
            query = ""
            if index == 0 and campaign:
                query = "?" + urlencode({f"utm_{k}": v for k, v in campaign.items()})
            url = f"{self.catalog.website}{page.path(language)}"
            page_context = {
                "path": page.path(language), "referrer": referrer if index == 0 else url_of_previous(self, pages, index, language),
                "search": query, "title": page.titles[language], "url": url + query,
            }
            self.events.append(WebEvent(
                message_id=self.new_id(), type="page", timestamp=moment, anonymous_id=device.anonymous_id,
                user_id=device.user_at(moment), name=page.titles[language], properties=dict(page_context), page=page_context,
                campaign=dict(campaign) if index == 0 and campaign else {}, locale=_locale(language), user_agent=device.user_agent,
            ))
            moment += timedelta(seconds=self.rng.randint(25, 300))
        return moment

    def _arrival(self, channel: str, line: str | None, campaign: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        rng = self.rng
        if campaign is not None:
            source = campaign.get("source", "")
            referrer = {"google": rng.choice(SEARCH_ENGINES[:2]), "linkedin": "https://www.linkedin.com/"}.get(source, "")
            return referrer, campaign
        if channel == "organic_search":
            return rng.choice(SEARCH_ENGINES), {}
        if channel == "ai_assistant":
            return rng.choice(AI_ASSISTANTS), {}
        if channel == "organic_social":
            return "https://www.linkedin.com/feed/", {}
        if channel == "review_site":
            return rng.choice(self.catalog.review_sites)["url"], {}
        if channel == "press":
            return rng.choice(self.catalog.press)["url"], {}
        if channel in ("paid_search", "paid_social", "display"):
            medium = {"paid_search": "cpc", "paid_social": "paid_social", "display": "display"}[channel]
            chosen = rng.choice(self.catalog.campaigns_for(medium, line))
            utm = {"source": chosen["source"], "medium": chosen["medium"], "campaign": chosen["name"]}
            if medium == "cpc":
                utm["term"] = rng.choice(KEYWORDS.get(line or "trackcloud", KEYWORDS["trackcloud"]))
            return ("https://www.linkedin.com/" if chosen["source"] == "linkedin" else rng.choice(SEARCH_ENGINES[:2])), utm
        return "", {}

    def track(
        self, device: Device | None, at: datetime, event: str, properties: dict[str, Any], language: str,
        page: SitePage | None = None, user_id: str = "", traits: dict[str, Any] | None = None,
    ) -> None:
        """A track call; without a device it comes from a server-side source (the e-mail
        tool), which knows the user id and puts the person's traits in the context."""
        page_context = {}
        if page is not None:
            url = f"{self.catalog.website}{page.path(language)}"
            page_context = {"path": page.path(language), "title": page.titles[language], "url": url, "referrer": "", "search": ""}
        self.events.append(WebEvent(
            message_id=self.new_id(), type="track", timestamp=at, anonymous_id=device.anonymous_id if device else "",
            user_id=(device.user_at(at) if device else "") or user_id, event=event, properties=properties, page=page_context,
            locale=_locale(language), user_agent=device.user_agent if device else "", traits=traits or {},
        ))

    def identify(self, device: Device, at: datetime, user_id: str, traits: dict[str, Any], language: str) -> None:
        device.user_id = user_id
        if device.identified_at is None or at < device.identified_at:
            device.identified_at = at
        self.events.append(WebEvent(
            message_id=self.new_id(), type="identify", timestamp=at, anonymous_id=device.anonymous_id, user_id=user_id,
            traits=traits, locale=_locale(language), user_agent=device.user_agent,
        ))


def url_of_previous(tracker: WebTracker, pages: list[SitePage], index: int, language: str) -> str:
    return f"{tracker.catalog.website}{pages[index - 1].path(language)}"


def _locale(language: str) -> str:
    return "de-DE" if language == "de" else "en-GB"


def segment_payload(event: WebEvent) -> dict[str, Any]:
    """The JSON object analytics.js would have posted for ``event``."""
    context: dict[str, Any] = {"library": {"name": "analytics.js", "version": "next-1.70.0"}, "locale": event.locale}
    if event.user_agent:
        context["userAgent"] = event.user_agent
    if event.page:
        context["page"] = event.page
    if event.traits and event.type != "identify":
        context["traits"] = event.traits
    if event.campaign:
        context["campaign"] = {("name" if k == "campaign" else k): v for k, v in event.campaign.items()}
    payload: dict[str, Any] = {"type": event.type, "messageId": event.message_id}
    if event.anonymous_id:
        payload["anonymousId"] = event.anonymous_id
    if event.user_id:
        payload["userId"] = event.user_id
    if event.type == "track":
        payload["event"] = event.event
        payload["properties"] = event.properties
    elif event.type == "page":
        payload["name"] = event.name
        payload["properties"] = event.properties
    elif event.type == "identify":
        payload["traits"] = event.traits
    payload["timestamp"] = event.timestamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    payload["context"] = context
    return payload


def anonymous_traffic(
    tracker: WebTracker, site: list[SitePage], start: datetime, reference: datetime, visitors: int,
) -> None:
    """Visitors who never become contacts: most of any website's traffic."""
    rng = tracker.rng
    channels = {"organic_search": 5, "paid_search": 3.5, "paid_social": 1.5, "direct": 2, "ai_assistant": 1, "review_site": 0.7, "press": 0.5, "organic_social": 1}
    span = int((reference - start).total_seconds())
    landing = [p for p in site if p.doc_type in ("overview", "blog", "company", "comparison", "pricing", "features", "case_study")]
    for _ in range(visitors):
        device = tracker.device(mobile=rng.random() < 0.3)
        language = "de" if rng.random() < 0.7 else "en"
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            at = start + timedelta(seconds=rng.randint(0, span - 3600))
            channel = rng.choices(list(channels), weights=list(channels.values()), k=1)[0]
            pages = rng.sample(landing, k=rng.choice([1, 1, 2, 3]))
            tracker.visit(device, at, pages, language, channel, pages[0].line)
