"""Create the verifications table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'verifications',
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime()),
        sa.Column('deleted_at', sa.DateTime()),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('provider_id', sa.String(36), nullable=False),
        sa.Column('checkpoint_id', sa.String(36), nullable=False),
        sa.Column('status', sa.String(64)),
        sa.Column('host', sa.String(255)),
        sa.Column('parameters', sa.JSON()),
        sa.Column('resources_status', sa.JSON()),
        sa.Column('resources_reason', sa.JSON()),
    )
    op.create_index('verifications_project_id_created_at_idx',
                    'verifications', ['project_id', 'created_at'])
    op.create_index('verifications_checkpoint_id_idx', 'verifications',
                    ['checkpoint_id'])
    op.create_index('verifications_status_host_idx', 'verifications',
                    ['status', 'host'])
