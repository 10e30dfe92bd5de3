"""The touchpoint moves of the timeline, one small function each, and the menus per stage.

A move writes web events and/or CRM activities for one person at one moment and returns
whether it applied (a trade fair move needs a fair in the phase, a quote needs a deal). Menu
weights follow the seeds' advice: skeptics read reviews and security documents, experience
seekers watch videos and come to events, influencers fetch material for their boss, budget
owners look at prices and ROI, technical experts read specs and APIs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from assistant.demo.timeline import Menu, Move, Person, Phase, Timeline

DOCS_BY_PERSONA = {
    "technical_expert": ("features", "integrations", "faq", "onboarding", "comparison", "blog"),
    "skeptic": ("security", "case_study", "comparison", "faq"),
    "budget_owner": ("roi", "summary", "case_study", "overview", "company"),
    "influencer": ("summary", "overview", "case_study", "company", "features"),
    "experience_seeker": ("events", "overview", "case_study", "blog"),
}
DOWNLOADS = {
    "technical_expert": ("Datenblatt {product} (PDF)", "{product} datasheet (PDF)", "features"),
    "skeptic": ("Sicherheitskonzept – Auszug (PDF)", "Security concept – excerpt (PDF)", "security"),
    "budget_owner": ("ROI-Rechner (Excel)", "ROI calculator (Excel)", "roi"),
    "influencer": ("Entscheidungsvorlage – Foliensatz (PDF)", "Decision summary – slide deck (PDF)", "summary"),
    "experience_seeker": ("Messe-Broschüre {product} (PDF)", "{product} trade fair brochure (PDF)", "events"),
}
TICKETS = {
    "edgebox": [("EdgeBox verliert nach Firmware-Update die MQTT-Verbindung", "EdgeBox loses MQTT connection after firmware update"),
                ("Zertifikatsfehler beim OPC-UA-Client", "Certificate error in the OPC UA client"),
                ("Pufferfüllstand über 80 % nach Netzwerkausfall", "Buffer above 80 % after network outage")],
    "trackcloud": [("TrackTag meldet niedrigen Batteriestand nach 14 Monaten", "TrackTag reports low battery after 14 months"),
                   ("Zone Warenausgang erkennt Ladungsträger verspätet", "Shipping zone detects load carriers late"),
                   ("Webhook asset.zone_left wird doppelt zugestellt", "Webhook asset.zone_left delivered twice")],
    "insight": [("OEE-Wert für Linie 2 unplausibel nach Schichtmodelländerung", "OEE for line 2 implausible after shift model change"),
                ("Power-BI-Connector: Tabelle energy_interval leer", "Power BI connector: table energy_interval empty"),
                ("Predict meldet Anomalie an Pumpe P-12 – Fehlalarm?", "Predict reports anomaly on pump P-12 – false alarm?")],
}


def _text(t: Timeline, p: Person, de: str, en: str) -> str:
    return de if t.german(p) else en


def _product(t: Timeline, line: str) -> str:
    return t.catalog.lines[line].product


def _success_manager(p: Person) -> str:
    return p.plan.account.success_manager


# -- visits ------------------------------------------------------------------------------
def _visit_move(channel: str, doc_types: tuple[str, ...]) -> Move:
    def move(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
        t.visit(p, at, t.pages(doc_types, phase.line, t.rng.randint(1, 3)), channel, phase.line)
        return True

    return move


def docs_session(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    channel = t.rng.choice(["direct", "direct", "direct", "organic_search", "organic_search", "paid_search", "ai_assistant", "display"])
    t.visit(p, at, t.pages(DOCS_BY_PERSONA[p.plan.persona], phase.line, t.rng.randint(2, 4)), channel, phase.line)
    return True


def pricing_session(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    pages = [t.page(f"{phase.line}-pricing")] + t.pages(("roi", "summary", "faq", "security"), phase.line, t.rng.randint(0, 2))
    t.visit(p, at, pages, t.rng.choice(["direct", "direct", "display"]), phase.line)
    return True


def howto_session(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    pages = t.pages(("onboarding", "faq", "integrations"), phase.line, t.rng.randint(1, 3))
    t.visit(p, at, pages, "direct", phase.line)
    return True


# -- forms and tracked actions --------------------------------------------------------------
def webinar(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    options = [w for w in t.calendar.in_window(t.calendar.webinars, at, phase.end) if f"webinar:{w.day}" not in p.done]
    preferred = [w for w in options if w.line == phase.line] or options
    if not preferred:
        return False
    session = preferred[0]
    p.done.add(f"webinar:{session.day}")
    title = session.title_de if p.language == "de" else session.title_en
    registered = max(at, session.at(9) - timedelta(days=t.rng.randint(1, 10)))
    t.form(p, registered, "Webinar Registered", {"webinar": session.key, "title": title, "date": session.day.isoformat()}, t.page("events"))
    if t.rng.random() < 0.7:
        t.tracker.track(p.primary, session.at(8, t.rng.randint(0, 5)), "Webinar Attended",
                        {"webinar": session.key, "title": title, "minutes_watched": t.rng.randint(12, 45)}, p.language)
    return True


def download(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    de, en, doc_type = DOWNLOADS[p.plan.persona]
    product = _product(t, phase.line)
    page = t.pages((doc_type,), phase.line, 1)[0]
    t.visit(p, at, [page], "direct", phase.line)
    t.form(p, at + timedelta(minutes=2), "Document Downloaded", {"document": _text(t, p, de, en).format(product=product), "format": "pdf"}, page)
    return True


def newsletter_signup(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    if "newsletter" in p.done:
        return False
    p.done.add("newsletter")
    page = t.pages(("blog",), phase.line, 1)[0]
    t.visit(p, at, [page], t.rng.choice(["organic_search", "organic_social"]), phase.line)
    t.form(p, at + timedelta(minutes=3), "Newsletter Subscribed", {"list": "newsletter-monthly"}, page)
    return True


def video(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    t.visit(p, at, [t.page("events")], "direct", phase.line)
    t.tracker.track(p.primary, at + timedelta(minutes=1), "Video Playback Started",
                    {"video": "trackcloud-demo", "title": _text(t, p, "TrackCloud Demo (4 Minuten)", "TrackCloud demo (4 minutes)"),
                     "percent_watched": t.rng.choice([35, 60, 85, 100])}, p.language, page=t.page("events"))
    return True


def roi_calculator(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    t.visit(p, at, [t.page("roi-guide")], "direct", phase.line)
    t.tracker.track(p.primary, at + timedelta(minutes=4), "ROI Calculator Used",
                    {"product_line": phase.line, "payback_months": t.rng.randint(9, 22)}, p.language, page=t.page("roi-guide"))
    return True


def demo_request(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    account = p.plan.account
    if "demo" in account.done:
        return False
    account.done.add("demo")
    page = t.page(f"{phase.line}-overview")
    t.visit(p, at, [page], "direct", phase.line)
    t.form(p, at + timedelta(minutes=3), "Demo Requested", {"product_line": phase.line}, page)
    meeting = t.office_time(at + timedelta(days=t.rng.randint(2, 7)))
    if meeting < phase.end:
        t.activity(p, meeting, "Online-Meeting", "video_call", _text(t, p, f"Live-Demo {_product(t, phase.line)}", f"Live demo {_product(t, phase.line)}"),
                   _text(t, p, "Demo auf Anfrage über die Website; Fragen notiert, Folgetermin vereinbart.", "Demo requested on the website; questions noted, follow-up agreed."),
                   deal=t.deal_at(p, meeting, phase.line))
    return True


def trial(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    if "trial" in p.done:
        return False
    p.done.add("trial")
    kind = {"trackcloud": "30-day trial kit", "insight": "90-day pilot", "edgebox": "evaluation kit"}.get(phase.line, "trial")
    t.form(p, at, "Trial Started", {"product_line": phase.line, "offer": kind}, t.page(f"{phase.line}-pricing"))
    return True


def community_post(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    t.tracker.track(p.primary, at, "Community Post Created", {"forum": phase.line, "url": f"{t.catalog.company['community']}/t/{t.rng.randint(1000, 9999)}"}, p.language)
    return True


# -- CRM activities ---------------------------------------------------------------------
def trade_fair(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    fairs = [f for f in t.calendar.in_window(t.calendar.fairs, at - timedelta(days=30), phase.end) if f"fair:{f.campaign}" not in p.done and f.day >= phase.begin.date()]
    if not fairs:
        return False
    fair = sorted(fairs, key=lambda f: (f.line != phase.line, f.day))[0]
    p.done.add(f"fair:{fair.campaign}")
    invite = fair.at(9) - timedelta(days=t.rng.randint(20, 30))
    if t.rng.random() < 0.4 and invite >= p.plan.joins_at:
        t.activity(p, invite, "Postmailing", "direct_mail", _text(t, p, f"Einladung {fair.title_de} mit Freiticket", f"Invitation to {fair.title_en} with free ticket"), campaign=fair.campaign)
    day = fair.day + timedelta(days=t.rng.randint(0, fair.days - 1))
    subject = _text(t, p, f"Messegespräch {fair.title_de} ({fair.city})", f"Trade fair meeting {fair.title_en} ({fair.city})")
    notes = _text(t, p, f"Am Stand Demo von {_product(t, fair.line or phase.line)} gezeigt; Lead gescannt, Unterlagen zugesagt.",
                  f"Showed {_product(t, fair.line or phase.line)} at the booth; lead scanned, documents promised.")
    t.activity(p, t.office_time(datetime.combine(day, at.time())), "Messegespräch", "trade_fair", subject, notes, campaign=fair.campaign)
    return True


def referral_received(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    referrer = p.plan.account.referred_by
    if not referrer or p.plan.role != "champion" or "referred" in p.done:
        return False
    p.done.add("referred")
    t.activity(p, t.office_time(p.plan.joins_at), "Empfehlung", "word_of_mouth",
               _text(t, p, "Kontakt über Empfehlung eines Bestandskunden", "Contact through a customer referral"),
               _text(t, p, f"Empfohlen von Kunde {referrer}; bittet um Rückruf.", f"Referred by customer {referrer}; asks for a call back."))
    return True


NOTES_CALL = {
    "technical_expert": ("Fragen zu Protokollen, API-Limits und Netzwerktrennung OT/IT.", "Questions about protocols, API limits and OT/IT network separation."),
    "skeptic": ("Will Referenzen und Zertifikate sehen; fragt nach DSGVO und Rechenzentrum.", "Wants references and certificates; asks about GDPR and the data centre."),
    "budget_owner": ("Budget für das Geschäftsjahr geplant; fragt nach Laufzeitrabatt und Amortisation.", "Budget planned for the fiscal year; asks about term discounts and payback."),
    "influencer": ("Muss die Geschäftsführung überzeugen; braucht Unterlagen für die interne Runde.", "Has to convince management; needs material for the internal meeting."),
    "experience_seeker": ("Begeistert von der Live-Demo; möchte Video und Messeticket.", "Enthusiastic about the live demo; wants the video and a fair ticket."),
}


def sales_call(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    de, en = NOTES_CALL[p.plan.persona]
    direction = t.rng.choice(["ausgehend", "ausgehend", "eingehend"])
    t.activity(p, t.office_time(at), "Anruf", "phone", _text(t, p, f"Telefonat zu {_product(t, phase.line)}", f"Call about {_product(t, phase.line)}"),
               _text(t, p, de, en), deal=t.deal_at(p, at, phase.line), direction=direction, outcome=t.rng.choice(["erreicht", "erreicht", "Rückruf vereinbart"]))
    return True


def meeting(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    product = _product(t, phase.line)
    if p.plan.persona == "technical_expert":
        subject = _text(t, p, f"Technischer Deep-Dive {product}: API und Protokolle", f"Technical deep dive {product}: API and protocols")
    else:
        subject = _text(t, p, f"Bedarfsanalyse {product}", f"Needs analysis {product}")
    t.activity(p, t.office_time(at), "Online-Meeting", "video_call", subject, _text(t, p, *NOTES_CALL[p.plan.persona]), deal=t.deal_at(p, at, phase.line))
    return True


def field_visit(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    account = p.plan.account.account
    t.activity(p, t.office_time(at), "Vor-Ort-Termin", "field_sales", _text(t, p, f"Besuch in {account.city}: Begehung Halle/Linie", f"Visit in {account.city}: site walk-through"),
               _text(t, p, "Halle begangen, Ankerpositionen und Maschinenliste besprochen.", "Walked the site, discussed anchor positions and machine list."), deal=t.deal_at(p, at, phase.line))
    return True


def sales_email(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    subject = t.rng.choice([("Fallstudie und Referenzen", "Case study and references"), ("Unterlagen aus unserem Gespräch", "Material from our conversation"),
                            ("Einladung zum Webinar", "Invitation to the webinar")])
    t.activity(p, t.office_time(at), "E-Mail", "sales_email", _text(t, p, *subject), deal=t.deal_at(p, at, phase.line), direction="ausgehend")
    return True


def quote_email(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    deal = t.deal_at(p, at, phase.line)
    if deal is None or f"quote:{deal.deal_id}" in p.done or p.plan.persona not in ("budget_owner", "influencer") and p.plan.role != "champion":
        return False
    p.done.add(f"quote:{deal.deal_id}")
    t.activity(p, t.office_time(at), "E-Mail", "sales_email", _text(t, p, f"Angebot versendet: {deal.name}", f"Quote sent: {deal.name}"),
               _text(t, p, "Angebot mit Laufzeitoptionen 12 und 36 Monate; gültig 30 Tage.", "Quote with 12- and 36-month term options; valid for 30 days."), deal=deal, direction="ausgehend")
    return True


def negotiation_meeting(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    deal = t.deal_at(p, at, phase.line)
    if deal is None:
        return False
    channel, kind = ("field_sales", "Vor-Ort-Termin") if t.rng.random() < 0.5 else ("video_call", "Online-Meeting")
    t.activity(p, t.office_time(at), kind, channel, _text(t, p, "Verhandlung: Konditionen, Laufzeit, Zahlungsziel", "Negotiation: conditions, term, payment terms"),
               _text(t, p, "Rabatt gegen 36 Monate Laufzeit diskutiert; Einkauf prüft AVV.", "Discussed a discount for a 36-month term; procurement reviews the DPA."), deal=deal)
    return True


def onboarding(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    if "onboarding" in p.done or (at - phase.begin).days > 60 or phase.stage != "retention":
        return False
    p.done.add("onboarding")
    t.activity(p, t.office_time(at), "Onboarding", "field_sales", _text(t, p, f"Onboarding-Workshop {_product(t, phase.line)}", f"Onboarding workshop {_product(t, phase.line)}"),
               _text(t, p, "Kick-off, Zonen/Maschinen angelegt, Key-User geschult.", "Kick-off, zones/machines set up, key users trained."), owner=_success_manager(p), deal=t.won_deal(p))
    return True


def support_ticket(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    de, en = t.rng.choice(TICKETS.get(phase.line, TICKETS["trackcloud"]))
    priority = t.rng.choice(["P3", "P3", "P2", "P1"])
    t.activity(p, at, "Support-Ticket", "support_portal", f"[{priority}] {_text(t, p, de, en)}", "", owner=_success_manager(p),
               outcome=t.rng.choice(["gelöst", "gelöst", "gelöst", "in Bearbeitung"]) if (t.reference - at).days < 10 else "gelöst")
    return True


def quarterly_review(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    t.activity(p, t.office_time(at), "Online-Meeting", "video_call", _text(t, p, "Quartalsreview: Nutzung und Ziele", "Quarterly review: usage and goals"),
               _text(t, p, "Nutzung gestiegen; zwei Verbesserungen vereinbart.", "Usage up; two improvements agreed."), owner=_success_manager(p))
    return True


def customer_update(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    if not p.may_email(at):
        return False
    t.tracker.track(None, at, "Email Opened", {"campaign": "customer-update", "subject": _text(t, p, "Neu in Velmora: Release-Notizen", "New in Velmora: release notes")}, p.language, user_id=p.contact_id, traits={"email": p.plan.contact.email})
    return True


def user_day(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    days = [d for d in t.calendar.in_window(t.calendar.user_days, phase.begin, phase.end) if f"userday:{d.day}" not in p.done]
    if not days:
        return False
    p.done.add(f"userday:{days[0].day}")
    t.activity(p, t.office_time(days[0].at(9)), "Veranstaltung", "own_event", f"Velmora Anwendertag {days[0].day.year} (Augsburg)", campaign=days[0].campaign, owner=_success_manager(p))
    return True


def nps_survey(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    score = t.rng.randint(9, 10) if phase.stage == "advocacy" else t.rng.choice([6, 7, 8, 8, 9])
    t.activity(p, at, "Umfrage", "survey", f"NPS: {score}", outcome=str(score), owner=_success_manager(p))
    return True


def review_posted(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    if "review" in p.done:
        return False
    p.done.add("review")
    site = t.rng.choice(t.catalog.review_sites)["name"]
    stars = t.rng.choice([5, 5, 4])
    t.activity(p, at, "Bewertung", "review_site", _text(t, p, f"Bewertung auf {site}: {stars} Sterne", f"Review on {site}: {stars} stars"), outcome=str(stars), owner=_success_manager(p))
    return True


def reference_call(t: Timeline, p: Person, phase: Phase, at: datetime) -> bool:
    t.activity(p, t.office_time(at), "Referenzgespräch", "word_of_mouth", _text(t, p, "Referenzgespräch mit einem Interessenten", "Reference call with a prospect"),
               _text(t, p, "Hat Erfahrungen aus dem Projekt geteilt.", "Shared project experience."))
    return True


ALWAYS = {"*": 1.0}
MOVES: Menu = {
    "awareness": [
        ("referral_received", {"*": 60.0}), ("search_visit", {"*": 3.0}), ("paid_search_visit", {"*": 3.5}),
        ("paid_social_visit", {"*": 2.0, "experience_seeker": 4.0}), ("ai_visit", ALWAYS), ("press_visit", ALWAYS),
        ("social_visit", ALWAYS), ("trade_fair", {"*": 2.5, "experience_seeker": 4.0}), ("newsletter_signup", ALWAYS),
    ],
    "consideration": [
        ("docs_session", {"*": 5.0}), ("webinar", {"*": 1.5, "experience_seeker": 4.0, "technical_expert": 2.5}),
        ("download", {"*": 1.5, "skeptic": 4.0, "technical_expert": 3.0, "influencer": 3.0}),
        ("review_site_visit", {"*": 0.7, "skeptic": 5.0}), ("video", {"*": 0.5, "experience_seeker": 5.0}),
        ("demo_request", {"*": 1.0, "experience_seeker": 3.0}), ("sales_call", {"*": 2.0}),
        ("meeting", {"*": 1.5, "technical_expert": 3.0}), ("field_visit", ALWAYS), ("trade_fair", {"*": 1.5, "experience_seeker": 3.0}),
        ("sales_email", ALWAYS), ("retargeting_visit", {"*": 0.6}),
    ],
    "purchase": [
        ("pricing_session", {"*": 3.0, "budget_owner": 6.0, "influencer": 4.0}), ("roi_calculator", {"*": 0.5, "budget_owner": 5.0}),
        ("quote_email", {"*": 4.0}), ("negotiation_meeting", {"*": 2.0, "budget_owner": 3.0}), ("sales_call", {"*": 2.0}),
        ("trial", {"*": 0.5, "technical_expert": 3.0}), ("download", {"*": 0.5, "skeptic": 4.0, "influencer": 4.0}),
    ],
    "retention": [
        ("onboarding", {"*": 30.0}), ("howto_session", {"*": 3.0, "technical_expert": 5.0}), ("support_ticket", {"*": 2.0, "technical_expert": 4.0}),
        ("quarterly_review", ALWAYS), ("customer_update", {"*": 1.5}), ("user_day", {"*": 2.0, "experience_seeker": 4.0}), ("nps_survey", ALWAYS),
    ],
    "advocacy": [
        ("review_posted", {"*": 4.0}), ("reference_call", {"*": 2.0}), ("community_post", {"*": 2.0}), ("user_day", {"*": 3.0}),
        ("nps_survey", ALWAYS), ("howto_session", ALWAYS),
    ],
    "dormant": [("search_visit", ALWAYS), ("review_site_visit", {"*": 0.5})],
}

ACTIONS: dict[str, Move] = {
    "search_visit": _visit_move("organic_search", ("blog", "overview", "company")),
    "paid_search_visit": _visit_move("paid_search", ("overview", "blog", "features")),
    "paid_social_visit": _visit_move("paid_social", ("overview", "blog", "case_study")),
    "ai_visit": _visit_move("ai_assistant", ("overview", "comparison", "faq")),
    "press_visit": _visit_move("press", ("overview", "company")),
    "social_visit": _visit_move("organic_social", ("blog", "case_study")),
    "review_site_visit": _visit_move("review_site", ("case_study", "comparison", "overview")),
    "retargeting_visit": _visit_move("display", ("pricing", "overview")),
    "docs_session": docs_session, "pricing_session": pricing_session, "howto_session": howto_session,
    "webinar": webinar, "download": download, "newsletter_signup": newsletter_signup, "video": video,
    "roi_calculator": roi_calculator, "demo_request": demo_request, "trial": trial, "community_post": community_post,
    "trade_fair": trade_fair, "referral_received": referral_received, "sales_call": sales_call, "meeting": meeting,
    "field_visit": field_visit, "sales_email": sales_email, "quote_email": quote_email, "negotiation_meeting": negotiation_meeting,
    "onboarding": onboarding, "support_ticket": support_ticket, "quarterly_review": quarterly_review,
    "customer_update": customer_update, "user_day": user_day, "nps_survey": nps_survey, "review_posted": review_posted,
    "reference_call": reference_call,
}
