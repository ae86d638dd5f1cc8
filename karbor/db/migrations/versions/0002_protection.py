"""Create the plans, checkpoints and restores tables.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _base_columns():
    return [
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime()),
        sa.Column('deleted_at', sa.DateTime()),
        sa.Column('deleted', sa.Boolean(), nullable=False),
    ]


def upgrade():
    op.create_table(
        'plans',
        *_base_columns(),
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('provider_id', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('description', sa.String(255)),
        sa.Column('status', sa.String(64), nullable=False),
        sa.Column('resources', sa.JSON(), nullable=False),
        sa.Column('parameters', sa.JSON(), nullable=False),
    )
    op.create_index('plans_project_id_created_at_idx', 'plans',
                    ['project_id', 'created_at'])

    op.create_table(
        'checkpoints',
        *_base_columns(),
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('provider_id', sa.String(36), nullable=False),
        sa.Column('plan_id', sa.String(36)),
        sa.Column('status', sa.String(64), nullable=False),
        sa.Column('host', sa.String(255)),
        sa.Column('protection_plan', sa.JSON(), nullable=False),
        sa.Column('resource_graph', sa.JSON()),
        sa.Column('extra_info', sa.JSON()),
        sa.Column('resources_status', sa.JSON()),
        sa.Column('error_reason', sa.Text()),
    )
    op.create_index('checkpoints_project_provider_created_idx',
                    'checkpoints', ['project_id', 'provider_id',
                                    'created_at'])
    op.create_index('checkpoints_plan_id_idx', 'checkpoints', ['plan_id'])
    op.create_index('checkpoints_status_host_idx', 'checkpoints',
                    ['status', 'host'])

    op.create_table(
        'restores',
        *_base_columns(),
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('provider_id', sa.String(36), nullable=False),
        sa.Column('checkpoint_id', sa.String(36), nullable=False),
        sa.Column('restore_target', sa.String(255)),
        sa.Column('parameters', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(64), nullable=False),
        sa.Column('host', sa.String(255)),
        sa.Column('resources_status', sa.JSON()),
        sa.Column('resources_reason', sa.JSON()),
    )
    op.create_index('restores_project_id_created_at_idx', 'restores',
                    ['project_id', 'created_at'])
    op.create_index('restores_status_host_idx', 'restores',
                    ['status', 'host'])
