"""Account lists and profiles for reps: figures, merged accounts, lookup by id or name."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from knowledge.db import Database
from knowledge.profiles import ProfileRecord, ProfileStore, Ref
from knowledge.profiles.models import Account, Contact
from knowledge.profiles.queries import AccountNotFound, ProfileQueries


def _load(db: Database) -> None:
    store = ProfileStore(db)
    store.write("crm", [
        ProfileRecord("owner", "ann", {"name": "Ann Rep"}),
        ProfileRecord("account", "acme", {"name": "Acme Corporation", "industry": "software", "owner_id": Ref("owner", "ann")}),
        ProfileRecord("account", "beta", {"name": "Betasoloin", "industry": "medical"}),
        ProfileRecord("product", "gtx", {"name": "GTX Pro"}),
        ProfileRecord("contact", "jane", {"full_name": "Jane Roe", "email": "jane@acme.example", "account_id": Ref("account", "acme"),
                                          "job_title": "CFO"}),
        ProfileRecord("deal", "d1", {"account_id": Ref("account", "acme"), "status": "open", "stage": "Engaging", "amount": "1000",
                                     "owner_id": Ref("owner", "ann")}),
        ProfileRecord("deal", "d2", {"account_id": Ref("account", "acme"), "status": "won", "stage": "Won", "amount": "2500",
                                     "closed_on": "2024-02-01"}),
        ProfileRecord("deal_product", "d2-gtx", {"deal_id": Ref("deal", "d2"), "product_id": Ref("product", "gtx"), "product_name": "GTX Pro"}),
        ProfileRecord("deal", "d3", {"account_id": Ref("account", "beta"), "status": "lost", "stage": "Lost", "amount": "0"}),
        ProfileRecord("touchpoint", "t1", {"occurred_at": datetime(2024, 3, 1, tzinfo=UTC), "type": "meeting", "world": "offline",
                                           "contact_id": Ref("contact", "jane"), "title": "Kick-off"}),
    ])
    # The same company from a second CRM, merged into the first by identity resolution.
    store.write("crm2", [
        ProfileRecord("account", "9", {"name": "ACME Corp."}),
        ProfileRecord("deal", "x", {"account_id": Ref("account", "9"), "status": "open", "amount": "500"}),
    ])
    # Jane is also known from web events: another contact record of the same person.
    store.write("web", [ProfileRecord("contact", "u-7", {"email": "jane@acme.example", "phone": "+49 821 555",
                                                          "account_id": "crm:account:acme"})])
    with db.session() as session:
        session.execute(update(Account).where(Account.id == "crm2:account:9").values(master_id="crm:account:acme"))
        session.execute(update(Contact).where(Contact.email == "jane@acme.example").values(person_id="person:jane"))


@pytest.fixture
def queries(database_url: str) -> ProfileQueries:
    db = Database(database_url)
    db.migrate()
    _load(db)
    yield ProfileQueries(db)
    db.dispose()


def test_account_list_adds_up_deals_of_merged_accounts(queries: ProfileQueries) -> None:
    rows = {s.name: s for s in queries.accounts()}
    assert set(rows) == {"Acme Corporation", "Betasoloin"}  # the merged duplicate is not listed on its own
    acme = rows["Acme Corporation"]
    assert (acme.contacts, acme.open_deals, acme.open_amount, acme.won_deals, acme.won_amount) == (1, 2, 1500.0, 1, 2500.0)
    assert acme.owner == "Ann Rep"
    assert [s.name for s in queries.accounts(search="beta")] == ["Betasoloin"]


def test_lookup_by_id_source_id_name_and_fuzzy_name(queries: ProfileQueries) -> None:
    assert queries.find_account("crm:account:acme") == "crm:account:acme"
    assert queries.find_account("crm2:account:9") == "crm:account:acme"  # a merged account leads to its master
    assert queries.find_account("acme corporation") == "crm:account:acme"
    assert queries.find_account("Betasoloin") == "crm:account:beta"
    assert queries.find_account("Betasolion") == "crm:account:beta"  # a typo still finds it
    with pytest.raises(AccountNotFound, match="no account matches 'Zeta Industries'"):
        queries.find_account("Zeta Industries")


def test_profile_has_contacts_open_and_closed_deals_and_touchpoints(queries: ProfileQueries) -> None:
    profile = queries.account_profile("crm:account:acme")
    assert [c["full_name"] for c in profile["contacts"]] == ["Jane Roe"]  # one row per person
    jane = profile["contacts"][0]
    assert jane["job_title"] == "CFO" and jane["phone"] == "+49 821 555"  # gaps filled from her other record
    assert sorted(jane["records"]) == ["crm:contact:jane", "web:contact:u-7"]
    assert [d["id"] for d in profile["open_deals"]] == ["crm:deal:d1", "crm2:deal:x"]
    assert profile["open_deals"][0]["owner"] == "Ann Rep"
    assert [(d["id"], d["products"]) for d in profile["closed_deals"]] == [("crm:deal:d2", ["GTX Pro"])]
    assert [t["title"] for t in profile["latest_touchpoints"]] == ["Kick-off"]  # found through the contact
    assert profile["merged_accounts"][0]["id"] == "crm2:account:9"
    assert profile["totals"] == {"open": 2, "open_amount": 1500.0, "won": 1, "won_amount": 2500.0, "lost": 0}


def test_cli_account_commands(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    db = Database(f"sqlite:///{workspace / 'journey.db'}")
    db.migrate()
    _load(db)
    db.dispose()
    journey = [str(Path(sys.executable).parent / "journey")]
    listing = subprocess.run([*journey, "accounts", "-w", str(workspace), "--json"], capture_output=True, text=True, check=True)
    assert [r["name"] for r in json.loads(listing.stdout)] == ["Acme Corporation", "Betasoloin"]
    profile = subprocess.run([*journey, "account", "acme corp", "-w", str(workspace), "--json"], capture_output=True, text=True, check=True)
    assert json.loads(profile.stdout)["account"]["id"] == "crm:account:acme"
    human = subprocess.run([*journey, "account", "Acme Corporation", "-w", str(workspace)], capture_output=True, text=True, check=True)
    assert "Jane Roe" in human.stdout and "Kick-off" in human.stdout
    missing = subprocess.run([*journey, "account", "Nobody GmbH", "-w", str(workspace)], capture_output=True, text=True)
    assert missing.returncode == 2 and "no account matches" in missing.stderr
