"""The company's documentation as Markdown, in German and English.

Product pages (overview, features, integrations, pricing, onboarding, FAQ per product line) are
rendered from the facts in ``data/<line>.yaml``; the other pages are hand-written templates in
``templates/<language>/`` filled with the company's facts and, for case studies and the events
page, with facts of the generated world. ``site_pages`` is the site map the web-analytics
events refer to, so every page view points at a page that exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib import resources
from string import Template
from typing import Any

from assistant.demo.calendar import Occasion
from assistant.demo.catalog import LANGUAGES, LINES, Catalog, format_eur

PRODUCT_PAGES = ("overview", "features", "integrations", "pricing", "onboarding", "faq")
UNIQUE_PAGES = (
    ("company", None, "company"), ("security", None, "security"), ("compare-trackcloud", "trackcloud", "comparison"),
    ("compare-edgebox", "edgebox", "comparison"), ("case-study-logistics", "trackcloud", "case_study"),
    ("case-study-manufacturing", "insight", "case_study"), ("referral-programme", None, "advocacy"),
    ("events", None, "events"), ("roi-guide", None, "roi"), ("decision-summary", None, "summary"),
    ("blog-search-times", "trackcloud", "blog"), ("blog-opcua-mqtt", "edgebox", "blog"),
)
INTERNAL_PAGES = ("battlecard", "discount-approval")

LABELS = {
    "de": {
        "overview": "Überblick", "features": "Funktionen und technische Daten", "integrations": "Integrationen und API",
        "pricing": "Preise und Lizenzbedingungen", "onboarding": "Einrichtung und Onboarding", "faq": "Häufige Fragen",
        "problems": "Typische Ausgangslage", "benefits": "Ihr Nutzen", "use_cases": "Einsatzbeispiele",
        "feature_list": "Funktionen", "specs": "Technische Daten", "property": "Merkmal", "value": "Wert",
        "api": "REST-API", "auth": "Authentifizierung", "base_url": "Basis-URL", "rate_limit": "Ratenlimit",
        "endpoints": "Endpunkte", "endpoint": "Endpunkt", "description": "Beschreibung", "webhooks": "Webhook-Ereignisse",
        "example": "Beispiel", "tiers": "Editionen und Preise", "edition": "Edition", "price": "Preis", "includes": "Enthalten",
        "terms": "Vertrags- und Lizenzbedingungen", "skus": "Artikelnummern", "sku": "Artikelnummer", "unit": "Einheit",
        "list_price": "Listenpreis", "duration": "Dauer", "steps": "Schritt für Schritt", "step": "Schritt",
        "next": "Nächste Schritte", "vat": "Alle Preise netto zuzüglich gesetzlicher Umsatzsteuer.",
        "cta": "Fragen? Schreiben Sie an {sales} oder rufen Sie uns an: {phone}. Support für Kunden: {support}.",
        "see_also": "Siehe auch", "none": "keine",
    },
    "en": {
        "overview": "overview", "features": "features and technical specifications", "integrations": "integrations and API",
        "pricing": "pricing and licence terms", "onboarding": "setup and onboarding", "faq": "frequently asked questions",
        "problems": "Typical starting point", "benefits": "Your benefits", "use_cases": "Use cases",
        "feature_list": "Features", "specs": "Technical specifications", "property": "Property", "value": "Value",
        "api": "REST API", "auth": "Authentication", "base_url": "Base URL", "rate_limit": "Rate limit",
        "endpoints": "Endpoints", "endpoint": "Endpoint", "description": "Description", "webhooks": "Webhook events",
        "example": "Example", "tiers": "Editions and prices", "edition": "Edition", "price": "Price", "includes": "Included",
        "terms": "Contract and licence terms", "skus": "Article numbers", "sku": "Article number", "unit": "Unit",
        "list_price": "List price", "duration": "Duration", "steps": "Step by step", "step": "Step",
        "next": "Next steps", "vat": "All prices are net, plus VAT where applicable.",
        "cta": "Questions? Write to {sales} or call us: {phone}. Customer support: {support}.",
        "see_also": "See also", "none": "none",
    },
}


@dataclass(frozen=True)
class SitePage:
    slug: str
    line: str | None
    doc_type: str
    titles: dict[str, str]

    def path(self, language: str) -> str:
        return f"/{language}/docs/{self.slug}"


def product_title(catalog: Catalog, line: str, page: str, language: str) -> str:
    return f"{catalog.lines[line].product} – {LABELS[language][page]}"


def site_pages(files: dict[str, str]) -> list[SitePage]:
    """Every public page of the rendered docs with its title per language."""
    kinds = {f"{line}-{page}": (line, page) for line in LINES for page in PRODUCT_PAGES}
    kinds.update({slug: (line, doc_type) for slug, line, doc_type in UNIQUE_PAGES})
    pages = []
    for slug, (line, doc_type) in kinds.items():
        titles = {lang: _front_matter_title(files[f"{lang}/{slug}.md"]) for lang in LANGUAGES}
        pages.append(SitePage(slug, line, doc_type, titles))
    return pages


def _front_matter_title(text: str) -> str:
    for line in text.splitlines()[1:5]:
        if line.startswith("title:"):
            return line.split(":", 1)[1].strip().strip('"')
    raise ValueError("page without a front-matter title")


def _template(folder: str, slug: str) -> str:
    return resources.files("assistant.demo").joinpath("templates").joinpath(folder).joinpath(f"{slug}.md").read_text(encoding="utf-8")


def render_docs(catalog: Catalog, context: dict[str, Any]) -> dict[str, str]:
    """Relative path (``de/trackcloud-pricing.md``) -> Markdown text, for both languages and
    the internal pages. ``context`` fills the templates (company facts, case studies, events)."""
    files: dict[str, str] = {}
    for language in LANGUAGES:
        for line in LINES:
            for page in PRODUCT_PAGES:
                files[f"{language}/{line}-{page}.md"] = render_product_page(catalog, line, page, language)
        for slug, _, _ in UNIQUE_PAGES:
            values = {**context["common"], **context.get(slug, {}), **context.get(f"{slug}:{language}", {})}
            files[f"{language}/{slug}.md"] = Template(_template(language, slug)).substitute(values)
    for slug in INTERNAL_PAGES:
        files[f"internal/{slug}.md"] = Template(_template("internal", slug)).substitute(context["common"])
    return files


def render_product_page(catalog: Catalog, line: str, page: str, language: str) -> str:
    facts = catalog.lines[line].facts[language]
    labels = LABELS[language]
    title = product_title(catalog, line, page, language)
    body = {
        "overview": _overview, "features": _features, "integrations": _integrations,
        "pricing": _pricing, "onboarding": _onboarding, "faq": _faq,
    }[page](catalog, line, facts, labels, language)
    company = catalog.company
    cta = labels["cta"].format(sales=company["sales_email"], phone=company["sales_phone"], support=company["support_email"])
    return f"---\ntitle: \"{title}\"\n---\n# {title}\n\n{body.strip()}\n\n## {labels['next']}\n\n{cta}\n"


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def _overview(catalog: Catalog, line: str, facts: dict[str, Any], labels: dict[str, str], language: str) -> str:
    cases = "\n\n".join(f"### {case['title']}\n\n{case['text']}" for case in facts["use_cases"])
    return (
        f"**{facts['tagline']}**\n\n{facts['summary']}\n\n## {labels['problems']}\n\n{_bullets(facts['problems'])}\n\n"
        f"## {labels['benefits']}\n\n{_bullets(facts['benefits'])}\n\n## {labels['use_cases']}\n\n{cases}"
    )


def _features(catalog: Catalog, line: str, facts: dict[str, Any], labels: dict[str, str], language: str) -> str:
    features = "\n\n".join(f"### {f['name']}\n\n{f['text']}" for f in facts["features"])
    rows = "\n".join(f"| {name} | {value} |" for name, value in facts["specs"])
    return (
        f"{facts['summary']}\n\n## {labels['feature_list']}\n\n{features}\n\n## {labels['specs']}\n\n"
        f"| {labels['property']} | {labels['value']} |\n|---|---|\n{rows}"
    )


def _integrations(catalog: Catalog, line: str, facts: dict[str, Any], labels: dict[str, str], language: str) -> str:
    api = facts["api"]
    items = "\n\n".join(f"### {i['name']}\n\n{i['text']}" for i in facts["integrations"])
    endpoints = "\n".join(f"| `{e[0]}` | {', '.join(e[1:])} |" for e in api["endpoints"])
    first = api["endpoints"][0][0].split(" ", 1)[1]
    host = api["base_url"].split("/v2")[0] if "/v2" in api["base_url"] else api["base_url"].rsplit("/api", 1)[0]
    example = f"curl -H \"Authorization: Bearer $TOKEN\" {host}{first}"
    return (
        f"{facts['integrations_intro']}\n\n{items}\n\n## {labels['api']}\n\n"
        f"- **{labels['auth']}:** {api['auth']}\n- **{labels['base_url']}:** `{api['base_url']}`\n"
        f"- **{labels['rate_limit']}:** {api['rate_limit']}\n\n### {labels['endpoints']}\n\n"
        f"| {labels['endpoint']} | {labels['description']} |\n|---|---|\n{endpoints}\n\n"
        f"### {labels['webhooks']}\n\n{_bullets([f'`{w}`' for w in api['webhooks']])}\n\n"
        f"### {labels['example']}\n\n```bash\n{example}\n```"
    )


def _pricing(catalog: Catalog, line: str, facts: dict[str, Any], labels: dict[str, str], language: str) -> str:
    tiers = "\n".join(f"| {t['name']} | {t['price']} | {t['includes']} |" for t in facts["tiers"])
    skus = "\n".join(
        f"| {s.sku} | {s.name} | {format_eur(s.price, language)} | {s.unit_de if language == 'de' else s.unit_en} |"
        for s in catalog.skus_of(line)
    )
    return (
        f"{facts['pricing_intro']}\n\n## {labels['tiers']}\n\n| {labels['edition']} | {labels['price']} | {labels['includes']} |\n"
        f"|---|---|---|\n{tiers}\n\n## {labels['skus']}\n\n| {labels['sku']} | Name | {labels['list_price']} | {labels['unit']} |\n"
        f"|---|---|---|---|\n{skus}\n\n## {labels['terms']}\n\n{_bullets(facts['terms'])}\n\n{labels['vat']}"
    )


def _onboarding(catalog: Catalog, line: str, facts: dict[str, Any], labels: dict[str, str], language: str) -> str:
    steps = "\n\n".join(f"### {labels['step']} {i}: {s['title']}\n\n{s['text']}" for i, s in enumerate(facts["onboarding"], 1))
    return f"**{labels['duration']}:** {facts['onboarding_duration']}\n\n## {labels['steps']}\n\n{steps}"


def _faq(catalog: Catalog, line: str, facts: dict[str, Any], labels: dict[str, str], language: str) -> str:
    return "\n\n".join(f"## {qa['q']}\n\n{qa['a']}" for qa in facts["faq"])


def events_context(webinars: list[Occasion], fairs: list[Occasion], reference: date) -> dict[str, dict[str, str]]:
    """The events page lists what comes after the reference date, in each language."""
    result = {}
    for language in LANGUAGES:
        webinar_lines = [
            f"- **{o.day.strftime('%d.%m.%Y') if language == 'de' else o.day.isoformat()}, 10:00 "
            f"{'Uhr' if language == 'de' else 'CET'}:** {o.title_de if language == 'de' else o.title_en}"
            for o in webinars if o.day > reference
        ][:4]
        fair_lines = [
            f"- **{o.title_de}**, {o.city}, {o.day.strftime('%d.%m.%Y') if language == 'de' else o.day.isoformat()}"
            f" ({o.days} {'Tage' if language == 'de' and o.days > 1 else 'Tag' if language == 'de' else 'days' if o.days > 1 else 'day'})"
            for o in fairs if o.day > reference
        ][:4]
        result[f"events:{language}"] = {
            "webinar_list": "\n".join(webinar_lines) or LABELS[language]["none"],
            "fair_list": "\n".join(fair_lines) or LABELS[language]["none"],
        }
    return result


def common_context(catalog: Catalog, as_of: date) -> dict[str, str]:
    company = catalog.company
    return {
        "founded": str(company["founded"]), "employees": str(company["employees"]), "customers": str(company["customers_count"]),
        "countries": str(company["countries_count"]), "sales_email": company["sales_email"], "sales_phone": company["sales_phone"],
        "support_email": company["support_email"], "support_phone": company["support_phone"], "register": company["register"],
        "website": company["website"], "community": company["community"], "as_of": as_of.isoformat(),
    }
