"""Identity resolution: one person behind CRM contacts, anonymous visitors and chat users;
one account behind the same company in several sources. Deterministic and reversible.

``IdentityResolver`` is the ``IdentityHook`` of ``ProfileStore``: after every write batch it
runs inside the write transaction, with set-based queries (no query per row), and

- gives each contact a person (``person:<hash>`` of its e-mail, else of its record id, so a
  re-import yields the same ids) with links for its record id, e-mail, and (events
  ``identify``) user id and anonymous ids. A contact whose identifier another person
  already holds joins that person; when its identifiers belong to *two* persons they are
  merged (the older one wins; reason ``same_email`` or ``identify``). Phone numbers are
  not identifiers: a company's switchboard number is shared by everyone who works there;
- gives touchpoints, consents and conversations the person of their contact id, else their
  e-mail, else their anonymous id (an unknown anonymous id gets an anonymous person); these
  rows link identifiers nobody holds yet but never cause a merge;
- merges a written account into an account of another source with the same company domain
  or a similar company name (rapidfuzz ``token_sort_ratio`` on names without legal forms);
- gives a contact without account the one account that has its e-mail domain (never a
  free-mail domain).

Every merge is an ``identity_merges`` row with reason, evidence and what it moved;
``unmerge`` undoes it exactly (rows get back the person their own identifiers say) and adds
a never-merge pair so that it does not happen again.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Protocol

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from knowledge.db import Database
from knowledge.models import utcnow
from knowledge.profiles.account_matching import AccountMatcher, undo_account_merge
from knowledge.profiles.models import (
    Account,
    Consent,
    Contact,
    Conversation,
    IdentityLink,
    IdentityMerge,
    NeverMerge,
    Person,
    Touchpoint,
)
from knowledge.profiles.person_resolution import (
    Identifier,
    PersonResolution,
    executemany,
    never_pair,
    normalise_email,
    rederive_rows,
    row_identifiers,
)
from knowledge.profiles.sql import chunks, follow_chain

ACTIVITY_MODELS: dict[str, type[Any]] = {"touchpoint": Touchpoint, "consent": Consent, "conversation": Conversation}
ENTITIES = ("person", "account")


class IdentityOptions(Protocol):
    """What the resolver needs from the settings (``Settings.identity``)."""

    account_name_threshold: float
    free_mail_domains: list[str]


class IdentityError(ValueError):
    """A merge that does not exist or cannot be undone, an unknown entity."""


def contact_identifiers(row: Any) -> list[Identifier]:
    """A contact's identifiers in priority order: record id, e-mail, user id, anonymous ids."""
    found: list[Identifier] = [("record", row.id)]
    if email := normalise_email(row.email):
        found.append(("email", email))
    attributes = row.attributes or {}
    if isinstance(attributes.get("user_id"), (str, int)) and str(attributes["user_id"]).strip():
        found.append(("user_id", str(attributes["user_id"]).strip()))
    anonymous = attributes.get("anonymous_ids") or []
    if isinstance(attributes.get("anonymous_id"), str):
        anonymous = [*anonymous, attributes["anonymous_id"]]
    found.extend(("anonymous_id", value) for value in dict.fromkeys(anonymous) if isinstance(value, str) and value)
    return found


def contact_name(row: Any) -> str | None:
    if row.full_name:
        return str(row.full_name)
    name = " ".join(part for part in (row.first_name, row.last_name) if part)
    return name or None


class IdentityResolver:
    def __init__(self, db: Database, options: IdentityOptions) -> None:
        self._db = db
        self.accounts = AccountMatcher(options.account_name_threshold, options.free_mail_domains)

    # -- the store hook ---------------------------------------------------------------

    def after_write(self, session: Session, source: str, written: dict[str, list[str]]) -> None:
        now = utcnow()
        if written.get("account"):
            self.accounts.match_accounts(session, written["account"], now)
        contacts = [(row, contact_identifiers(row)) for row in self._rows(
            session, Contact, written.get("contact", []), "email", "attributes", "full_name", "first_name", "last_name",
            "account_id")]
        activity = {model: [(row, row_identifiers(row.contact_id, getattr(row, "email", None), row.anonymous_id))
                            for row in self._rows(session, model, ids, "contact_id", "email", "anonymous_id")]
                    for entity, model in ACTIVITY_MODELS.items() if (ids := written.get(entity))}
        if not contacts and not activity:
            return
        resolution = PersonResolution(session, source, now)
        resolution.load(i for _, ids in [*contacts, *(pair for rows in activity.values() for pair in rows)] for i in ids)
        for row, identifiers in sorted(contacts, key=lambda pair: pair[0].id):  # merges in a stable order
            evidence = {"record": row.id, "entity": "contact", "source": source}
            person = resolution.resolve(identifiers, allow_merge=True, evidence=evidence, name=contact_name(row))
            resolution.assign(Contact, row.id, row.person_id, person)
        for model, rows in activity.items():
            for row, identifiers in rows:
                if identifiers:
                    resolution.attach(model, row.id, row.person_id, identifiers)
        resolution.flush()
        self.accounts.accounts_for_contacts(session, ((row.id, row.email) for row, _ in contacts if not row.account_id))

    def before_delete(self, session: Session, entity: str, ids: list[str]) -> None:
        if entity == "contact":
            for chunk in chunks(ids):
                session.execute(delete(IdentityLink).where(IdentityLink.kind == "record", IdentityLink.value.in_(chunk)))
        elif entity == "account":
            table = Account.__table__
            for chunk in chunks(ids):
                session.execute(update(table).where(table.c.master_id.in_(chunk)).values(master_id=None))

    @staticmethod
    def _rows(session: Session, model: type[Any], ids: list[str], *columns: str) -> list[Any]:
        """The written rows with the columns resolution reads (those the table has)."""
        table = model.__table__
        wanted = [table.c.id, table.c.person_id, *(table.c[name] for name in columns if name in table.c)]
        rows: list[Any] = []
        for chunk in chunks(ids):
            rows.extend(session.connection().execute(select(*wanted).where(table.c.id.in_(chunk))))
        return rows

    def resolve_existing(self, batch: int = 5000) -> dict[str, int]:
        """Resolve records stored before this resolver was wired in, per source and in
        batches, as if they had just been written. Idempotent. Returns rows seen per entity."""
        seen: dict[str, int] = {}
        for entity, model in (("account", Account), ("contact", Contact), *ACTIVITY_MODELS.items()):
            with self._db.session() as session:
                by_source: dict[str, list[str]] = defaultdict(list)
                for row_id, source in session.execute(select(model.id, model.source).order_by(model.id)):
                    by_source[source].append(row_id)
            for source, ids in sorted(by_source.items()):
                for start in range(0, len(ids), batch):
                    with self._db.session() as session:
                        self.after_write(session, source, {entity: ids[start : start + batch]})
            seen[entity] = sum(len(ids) for ids in by_source.values())
        return seen

    # -- looking and undoing ----------------------------------------------------------

    def person_for(self, kind: str, value: str) -> str | None:
        """The person (after merges) an identifier belongs to, e.g. ``("email", "Jane@Acme.com")``."""
        value = (normalise_email(value) or value.strip().lower()) if kind == "email" else value
        with self._db.session() as session:
            person = session.scalar(select(IdentityLink.person_id).where(IdentityLink.kind == kind, IdentityLink.value == value))
            return _root(session, person) if person else None

    def merges(self, entity: str | None = None) -> list[dict[str, Any]]:
        """Every merge, newest first, with reason, evidence, what moved, and whether undone."""
        with self._db.session() as session:
            query = select(IdentityMerge).order_by(IdentityMerge.id.desc())
            if entity is not None:
                query = query.where(IdentityMerge.entity == _entity(entity))
            return [_merge_dict(merge) for merge in session.scalars(query)]

    def unmerge(self, merge_id: int) -> dict[str, Any]:
        """Undo one merge exactly and remember never to repeat it. Returns what changed."""
        with self._db.session() as session:
            merge = session.get(IdentityMerge, merge_id)
            if merge is None:
                raise IdentityError(f"no merge with id {merge_id}")
            if merge.reverted_at is not None:
                raise IdentityError(f"merge {merge_id} was already undone at {merge.reverted_at.isoformat()}")
            if merge.entity == "person":
                changed = self._undo_person_merge(session, merge)
            else:
                changed = undo_account_merge(session, merge)
            merge.reverted_at = utcnow()
            _add_never(session, merge.entity, merge.winner_id, merge.loser_id, f"merge {merge_id} undone")
            return {"merge": _merge_dict(merge), "changed": changed}

    def never_merge(self, entity: str, a: str, b: str, reason: str | None = None) -> None:
        """Never merge these two persons (or accounts). An existing merge is not undone:
        see ``merges`` and ``unmerge`` for that."""
        if a == b:
            raise IdentityError("a never-merge pair needs two different ids")
        with self._db.session() as session:
            _add_never(session, _entity(entity), a, b, reason)

    @staticmethod
    def _undo_person_merge(session: Session, merge: IdentityMerge) -> dict[str, Any]:
        holder = _root(session, merge.winner_id)
        links = [{"k": kind, "v": value, "pid": merge.loser_id} for kind, value in merge.moved.get("links", [])]
        table = IdentityLink.__table__
        executemany(session, update(table).where(table.c.kind == bindparam("k"), table.c.value == bindparam("v"))
                    .values(person_id=bindparam("pid")), links)
        session.execute(update(Person).where(Person.id == merge.loser_id).values(merged_into=None, updated_at=utcnow()))
        filled = merge.moved.get("filled") or {}
        winner = session.get(Person, merge.winner_id)
        for name, value in filled.items():
            if winner is not None and getattr(winner, name) == value:
                setattr(winner, name, None)
        session.flush()
        return {"links": len(links), "rows": rederive_rows(session, holder)}


def _entity(entity: str) -> str:
    if entity not in ENTITIES:
        raise IdentityError(f"unknown entity {entity!r}; known: {', '.join(ENTITIES)}")
    return entity


def _root(session: Session, person: str) -> str:
    return follow_chain(session, Person.id, Person.merged_into, person)


def _add_never(session: Session, entity: str, a: str, b: str, reason: str | None) -> None:
    left, right = never_pair(a, b)
    exists = session.scalar(select(NeverMerge.id).where(
        NeverMerge.entity == entity, NeverMerge.left_id == left, NeverMerge.right_id == right))
    if exists is None:
        session.add(NeverMerge(entity=entity, left_id=left, right_id=right, reason=reason))


def _merge_dict(merge: IdentityMerge) -> dict[str, Any]:
    return {
        "id": merge.id,
        "entity": merge.entity,
        "winner_id": merge.winner_id,
        "loser_id": merge.loser_id,
        "reason": merge.reason,
        "evidence": merge.evidence,
        "moved": merge.moved,
        "created_at": merge.created_at.isoformat(),
        "reverted_at": merge.reverted_at.isoformat() if merge.reverted_at else None,
    }

