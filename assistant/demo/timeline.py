"""Turns contact plans into touchpoints: web events, CRM activities, consents, newsletters.

For every phase of a person's plan the timeline draws a number of *moves* (``moves.MOVES``)
weighted by persona, places them at random moments inside the phase, and lets each move write
its events or activities. Moves that do not fit (no trade fair in the window, no deal yet) are
redrawn. Newsletters are sent on the calendar's dates to everyone whose consent allows it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from assistant.demo.calendar import Occasion, business_time
from assistant.demo.catalog import Catalog
from assistant.demo.docs import SitePage
from assistant.demo.journeys import ContactPlan
from assistant.demo.people import weighted
from assistant.demo.web import Device, WebTracker
from assistant.demo.world import Activity, Consent, Deal

PHASE_MOVES = {"awareness": (1, 3, 30), "consideration": (3, 10, 12), "purchase": (2, 6, 8), "retention": (2, 12, 30), "advocacy": (2, 5, 30), "dormant": (0, 1, 120)}
"""stage -> (fewest moves, most moves, days per extra move)."""
WEB_HOURS = (1, 1, 1, 1, 1, 2, 5, 9, 12, 12, 11, 10, 9, 11, 12, 11, 9, 6, 4, 3, 3, 2, 2, 1)
"""Relative web activity per UTC hour (central Europe works 7-18 local)."""
OPEN_PROBABILITY = {"experience_seeker": 0.5, "influencer": 0.42, "budget_owner": 0.28, "technical_expert": 0.32, "skeptic": 0.3}


@dataclass(frozen=True)
class Phase:
    stage: str
    begin: datetime
    end: datetime
    line: str


@dataclass
class Person:
    """A contact while the timeline runs: plan, devices, identity and consent state."""

    plan: ContactPlan
    devices: list[Device]
    will_identify: bool
    identified_at: datetime | None = None
    consent: tuple[datetime, datetime | None] | None = None
    consent_plan: tuple[int, float | None] | None = None
    """(hours after the first touch the person opts in, where in the remaining time they
    withdraw or None); None: never opts in."""
    done: set[str] = field(default_factory=set)

    @property
    def contact_id(self) -> str:
        return self.plan.contact.contact_id

    @property
    def language(self) -> str:
        return self.plan.contact.language

    @property
    def primary(self) -> Device:
        return self.devices[0]

    def may_email(self, at: datetime) -> bool:
        if self.consent is None:
            return False
        granted, withdrawn = self.consent
        return granted <= at and (withdrawn is None or at < withdrawn)


@dataclass
class Calendar:
    fairs: list[Occasion]
    webinars: list[Occasion]
    newsletters: list[Occasion]
    user_days: list[Occasion]

    def in_window(self, occasions: list[Occasion], begin: datetime, end: datetime) -> list[Occasion]:
        return [o for o in occasions if begin.date() <= o.day < end.date()]


Move = Callable[["Timeline", Person, Phase, datetime], bool]
"""A touchpoint move: writes events/activities for a person at a moment; False if it does not fit."""
Menu = dict[str, list[tuple[str, dict[str, float]]]]
"""Per stage: move names with persona weights (``"*"`` for everyone else)."""


class Timeline:
    def __init__(
        self, catalog: Catalog, rng: random.Random, site: list[SitePage], calendar: Calendar, tracker: WebTracker,
        deals: list[Deal], start: datetime, reference: datetime,
    ) -> None:
        self.catalog = catalog
        self.rng = rng
        self.site = site
        self.calendar = calendar
        self.tracker = tracker
        self.start = start
        self.reference = reference
        self.deals = deals
        self.activities: list[Activity] = []
        self.consents: list[Consent] = []
        self.people: dict[str, Person] = {}

    # -- people -------------------------------------------------------------------------
    def add_person(self, plan: ContactPlan) -> Person:
        rng = self.rng
        devices = [self.tracker.device()]
        if rng.random() < 0.3:
            devices.append(self.tracker.device(mobile=True))
        person = Person(plan, devices, will_identify=rng.random() < 0.82)
        if rng.random() < 0.9:
            person.consent_plan = (rng.randint(1, 48), rng.random() if rng.random() < 0.1 else None)
        self.people[person.contact_id] = person
        return person

    def _decide_consent(self, person: Person, first_touch: datetime) -> None:
        """Opt-in follows the first touch (a form, a scanned badge); some withdraw later."""
        if person.consent_plan is None:
            return
        hours, withdraw_at = person.consent_plan
        granted = first_touch + timedelta(hours=hours)
        room = (self.reference - granted).days
        withdrawn = None
        if withdraw_at is not None and room > 60:
            withdrawn = granted + timedelta(days=30 + int(withdraw_at * (room - 35)), hours=int(withdraw_at * 20))
        person.consent = (granted, withdrawn)

    def record_consents(self) -> None:
        for person in self.people.values():
            if person.consent is None:
                continue
            granted, withdrawn = person.consent
            contact = person.plan.contact
            source = "Messe-Lead-Scan mit Einwilligung" if contact.first_touch_channel == "Trade Fair" else "Webformular (Double-Opt-In)"
            self.consents.append(Consent(f"CS-{len(self.consents) + 1:05d}", contact.contact_id, contact.email, "marketing_email", "granted", granted, source))
            if withdrawn is not None:
                self.consents.append(Consent(f"CS-{len(self.consents) + 1:05d}", contact.contact_id, contact.email, "marketing_email", "withdrawn", withdrawn, "Abmeldelink im Newsletter"))

    # -- running ------------------------------------------------------------------------
    def run(self, person: Person, moves: Menu, actions: dict[str, Move]) -> None:
        planned = []
        for stage, begin, end, line in person.plan.phases:
            low, high, per = PHASE_MOVES[stage]
            count = min(high, max(low, low + (end - begin).days // per + self.rng.randint(-1, 1)))
            planned.append((Phase(stage, begin, end, line), sorted(self._moments(begin, end, count))))
        first = min((m for _, moments in planned for m in moments), default=person.plan.joins_at)
        self._decide_consent(person, person.plan.joins_at if person.plan.account.legacy else first)
        for phase, moments in planned:
            for at in moments:
                self._one_move(person, phase, at, moves[phase.stage], actions)
        self._newsletters(person)

    def _moments(self, begin: datetime, end: datetime, count: int) -> list[datetime]:
        """Random moments in the phase, mostly on working days between 6 and 18 UTC."""
        days = max(0, (end - begin).days - 1)
        found = []
        for _ in range(count):
            day = begin.date() + timedelta(days=self.rng.randint(0, days))
            if day.weekday() >= 5 and self.rng.random() < 0.8:
                day += timedelta(days=7 - day.weekday())
            hour = self.rng.choices(range(24), weights=WEB_HOURS, k=1)[0]
            moment = datetime.combine(day, datetime.min.time()) + timedelta(hours=hour, seconds=self.rng.randint(0, 3599))
            found.append(min(max(moment, begin), end - timedelta(minutes=30)))
        return found

    def _one_move(self, person: Person, phase: Phase, at: datetime, menu: list[tuple[str, dict[str, float]]], actions: dict[str, Move]) -> None:
        weights = {name: w.get(person.plan.persona, w.get("*", 1.0)) for name, w in menu}
        for _ in range(6):
            name = weighted(self.rng, weights)
            if actions[name](self, person, phase, at):
                return
            weights[name] = 0.0
            if not any(weights.values()):
                return

    def _newsletters(self, person: Person) -> None:
        rate = OPEN_PROBABILITY[person.plan.persona]
        for issue in self.calendar.newsletters:
            sent = issue.at(7, 30)
            if sent < person.plan.joins_at or not person.may_email(sent):
                continue
            if self.rng.random() > rate:
                continue
            opened = sent + timedelta(minutes=self.rng.randint(5, 2 * 24 * 60))
            if not person.may_email(opened):
                continue
            props = {"campaign": issue.campaign, "subject": issue.title_de if person.language == "de" else issue.title_en, "email_id": f"nl-{issue.day:%Y%m}"}
            self.tracker.track(None, opened, "Email Opened", props, person.language, user_id=person.contact_id, traits={"email": person.plan.contact.email})
            if self.rng.random() < 0.3:
                clicked = opened + timedelta(seconds=self.rng.randint(5, 120))
                self.tracker.track(None, clicked, "Email Link Clicked", props, person.language, user_id=person.contact_id, traits={"email": person.plan.contact.email})
                campaign = {"source": "newsletter", "medium": "email", "campaign": issue.campaign}
                self.visit(person, clicked + timedelta(seconds=3), self.pages(("blog", "case_study", "overview", "events"), None, 2), "email", campaign=campaign)

    # -- helpers used by the moves ----------------------------------------------------------
    def pages(self, doc_types: tuple[str, ...], line: str | None, count: int) -> list[SitePage]:
        """``count`` distinct pages of the given kinds, preferring the product line."""
        candidates = [p for p in self.site if p.doc_type in doc_types and (line is None or p.line in (line, None))]
        candidates = candidates or [p for p in self.site if p.doc_type in doc_types]
        picked = self.rng.sample(candidates, k=min(count, len(candidates)))
        return picked

    def page(self, slug: str) -> SitePage:
        return next(p for p in self.site if p.slug == slug)

    def visit(self, person: Person, at: datetime, pages: list[SitePage], channel: str, line: str | None = None,
              campaign: dict[str, str] | None = None) -> None:
        device = person.devices[-1] if len(person.devices) > 1 and self.rng.random() < 0.25 else person.primary
        self.tracker.visit(device, at, pages, person.language, channel, line, campaign)

    def form(self, person: Person, at: datetime, event: str, properties: dict[str, object], page: SitePage) -> None:
        """A form submission: the track call, preceded by identify on the first one."""
        contact = person.plan.contact
        if person.will_identify and person.primary.user_at(at) == "":
            traits = {"email": contact.email, "firstName": contact.first_name, "lastName": contact.last_name,
                      "title": contact.job_title, "company": {"name": self.account_name(person)}}
            self.tracker.identify(person.primary, at, contact.contact_id, traits, person.language)
            person.identified_at = at
        self.tracker.track(person.primary, at + timedelta(seconds=1), event, properties, person.language, page=page)

    def activity(self, person: Person, at: datetime, kind: str, channel: str, subject: str, notes: str = "", *,
                 owner: str = "", deal: Deal | None = None, campaign: str = "", direction: str = "", outcome: str = "") -> None:
        contact = person.plan.contact
        self.activities.append(Activity(
            activity_id=f"T-{len(self.activities) + 1:06d}", occurred_at=at, activity_type=kind, channel=channel,
            subject=subject, notes=notes, contact_id=contact.contact_id, account_id=contact.account_id,
            owner_id=owner or contact.owner_id, deal_id=deal.deal_id if deal else "", campaign=campaign,
            direction=direction, outcome=outcome,
        ))

    def office_time(self, at: datetime) -> datetime:
        return business_time(self.rng, at.date())

    def deal_at(self, person: Person, at: datetime, line: str) -> Deal | None:
        """The account's deal for ``line`` that was open (or closing) at ``at``."""
        account_id = person.plan.contact.account_id
        found = [
            d for d in self.deals
            if d.account_id == account_id and d.line == line and d.created_on <= at.date() and (d.closed_on is None or at.date() <= d.closed_on + timedelta(days=3))
        ]
        return found[-1] if found else None

    def won_deal(self, person: Person) -> Deal | None:
        account_id = person.plan.contact.account_id
        return next((d for d in self.deals if d.account_id == account_id and d.status == "won"), None)

    def account_name(self, person: Person) -> str:
        return person.plan.account.account.name

    def german(self, person: Person) -> bool:
        return person.plan.account.account.language == "de"
