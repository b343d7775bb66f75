"""Indexes for metric queries at scale

The window's messages, read by every metric report (agent messages per ticket, inbound messages and their
sentiment per ticket), are found in the message table's created_at order and answered from the index alone:
ix_message_window (created_at, direction, author_kind, ticket_id, sentiment) replaces ix_message_created_at,
which it serves as well (its first column).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa  # noqa: F401


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_window', ['created_at', 'direction', 'author_kind', 'ticket_id',
                                                    'sentiment'], unique=False)
        batch_op.drop_index(batch_op.f('ix_message_created_at'))


def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_created_at'), ['created_at'], unique=False)
        batch_op.drop_index('ix_message_window')
