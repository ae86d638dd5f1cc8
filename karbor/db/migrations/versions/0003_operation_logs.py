"""Create the operation_logs table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'operation_logs',
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime()),
        sa.Column('deleted_at', sa.DateTime()),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('operation_type', sa.String(255), nullable=False),
        sa.Column('checkpoint_id', sa.String(36)),
        sa.Column('plan_id', sa.String(36)),
        sa.Column('provider_id', sa.String(36)),
        sa.Column('restore_id', sa.String(36)),
        sa.Column('verification_id', sa.String(36)),
        sa.Column('scheduled_operation_id', sa.String(36)),
        sa.Column('status', sa.String(64)),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime()),
        sa.Column('error_info', sa.Text()),
        sa.Column('extra_info', sa.JSON()),
    )
    op.create_index('operation_logs_project_started_idx', 'operation_logs',
                    ['project_id', 'started_at', 'id'])
    op.create_index('operation_logs_project_status_started_idx',
                    'operation_logs',
                    ['project_id', 'status', 'started_at', 'id'])
    op.create_index('operation_logs_checkpoint_id_idx', 'operation_logs',
                    ['checkpoint_id'])
    op.create_index('operation_logs_plan_id_idx', 'operation_logs',
                    ['plan_id'])
    op.create_index('operation_logs_restore_id_idx', 'operation_logs',
                    ['restore_id'])
    op.create_index('operation_logs_scheduled_operation_id_idx',
                    'operation_logs', ['scheduled_operation_id'])
    op.create_index('operation_logs_provider_started_idx', 'operation_logs',
                    ['provider_id', 'started_at'])
