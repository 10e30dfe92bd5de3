"""Alembic environment: migrations run on the connection the application hands in."""

from alembic import context

import knowledge.profiles.models  # noqa: F401  (registers the profile tables on Base)
from knowledge.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI directly
    raise RuntimeError("run migrations through knowledge.db.Database.migrate()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
