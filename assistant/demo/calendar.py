"""The company's marketing calendar: trade fairs, webinars and newsletters on fixed dates.

Touchpoints happen on these dates and the events page lists the upcoming ones, so a person who
"attended the webinar" did so on a day the webinar took place.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from assistant.demo.catalog import Catalog


@dataclass(frozen=True)
class Occasion:
    """One dated marketing occasion: a fair, a webinar session or a newsletter send."""

    kind: str
    key: str
    day: date
    title_de: str
    title_en: str
    line: str | None
    city: str = ""
    days: int = 1

    @property
    def campaign(self) -> str:
        return f"{self.key}-{self.day.year}" if self.kind == "trade_fair" else self.key

    def at(self, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(self.day, time(hour, minute))


def _weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def trade_fairs(catalog: Catalog, start: date, end: date) -> list[Occasion]:
    found = []
    for year in range(start.year, end.year + 1):
        for fair in catalog.trade_fairs:
            day = date(year, fair["month"], fair["day"])
            if start <= day <= end:
                key = fair["name"].split(" - ")[0].lower().replace(" ", "-")
                found.append(Occasion("trade_fair", key, day, fair["name"], fair["name"], fair["line"], fair["city"], fair["days"]))
    return sorted(found, key=lambda o: o.day)


def webinars(catalog: Catalog, start: date, end: date) -> list[Occasion]:
    """A webinar every three weeks on Thursday, cycling through the programme."""
    found, day, index = [], _weekday_on_or_after(start + timedelta(days=5), 3), 0
    while day <= end:
        webinar = catalog.webinars[index % len(catalog.webinars)]
        found.append(Occasion("webinar", webinar["slug"], day, webinar["de"], webinar["en"], webinar["line"]))
        day, index = day + timedelta(days=21), index + 1
    return found


def newsletters(start: date, end: date) -> list[Occasion]:
    """The monthly newsletter goes out on the first Tuesday of each month."""
    found = []
    month = date(start.year, start.month, 1)
    while month <= end:
        day = _weekday_on_or_after(month, 1)
        if start <= day <= end:
            found.append(Occasion("newsletter", "newsletter-monthly", day, f"Velmora Newsletter {day:%m/%Y}", f"Velmora newsletter {day:%m/%Y}", None))
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return found


def business_time(rng: random.Random, day: date, earliest: int = 7, latest: int = 16) -> datetime:
    """A plausible working-hours moment (UTC) on ``day``, moved off weekends."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(rng.randint(earliest, latest), rng.randint(0, 59), rng.randint(0, 59)))
