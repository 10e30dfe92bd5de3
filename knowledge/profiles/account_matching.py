"""Account matching: contacts to accounts by e-mail domain, accounts of different sources
to each other by domain or by fuzzy company name.

A merged account keeps its row; ``accounts.master_id`` names the surviving account and the
merge is recorded in ``identity_merges`` (reason, score, what was re-pointed) so that it can
be undone. Accounts of the *same* source are never matched: the source knows they differ.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from knowledge.profiles.models import Account, Contact, IdentityMerge, NeverMerge
from knowledge.profiles.person_resolution import executemany, never_pair, normalise_email
from knowledge.profiles.sql import chunks

LEGAL_FORMS = frozenset(
    "gmbh mbh ag kg kgaa se ug ohg gbr ev eg co corp corporation inc incorporated ltd limited llc llp lp "
    "plc sa sas sarl srl spa bv nv oy ab as asa aps pty pvt company".split()
)
"""Tokens that say what legal form a company has, not which company it is."""
_CONNECTORS = frozenset({"and", "und", "&"})
_NON_WORD = re.compile(r"[^0-9a-z&]+")


def normalise_company(name: str | None) -> str:
    """``"ACME Corp."`` and ``"Acme Corporation GmbH"`` both become ``"acme"``."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name.replace("ß", "ss"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("&", " & ")
    tokens = [t for t in _NON_WORD.split(text) if t]
    while tokens and (tokens[-1] in LEGAL_FORMS or tokens[-1] in _CONNECTORS):
        tokens.pop()
    if tokens and tokens[0] == "the":
        tokens = tokens[1:]
    return " ".join(t for t in tokens if t != "&" and t not in LEGAL_FORMS)


def normalise_domain(value: str | None) -> str | None:
    """``"https://www.Acme.com/de"`` becomes ``"acme.com"``."""
    if not value:
        return None
    host = value.strip().lower()
    host = host.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].rsplit("@", 1)[-1]
    host = host.removeprefix("www.").strip(".")
    return host if "." in host else None


def email_domain(email: str | None) -> str | None:
    address = normalise_email(email)
    return address.rsplit("@", 1)[1] if address else None


@dataclass
class AccountRow:
    id: str
    name: str
    domain: str | None
    source: str
    master_id: str | None

    @property
    def norm_name(self) -> str:
        return normalise_company(self.name)


class AccountMatcher:
    def __init__(self, name_threshold: float, free_mail_domains: Iterable[str]) -> None:
        self.name_threshold = name_threshold
        self.free_mail = frozenset(d.lower() for d in free_mail_domains)

    def company_domain(self, value: str | None) -> str | None:
        domain = normalise_domain(value)
        return domain if domain and domain not in self.free_mail else None

    # -- contacts ---------------------------------------------------------------------

    def accounts_for_contacts(self, session: Session, contacts: Iterable[tuple[str, str | None]]) -> int:
        """Give contacts without account the one account (root) that has their e-mail's
        domain, when exactly one has it. Returns how many contacts got one."""
        wanted = {cid: d for cid, email in contacts if (d := self.company_domain(email_domain(email)))}
        if not wanted:
            return 0
        roots: dict[str, set[str]] = defaultdict(set)
        variants = sorted({v for d in wanted.values() for v in (d, f"www.{d}")})
        for chunk in chunks(variants):
            query = select(Account.id, Account.domain, Account.master_id).where(Account.domain.in_(chunk))
            for account_id, domain, master in session.execute(query):
                roots[normalise_domain(domain) or ""].add(master or account_id)
        params = [{"rid": cid, "aid": next(iter(roots[d]))} for cid, d in sorted(wanted.items()) if len(roots.get(d, ())) == 1]
        contacts_table = Contact.__table__
        executemany(session, update(contacts_table).where(contacts_table.c.id == bindparam("rid"))
                    .values(account_id=bindparam("aid")), params)
        return len(params)

    # -- accounts ---------------------------------------------------------------------

    def match_accounts(self, session: Session, ids: list[str], now: datetime) -> list[dict[str, Any]]:
        """Merge each written account that stands alone into a matching account of another
        source: same company domain first, else a company name scoring at least the
        threshold. Returns the merge records written."""
        in_chunks = [Account.id.in_(chunk) for chunk in chunks(ids)]
        written = [row for row in self._load(session, in_chunks) if row.master_id is None]
        if not written:
            return []
        roots = {row.id: row for row in self._load(session, [Account.master_id.is_(None)])}
        never = {never_pair(a, b) for a, b in session.execute(
            select(NeverMerge.left_id, NeverMerge.right_id).where(NeverMerge.entity == "account"))}
        names = {row.id: row.norm_name for row in roots.values() if row.norm_name}
        by_domain: dict[str, list[AccountRow]] = defaultdict(list)
        for root in sorted(roots.values(), key=lambda r: r.id):
            if domain := self.company_domain(root.domain):
                by_domain[domain].append(root)
        merges = []
        for row in sorted(written, key=lambda r: r.id):
            if row.id not in roots:
                continue
            found = self._match(row, roots, names, by_domain, never)
            if found is None:
                continue
            winner, reason, evidence = found
            merges.append(self._merge(session, winner, row, reason, evidence, now))
            roots.pop(row.id)
            names.pop(row.id, None)
            for same in by_domain.values():
                if row in same:
                    same.remove(row)
        if merges:
            session.execute(insert(IdentityMerge), merges)
        return merges

    def _load(self, session: Session, conditions: Iterable[Any]) -> list[AccountRow]:
        rows = []
        for condition in conditions:
            query = select(Account.id, Account.name, Account.domain, Account.source, Account.master_id).where(condition)
            rows.extend(AccountRow(*row) for row in session.execute(query))
        return rows

    def _match(
        self,
        row: AccountRow,
        roots: dict[str, AccountRow],
        names: dict[str, str],
        by_domain: dict[str, list[AccountRow]],
        never: set[tuple[str, str]],
    ) -> tuple[AccountRow, str, dict[str, Any]] | None:
        def allowed(other: AccountRow) -> bool:
            return other.id != row.id and other.source != row.source and never_pair(row.id, other.id) not in never

        domain = self.company_domain(row.domain)
        for other in by_domain.get(domain or "", []):
            if allowed(other):
                return other, "same_domain", {"domain": domain, "score": 100.0}
        name = row.norm_name
        if not name:
            return None
        hits = process.extract(name, names, scorer=fuzz.token_sort_ratio, score_cutoff=self.name_threshold, limit=10)
        for _choice, score, other_id in sorted(hits, key=lambda h: (-h[1], h[2])):
            other = roots[other_id]
            if allowed(other):
                evidence = {"names": [row.name, other.name], "normalised": [name, other.norm_name], "score": round(score, 1)}
                return other, "similar_name", evidence
        return None

    def _merge(
        self, session: Session, winner: AccountRow, loser: AccountRow, reason: str, evidence: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        dependents = list(session.scalars(select(Account.id).where(Account.master_id == loser.id)))
        table = Account.__table__
        executemany(session, update(table).where(table.c.id == bindparam("rid")).values(master_id=bindparam("mid")),
                    [{"rid": rid, "mid": winner.id} for rid in [loser.id, *dependents]])
        return {
            "entity": "account", "winner_id": winner.id, "loser_id": loser.id, "reason": reason,
            "evidence": evidence, "moved": {"dependents": sorted(dependents)}, "created_at": now,
        }


def undo_account_merge(session: Session, merge: IdentityMerge) -> dict[str, Any]:
    """Make the loser stand alone again and give it back the accounts it was master of."""
    table = Account.__table__
    dependents = list(merge.moved.get("dependents", []))
    executemany(session, update(table).where(table.c.id == bindparam("rid")).values(master_id=bindparam("mid")),
                [{"rid": merge.loser_id, "mid": None}, *({"rid": rid, "mid": merge.loser_id} for rid in dependents)])
    return {"accounts": 1 + len(dependents)}
