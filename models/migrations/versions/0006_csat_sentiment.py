"""CSAT surveys and responses, message sentiment

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('csatsurvey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.String(length=255), nullable=False),
    sa.Column('customer_id', sa.String(length=255), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('asked_at', sa.DateTime(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('follow_up_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', name='uq_csat_survey_ticket')
    )
    with op.batch_alter_table('csatsurvey', schema=None) as batch_op:
        batch_op.create_index('ix_csat_survey_conversation', ['channel', 'conversation_id', 'status'], unique=False)
        batch_op.create_index('ix_csat_survey_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_csatsurvey_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('csatresponse', schema=None) as batch_op:
        batch_op.add_column(sa.Column('survey_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('message_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_csatresponse_survey_id'), ['survey_id'], unique=False)

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sentiment', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('sentiment_score', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('sentiment_score')
        batch_op.drop_column('sentiment')

    with op.batch_alter_table('csatresponse', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_csatresponse_survey_id'))
        batch_op.drop_column('message_id')
        batch_op.drop_column('survey_id')

    with op.batch_alter_table('csatsurvey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_csatsurvey_created_at'))
        batch_op.drop_index('ix_csat_survey_due')
        batch_op.drop_index('ix_csat_survey_conversation')

    op.drop_table('csatsurvey')
