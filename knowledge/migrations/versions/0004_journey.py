"""Journey decisions (stage and persona history, rep overrides) and next-best-action proposals
with their outcomes.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

from knowledge.models import UtcDateTime


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('action_proposals',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('person_id', sa.String(length=300), nullable=False),
    sa.Column('contact_id', sa.String(length=300), nullable=True),
    sa.Column('account_id', sa.String(length=300), nullable=True),
    sa.Column('action_id', sa.String(length=60), nullable=False),
    sa.Column('stage', sa.String(length=60), nullable=True),
    sa.Column('persona', sa.String(length=60), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('components', sa.JSON(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('proposed_at', UtcDateTime(timezone=True), nullable=False),
    sa.Column('outcome_at', UtcDateTime(timezone=True), nullable=True),
    sa.Column('playbook_fingerprint', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('action_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_proposals_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_action_proposals_person_action', ['person_id', 'action_id', 'proposed_at'], unique=False)

    op.create_table('journey_decisions',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('person_id', sa.String(length=300), nullable=False),
    sa.Column('contact_id', sa.String(length=300), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('value', sa.String(length=60), nullable=True),
    sa.Column('product_line', sa.String(length=120), nullable=True),
    sa.Column('confidence', sa.Double(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('decided_at', UtcDateTime(timezone=True), nullable=False),
    sa.Column('superseded_at', UtcDateTime(timezone=True), nullable=True),
    sa.Column('playbook_fingerprint', sa.String(length=64), nullable=True),
    sa.Column('input_digest', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('journey_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_journey_decisions_person', ['person_id', 'kind', 'decided_at'], unique=False)

    op.create_table('action_outcomes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('proposal_id', sa.String(length=40), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('recorded_at', UtcDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['proposal_id'], ['action_proposals.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('action_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_outcomes_proposal_id'), ['proposal_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('action_outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_outcomes_proposal_id'))

    op.drop_table('action_outcomes')
    with op.batch_alter_table('journey_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_journey_decisions_person')

    op.drop_table('journey_decisions')
    with op.batch_alter_table('action_proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_action_proposals_person_action')
        batch_op.drop_index(batch_op.f('ix_action_proposals_account_id'))

    op.drop_table('action_proposals')
