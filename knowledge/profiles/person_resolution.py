"""Person resolution for one write batch, inside its transaction, with set-based queries.

Identifiers are ``(kind, value)`` pairs: ``record`` (a contact's record id), ``email``,
``user_id`` and ``anonymous_id``. Each belongs to at most one person (``identity_links``).
``PersonResolution`` loads the owners of every identifier a batch mentions in a few ``IN``
queries, decides in memory (new persons, new links, merges) and writes the outcome in bulk
in ``flush``. Links always point at a *root* person (one that is not merged into another);
``merged_into`` keeps the chain so a merge can be undone exactly.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from knowledge.profiles.models import (
    Consent,
    Contact,
    Conversation,
    IdentityLink,
    IdentityMerge,
    NeverMerge,
    Person,
    Touchpoint,
)
from knowledge.profiles.sql import chunks

Identifier = tuple[str, str]
LINKS = IdentityLink.__table__
PERSON_TABLES: tuple[type[Any], ...] = (Contact, Touchpoint, Consent, Conversation)
"""Tables whose rows carry a derived ``person_id``."""
BASIS_PREFERENCE = ("email", "record", "user_id", "anonymous_id")
"""Which identifier a new person's id is derived from: the e-mail first, so that the same
person gets the same id whatever order its records arrive in."""
MERGE_REASONS = {"email": "same_email", "record": "same_record", "user_id": "identify", "anonymous_id": "identify"}


def normalise_email(value: Any) -> str | None:
    """Lower-cased, trimmed; ``None`` for anything that is not an address."""
    if not isinstance(value, str):
        return None
    email = value.strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or " " in email:
        return None
    return email


def person_id_for(identifier: Identifier) -> str:
    """Deterministic: re-running an import yields the same person ids."""
    kind, value = identifier
    return "person:" + hashlib.sha1(f"{kind}:{value}".encode()).hexdigest()[:16]


def never_pair(left: str, right: str) -> tuple[str, str]:
    return (left, right) if left <= right else (right, left)


@dataclass
class PersonInfo:
    id: str
    created_at: datetime
    merged_into: str | None
    email: str | None
    display_name: str | None
    is_new: bool = False
    order: int = 0

    @property
    def age_key(self) -> tuple[datetime, int, str]:
        return (self.created_at, self.order, self.id)


@dataclass
class PendingMerge:
    winner: str
    loser: str
    reason: str
    evidence: dict[str, Any]
    filled: dict[str, str] = field(default_factory=dict)


def load_links(session: Session, identifiers: Iterable[Identifier]) -> dict[Identifier, str]:
    """The owner of each identifier that has one (one ``IN`` query per kind and chunk)."""
    by_kind: dict[str, set[str]] = defaultdict(set)
    for kind, value in identifiers:
        by_kind[kind].add(value)
    owners: dict[Identifier, str] = {}
    for kind, values in by_kind.items():
        for chunk in chunks(sorted(values)):
            query = select(LINKS.c.value, LINKS.c.person_id).where(LINKS.c.kind == kind, LINKS.c.value.in_(chunk))
            owners.update(((kind, value), person) for value, person in session.connection().execute(query))
    return owners


def row_identifiers(contact_id: str | None, email: Any, anonymous_id: str | None) -> list[Identifier]:
    """An activity row's identifiers in the order that decides its person."""
    found: list[Identifier] = []
    if contact_id:
        found.append(("record", contact_id))
    address = normalise_email(email)
    if address:
        found.append(("email", address))
    if anonymous_id:
        found.append(("anonymous_id", anonymous_id))
    return found


class PersonResolution:
    """The persons of one batch: load, decide in memory, ``flush`` in bulk."""

    def __init__(self, session: Session, source: str, now: datetime) -> None:
        self.session = session
        self.source = source
        self.now = now
        self.owners: dict[Identifier, str] = {}
        self.new_links: dict[Identifier, str] = {}
        self.persons: dict[str, PersonInfo] = {}
        self.redirect: dict[str, str] = {}
        self.merges: list[PendingMerge] = []
        self.assignments: dict[type[Any], dict[str, tuple[str | None, str]]] = defaultdict(dict)
        self.fills: dict[str, dict[str, str]] = defaultdict(dict)
        self._never: set[tuple[str, str]] | None = None
        self._created = 0

    # -- loading ----------------------------------------------------------------------

    def load(self, identifiers: Iterable[Identifier]) -> None:
        """Load owners of the identifiers, and persons an unowned one would create."""
        wanted = {i for i in identifiers if i not in self.owners}
        if not wanted:
            return
        found = load_links(self.session, wanted)
        self.owners.update(found)
        # A person without links (its contact was deleted) is reused when its basis comes
        # back. Anonymous ids never lose their link, so their persons need not be looked up:
        # that keeps a batch of first-time visitors at one query.
        candidates = {person_id_for(i) for i in wanted if i not in found and i[0] != "anonymous_id"}
        self._load_persons(set(found.values()) | candidates)

    def _load_persons(self, ids: set[str]) -> None:
        pending = sorted(ids - self.persons.keys())
        while pending:
            chained: set[str] = set()
            persons = Person.__table__
            for chunk in chunks(pending):
                query = select(persons.c.id, persons.c.created_at, persons.c.merged_into, persons.c.email, persons.c.display_name)
                for row in self.session.connection().execute(query.where(persons.c.id.in_(chunk))):
                    self.persons[row.id] = PersonInfo(row.id, row.created_at, row.merged_into, row.email, row.display_name)
                    if row.merged_into:
                        chained.add(row.merged_into)
            pending = sorted(chained - self.persons.keys())

    def root(self, person: str) -> str:
        info = self.persons.get(person)
        if person not in self.redirect and (info is None or info.merged_into is None):
            return person  # the common case, kept cheap: most persons stand alone
        seen = set()
        while person not in seen:
            seen.add(person)
            nxt = self.redirect.get(person)
            if nxt is None:
                info = self.persons.get(person)
                nxt = info.merged_into if info is not None else None
            if nxt is None:
                return person
            person = nxt
        return person

    # -- deciding ---------------------------------------------------------------------

    def resolve(
        self, identifiers: Sequence[Identifier], *, allow_merge: bool, evidence: dict[str, Any],
        name: str | None = None,
    ) -> str:
        """The person of a record whose identifiers come in priority order: the owner of the
        first owned identifier; unowned identifiers are linked to it; with ``allow_merge``,
        other persons owning an identifier are merged with it (never-merge pairs excepted)."""
        owned = [(i, self.root(self.owners[i])) for i in identifiers if i in self.owners]
        person = owned[0][1] if owned else self._create(identifiers, name)
        for identifier, other in owned[1:]:
            person, other = self.root(person), self.root(other)
            if allow_merge and other != person and not self._forbidden(person, other):
                person = self._merge(person, other, identifier, evidence)
        person = self.root(person)
        for identifier in identifiers:
            if identifier not in self.owners:
                self.owners[identifier] = self.new_links[identifier] = person
        self._fill(person, identifiers, name)
        return person

    def attach(self, model: type[Any], row_id: str, current: str | None, identifiers: Sequence[Identifier]) -> None:
        """An activity row (touchpoint, consent, conversation): the owner of its first owned
        identifier, else a new person; identifiers nobody holds are linked, none merges.
        ``resolve`` without merging, written for speed: it runs for every event."""
        owners = self.owners
        person = None
        for identifier in identifiers:
            person = owners.get(identifier)
            if person is not None:
                break
        person = self.root(person) if person is not None else self._create(identifiers, None)
        for identifier in identifiers:
            if identifier not in owners:
                owners[identifier] = self.new_links[identifier] = person
        self.assignments[model][row_id] = (current, person)

    def _create(self, identifiers: Sequence[Identifier], name: str | None) -> str:
        basis = min(identifiers, key=lambda i: BASIS_PREFERENCE.index(i[0]))
        person = person_id_for(basis)
        if person in self.persons:  # created before and left without links: reuse it
            return self.root(person)
        self._created += 1
        email = next((v for k, v in identifiers if k == "email"), None)
        self.persons[person] = PersonInfo(person, self.now, None, email, name, is_new=True, order=self._created)
        return person

    def _fill(self, person: str, identifiers: Sequence[Identifier], name: str | None) -> None:
        info = self.persons.get(person)
        if info is None:
            return
        email = next((v for k, v in identifiers if k == "email"), None)
        if info.email is None and email:
            info.email = self.fills[person]["email"] = email
        if info.display_name is None and name:
            info.display_name = self.fills[person]["display_name"] = name

    def _forbidden(self, left: str, right: str) -> bool:
        if self._never is None:
            query = select(NeverMerge.left_id, NeverMerge.right_id).where(NeverMerge.entity == "person")
            self._never = {never_pair(a, b) for a, b in self.session.execute(query)}
            self._load_persons({p for pair in self._never for p in pair})
        pair = never_pair(left, right)
        return any(never_pair(self.root(a), self.root(b)) == pair for a, b in self._never)

    def _merge(self, one: str, other: str, identifier: Identifier, evidence: dict[str, Any]) -> str:
        winner, loser = sorted((self.persons[one], self.persons[other]), key=lambda p: p.age_key)
        filled = {}
        for name in ("email", "display_name"):
            if getattr(winner, name) is None and getattr(loser, name) is not None:
                filled[name] = getattr(loser, name)
                setattr(winner, name, filled[name])
                self.fills[winner.id][name] = filled[name]
        self.redirect[loser.id] = winner.id
        loser.merged_into = winner.id
        detail = {**evidence, "identifier": {"kind": identifier[0], "value": identifier[1]}}
        self.merges.append(PendingMerge(winner.id, loser.id, MERGE_REASONS[identifier[0]], detail, filled))
        return winner.id

    def assign(self, model: type[Any], row_id: str, current: str | None, person: str) -> None:
        self.assignments[model][row_id] = (current, person)

    # -- writing ----------------------------------------------------------------------

    def flush(self) -> None:
        new = [p for p in self.persons.values() if p.is_new]
        executemany(self.session, self._insert_new(Person.__table__), [
            {"id": p.id, "display_name": p.display_name, "email": p.email, "merged_into": p.merged_into,
             "created_at": p.created_at, "updated_at": self.now} for p in new
        ])
        if self.merges:
            self._write_merges()
        executemany(self.session, insert(IdentityLink.__table__), [
            {"person_id": self.root(person), "kind": kind, "value": value, "source": self.source, "created_at": self.now}
            for (kind, value), person in self.new_links.items()
        ])
        self._write_fills()
        self._write_assignments()

    def _insert_new(self, table: Any) -> Any:
        """INSERT that skips rows whose key exists (a person left behind by a deletion)."""
        dialect = self.session.get_bind().dialect.name
        if dialect in {"sqlite", "postgresql"}:
            module = sqlite if dialect == "sqlite" else postgresql
            return module.insert(table).on_conflict_do_nothing(index_elements=["id"])
        return insert(table)

    def _write_merges(self) -> None:
        stored_losers = [m.loser for m in self.merges if not self.persons[m.loser].is_new]
        held: dict[str, list[Identifier]] = defaultdict(list)
        for chunk in chunks(stored_losers):
            query = select(IdentityLink.person_id, IdentityLink.kind, IdentityLink.value)
            for person, kind, value in self.session.execute(query.where(IdentityLink.person_id.in_(chunk))):
                held[person].append((kind, value))
        for identifier, first_owner in self.new_links.items():
            held[first_owner].append(identifier)
        moved_rows = self._count_rows(stored_losers)
        records = []
        for merge in self.merges:  # in order: a loser takes along what it absorbed earlier
            links = sorted(held.pop(merge.loser, []))
            held[merge.winner].extend(links)
            records.append({
                "entity": "person", "winner_id": merge.winner, "loser_id": merge.loser, "reason": merge.reason,
                "evidence": merge.evidence, "created_at": self.now,
                "moved": {"links": [list(link) for link in links], "rows": moved_rows.get(merge.loser, {}),
                          "filled": merge.filled},
            })
        if stored_losers:
            params = [{"loser": loser, "root": self.root(loser)} for loser in stored_losers]
            for model in (IdentityLink, *PERSON_TABLES):
                table = model.__table__
                executemany(self.session, update(table).where(table.c.person_id == bindparam("loser"))
                            .values(person_id=bindparam("root")), params)
            persons = Person.__table__
            executemany(self.session, update(persons).where(persons.c.id == bindparam("loser"))
                        .values(merged_into=bindparam("winner"), updated_at=self.now),
                        [{"loser": m.loser, "winner": m.winner} for m in self.merges if not self.persons[m.loser].is_new])
        self.session.execute(insert(IdentityMerge), records)

    def _count_rows(self, persons: list[str]) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = defaultdict(dict)
        for model in PERSON_TABLES:
            for chunk in chunks(persons):
                query = select(model.person_id, func.count()).where(model.person_id.in_(chunk)).group_by(model.person_id)
                for person, count in self.session.execute(query):
                    counts[person][model.__tablename__] = count
        return counts

    def _write_fills(self) -> None:
        stored = {p: f for p, f in self.fills.items() if p in self.persons and not self.persons[p].is_new}
        for fields in ({"email"}, {"display_name"}, {"email", "display_name"}):
            params = [{"pid": p, **{f"v_{k}": v for k, v in f.items()}} for p, f in stored.items() if set(f) == fields]
            values = {name: bindparam(f"v_{name}") for name in sorted(fields)}
            persons = Person.__table__
            executemany(self.session, update(persons).where(persons.c.id == bindparam("pid"))
                        .values(**values, updated_at=self.now), params)

    def _write_assignments(self) -> None:
        for model, rows in self.assignments.items():
            params = []
            for row_id, (current, person) in rows.items():
                person = self.root(person)
                if person != current:
                    params.append({"rid": row_id, "pid": person})
            set_person_ids(self.session, model, params)


def rederive_rows(session: Session, person: str) -> dict[str, int]:
    """Give every row that points at ``person`` the person its own identifiers now say
    (after an unmerge moved links back). Returns how many rows changed per table."""
    changed: dict[str, int] = {}
    for model in PERSON_TABLES:
        rows = session.execute(select(*_identifier_columns(model)).where(model.person_id == person)).all()
        identifiers = {i for row in rows for i in _identifiers_of(model, row)}
        owners = load_links(session, identifiers)
        params = []
        for row in rows:
            owned = [owners[i] for i in _identifiers_of(model, row) if i in owners]
            if owned and owned[0] != person:
                params.append({"rid": row.id, "pid": owned[0]})
        set_person_ids(session, model, params)
        changed[model.__tablename__] = len(params)
    return changed


def _identifier_columns(model: type[Any]) -> list[Any]:
    names = ["id", "contact_id", "email", "anonymous_id"]
    return [getattr(model, name) for name in names if hasattr(model, name)]


def _identifiers_of(model: type[Any], row: Any) -> list[Identifier]:
    if model is Contact:
        return [("record", row.id)]
    return row_identifiers(row.contact_id, getattr(row, "email", None), row.anonymous_id)


def executemany(session: Session, statement: Any, params: list[dict[str, Any]]) -> None:
    """One Core statement, many parameter sets (no ORM bookkeeping, no per-row round trip)."""
    if params:
        session.connection().execute(statement, params)


def set_person_ids(session: Session, model: type[Any], params: list[dict[str, Any]]) -> None:
    """``params`` are ``{"rid": row id, "pid": person id}``."""
    table = model.__table__
    executemany(session, update(table).where(table.c.id == bindparam("rid")).values(person_id=bindparam("pid")), params)
