"""The profile store's write path: idempotent, hash-diffed upserts on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from knowledge.db import Database
from knowledge.profiles import ProfileRecord, ProfileStore, RecordError, RecordTombstone, Ref
from knowledge.profiles.models import Account, Deal, Touchpoint


@pytest.fixture
def store(database_url: str) -> ProfileStore:
    db = Database(database_url)
    db.migrate()
    yield ProfileStore(db)
    db.dispose()


def _deal(source_id: str, stage: str = "Won", amount: str = "1054") -> ProfileRecord:
    return ProfileRecord(
        "deal",
        source_id,
        {"account_id": Ref("account", "Cancity"), "stage": stage, "status": stage.lower(), "amount": amount,
         "closed_on": "2017-03-01", "series": "GTX"},
    )


def test_upsert_is_idempotent_and_replaces_changed_records(store: ProfileStore) -> None:
    first = store.write("crm", [ProfileRecord("account", "Cancity", {"name": "Cancity"}), _deal("A"), _deal("B")])
    assert first.to_dict()["deal"] == {"added": 2, "updated": 0, "unchanged": 0, "deleted": 0}
    again = store.write("crm", [ProfileRecord("account", "Cancity", {"name": "Cancity"}), _deal("A"), _deal("B")])
    assert again.total("added") == again.total("updated") == 0 and again.total("unchanged") == 3
    edited = store.write("crm", [_deal("A"), _deal("B", stage="Lost", amount="0")])
    assert edited.to_dict()["deal"] == {"added": 0, "updated": 1, "unchanged": 1, "deleted": 0}
    with store._db.session() as session:
        deal = session.get(Deal, "crm:deal:B")
        assert (deal.status, deal.amount, deal.closed_on) == ("lost", Decimal("0"), date(2017, 3, 1))
        assert deal.account_id == "crm:account:Cancity"  # Ref resolved within the source
        assert deal.attributes == {"series": "GTX"}  # values that are no column are kept, not lost
        assert deal.source == "crm" and deal.source_id == "B" and deal.synced_at.tzinfo is not None


def test_tombstones_and_missing_records_leave(store: ProfileStore) -> None:
    store.write("crm", [_deal("A"), _deal("B"), _deal("C")])
    assert store.write("crm", [RecordTombstone("deal", "A")]).to_dict()["deal"]["deleted"] == 1
    assert store.delete_missing("crm", "deal", {"B"}) == 1
    assert store.known_source_ids("crm", "deal") == {"B"}


def test_bad_records_are_refused_with_a_reason_and_the_rest_is_written(store: ProfileStore) -> None:
    refused: list[tuple[str, str]] = []
    stats = store.write(
        "crm",
        [
            _deal("ok"),
            ProfileRecord("deal", "bad-date", {"closed_on": "next tuesday"}),
            ProfileRecord("account", "nameless", {"industry": "retail"}),
        ],
        on_error=lambda record, error: refused.append((record.source_id, str(error))),
    )
    assert stats.total("added") == 1
    assert refused[0][0] == "bad-date" and "closed_on" in refused[0][1]
    assert refused[1][0] == "nameless" and "name" in refused[1][1]
    with pytest.raises(RecordError, match="unknown entity"):
        store.write("crm", [ProfileRecord("opportunity", "x", {})])
    with pytest.raises(RecordError, match="set by the store"):
        store.write("crm", [ProfileRecord("contact", "x", {"person_id": "p"})])


def test_timestamps_come_back_aware_and_sources_stay_apart(store: ProfileStore) -> None:
    when = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    store.write("web", [ProfileRecord("touchpoint", "m1", {"occurred_at": when.isoformat(), "type": "page_view"})])
    store.write("crm", [ProfileRecord("account", "Cancity", {"name": "Cancity"})])
    store.write("crm2", [ProfileRecord("account", "Cancity", {"name": "Cancity"})])
    with store._db.session() as session:
        assert session.get(Touchpoint, "web:touchpoint:m1").occurred_at == when
        assert session.scalar(select(func.count()).select_from(Account)) == 2
