"""Touchpoints that happen on fixed occasions rather than by chance, and CRM fields derived
from the finished timeline (first touch, creation date, lifecycle stage).

Invoices follow the won deals (annually in advance), a referral is logged at the advocate just
before the referred account's first touch, the case-study interview after the account became an
advocate, and a contact the CRM could not otherwise know gets a lead-form entry.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from assistant.demo.journeys import AccountPlan
from assistant.demo.timeline import Person, Timeline
from assistant.demo.world import Activity, WebEvent

DAY = timedelta(days=1)


def invoices(t: Timeline, people: list[Person]) -> None:
    """Each won deal is invoiced after closing and on every anniversary, to the budget owner."""
    by_account: dict[str, list[Person]] = {}
    for person in people:
        by_account.setdefault(person.plan.contact.account_id, []).append(person)
    for deal in t.deals:
        if deal.status != "won" or deal.closed_on is None:
            continue
        members = by_account.get(deal.account_id, [])
        payer = next((p for p in members if p.plan.persona == "budget_owner"), members[0] if members else None)
        if payer is None:
            continue
        post = t.rng.random() < 0.3
        issued = datetime.combine(deal.closed_on, datetime.min.time()) + t.rng.randint(4, 12) * DAY
        year = 0
        while issued < t.reference:
            number = f"RE-{issued.year}-{t.rng.randint(1000, 9999)}"
            paid = (t.reference - issued).days > 30
            t.activity(payer, t.office_time(issued), "Rechnung", "invoice_post" if post else "invoice_email",
                       f"Rechnung {number}: {deal.name}" + (f" (Jahr {year + 1})" if year else ""),
                       f"{deal.amount} EUR, Zahlungsziel 30 Tage", deal=deal, outcome="bezahlt" if paid else "offen")
            year += 1
            issued += relativedelta(years=1)


def deal_openings(t: Timeline) -> None:
    """Every deal starts with a conversation: the first meeting, logged on the day the rep
    created the deal, with its primary contact."""
    for deal in t.deals:
        person = t.people.get(deal.contact_id)
        if person is None:
            continue
        german = t.german(person)
        subject = f"Erstgespräch: {deal.name}" if german else f"Discovery meeting: {deal.name}"
        notes = "Bedarf, Zeitplan und Entscheidungsweg besprochen; Opportunity angelegt." if german else \
            "Discussed needs, timeline and decision process; opportunity created."
        t.activity(person, t.office_time(datetime.combine(deal.created_on, datetime.min.time())), "Online-Meeting", "video_call",
                   subject, notes, deal=deal)


def referrals_given(t: Timeline, plans: list[AccountPlan], people: list[Person]) -> None:
    champions = {p.plan.contact.account_id: p for p in people if p.plan.role == "champion"}
    for plan in plans:
        advocate = champions.get(plan.referred_by)
        if not plan.referred_by or advocate is None:
            continue
        at = max(plan.aware_at - t.rng.randint(2, 6) * DAY, advocate.plan.joins_at + DAY)
        t.activity(advocate, t.office_time(at), "Empfehlung", "word_of_mouth",
                   f"Empfehlung an {plan.account.name}" if t.german(advocate) else f"Referral to {plan.account.name}",
                   "Kunde hat uns weiterempfohlen; Gutschrift nach Vertragsabschluss." if t.german(advocate) else "Customer referred us; credit after contract.",
                   owner=advocate.plan.account.success_manager)


def case_study_interviews(t: Timeline, people: list[Person]) -> None:
    for person in people:
        plan = person.plan.account
        if not plan.case_study or person.plan.role != "champion" or plan.advocacy_at is None:
            continue
        at = min(plan.advocacy_at + t.rng.randint(5, 20) * DAY, t.reference - DAY)
        t.activity(person, t.office_time(at), "Fallstudie", "case_study",
                   "Interview für Fallstudie" if t.german(person) else "Case study interview",
                   "Interview geführt, Zahlen freigegeben, Zitat abgestimmt." if t.german(person) else "Interview done, figures approved, quote agreed.",
                   owner=plan.success_manager)


def lead_forms(t: Timeline, people: list[Person]) -> None:
    """A contact the CRM has no other record of came in through a LinkedIn lead form."""
    logged = {a.contact_id for a in t.activities}
    for person in people:
        if person.contact_id in logged or person.identified_at is not None:
            continue
        at = person.plan.joins_at + timedelta(hours=t.rng.randint(1, 30))
        t.activity(person, min(at, t.reference - timedelta(hours=1)), "Lead-Formular", "paid_social",
                   "LinkedIn Lead Gen Form: Whitepaper Intralogistik", campaign="linkedin-intralogistik")


CHANNEL_LABELS = {
    "trade_fair": "Trade Fair", "word_of_mouth": "Referral", "direct_mail": "Direct Mail", "paid_social": "Paid Social",
    "phone": "Sales", "video_call": "Sales", "field_sales": "Sales", "sales_email": "Sales",
}


def web_channel(event: WebEvent) -> str:
    """How a web event's visitor arrived, as a CRM's 'original source' field would say it."""
    medium = event.campaign.get("medium", "")
    if medium:
        return {"cpc": "Paid Search", "paid_social": "Paid Social", "email": "Email", "display": "Display"}.get(medium, "Other Campaigns")
    referrer = event.page.get("referrer", "") if event.type == "page" else ""
    if event.event in ("Email Opened", "Email Link Clicked"):
        return "Email"
    for needle, label in (("google", "Organic Search"), ("bing", "Organic Search"), ("ecosia", "Organic Search"),
                          ("chatgpt", "AI Assistant"), ("perplexity", "AI Assistant"), ("copilot", "AI Assistant"),
                          ("linkedin", "Organic Social"), ("omr.com", "Review Site"), ("capterra", "Review Site"),
                          ("g2.com", "Review Site"), ("dvz", "Press"), ("industrie", "Press"), ("logistik-heute", "Press")):
        if needle in referrer:
            return label
    return "Direct"


def crm_fields(t: Timeline, people: list[Person], events: list[WebEvent], activities: list[Activity]) -> None:
    """First touch, CRM creation time and lifecycle stage of every contact."""
    first_web: dict[str, WebEvent] = {}
    for event in sorted(events, key=lambda e: e.timestamp):
        for key in (event.anonymous_id, event.user_id):
            if key and key not in first_web:
                first_web[key] = event
    first_activity: dict[str, Activity] = {}
    for activity in sorted(activities, key=lambda a: a.occurred_at):
        first_activity.setdefault(activity.contact_id, activity)
    for person in people:
        contact = person.plan.contact
        web = [first_web[d.anonymous_id] for d in person.devices if d.anonymous_id in first_web]
        web += [first_web[contact.contact_id]] if contact.contact_id in first_web else []
        candidates: list[tuple[datetime, str]] = [(e.timestamp, web_channel(e)) for e in web]
        crm = first_activity.get(contact.contact_id)
        if crm is not None:
            candidates.append((crm.occurred_at, CHANNEL_LABELS.get(crm.channel, "Sales")))
        first_at, channel = min(candidates) if candidates else (person.plan.joins_at, "Direct")
        contact.first_touch_at, contact.first_touch_channel = first_at, channel
        known = [x for x in (person.identified_at, crm.occurred_at if crm else None) if x is not None]
        contact.created_at = min(known) if known else first_at
        if person.plan.account.legacy and person.plan.joins_at < t.start:
            # Known long before the history: the CRM keeps how they came back then.
            contact.first_touch_at = person.plan.joins_at
            contact.first_touch_channel = t.rng.choice(["Trade Fair", "Sales", "Organic Search", "Referral", "Paid Search"])
            contact.created_at = person.plan.joins_at + timedelta(hours=t.rng.randint(1, 96))
        contact.lifecycle_stage = _lifecycle(person, t)


def _lifecycle(person: Person, t: Timeline) -> str:
    plan = person.plan.account
    if plan.won:
        return "Evangelist" if person.plan.stage == "advocacy" and t.rng.random() < 0.5 else "Customer"
    on_deal = any(person.contact_id == c for d in t.deals if d.account_id == plan.account.account_id for c, _, _ in d.contacts)
    if plan.archetype == "awareness":
        return "Lead"
    if plan.archetype == "lost":
        return "Other" if on_deal else "Marketing Qualified Lead"
    return "Opportunity" if on_deal else "Marketing Qualified Lead"
