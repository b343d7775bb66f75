"""Rate windows and locks shared by replicas

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cardupdatecode',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('card_key', sa.String(length=128), nullable=False),
    sa.Column('code', sa.String(length=255), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('spent_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'code', name='uq_card_update_code')
    )
    with op.batch_alter_table('cardupdatecode', schema=None) as batch_op:
        batch_op.create_index('ix_card_update_code_card', ['channel', 'card_key', 'spent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cardupdatecode_received_at'), ['received_at'], unique=False)

    op.create_table('ratewindow',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('scope', 'key', name='uq_rate_window')
    )
    with op.batch_alter_table('ratewindow', schema=None) as batch_op:
        batch_op.create_index('ix_rate_window_stale', ['scope', 'updated_at'], unique=False)

    with op.batch_alter_table('channelcursor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('pull_again', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('pull_token', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('channelcursor', schema=None) as batch_op:
        batch_op.drop_column('pull_token')
        batch_op.drop_column('pull_again')
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')

    with op.batch_alter_table('ratewindow', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_window_stale')

    op.drop_table('ratewindow')

    with op.batch_alter_table('cardupdatecode', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cardupdatecode_received_at'))
        batch_op.drop_index('ix_card_update_code_card')

    op.drop_table('cardupdatecode')
