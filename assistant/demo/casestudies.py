"""The figures of the two published case studies, taken from the generated customers.

The case-study account is an advocate whose won deal, champion and go-live date appear in the
CRM data, so the docs and the CRM tell the same story.
"""

from __future__ import annotations

import math
import random
from typing import Any

from assistant.demo.journeys import DAY, AccountPlan, ContactPlan
from assistant.demo.world import Deal, DealLine

MONTHS = {
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
}
QUOTES = {
    "logistics": [
        ("Früher haben wir Gitterboxen gesucht, heute sehen wir sie auf dem Tablet. Das Team im Versand will nicht mehr zurück.",
         "We used to search for mesh boxes; now we see them on a tablet. The shipping team would never go back."),
        ("Der Test parallel zum Betrieb hat uns überzeugt – nach 30 Tagen waren die Zahlen eindeutig.",
         "Testing alongside daily operations convinced us – after 30 days the numbers were clear."),
    ],
    "manufacturing": [
        ("Zum ersten Mal sehen wir die OEE jeder Maschine in Echtzeit – und wissen, warum sie steht.",
         "For the first time we see every machine's OEE in real time – and know why it stops."),
        ("Insight hat einen Lagerschaden 16 Tage vor dem Ausfall gemeldet. Das hat die Investition fast allein bezahlt.",
         "Insight flagged a bearing failure 16 days in advance. That almost paid for the investment on its own."),
    ],
}


def case_study_context(
    rng: random.Random, plans: list[AccountPlan], contacts: list[ContactPlan], deals: list[Deal], lines: list[DealLine],
    industries: dict[str, dict[str, str]],
) -> dict[str, dict[str, Any]]:
    """Template values per page (``case-study-logistics`` ...) and per page and language;
    ``industries`` names each industry key in German and English."""
    result: dict[str, dict[str, Any]] = {}
    for plan in plans:
        if not plan.case_study or plan.close_at is None:
            continue
        deal = next(d for d in deals if d.account_id == plan.account.account_id and d.status == "won")
        items = {line.sku: line for line in lines if line.deal_id == deal.deal_id}
        champion = next(c for c in contacts if c.account is plan and c.role == "champion")
        live = plan.close_at + 30 * DAY
        common = {
            "account": plan.account.name, "city": plan.account.city, "contact_name": champion.contact.full_name,
            "contact_title": champion.contact.job_title,
        }
        figures = _logistics(rng, items) if plan.case_study == "logistics" else _manufacturing(rng, items)
        quote_de, quote_en = rng.choice(QUOTES[plan.case_study])
        slug = f"case-study-{plan.case_study}"
        result[slug] = {**common, **figures}
        for language in ("de", "en"):
            result[f"{slug}:{language}"] = {
                "industry": industries[plan.account.industry_key][language], "live_month": f"{MONTHS[language][live.month - 1]} {live.year}",
                "quote_de": quote_de, "quote_en": quote_en,
                **{key: _thousands(figures[key], language) for key in ("carriers", "hall_m2") if key in figures},
            }
    return result


def _logistics(rng: random.Random, items: dict[str, DealLine]) -> dict[str, Any]:
    carriers = items["TT-1"].quantity if "TT-1" in items else 800
    hall = min(24000, max(4000, round(carriers * rng.uniform(8, 20) / 500) * 500))
    before = rng.randint(20, 35)
    cut = rng.randint(52, 68)
    loss_before = rng.randint(7, 12)
    trips_before = rng.randint(12, 30)
    return {
        "edition": "Enterprise" if "TC-ENT" in items else "Business", "carriers": carriers, "hall_m2": hall, "anchors": math.ceil(hall / 800), "search_before": before,
        "search_after": round(before * (100 - cut) / 100), "search_cut": cut, "loss_before": loss_before,
        "loss_after": max(1, round(loss_before * rng.uniform(0.55, 0.7))), "trips_before": trips_before,
        "trips_after": max(1, round(trips_before * rng.uniform(0.15, 0.35))), "golive_days": rng.randint(21, 35),
    }


def _manufacturing(rng: random.Random, items: dict[str, DealLine]) -> dict[str, Any]:
    gateways = sum(items[s].quantity for s in ("VG-200", "VG-210") if s in items) or 12
    oee_before = rng.randint(58, 68)
    gain = rng.randint(6, 11)
    downtime = rng.randint(120, 300)
    return {
        "edition": "Predict" if "IN-PRE" in items else "Standard", "machines": max(gateways, rng.randint(25, 90)),
        "gateways": gateways, "oee_before": oee_before, "oee_after": oee_before + gain, "oee_gain": gain,
        "downtime_before": downtime, "downtime_after": round(downtime * rng.uniform(0.3, 0.5)), "energy_after": rng.randint(88, 95),
    }


def _thousands(value: int, language: str) -> str:
    return f"{value:,}".replace(",", "." if language == "de" else ",")
