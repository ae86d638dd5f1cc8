"""Per-project and per-class quota limits, overriding ``[quota]``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'quota_limits',
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime()),
        sa.Column('deleted_at', sa.DateTime()),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('owner_type', sa.String(16), nullable=False),
        sa.Column('owner', sa.String(255), nullable=False),
        sa.Column('resource', sa.String(64), nullable=False),
        sa.Column('hard_limit', sa.Integer(), nullable=False),
        sa.UniqueConstraint(
            'owner_type', 'owner', 'resource',
            name='uniq_quota_limits0owner_type0owner0resource'),
    )
