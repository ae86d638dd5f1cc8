"""Create the triggers, scheduled_operations and scheduled_operation_runs
tables.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _timestamps():
    return [
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime()),
        sa.Column('deleted_at', sa.DateTime()),
        sa.Column('deleted', sa.Boolean(), nullable=False),
    ]


def upgrade():
    op.create_table(
        'triggers',
        *_timestamps(),
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('type', sa.String(64), nullable=False),
        sa.Column('properties', sa.JSON(), nullable=False),
    )
    op.create_index('triggers_project_id_created_at_idx', 'triggers',
                    ['project_id', 'created_at'])

    op.create_table(
        'scheduled_operations',
        *_timestamps(),
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255)),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('description', sa.String(255)),
        sa.Column('operation_type', sa.String(64), nullable=False),
        sa.Column('trigger_id', sa.String(36), nullable=False),
        sa.Column('operation_definition', sa.JSON(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('next_run_at', sa.DateTime()),
        sa.Column('claimed_by', sa.String(255)),
        sa.Column('last_run_at', sa.DateTime()),
        sa.Column('last_run_result', sa.String(64)),
        sa.Column('last_run_reason', sa.Text()),
        sa.Column('last_run_checkpoint_id', sa.String(36)),
    )
    op.create_index('scheduled_operations_project_id_created_at_idx',
                    'scheduled_operations', ['project_id', 'created_at'])
    op.create_index('scheduled_operations_trigger_id_idx',
                    'scheduled_operations', ['trigger_id'])
    op.create_index('scheduled_operations_due_idx', 'scheduled_operations',
                    ['deleted', 'enabled', 'next_run_at'])

    op.create_table(
        'scheduled_operation_runs',
        *_timestamps(),
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('scheduled_operation_id', sa.String(36), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(64), nullable=False),
        sa.Column('host', sa.String(255)),
        sa.Column('checkpoint_id', sa.String(36)),
        sa.Column('reason', sa.Text()),
        sa.Column('started_at', sa.DateTime()),
        sa.Column('ended_at', sa.DateTime()),
        sa.UniqueConstraint('scheduled_operation_id', 'due_at',
                            name='uniq_scheduled_operation_runs0operation0'
                                 'due'),
    )
    op.create_index('scheduled_operation_runs_status_host_idx',
                    'scheduled_operation_runs', ['status', 'host'])
