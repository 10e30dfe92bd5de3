"""Builds the whole demo world from a seed and writes it to a folder.

Every part draws from its own ``random.Random(f"{seed}/<part>")``, so changing how one part
uses randomness leaves the others as they were; nothing reads the clock, so the same seed gives
byte-identical files on every machine with the same Faker version.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta

from assistant.demo import calendar as cal
from assistant.demo.casestudies import case_study_context
from assistant.demo.catalog import Catalog, load_catalog
from assistant.demo.chats import ChatWriter, load_scripts
from assistant.demo.deals import DealBuilder
from assistant.demo.docs import SitePage, common_context, events_context, render_docs, site_pages
from assistant.demo.journeys import COMMITTEE_SIZE, AccountPlan, ContactPlan, plan_accounts, plan_contacts
from assistant.demo.milestones import case_study_interviews, crm_fields, deal_openings, invoices, lead_forms, referrals_given
from assistant.demo.moves import ACTIONS, MOVES
from assistant.demo.people import Fakers, build_accounts, build_committee, build_owners, success_managers
from assistant.demo.timeline import Calendar, Person, Timeline
from assistant.demo.web import WebTracker, anonymous_traffic
from assistant.demo.world import World
from assistant.demo.writers import WriteReport, all_files, write_tree

DEFAULT_SEED = 42
DEFAULT_ACCOUNTS = 50
STATUS = {"advocate": "Kunde", "customer": "Kunde", "expansion": "Kunde", "negotiation": "Interessent",
          "evaluation": "Interessent", "lost": "Interessent (verloren)", "awareness": "Lead"}


def window_for(seed: int) -> tuple[datetime, datetime]:
    """The demo's fixed 'now' and the start of its history (13-17 months earlier)."""
    rng = random.Random(f"{seed}/window")
    reference = datetime.combine(date(2025, 1, 31) + timedelta(days=rng.randrange(0, 240)), time(18, 0))
    return reference - relativedelta(months=rng.randint(13, 17)), reference


@dataclass
class GeneratedDemo:
    world: World
    docs: dict[str, str]
    files: dict[str, str]


def build_demo(seed: int = DEFAULT_SEED, accounts: int = DEFAULT_ACCOUNTS) -> GeneratedDemo:
    catalog = load_catalog()
    start, reference = window_for(seed)
    world = World(seed=seed, reference=reference, start=start)
    rng = {part: random.Random(f"{seed}/{part}") for part in ("people", "plans", "deals", "docs", "web", "timeline", "chats")}
    fakers = Fakers(seed)
    world.owners = build_owners(catalog, fakers, rng["people"])
    world.accounts = build_accounts(catalog, fakers, rng["people"], world.owners, accounts)
    world.product_rows = _product_rows(catalog)
    lines_for = {i["key"]: [line for line in i["lines"] if line != "care"] for i in catalog.people["industries"]}
    plans = plan_accounts(rng["plans"], world.accounts, lines_for, start, reference)
    _assign_success_managers(plans, world)
    contact_plans = _committees(catalog, fakers, rng["people"], rng["plans"], plans, world)
    deals = DealBuilder(catalog, rng["deals"], start.date(), reference.date())
    for plan in plans:
        deals.build(plan, [cp for cp in contact_plans if cp.account is plan])
    world.deals, world.deal_lines = deals.deals, deals.lines
    context = {"common": common_context(catalog, reference.date()),
               **case_study_context(rng["docs"], plans, contact_plans, world.deals, world.deal_lines,
                                    {i["key"]: i for i in catalog.people["industries"]})}
    calendar = _calendar(catalog, start, reference)
    context.update(events_context(cal.webinars(catalog, start.date(), reference.date() + timedelta(days=120)),
                                  [f for f in cal.trade_fairs(catalog, start.date(), reference.date() + timedelta(days=365))
                                   if f.key != "velmora-anwendertag"], reference.date()))
    docs = render_docs(catalog, context)
    timeline = _run_timeline(catalog, rng, site_pages(docs), calendar, world, plans, contact_plans)
    _finish(world, plans, timeline)
    return GeneratedDemo(world, docs, all_files(world, docs))


def _product_rows(catalog: Catalog) -> list[tuple[Any, ...]]:
    return [(s.sku, s.name, s.line, s.price, "EUR", s.billing, s.unit_de, catalog.lines[s.line].facts["de"]["tagline"])
            for s in catalog.skus.values()]


def _assign_success_managers(plans: list[AccountPlan], world: World) -> None:
    managers = success_managers(world.owners)
    for index, plan in enumerate(p for p in plans if p.won):
        plan.success_manager = managers[index % len(managers)].owner_id
        plan.account.customer_status = "Kunde"


def _committees(
    catalog: Catalog, fakers: Fakers, people_rng: random.Random, plan_rng: random.Random, plans: list[AccountPlan], world: World,
) -> list[ContactPlan]:
    result: list[ContactPlan] = []
    for plan in plans:
        size = people_rng.randint(*COMMITTEE_SIZE[plan.archetype])
        # Some open deals have no budget owner engaged yet: a risk the product should name.
        with_budget_owner = plan.won or people_rng.random() > 0.25
        contacts, personas = build_committee(catalog, fakers, people_rng, plan.account, size, 10001 + len(world.contacts), with_budget_owner)
        world.contacts.extend(contacts)
        world.truth.personas.update(personas)
        result.extend(plan_contacts(plan_rng, plan, contacts, [personas[c.contact_id][0] for c in contacts],
                                     world.start, world.reference))
    return result


def _calendar(catalog: Catalog, start: datetime, reference: datetime) -> Calendar:
    fairs = cal.trade_fairs(catalog, start.date(), reference.date())
    return Calendar(
        fairs=[f for f in fairs if f.key != "velmora-anwendertag"],
        webinars=cal.webinars(catalog, start.date(), reference.date()),
        newsletters=cal.newsletters(start.date(), reference.date()),
        user_days=[f for f in fairs if f.key == "velmora-anwendertag"],
    )


def _run_timeline(
    catalog: Catalog, rng: dict[str, random.Random], site: list[SitePage], calendar: Calendar, world: World,
    plans: list[AccountPlan], contact_plans: list[ContactPlan],
) -> Timeline:
    tracker = WebTracker(catalog, rng["web"])
    timeline = Timeline(catalog, rng["timeline"], site, calendar, tracker, world.deals, world.start, world.reference)
    people: list[Person] = [timeline.add_person(cp) for cp in contact_plans]
    for person in people:
        timeline.run(person, MOVES, ACTIONS)
    deal_openings(timeline)
    invoices(timeline, people)
    referrals_given(timeline, plans, people)
    case_study_interviews(timeline, people)
    chats = ChatWriter(timeline, rng["chats"])
    chats.write_all(load_scripts())
    anonymous_traffic(tracker, site, world.start, world.reference, visitors=8 * len(plans))
    lead_forms(timeline, people)
    crm_fields(timeline, people, tracker.events, timeline.activities)
    timeline.record_consents()
    world.conversations, world.messages = chats.conversations, chats.messages
    conversation_of = {c.topic: c.conversation_id for c in chats.conversations}
    world.truth.chats = [(conversation_of[script], script, contact, anonymous) for script, contact, anonymous in chats.assigned]
    return timeline


def _finish(world: World, plans: list[AccountPlan], timeline: Timeline) -> None:
    """Clip to the window, number activities in time order, fill account fields and truth."""
    start, reference = world.start, world.reference
    activities = sorted((a for a in timeline.activities if start <= a.occurred_at <= reference), key=lambda a: (a.occurred_at, a.contact_id))
    for number, activity in enumerate(activities, 1):
        activity.activity_id = f"T-{number:06d}"
    world.activities = activities
    world.events = [e for e in timeline.tracker.events if start <= e.timestamp <= reference]
    world.consents = timeline.consents
    for plan in plans:
        plan.account.customer_status = STATUS[plan.archetype]
        created = [c.created_at for c in world.contacts if c.account_id == plan.account.account_id and c.created_at]
        plan.account.created_at = min(created) if created else plan.aware_at
        world.truth.archetypes[plan.account.account_id] = plan.archetype
    for person in timeline.people.values():
        stage, _, _, line = person.plan.final
        world.truth.stages[person.contact_id] = (person.plan.stage, line, person.plan.note)
        for device in person.devices:
            how = "identify" if device.identified_at is not None and device.identified_at <= reference else "never"
            world.truth.identities.append((device.anonymous_id, person.contact_id, how))


def generate_demo(out: Path, seed: int = DEFAULT_SEED, accounts: int = DEFAULT_ACCOUNTS) -> tuple[GeneratedDemo, WriteReport]:
    """Generate the demo into ``out``; unchanged files keep their bytes and modification times."""
    demo = build_demo(seed, accounts)
    world = demo.world
    manifest = {
        "generator": "journey-assistant demo", "seed": seed, "accounts": accounts,
        "company": load_catalog().company["name"], "start": world.start.isoformat(), "reference": world.reference.isoformat(),
        "counts": counts(demo),
    }
    return demo, write_tree(out, demo.files, manifest)


def counts(demo: GeneratedDemo) -> dict[str, int]:
    w = demo.world
    return {
        "owners": len(w.owners), "accounts": len(w.accounts), "contacts": len(w.contacts), "products": len(w.product_rows),
        "deals": len(w.deals), "deal_products": len(w.deal_lines), "deal_contacts": sum(len(d.contacts) for d in w.deals),
        "activities": len(w.activities), "events": len(w.events), "consents": len(w.consents),
        "conversations": len(w.conversations), "messages": len(w.messages),
        "docs_de": sum(1 for k in demo.docs if k.startswith("de/")), "docs_en": sum(1 for k in demo.docs if k.startswith("en/")),
        "docs_internal": sum(1 for k in demo.docs if k.startswith("internal/")),
    }
