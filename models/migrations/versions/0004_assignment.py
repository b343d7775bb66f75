"""assignment: agent skills, shifts, capacity

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('skills', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('shift', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('capacity', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('senior', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('shift_override', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('shift_override_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('shift_override_until', sa.DateTime(), nullable=True))

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('assigned_at')

    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.drop_column('shift_override_until')
        batch_op.drop_column('shift_override_at')
        batch_op.drop_column('shift_override')
        batch_op.drop_column('senior')
        batch_op.drop_column('capacity')
        batch_op.drop_column('shift')
        batch_op.drop_column('skills')
