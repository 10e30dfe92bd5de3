"""Deals and their line items, derived from the account plans so dates and stages agree.

Amounts are first-year values: subscriptions for 12 months, hardware and services once,
at list price minus the deal's discount (volume discounts on the EdgeBox follow the price list).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from assistant.demo.catalog import Catalog
from assistant.demo.journeys import AccountPlan, ContactPlan
from assistant.demo.world import Deal, DealLine

CENT = Decimal("0.01")
SUBSCRIPTIONS = ("per_asset_month", "per_site_month")


class DealBuilder:
    def __init__(self, catalog: Catalog, rng: random.Random, start: date, reference: date) -> None:
        self.catalog = catalog
        self.rng = rng
        self.start = start
        self.reference = reference
        self.deals: list[Deal] = []
        self.lines: list[DealLine] = []

    def build(self, plan: AccountPlan, contacts: list[ContactPlan]) -> None:
        if plan.archetype == "awareness":
            return
        if plan.won:
            assert plan.close_at is not None
            self._deal(plan, contacts, plan.line, "Neukunden", "Gewonnen", plan.consider_at.date(), plan.close_at.date(),
                       with_gateways=plan.case_study == "manufacturing")
            self._maybe_add_on(plan, contacts)
        elif plan.archetype == "lost":
            assert plan.close_at is not None
            self._deal(plan, contacts, plan.line, "Neukunden", "Verloren", plan.consider_at.date(), plan.close_at.date())
        else:
            assert plan.open_stage is not None
            self._deal(plan, contacts, plan.line, "Neukunden", plan.open_stage, plan.consider_at.date(), None)
        if plan.expansion_line and plan.expansion_at and plan.open_stage:
            created = min(plan.expansion_at.date() + timedelta(days=self.rng.randint(3, 12)), self.reference - timedelta(days=1))
            members = [c for c in contacts if c.role == "expansion"] + [c for c in contacts if c.role != "expansion"]
            self._deal(plan, members, plan.expansion_line, "Bestandskunden", plan.open_stage, created, None)

    def _maybe_add_on(self, plan: AccountPlan, contacts: list[ContactPlan]) -> None:
        """A small follow-up order (more tags, Care Plus) some months after the first deal,
        inside the history."""
        assert plan.close_at is not None
        earliest = max(plan.close_at.date() + timedelta(days=60), self.start + timedelta(days=45))
        room = (self.reference - earliest).days
        if room < 40 or self.rng.random() > 0.35:
            return
        closed = earliest + timedelta(days=self.rng.randint(0, room - 20))
        created = closed - timedelta(days=self.rng.randint(10, 35))
        self._deal(plan, contacts, plan.line, "Bestandskunden", "Gewonnen", created, closed, add_on=True)

    def _deal(
        self, plan: AccountPlan, contacts: list[ContactPlan], line: str, pipeline: str, stage_name: str,
        created: date, closed: date | None, add_on: bool = False, with_gateways: bool = False,
    ) -> Deal:
        stage = self.catalog.stage(stage_name)
        closed = _workday(closed) if closed else None
        created = _workday(min(created + timedelta(days=self.rng.randint(0, 6)), closed or self.reference - timedelta(days=3)))
        engaged = min(_workday(created + timedelta(days=self.rng.randint(0, 10))), closed or self.reference)
        present = [c for c in contacts if c.joins_at.date() <= (closed or self.reference)]
        primary = next((c for c in present if c.role in ("expansion", "champion")), present[0] if present else contacts[0])
        deal_id = f"D-{2001 + len(self.deals)}"
        items, title = self._items(deal_id, line, stage_name, add_on, with_gateways)
        deal = Deal(
            deal_id=deal_id, name=f"{_short(plan.account.name)} – {title}", account_id=plan.account.account_id,
            contact_id=primary.contact.contact_id, owner_id=plan.account.owner_id, pipeline=pipeline, stage=stage_name,
            status=stage["status"], probability=int(stage["probability"]), line=line, created_on=created,
            engaged_on=engaged, closed_on=closed,
            amount=sum((item.amount for item in items), Decimal("0")),
        )
        if closed is None:
            deal.expected_close_on = self.reference + timedelta(days=self.rng.randint(10, 100))
        if stage_name == "Verloren":
            deal.lost_reason = plan.lost_reason
        deal.contacts = [
            (c.contact.contact_id, c.contact.buying_role or "Other", c is primary)
            for c in present if c is primary or c.role in ("decider", "expansion") or self.rng.random() < 0.5
        ]
        self.deals.append(deal)
        self.lines.extend(items)
        return deal

    def _items(self, deal_id: str, line: str, stage: str, add_on: bool, with_gateways: bool) -> tuple[list[DealLine], str]:
        rng = self.rng
        discount = Decimal(rng.choice([0, 0, 5, 8, 10, 12, 15] if stage in ("Verhandlung", "Gewonnen") else [0, 0, 5, 10]))
        wanted: list[tuple[str, int, Decimal]] = []
        if line == "trackcloud":
            assets = rng.choice([100, 150, 200, 300]) if add_on else rng.choice([150, 250, 400, 600, 800, 1200, 1800, 2500])
            edition = "TC-ENT" if assets >= 1000 and rng.random() < 0.6 else "TC-BUS"
            wanted += [(edition, max(100, assets), discount), ("TT-1", assets, Decimal(0))]
            title = f"TrackCloud {max(100, assets)} Assets"
        elif line == "edgebox":
            units = rng.randint(3, 12) if add_on else rng.randint(5, 60)
            wanted.append(("VG-210" if rng.random() < 0.3 else "VG-200", units, _volume_discount(units)))
            title = f"EdgeBox {units} Gateways"
        else:
            sites = 1 if add_on else rng.randint(1, 4)
            wanted.append(("IN-PRE" if rng.random() < 0.4 else "IN-STD", sites, discount))
            if not add_on and (rng.random() < 0.6 or with_gateways):
                units = sites * rng.randint(6, 20)
                wanted.append(("VG-200", units, _volume_discount(units)))
            title = f"Insight {sites} Standort{'e' if sites > 1 else ''}"
        if not add_on and rng.random() < 0.7:
            wanted.append(("ONB-PKG", 1, Decimal(0)))
        items = [self._item(deal_id, len(self.lines) + i, sku, qty, disc) for i, (sku, qty, disc) in enumerate(wanted)]
        if rng.random() < (0.2 if add_on else 0.4):
            licence = sum((i.amount for i in items if self.catalog.skus[i.sku].billing in SUBSCRIPTIONS), Decimal(0))
            care = max(Decimal("2400.00"), (licence * Decimal("0.18")).quantize(CENT, ROUND_HALF_UP))
            items.append(DealLine(f"DL-{len(self.lines) + len(items) + 1:05d}", deal_id, "CARE-PLUS", self.catalog.skus["CARE-PLUS"].name, 1, care, Decimal(0), care))
        return items, ("Erweiterung " if add_on else "") + title

    def _item(self, deal_id: str, index: int, sku_id: str, quantity: int, discount: Decimal) -> DealLine:
        sku = self.catalog.skus[sku_id]
        unit = sku.price
        if sku_id == "TT-1" and quantity >= 1000:
            unit = Decimal("34.00")
        months = 12 if sku.billing in SUBSCRIPTIONS else 1
        gross = unit * quantity * months
        amount = (gross * (Decimal(100) - discount) / Decimal(100)).quantize(CENT, ROUND_HALF_UP)
        return DealLine(f"DL-{index + 1:05d}", deal_id, sku_id, sku.name, quantity, unit, discount, amount)


def _workday(day: date) -> date:
    """Reps open and close deals on working days."""
    return day + timedelta(days=max(0, 7 - day.weekday())) if day.weekday() >= 5 else day


def _volume_discount(units: int) -> Decimal:
    return Decimal(15 if units >= 200 else 10 if units >= 50 else 5 if units >= 10 else 0)


def _short(name: str) -> str:
    for legal in (" GmbH & Co. KG", " GmbH", " AG", " SE", " B.V.", " Sp. z o.o.", " s.r.o.", " Ltd", " Inc.", " LLC", " AB"):
        if name.endswith(legal):
            return name[: -len(legal)]
    return name
