"""Event inbox: raw events accepted by the Segment-compatible API, deduplicated on
(source, message_id), processed in ``seq`` order by the ``events`` connector.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

from knowledge.models import UtcDateTime


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event_inbox',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('received_at', UtcDateTime(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('source', 'message_id', name='uq_event_inbox_source_message')
    )


def downgrade() -> None:
    op.drop_table('event_inbox')
