"""Identity resolution through the real profile store write path, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select

from assistant.settings import IdentitySettings
from knowledge.db import Database
from knowledge.profiles import ProfileRecord, ProfileStore, RecordTombstone, Ref
from knowledge.profiles.account_matching import normalise_company, normalise_domain
from knowledge.profiles.identity import IdentityError, IdentityResolver
from knowledge.profiles.models import Account, Contact, Conversation, IdentityLink, Person, Touchpoint
from knowledge.profiles.person_resolution import person_id_for


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def resolver(db: Database) -> IdentityResolver:
    return IdentityResolver(db, IdentitySettings())


@pytest.fixture
def store(db: Database, resolver: IdentityResolver) -> ProfileStore:
    return ProfileStore(db, identity=resolver)


def count(db: Database, model: type[Any], **where: Any) -> int:
    with db.session() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return session.scalar(query) or 0


def person_of(db: Database, model: type[Any], row_id: str) -> str | None:
    with db.session() as session:
        return session.get(model, row_id).person_id


def crm_history(store: ProfileStore) -> None:
    store.write("crm", [
        ProfileRecord("account", "acme", {"name": "ACME Corp.", "domain": "acme.com"}),
        ProfileRecord("contact", "51", {"first_name": "Jane", "last_name": "Doe", "email": "jane@acme.com",
                                        "account_id": Ref("account", "acme")}),
        ProfileRecord("deal", "d1", {"name": "ACME rollout", "contact_id": Ref("contact", "51"), "status": "open"}),
        ProfileRecord("touchpoint", "m1", {"occurred_at": "2024-03-01T10:00:00Z", "type": "meeting", "world": "offline",
                                           "contact_id": Ref("contact", "51")}),
        ProfileRecord("touchpoint", "e1", {"occurred_at": "2024-03-05T10:00:00Z", "type": "email", "contact_id": Ref("contact", "51")}),
    ])


def anonymous_visit(store: ProfileStore, anonymous_id: str = "anon-1") -> None:
    store.write("events", [
        ProfileRecord("touchpoint", f"pv{n}-{anonymous_id}", {"occurred_at": f"2024-04-0{n}T09:00:00Z", "type": "page_view",
                                                               "anonymous_id": anonymous_id, "content_uri": f"https://example.com/{n}"})
        for n in range(1, 4)
    ])
    store.write("chat", [
        ProfileRecord("conversation", f"c-{anonymous_id}", {"anonymous_id": anonymous_id, "started_at": "2024-04-03T09:05:00Z"}),
        ProfileRecord("message", f"c-{anonymous_id}-1", {"conversation_id": Ref("conversation", f"c-{anonymous_id}"),
                                                        "role": "user", "content": "Do you have an API for SAP?"}),
    ])


def identify(store: ProfileStore, email: str = " Jane@ACME.com ", plan: str = "pro") -> None:
    store.write("events", [ProfileRecord("contact", "u-1", {
        "email": email, "full_name": "Jane Doe", "user_id": "u-1", "anonymous_ids": ["anon-1"], "plan": plan})])


def test_anonymous_chat_then_identify_joins_the_crm_history_and_unmerge_restores_it(
    db: Database, store: ProfileStore, resolver: IdentityResolver
) -> None:
    crm_history(store)
    anonymous_visit(store)
    crm_person = resolver.person_for("email", "JANE@acme.com")
    anonymous_person = resolver.person_for("anonymous_id", "anon-1")
    assert crm_person == person_id_for(("email", "jane@acme.com"))  # deterministic, e-mail first
    assert anonymous_person == person_id_for(("anonymous_id", "anon-1")) != crm_person
    assert count(db, Touchpoint, person_id=anonymous_person) == 3 and count(db, Conversation, person_id=anonymous_person) == 1

    identify(store)

    assert resolver.person_for("anonymous_id", "anon-1") == resolver.person_for("user_id", "u-1") == crm_person
    assert count(db, Touchpoint, person_id=crm_person) == 5  # 3 page views + meeting + e-mail
    assert count(db, Conversation, person_id=crm_person) == 1
    assert count(db, Contact, person_id=crm_person) == 2  # the CRM contact and the events contact
    (merge,) = resolver.merges("person")
    assert (merge["winner_id"], merge["loser_id"], merge["reason"]) == (crm_person, anonymous_person, "identify")
    assert merge["evidence"]["identifier"] == {"kind": "anonymous_id", "value": "anon-1"}
    assert merge["evidence"]["record"] == "events:contact:u-1"
    assert merge["moved"]["rows"] == {"touchpoints": 3, "conversations": 1}
    with db.session() as session:
        assert session.get(Person, anonymous_person).merged_into == crm_person

    undone = resolver.unmerge(merge["id"])
    assert undone["changed"]["rows"]["touchpoints"] == 3 and undone["changed"]["rows"]["conversations"] == 1
    assert resolver.person_for("anonymous_id", "anon-1") == anonymous_person
    assert count(db, Touchpoint, person_id=anonymous_person) == 3 and count(db, Touchpoint, person_id=crm_person) == 2
    assert person_of(db, Conversation, "chat:conversation:c-anon-1") == anonymous_person
    assert person_of(db, Contact, "events:contact:u-1") == crm_person  # its e-mail still says Jane
    with pytest.raises(IdentityError, match="already undone"):
        resolver.unmerge(merge["id"])

    identify(store, plan="enterprise")  # the same identify again, changed: the pair is never merged again
    assert resolver.person_for("anonymous_id", "anon-1") == anonymous_person
    assert [m["reverted_at"] is not None for m in resolver.merges()] == [True]
    anonymous_visit(store, "anon-1")  # re-sent, unchanged: nothing moves
    assert count(db, Touchpoint, person_id=anonymous_person) == 3


def test_identify_before_the_crm_knows_the_email_needs_no_merge(db: Database, store: ProfileStore, resolver: IdentityResolver) -> None:
    anonymous_visit(store)
    identify(store)
    crm_history(store)
    person = resolver.person_for("anonymous_id", "anon-1")
    assert person == person_id_for(("anonymous_id", "anon-1")) == resolver.person_for("email", "jane@acme.com")
    assert resolver.merges() == []
    assert count(db, Touchpoint, person_id=person) == 5 and count(db, Contact, person_id=person) == 2
    with db.session() as session:
        jane = session.get(Person, person)
        assert (jane.email, jane.display_name) == ("jane@acme.com", "Jane Doe")  # filled in by the identify


def test_two_persons_sharing_an_email_merge_into_the_older_and_never_merge_prevents_it(
    db: Database, store: ProfileStore, resolver: IdentityResolver
) -> None:
    store.write("crm", [ProfileRecord("contact", "1", {"email": "ann@globex.com", "full_name": "Ann"})])
    store.write("hubspot", [ProfileRecord("contact", "9", {"email": "ann.b@globex.com"})])
    store.write("salesforce", [ProfileRecord("contact", "x", {"email": "ann@globex.com"})])  # joins, no merge
    ann = resolver.person_for("email", "ann@globex.com")
    other = resolver.person_for("email", "ann.b@globex.com")
    assert person_of(db, Contact, "salesforce:contact:x") == ann and resolver.merges() == []

    store.write("hubspot", [ProfileRecord("contact", "9", {"email": "ANN@globex.com"})])  # now the same address
    (merge,) = resolver.merges()
    assert (merge["winner_id"], merge["loser_id"], merge["reason"]) == (ann, other, "same_email")
    assert person_of(db, Contact, "hubspot:contact:9") == ann
    assert resolver.person_for("email", "ann.b@globex.com") == ann  # the loser's identifiers moved along

    resolver.unmerge(merge["id"])
    assert person_of(db, Contact, "hubspot:contact:9") == other
    assert resolver.person_for("email", "ann.b@globex.com") == other

    resolver.never_merge("person", ann, "person:unrelated", "told by the rep")
    store.write("crm", [ProfileRecord("contact", "2", {"email": "bob@initech.com"})])
    bob = resolver.person_for("email", "bob@initech.com")
    resolver.never_merge("person", ann, bob, "different people sharing a mailbox")
    store.write("crm", [ProfileRecord("contact", "2", {"email": "bob@initech.com", "user_id": "shared"}),
                        ProfileRecord("contact", "1", {"email": "ann@globex.com", "full_name": "Ann", "user_id": "shared"})])
    assert person_of(db, Contact, "crm:contact:1") == ann and person_of(db, Contact, "crm:contact:2") == bob
    assert all(m["reverted_at"] for m in resolver.merges())
    with pytest.raises(IdentityError, match="unknown entity"):
        resolver.never_merge("deal", "a", "b")


def test_person_ids_are_the_same_when_the_import_runs_again_into_a_fresh_store(tmp_path: Any, database_url: str) -> None:
    ids = []
    for run in ("one", "two"):
        database = Database(f"sqlite:///{tmp_path / run}.db") if run == "two" else Database(database_url)
        database.migrate()
        store = ProfileStore(database, identity=IdentityResolver(database, IdentitySettings()))
        crm_history(store)
        anonymous_visit(store)
        with database.session() as session:
            ids.append(sorted(session.scalars(select(Person.id))))
        database.dispose()
    assert ids[0] == ids[1] and len(ids[0]) == 2


def test_touchpoints_link_unknown_contacts_and_emails_and_deleted_contacts_free_their_record_link(
    db: Database, store: ProfileStore, resolver: IdentityResolver
) -> None:
    store.write("crm", [ProfileRecord("touchpoint", "t1", {"occurred_at": "2024-01-01", "contact_id": Ref("contact", "77"),
                                                           "email": "Max@Muster.de"})])
    person = resolver.person_for("record", "crm:contact:77")
    assert person == resolver.person_for("email", "max@muster.de") == person_of(db, Touchpoint, "crm:touchpoint:t1")
    store.write("crm", [ProfileRecord("contact", "77", {"full_name": "Max Muster"})])  # arrives later, finds its person
    assert person_of(db, Contact, "crm:contact:77") == person
    store.write("crm", [RecordTombstone("contact", "77")])
    assert resolver.person_for("record", "crm:contact:77") is None
    assert count(db, IdentityLink, person_id=person) == 1  # the e-mail stays with the person


def test_contacts_get_the_one_account_of_their_email_domain_never_a_free_mail_one(
    db: Database, store: ProfileStore
) -> None:
    store.write("crm", [
        ProfileRecord("account", "acme", {"name": "ACME Corp.", "domain": "www.acme.com"}),
        ProfileRecord("account", "twin-a", {"name": "Twin A", "domain": "twin.com"}),
        ProfileRecord("account", "twin-b", {"name": "Twin B", "domain": "twin.com"}),
        ProfileRecord("account", "freelancer", {"name": "Sole Trader", "domain": "gmail.com"}),
    ])
    store.write("web-forms", [
        ProfileRecord("contact", "1", {"email": "jane@acme.com"}),
        ProfileRecord("contact", "2", {"email": "joe@gmail.com"}),
        ProfileRecord("contact", "3", {"email": "kim@twin.com"}),
        ProfileRecord("contact", "4", {"email": "lee@acme.com", "account_id": "crm:account:other"}),
    ])
    with db.session() as session:
        accounts = {c.source_id: c.account_id for c in session.scalars(select(Contact))}
    assert accounts == {"1": "crm:account:acme", "2": None, "3": None, "4": "crm:account:other"}


def test_accounts_of_different_sources_merge_by_domain_and_fuzzy_name_reversibly(
    db: Database, store: ProfileStore, resolver: IdentityResolver
) -> None:
    store.write("crm", [
        ProfileRecord("account", "acme", {"name": "ACME Corp."}),
        ProfileRecord("account", "acme-log", {"name": "Acme Logistics"}),
        ProfileRecord("account", "acme-sw2", {"name": "Acme Software AG"}),  # same source as ACME Corp.: never matched
        ProfileRecord("account", "globex", {"name": "Globex International", "domain": "globex.com"}),
        ProfileRecord("account", "mail", {"name": "Mail Users", "domain": "gmail.com"}),
    ])
    store.write("hubspot", [
        ProfileRecord("account", "1", {"name": "Acme Corporation GmbH"}),
        ProfileRecord("account", "2", {"name": "Acme Software"}),
        ProfileRecord("account", "3", {"name": "Globex", "domain": "https://www.Globex.com/de"}),
        ProfileRecord("account", "4", {"name": "Other Mail Users", "domain": "gmail.com"}),
    ])
    with db.session() as session:
        masters = {a.id: a.master_id for a in session.scalars(select(Account).where(Account.source == "hubspot"))}
    assert masters == {"hubspot:account:1": "crm:account:acme", "hubspot:account:2": "crm:account:acme-sw2",
                       "hubspot:account:3": "crm:account:globex", "hubspot:account:4": None}
    merges = {m["loser_id"]: m for m in resolver.merges("account")}
    assert merges["hubspot:account:1"]["reason"] == "similar_name" and merges["hubspot:account:1"]["evidence"]["score"] >= 92
    assert merges["hubspot:account:3"]["reason"] == "same_domain"

    resolver.unmerge(merges["hubspot:account:1"]["id"])
    store.write("hubspot", [ProfileRecord("account", "1", {"name": "Acme Corporation GmbH", "industry": "Software"})])
    with db.session() as session:
        assert session.get(Account, "hubspot:account:1").master_id is None  # the never-merge pair holds
    resolver.never_merge("account", "crm:account:acme", "salesforce:account:A1")
    store.write("salesforce", [ProfileRecord("account", "A1", {"name": "Acme Corp"})])
    with db.session() as session:
        assert session.get(Account, "salesforce:account:A1").master_id == "hubspot:account:1"  # the next best match


def test_company_names_and_domains_normalise() -> None:
    assert normalise_company("ACME Corp.") == normalise_company("Acme Corporation GmbH") == "acme"
    assert normalise_company("Müller GmbH & Co. KG") == "muller"
    assert normalise_company("The Boring Company") == "boring"
    assert normalise_domain("HTTPS://www.Acme.com:443/path") == "acme.com" and normalise_domain("localhost") is None


def test_resolution_of_a_large_batch_is_set_based(db: Database, store: ProfileStore) -> None:
    records = [ProfileRecord("touchpoint", f"t{n}", {"occurred_at": "2024-05-01T10:00:00Z", "type": "page_view",
                                                     "anonymous_id": f"anon-{n % 1500}"}) for n in range(5000)]
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        store.write("events", records)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert count(db, Person) == 1500 and count(db, IdentityLink) == 1500
    assert count(db, Touchpoint, person_id=person_id_for(("anonymous_id", "anon-7"))) == 4
    assert len(statements) < 60, f"{len(statements)} statements for 5000 rows"


def test_records_stored_before_the_resolver_was_wired_in_are_resolved_on_request(db: Database, resolver: IdentityResolver) -> None:
    plain = ProfileStore(db)
    crm_history(plain)
    anonymous_visit(plain)
    identify(plain)
    assert count(db, Person) == 0
    assert resolver.resolve_existing(batch=2) == {"account": 1, "contact": 2, "touchpoint": 5, "consent": 0, "conversation": 1}
    jane = resolver.person_for("email", "jane@acme.com")
    assert count(db, Touchpoint, person_id=jane) == 5 and count(db, Conversation, person_id=jane) == 1
    assert resolver.resolve_existing() and resolver.merges() == []  # again: nothing changes
