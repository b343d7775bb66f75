"""order context: customer profiles (tier, tags, notes), order lookups

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('tags', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('orders_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lifetime_value_cents', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('last_order_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('profile_updated_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_customer_email'), ['email'], unique=False)

    op.create_table('customernote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=128), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('customernote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customernote_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customernote_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('customernote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customernote_created_at'))
        batch_op.drop_index(batch_op.f('ix_customernote_customer_id'))

    op.drop_table('customernote')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_email'))
        batch_op.drop_column('profile_updated_at')
        batch_op.drop_column('last_order_at')
        batch_op.drop_column('currency')
        batch_op.drop_column('lifetime_value_cents')
        batch_op.drop_column('orders_count')
        batch_op.drop_column('tags')
        batch_op.drop_column('email')
