"""Record each checkpoint's latest verification, and the verification a
scheduled verify run started.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checkpoints') as batch:
        batch.add_column(sa.Column('last_verified_at', sa.DateTime()))
        batch.add_column(sa.Column('last_verification_id', sa.String(36)))
        batch.add_column(sa.Column('last_verification_status',
                                   sa.String(64)))
    with op.batch_alter_table('scheduled_operation_runs') as batch:
        batch.add_column(sa.Column('verification_id', sa.String(36)))
