"""Owners, accounts and buying committees of the demo world.

Names come from Faker instances seeded per locale (``seed_instance``, never Faker's global
seed, which other code in the process may share); every other choice comes from the caller's
``random.Random``. Iteration is always over lists in a fixed order, so a seed gives the same
world in every process.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from faker import Faker

from assistant.demo.catalog import Catalog, ascii_slug
from assistant.demo.world import Account, Contact, Owner

UNFORTUNATE_NAMES = frozenset({"Heydrich", "Himmler", "Göring", "Goebbels", "Hitler", "Eichmann", "Mengele", "Bormann"})
"""Surnames Faker knows that no demo company should carry."""
SIZE_BANDS = ((60, 199, 3), (200, 499, 4), (500, 1999, 3), (2000, 9000, 1))
"""(min employees, max employees, weight)."""


class Fakers:
    """One seeded Faker per locale, created on first use."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._fakers: dict[str, Faker] = {}

    def __call__(self, locale: str) -> Faker:
        if locale not in self._fakers:
            faker = Faker(locale)
            # A per-locale seed: adding a locale must not shift the names of the others.
            faker.seed_instance(f"{self._seed}/{locale}")
            self._fakers[locale] = faker
        return self._fakers[locale]


def weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys], k=1)[0]


def _person_name(faker: Faker, female: bool) -> tuple[str, str]:
    first = faker.first_name_female() if female else faker.first_name_male()
    return first, faker.last_name()


def build_owners(catalog: Catalog, fakers: Fakers, rng: random.Random) -> list[Owner]:
    """The head of sales, one manager per team and the team's reps."""
    domain = catalog.domain
    head = catalog.head_of_sales
    owners = [Owner("O-01", head["name"], _company_mail(head["name"], domain), "Vertriebsleitung", head["office"], head["title"])]
    faker = fakers("de_DE")
    for team in catalog.teams:
        manager = Owner(
            f"O-{len(owners) + 1:02d}", team["manager"], _company_mail(team["manager"], domain), team["name"], team["office"],
            "Teamleitung", owners[0].owner_id, owners[0].name,
        )
        owners.append(manager)
        role = "Customer Success Manager" if team["name"] == "Customer Success" else "Account Executive"
        for _ in range(team["reps"]):
            first, last = _person_name(faker, rng.random() < 0.45)
            name = f"{first} {last}"
            owners.append(Owner(
                f"O-{len(owners) + 1:02d}", name, _company_mail(name, domain), team["name"], team["office"], role,
                manager.owner_id, manager.name,
            ))
    return owners


def _company_mail(name: str, domain: str) -> str:
    return f"{ascii_slug(name, '.')}@{domain}"


def reps_for_region(catalog: Catalog, owners: list[Owner], region: str) -> list[Owner]:
    team = next((t["name"] for t in catalog.teams if region in t["regions"]), "International")
    return [o for o in owners if o.team == team and o.role == "Account Executive"]


def success_managers(owners: list[Owner]) -> list[Owner]:
    return [o for o in owners if o.role == "Customer Success Manager"]


@dataclass
class _Market:
    """The lookup tables of people.yaml, typed enough for the builders."""

    countries: dict[str, dict[str, Any]]
    industries: list[dict[str, Any]]


def build_accounts(catalog: Catalog, fakers: Fakers, rng: random.Random, owners: list[Owner], count: int) -> list[Account]:
    market = _Market(catalog.people["countries"], catalog.people["industries"])
    accounts: list[Account] = []
    names: set[str] = set()
    domains: set[str] = set()
    countries = _country_quotas(market.countries, count)
    rng.shuffle(countries)
    while len(accounts) < count:
        code = countries[len(accounts)]
        country = market.countries[code]
        industry = rng.choice(market.industries)
        name, domain = _company_name(fakers(country["locale"]), rng, country, industry)
        if name in names or domain in domains:
            continue
        names.add(name)
        domains.add(domain)
        city, region, area = rng.choice(country["cities"])
        low, high, _ = rng.choices(SIZE_BANDS, weights=[b[2] for b in SIZE_BANDS], k=1)[0]
        employees = rng.randint(low, high)
        revenue = Decimal(round(employees * rng.uniform(140_000, 320_000), -5))
        rep = rng.choice(reps_for_region(catalog, owners, region))
        accounts.append(Account(
            account_id=f"A-{1001 + len(accounts)}", name=name, domain=domain, industry_key=industry["key"],
            industry=industry["de"] if country["language"] == "de" else industry["en"], employees=employees,
            annual_revenue=revenue, country_code=code, country=country["name"], city=city, region=region,
            language=country["language"], founded_year=rng.randint(1890, 2016), owner_id=rep.owner_id,
            phone=f"{country['phone_prefix']} {area} {rng.randint(20, 98)}{rng.randint(100, 999)}",
        ))
    return accounts


def _country_quotas(countries: dict[str, dict[str, Any]], count: int) -> list[str]:
    """Country codes for ``count`` accounts in proportion to their weights (largest remainder),
    so every market of people.yaml is represented as intended, whatever the seed."""
    total = sum(c["weight"] for c in countries.values())
    exact = {code: c["weight"] * count / total for code, c in countries.items()}
    quotas = {code: int(share) for code, share in exact.items()}
    by_remainder = sorted(exact, key=lambda code: (quotas[code] - exact[code], code))
    for code in by_remainder[: count - sum(quotas.values())]:
        quotas[code] += 1
    return [code for code in countries for _ in range(quotas[code])]


def _company_name(faker: Faker, rng: random.Random, country: dict[str, Any], industry: dict[str, Any]) -> tuple[str, str]:
    words = industry["words_de"] if country["language"] == "de" else industry["words_en"]
    word = rng.choice(words)
    legal = rng.choice(country["legal"])
    last = faker.last_name()
    while last in UNFORTUNATE_NAMES:
        last = faker.last_name()
    if rng.random() < 0.65:
        stem = f"{last} {word}"
    else:
        partner = faker.last_name()
        stem = f"{last} & {partner if partner not in UNFORTUNATE_NAMES and partner != last else 'Partner'} {word}"
    name = f"{stem} {legal}"
    slug_source = f"{last} {word}"
    return name, f"{ascii_slug(slug_source)}.{country['tld']}"


def build_committee(
    catalog: Catalog, fakers: Fakers, rng: random.Random, account: Account, size: int, next_id: int,
    with_budget_owner: bool = True,
) -> tuple[list[Contact], dict[str, tuple[str, str]]]:
    """The account's contacts and, separately, the persona each was generated as."""
    personas = _committee_personas(catalog, rng, size, with_budget_owner)
    country = catalog.people["countries"][account.country_code]
    faker = fakers(country["locale"])
    contacts: list[Contact] = []
    truth: dict[str, tuple[str, str]] = {}
    used_emails: set[str] = set()
    for persona in personas:
        contact = _contact(catalog, faker, rng, account, persona, f"K-{next_id + len(contacts)}", used_emails)
        contacts.append(contact)
        truth[contact.contact_id] = (persona, _secondary(rng, persona))
    return contacts, truth


def _committee_personas(catalog: Catalog, rng: random.Random, size: int, with_budget_owner: bool) -> list[str]:
    if size <= 2:
        # A first contact at an early account: whoever stumbled on the company.
        pool = {"technical_expert": 3, "experience_seeker": 3, "influencer": 2, "skeptic": 1.5, "budget_owner": 1.5}
        return [weighted(rng, pool) for _ in range(size)]
    personas = ["technical_expert"] + (["budget_owner"] if with_budget_owner else [])
    for persona, (low, high) in catalog.people["committee"].items():
        if persona == "budget_owner" and not with_budget_owner:
            continue
        already = personas.count(persona)
        personas.extend([persona] * max(0, rng.randint(low, high) - already))
    fill = {"technical_expert": 1.2, "influencer": 4.5, "skeptic": 2.5, "experience_seeker": 2.5}
    while len(personas) < size:
        personas.append(weighted(rng, fill))
    head, tail = personas[:2], personas[2:]
    rng.shuffle(tail)
    return (head + tail)[:size]


_SECONDARY = {
    "budget_owner": ["skeptic", "influencer"],
    "technical_expert": ["skeptic", "experience_seeker"],
    "influencer": ["experience_seeker", "technical_expert"],
    "skeptic": ["technical_expert", "budget_owner"],
    "experience_seeker": ["influencer", "budget_owner"],
}


def _secondary(rng: random.Random, persona: str) -> str:
    return rng.choice(_SECONDARY[persona]) if rng.random() < 0.35 else ""


def _contact(
    catalog: Catalog, faker: Faker, rng: random.Random, account: Account, persona: str, contact_id: str, used: set[str],
) -> Contact:
    titles = catalog.people["titles"][persona][account.language]
    title, department = rng.choice(titles)
    female = _title_gender(title, account.language, rng)
    first, last = _person_name(faker, female)
    email = _email(rng, first, last, account.domain, used)
    extension = rng.randint(100, 899)
    phone = f"{account.phone}-{extension}" if rng.random() < 0.8 else _mobile(rng, account.phone.split()[0])
    return Contact(
        contact_id=contact_id, account_id=account.account_id, first_name=first, last_name=last, email=email, phone=phone,
        job_title=title, department=department, buying_role=weighted(rng, catalog.people["buying_roles"][persona]),
        language=account.language, owner_id=account.owner_id,
    )


def _title_gender(title: str, language: str, rng: random.Random) -> bool:
    """True for a woman. German titles carry a gender (Leiterin, Geschäftsführer); English ones
    and neutral German ones (CFO, Assistenz der Geschäftsführung) do not."""
    if language == "de":
        words = [w for w in title.replace("-", " ").split() if len(w) > 3 and w != "Chain"]
        if any(w.endswith("in") for w in words) or title.endswith("beauftragte"):
            return True
        if any(w.endswith(("er", "or", "eur", "ent", "kt")) for w in words):
            return False
    return rng.random() < 0.4


def _email(rng: random.Random, first: str, last: str, domain: str, used: set[str]) -> str:
    f, l = ascii_slug(first, "."), ascii_slug(last, "")
    pattern = rng.random()
    local = f"{f}.{l}" if pattern < 0.7 else f"{f[0]}.{l}" if pattern < 0.85 else f"{f[0]}{l}"
    candidate, n = local, 2
    while f"{candidate}@{domain}" in used:
        candidate, n = f"{local}{n}", n + 1
    used.add(f"{candidate}@{domain}")
    return f"{candidate}@{domain}"


def _mobile(rng: random.Random, prefix: str) -> str:
    networks = {"+49": ["151", "160", "171", "176"], "+43": ["664", "676"], "+41": ["79", "78"]}
    network = rng.choice(networks.get(prefix, ["6", "7"]))
    return f"{prefix} {network} {rng.randint(1000000, 9999999)}"
