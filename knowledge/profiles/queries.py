"""Read side of the profile store: account lists and account profiles for reps and the CLI.

Accounts merged into another one by identity resolution (``master_id`` set) are shown as
part of their master: its profile lists their contacts, deals and touchpoints too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rapidfuzz import fuzz, process, utils
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from knowledge.db import Database
from knowledge.profiles.models import Account, Contact, Deal, DealProduct, Owner, Touchpoint
from knowledge.profiles.sql import chunks, follow_chain

FUZZY_MIN_SCORE = 80.0


class AccountNotFound(LookupError):
    """No account matches; ``candidates`` are the closest names, if any."""

    def __init__(self, query: str, candidates: list[str]) -> None:
        hint = f"; did you mean {', '.join(repr(c) for c in candidates)}?" if candidates else ""
        super().__init__(f"no account matches {query!r}{hint}")
        self.candidates = candidates


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _row(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


ACCOUNT_FIELDS = ("id", "name", "domain", "industry", "employees", "annual_revenue", "country", "city",
                  "founded_year", "parent_name", "customer_status", "source", "source_id", "master_id")
CONTACT_FIELDS = ("id", "person_id", "full_name", "first_name", "last_name", "email", "phone", "job_title",
                  "department", "buying_role", "lifecycle_stage", "first_touch_channel", "source")
DEAL_FIELDS = ("id", "name", "pipeline", "stage", "status", "amount", "currency", "created_on", "engaged_on",
               "closed_on", "source")
TOUCHPOINT_FIELDS = ("id", "occurred_at", "type", "channel", "kind", "world", "title", "campaign", "content_uri",
                     "contact_id", "person_id", "source")


def _one_per_person(contacts: Sequence[Contact]) -> list[dict[str, Any]]:
    """One row per person: the record that knows most about them (usually the CRM's), with
    gaps filled from the person's other records and every record id listed."""
    by_person: dict[str, list[Contact]] = defaultdict(list)
    for contact in contacts:
        by_person[contact.person_id or contact.id].append(contact)
    rows = []
    for records in by_person.values():
        records.sort(key=lambda c: -sum(getattr(c, f) is not None for f in CONTACT_FIELDS))
        row = _row(records[0], CONTACT_FIELDS)
        for other in records[1:]:
            for field in CONTACT_FIELDS:
                if row[field] is None:
                    row[field] = _plain(getattr(other, field))
        row["records"] = [c.id for c in records]
        rows.append(row)
    return rows


@dataclass(frozen=True)
class AccountSummary:
    id: str
    name: str
    industry: str | None
    country: str | None
    owner: str | None
    contacts: int
    open_deals: int
    open_amount: float
    won_deals: int
    won_amount: float
    last_touchpoint_at: datetime | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {key: _plain(value) for key, value in self.__dict__.items()}


class ProfileQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    def accounts(self, search: str | None = None, source: str | None = None, limit: int | None = None) -> list[AccountSummary]:
        """Accounts (masters only) with their contact and deal figures, largest open pipeline first."""
        with self._db.session() as session:
            query = select(Account).where(Account.master_id.is_(None))
            if source:
                query = query.where(Account.source == source)
            if search:
                query = query.where(func.lower(Account.name).contains(search.lower()))
            accounts = list(session.scalars(query))
            groups = self._groups(session, [a.id for a in accounts])
            members = [member for ids in groups.values() for member in ids]
            contacts = self._count_by_account(session, Contact, members)
            deals = self._deal_figures(session, members)
            last_seen = self._last_touchpoints(session, members)
            owners = self._owner_names(session, {a.owner_id for a in accounts if a.owner_id})
        summaries = []
        for account in accounts:
            ids = groups[account.id]
            figures = [deals.get(i, (0, 0.0, 0, 0.0)) for i in ids]
            seen = [last_seen[i] for i in ids if i in last_seen]
            summaries.append(AccountSummary(
                id=account.id, name=account.name, industry=account.industry, country=account.country,
                owner=owners.get(account.owner_id or ""), contacts=sum(contacts.get(i, 0) for i in ids),
                open_deals=sum(f[0] for f in figures), open_amount=sum(f[1] for f in figures),
                won_deals=sum(f[2] for f in figures), won_amount=sum(f[3] for f in figures),
                last_touchpoint_at=max(seen) if seen else None, source=account.source,
            ))
        summaries.sort(key=lambda s: (-s.open_amount, -s.won_amount, s.name.lower()))
        return summaries[:limit] if limit else summaries

    def find_account(self, name_or_id: str) -> str:
        """The id of the account meant by an id, a source id, an exact or a close-enough name."""
        needle = name_or_id.strip()
        with self._db.session() as session:
            if session.get(Account, needle) is not None:
                return self._master(session, needle)
            exact = session.scalars(
                select(Account.id).where(or_(func.lower(Account.name) == needle.lower(), Account.source_id == needle))
            ).all()
            if exact:
                masters = sorted({self._master(session, i) for i in exact})
                if len(masters) == 1:
                    return masters[0]
                raise AccountNotFound(needle, masters)
            names = dict(session.execute(select(Account.id, Account.name)).tuples().all())
        matches = process.extract(needle, names, scorer=fuzz.WRatio, processor=utils.default_process, limit=3)
        good = [m for m in matches if m[1] >= FUZZY_MIN_SCORE]
        if good and (len(good) == 1 or good[0][1] - good[1][1] >= 5):
            with self._db.session() as session:
                return self._master(session, good[0][2])
        raise AccountNotFound(needle, [m[0] for m in matches if m[1] >= 60])

    def account_profile(self, account_id: str, touchpoints: int = 20) -> dict[str, Any]:
        """Profile, contacts, open and closed deals (with products and owners) and the latest touchpoints."""
        with self._db.session() as session:
            account = session.get(Account, account_id)
            if account is None:
                raise AccountNotFound(account_id, [])
            ids = self._groups(session, [account.id])[account.id]
            contacts = session.scalars(select(Contact).where(Contact.account_id.in_(ids)).order_by(Contact.full_name, Contact.last_name)).all()
            deals = session.scalars(select(Deal).where(Deal.account_id.in_(ids))).all()
            products = self._deal_products(session, [d.id for d in deals])
            owner_ids = {d.owner_id for d in deals if d.owner_id} | ({account.owner_id} if account.owner_id else set())
            owners = self._owner_names(session, owner_ids)
            contact_ids = [c.id for c in contacts]
            latest = session.scalars(
                select(Touchpoint)
                .where(or_(Touchpoint.account_id.in_(ids), Touchpoint.contact_id.in_(contact_ids or [""])))
                .order_by(Touchpoint.occurred_at.desc())
                .limit(touchpoints)
            ).all()
            merged = session.scalars(select(Account).where(Account.master_id == account.id)).all()

        def deal_dict(deal: Deal) -> dict[str, Any]:
            return _row(deal, DEAL_FIELDS) | {"owner": owners.get(deal.owner_id or ""), "products": products.get(deal.id, [])}

        open_deals = sorted((d for d in deals if d.status == "open"), key=lambda d: -(d.amount or 0))
        closed = sorted((d for d in deals if d.status != "open"), key=lambda d: d.closed_on or date.min, reverse=True)
        return {
            "account": _row(account, ACCOUNT_FIELDS) | {"owner": owners.get(account.owner_id or ""), "attributes": account.attributes},
            "merged_accounts": [_row(m, ACCOUNT_FIELDS) for m in merged],
            "contacts": _one_per_person(contacts),
            "open_deals": [deal_dict(d) for d in open_deals],
            "closed_deals": [deal_dict(d) for d in closed],
            "totals": {
                "open": len(open_deals),
                "open_amount": float(sum(d.amount or 0 for d in open_deals)),
                "won": sum(1 for d in closed if d.status == "won"),
                "won_amount": float(sum(d.amount or 0 for d in closed if d.status == "won")),
                "lost": sum(1 for d in closed if d.status == "lost"),
            },
            "latest_touchpoints": [_row(t, TOUCHPOINT_FIELDS) for t in latest],
        }

    @staticmethod
    def _master(session: Session, account_id: str) -> str:
        return follow_chain(session, Account.id, Account.master_id, account_id)

    @staticmethod
    def _groups(session: Session, masters: list[str]) -> dict[str, list[str]]:
        """Each master account with the accounts merged into it."""
        groups: dict[str, list[str]] = {m: [m] for m in masters}
        merged = session.execute(select(Account.id, Account.master_id).where(Account.master_id.is_not(None))).tuples()
        for member, master in merged:
            if master in groups:
                groups[master].append(member)
        return groups

    @staticmethod
    def _count_by_account(session: Session, model: type[Contact], ids: list[str]) -> dict[str, int]:
        """People per account: a person known from the CRM and from web events counts once."""
        person = func.coalesce(model.person_id, model.id)
        rows = session.execute(
            select(model.account_id, func.count(person.distinct())).where(model.account_id.in_(ids or [""])).group_by(model.account_id)
        )
        return {account: count for account, count in rows.tuples()}

    @staticmethod
    def _deal_figures(session: Session, ids: list[str]) -> dict[str, tuple[int, float, int, float]]:
        is_open = case((Deal.status == "open", 1), else_=0)
        is_won = case((Deal.status == "won", 1), else_=0)
        rows = session.execute(
            select(
                Deal.account_id,
                func.sum(is_open),
                func.sum(case((Deal.status == "open", func.coalesce(Deal.amount, 0)), else_=0)),
                func.sum(is_won),
                func.sum(case((Deal.status == "won", func.coalesce(Deal.amount, 0)), else_=0)),
            ).where(Deal.account_id.in_(ids or [""])).group_by(Deal.account_id)
        )
        return {a: (int(o or 0), float(oa or 0), int(w or 0), float(wa or 0)) for a, o, oa, w, wa in rows.tuples()}

    @staticmethod
    def _last_touchpoints(session: Session, ids: list[str]) -> dict[str, datetime]:
        rows = session.execute(
            select(Touchpoint.account_id, func.max(Touchpoint.occurred_at)).where(Touchpoint.account_id.in_(ids or [""])).group_by(Touchpoint.account_id)
        )
        found: dict[str, datetime] = {}
        for account, when in rows.tuples():
            if when is not None:
                found[account] = when if isinstance(when, datetime) else datetime.fromisoformat(str(when))
        return found

    @staticmethod
    def _owner_names(session: Session, ids: set[str]) -> dict[str, str]:
        if not ids:
            return {}
        return dict(session.execute(select(Owner.id, Owner.name).where(Owner.id.in_(ids))).tuples().all())

    @staticmethod
    def _deal_products(session: Session, deal_ids: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = defaultdict(list)
        for chunk in chunks(deal_ids):
            rows = session.execute(
                select(DealProduct.deal_id, DealProduct.product_name, DealProduct.product_id).where(DealProduct.deal_id.in_(chunk))
            )
            for deal_id, name, product_id in rows.tuples():
                found[deal_id].append(name or (product_id or "").rsplit(":", 1)[-1])
        return found
