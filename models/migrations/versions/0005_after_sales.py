"""after-sales requests: returns, refunds, exchanges, reships

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('aftersalesrequest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('reason_source', sa.String(length=16), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('reporting_cents', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('sku', sa.String(length=128), nullable=True),
    sa.Column('marketplace', sa.String(length=64), nullable=True),
    sa.Column('country', sa.String(length=8), nullable=True),
    sa.Column('opened_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('item_received_at', sa.DateTime(), nullable=True),
    sa.Column('refunded_at', sa.DateTime(), nullable=True),
    sa.Column('reshipped_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('aftersalesrequest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aftersalesrequest_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_aftersalesrequest_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_aftersalesrequest_status_changed', ['status', 'status_changed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('aftersalesrequest', schema=None) as batch_op:
        batch_op.drop_index('ix_aftersalesrequest_status_changed')
        batch_op.drop_index(batch_op.f('ix_aftersalesrequest_created_at'))
        batch_op.drop_index(batch_op.f('ix_aftersalesrequest_ticket_id'))

    op.drop_table('aftersalesrequest')
