"""Verify cycles: the progress of scheduled verifications with
cycle_days, and the part of the plan's chunks a verification read.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'verify_cycles',
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime()),
        sa.Column('deleted_at', sa.DateTime()),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('scheduled_operation_id', sa.String(36), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(64), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('ends_at', sa.DateTime(), nullable=False),
        sa.Column('read_to', sa.BigInteger(), nullable=False),
        sa.Column('chunks', sa.Integer(), nullable=False),
        sa.Column('chunks_read', sa.Integer(), nullable=False),
        sa.Column('chunks_left', sa.Integer(), nullable=False),
        sa.Column('chunks_damaged', sa.Integer(), nullable=False),
        sa.Column('runs', sa.Integer(), nullable=False),
        sa.Column('expected_completion', sa.DateTime()),
        sa.Column('completed_at', sa.DateTime()),
        sa.Column('reason', sa.Text()),
        sa.UniqueConstraint('scheduled_operation_id', 'number',
                            name='uniq_verify_cycles0operation0number'),
    )
    with op.batch_alter_table('verifications') as batch:
        batch.add_column(sa.Column('scope', sa.JSON()))
