"""The fixed part of the demo world: the vendor, its product lines and SKUs, its market.

Everything comes from the hand-written YAML files in ``data/``; the seed only decides who buys
what and when (see ``people`` and ``journeys``), never what the company sells.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

LINES = ("edgebox", "trackcloud", "insight", "care")
"""Product lines in the order the docs list them."""
LANGUAGES = ("de", "en")


@dataclass(frozen=True)
class Sku:
    sku: str
    name: str
    line: str
    price: Decimal
    billing: str
    unit_de: str
    unit_en: str


@dataclass(frozen=True)
class ProductLine:
    """One product line with its facts per language (``facts["de"]["features"]`` ...)."""

    key: str
    product: str
    skus: tuple[str, ...]
    facts: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Catalog:
    company: dict[str, Any]
    offices: list[dict[str, Any]]
    head_of_sales: dict[str, Any]
    teams: list[dict[str, Any]]
    skus: dict[str, Sku]
    lines: dict[str, ProductLine]
    pipeline: dict[str, Any]
    trade_fairs: list[dict[str, Any]]
    webinars: list[dict[str, Any]]
    campaigns: list[dict[str, Any]]
    review_sites: list[dict[str, Any]]
    press: list[dict[str, Any]]
    competitors: list[dict[str, Any]]
    people: dict[str, Any] = field(repr=False)

    @property
    def website(self) -> str:
        return str(self.company["website"])

    @property
    def domain(self) -> str:
        return str(self.company["domain"])

    def skus_of(self, line: str) -> list[Sku]:
        return [sku for sku in self.skus.values() if sku.line == line]

    def stage(self, name: str) -> dict[str, Any]:
        for stage in self.pipeline["stages"]:
            if stage["name"] == name:
                return dict(stage)
        raise KeyError(name)

    def campaigns_for(self, medium: str, line: str | None = None) -> list[dict[str, Any]]:
        found = [c for c in self.campaigns if c["medium"] == medium and (line is None or c["line"] in (line, None))]
        return found or [c for c in self.campaigns if c["medium"] == medium]


def _data(name: str) -> Any:
    text = resources.files("assistant.demo").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The catalogue from the packaged YAML files (read once per process)."""
    company = _data("company.yaml")
    skus = {
        row["sku"]: Sku(
            sku=row["sku"], name=row["name"], line=row["line"], price=Decimal(str(row["price"])).quantize(Decimal("0.01")),
            billing=row["billing"], unit_de=row["unit_de"], unit_en=row["unit_en"],
        )
        for row in company["products"]
    }
    lines = {}
    for key in LINES:
        raw = _data(f"{key}.yaml")
        lines[key] = ProductLine(key=raw["key"], product=raw["product"], skus=tuple(raw["skus"]), facts={lang: raw[lang] for lang in LANGUAGES})
    return Catalog(
        company=company["company"], offices=company["offices"], head_of_sales=company["head_of_sales"], teams=company["teams"], skus=skus, lines=lines,
        pipeline=company["pipeline"], trade_fairs=company["trade_fairs"], webinars=company["webinars"],
        campaigns=company["campaigns"], review_sites=company["review_sites"], press=company["press"],
        competitors=company["competitors"], people=_data("people.yaml"),
    )


_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ł": "l", "Ł": "L"})


def ascii_slug(text: str, separator: str = "-") -> str:
    """``"Müller Fahrzeugtechnik"`` -> ``"mueller-fahrzeugtechnik"`` (for domains and e-mail local parts)."""
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATION)).encode("ascii", "ignore").decode("ascii")
    words = "".join(ch.lower() if ch.isalnum() else " " for ch in text).split()
    return separator.join(words)


def format_eur(amount: Decimal | float | int, language: str) -> str:
    """``1490`` -> ``"1.490 €"`` (de) or ``"EUR 1,490"`` (en); cents only when there are any."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"))
    whole = value == value.to_integral_value()
    text = f"{value:,.0f}" if whole else f"{value:,.2f}"
    if language == "de":
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".") + " €"
    return f"EUR {text}"
