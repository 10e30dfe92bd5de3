"""The migrations create exactly what the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from knowledge.db import Database
from knowledge.models import Base


def test_migrations_match_models_and_are_idempotent(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    db.migrate()  # applying twice is a no-op
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = [d for d in compare_metadata(context, Base.metadata) if "chunk_terms" not in str(d)]
        tables = set(inspect(connection).get_table_names())
    db.dispose()
    assert diff == []
    assert {"sources", "cursors", "sync_runs", "documents", "chunks", "chunk_terms", "alembic_version"} <= tables
    assert {"accounts", "contacts", "owners", "products", "deals", "deal_products", "deal_contacts", "touchpoints",
            "consents", "conversations", "messages", "persons", "identity_links", "identity_merges", "never_merge"} <= tables
