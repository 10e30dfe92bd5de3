"""Customer profiles: accounts, contacts, owners, products, deals, touchpoints, consent,
conversations, persons and identity links, merges.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 06:27:26.269807
"""
import sqlalchemy as sa
from alembic import op

from knowledge.models import UtcDateTime


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=True),
    sa.Column('industry', sa.String(length=120), nullable=True),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('annual_revenue', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('country', sa.String(length=120), nullable=True),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('founded_year', sa.Integer(), nullable=True),
    sa.Column('parent_account_id', sa.String(length=300), nullable=True),
    sa.Column('parent_name', sa.String(length=300), nullable=True),
    sa.Column('owner_id', sa.String(length=300), nullable=True),
    sa.Column('customer_status', sa.String(length=40), nullable=True),
    sa.Column('master_id', sa.String(length=300), nullable=True),
    sa.Column('created_at', UtcDateTime(), nullable=True),
    sa.Column('updated_at', UtcDateTime(), nullable=True),
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('source_id', sa.String(length=300), nullable=False),
    sa.Column('synced_at', UtcDateTime(), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_domain'), ['domain'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_master_id'), ['master_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_source'), ['source'], unique=False)

    op.create_table('consents',
    sa.Column('person_id', sa.String(length=300), nullable=True),
    sa.Column('contact_id', sa.String(length=300), nullable=True),
    sa.Column('anonymous_id', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('purpose', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('recorded_at', UtcDateTime(), nullable=False),
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('source_id', sa.String(length=300), nullable=False),
    sa.Column('synced_at', UtcDateTime(), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consents_source'), ['source'], unique=False)

    op.create_table('contacts',
    sa.Column('person_id', sa.String(length=300), nullable=True),
    sa.Column('account_id', sa.String(length=300), nullable=True),
    sa.Column('first_name', sa.String(length=120), nullable=True),
    sa.Column('last_name', sa.String(length=120), nullable=True),
    sa.Column('full_name', sa.String(length=300), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=60), nullable=True),
    sa.Column('job_title', sa.String(length=200), nullable=True),
    sa.Column('department', sa.String(length=120), nullable=True),
    sa.Column('buying_role', sa.String(length=60), nullable=True),
    sa.Column('lifecycle_stage', sa.String(length=40), nullable=True),
    sa.Column('company_name', sa.String(length=300), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('owner_id', sa.String(length=300), nullable=True),
    sa.Column('first_touch_channel', sa.String(length=80), nullable=True),
    sa.Column('first_touch_at', UtcDateTime(), nullable=True),
    sa.Column('created_at', UtcDateTime(), nullable=True),
    sa.Column('updated_at', UtcDateTime(), nullable=True),
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('source_id', sa.String(length=300), nullable=False),
    sa.Column('synced_at', UtcDateTime(), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_source'), ['source'], unique=False)

    op.create_table('conversations',
    sa.Column('person_id', sa.String(length=300), nullable=True),
    sa.Column('contact_id', sa.String(length=300), nullable=True),
    sa.Column('anonymous_id', sa.String(length=200), nullable=True),
    sa.Column('account_id', sa.String(length=300), nullable=True),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('started_at', UtcDateTime(), nullable=False),
    sa.Column('ended_at', UtcDateTime(), nullable=True),
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('source_id', sa.String(length=300), nullable=False),
    sa.Column('synced_at', UtcDateTime(), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversations_anonymous_id'), ['anonymous_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversations_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversations_source'), ['source'], unique=False)

    op.create_table('deal_contacts',
    sa.Column('deal_id', sa.String(length=300), nullable=False),
    sa.Column('contact_id', sa.String(length=300), nullable=False),
    sa.Column('role', sa.String(length=120), nullable=True),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('source_id', sa.String(length=300), nullable=False),
    sa.Column('synced_at', UtcDateTime(), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deal_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deal_contacts_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deal_contacts_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deal_contacts_source'), ['source'], unique=False)

    op.create_table('deal_products',
    sa.Column('deal_id', sa.String(length=300), nullable=False),
    sa.Column('product_id', sa.String(length=300), nullable=True),
    sa.Column('product_name', sa.String(length=300), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('source_id', sa.String(length=300), nullable=False),
    sa.Column('synced_at', UtcDateTime(), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deal_products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deal_products_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deal_products_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deal_products_source'), ['source'], unique=False)

    op.create_table('deals',
    sa.Column('name', sa.String(length=300), nullable=True),
    sa.Column('account_id', sa.String(length=300), nullable=True),
    sa.Column('contact_id', sa.String(length=300), nullable=True),
    sa.Column('owner_id', sa.String(length=300), nullable=True),
    sa.Column('pipeline', sa.String(length=120), nullable=True),
    sa.Column('stage', sa.String(length=120), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('created_on', sa.Date(), nullable=True),
    sa.Column('engaged_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('updated_at', UtcDateTime(), nullable=True),
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('source_id', sa.String(length=300), nullable=False),
    sa.Column('synced_at', UtcDateTime(), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deals_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deals_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deals_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deals_source'), ['source'], unique=False)
        batch_op.create_index(batch_op.f('ix_deals_status'), ['status'], unique=False)

    op.create_table('identity_merges',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('winner_id', sa.String(length=300), nullable=False),
    sa.Column('loser_id', sa.String(length=300), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('moved', sa.JSON(), nullable=False),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.Column('reverted_at', UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('identity_merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_merges_loser_id'), ['loser_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_merges_winner_id'), ['winner_id'], unique=False)

    op.create_table('messages',
    sa.Column('conversation_id', sa.String(length=300), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('source_id', sa.String(length=300), nullable=False),
    sa.Column('synced_at', UtcDateTime(), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_conversation', ['conversation_id', 'ordinal'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_source'), ['source'], unique=False)

    op.create_table('never_merge',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('left_id', sa.String(length=300), nullable=False),
    sa.Column('right_id', sa.String(length=300), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('entity', 'left_id', 'right_id', name='uq_never_merge_pair')
    )
    op.create_table('owners',
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('team', sa.String(length=120), nullable=True),
    sa.Column('manager_name', sa.String(length=300), nullable=True),
    sa.Column('manager_id', sa.String(length=300), nullable=True),
    sa.Column('office', sa.String(length=120), nullable=True),
    sa.Column('role', sa.String(length=60), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('source_id', sa.String(length=300), nullable=False),
    sa.Column('synced_at', UtcDateTime(), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('owners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_owners_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_owners_source'), ['source'], unique=False)

    op.create_table('persons',
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('display_name', sa.String(length=300), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('merged_into', sa.String(length=300), nullable=True),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_persons_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_merged_into'), ['merged_into'], unique=False)

    op.create_table('products',
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('product_line', sa.String(length=120), nullable=True),
    sa.Column('price', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('source_id', sa.String(length=300), nullable=False),
    sa.Column('synced_at', UtcDateTime(), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_products_source'), ['source'], unique=False)

    op.create_table('touchpoints',
    sa.Column('occurred_at', UtcDateTime(), nullable=False),
    sa.Column('channel', sa.String(length=80), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=True),
    sa.Column('world', sa.String(length=10), nullable=True),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=True),
    sa.Column('campaign', sa.String(length=200), nullable=True),
    sa.Column('content_uri', sa.String(length=2000), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('person_id', sa.String(length=300), nullable=True),
    sa.Column('contact_id', sa.String(length=300), nullable=True),
    sa.Column('anonymous_id', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('account_id', sa.String(length=300), nullable=True),
    sa.Column('deal_id', sa.String(length=300), nullable=True),
    sa.Column('owner_id', sa.String(length=300), nullable=True),
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('source_id', sa.String(length=300), nullable=False),
    sa.Column('synced_at', UtcDateTime(), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('touchpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_touchpoints_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_touchpoints_anonymous_id'), ['anonymous_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_touchpoints_channel'), ['channel'], unique=False)
        batch_op.create_index(batch_op.f('ix_touchpoints_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_touchpoints_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index('ix_touchpoints_person_time', ['person_id', 'occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_touchpoints_source'), ['source'], unique=False)

    op.create_table('identity_links',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('person_id', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=320), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'value', name='uq_identity_links_kind_value')
    )
    with op.batch_alter_table('identity_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_links_person_id'), ['person_id'], unique=False)

def downgrade() -> None:
    with op.batch_alter_table('identity_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_links_person_id'))

    op.drop_table('identity_links')
    with op.batch_alter_table('touchpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_touchpoints_source'))
        batch_op.drop_index('ix_touchpoints_person_time')
        batch_op.drop_index(batch_op.f('ix_touchpoints_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_touchpoints_contact_id'))
        batch_op.drop_index(batch_op.f('ix_touchpoints_channel'))
        batch_op.drop_index(batch_op.f('ix_touchpoints_anonymous_id'))
        batch_op.drop_index(batch_op.f('ix_touchpoints_account_id'))

    op.drop_table('touchpoints')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_source'))
        batch_op.drop_index(batch_op.f('ix_products_name'))

    op.drop_table('products')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persons_merged_into'))
        batch_op.drop_index(batch_op.f('ix_persons_email'))

    op.drop_table('persons')
    with op.batch_alter_table('owners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_owners_source'))
        batch_op.drop_index(batch_op.f('ix_owners_name'))

    op.drop_table('owners')
    op.drop_table('never_merge')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_source'))
        batch_op.drop_index('ix_messages_conversation')

    op.drop_table('messages')
    with op.batch_alter_table('identity_merges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_merges_winner_id'))
        batch_op.drop_index(batch_op.f('ix_identity_merges_loser_id'))

    op.drop_table('identity_merges')
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deals_status'))
        batch_op.drop_index(batch_op.f('ix_deals_source'))
        batch_op.drop_index(batch_op.f('ix_deals_owner_id'))
        batch_op.drop_index(batch_op.f('ix_deals_contact_id'))
        batch_op.drop_index(batch_op.f('ix_deals_account_id'))

    op.drop_table('deals')
    with op.batch_alter_table('deal_products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deal_products_source'))
        batch_op.drop_index(batch_op.f('ix_deal_products_product_id'))
        batch_op.drop_index(batch_op.f('ix_deal_products_deal_id'))

    op.drop_table('deal_products')
    with op.batch_alter_table('deal_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deal_contacts_source'))
        batch_op.drop_index(batch_op.f('ix_deal_contacts_deal_id'))
        batch_op.drop_index(batch_op.f('ix_deal_contacts_contact_id'))

    op.drop_table('deal_contacts')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversations_source'))
        batch_op.drop_index(batch_op.f('ix_conversations_person_id'))
        batch_op.drop_index(batch_op.f('ix_conversations_anonymous_id'))

    op.drop_table('conversations')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_source'))
        batch_op.drop_index(batch_op.f('ix_contacts_person_id'))
        batch_op.drop_index(batch_op.f('ix_contacts_email'))
        batch_op.drop_index(batch_op.f('ix_contacts_account_id'))

    op.drop_table('contacts')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_source'))
        batch_op.drop_index(batch_op.f('ix_consents_person_id'))

    op.drop_table('consents')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_source'))
        batch_op.drop_index(batch_op.f('ix_accounts_owner_id'))
        batch_op.drop_index(batch_op.f('ix_accounts_name'))
        batch_op.drop_index(batch_op.f('ix_accounts_master_id'))
        batch_op.drop_index(batch_op.f('ix_accounts_domain'))

    op.drop_table('accounts')
