"""List indexes end with id, the last key of every list's keyset.

Lists sort by (created_at, id) (operation logs by started_at): with the
indexes on (..., created_at) alone a database read every row of the
project and sorted them to return a page, so a page's cost grew with
the project. Ending them with id lets a page be read in index order.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# table: (index name, columns before id)
INDEXES = {
    'plans': ('plans_project_id_created_at_idx',
              ['project_id', 'created_at']),
    'checkpoints': ('checkpoints_project_provider_created_idx',
                    ['project_id', 'provider_id', 'created_at']),
    'restores': ('restores_project_id_created_at_idx',
                 ['project_id', 'created_at']),
    'operation_logs': ('operation_logs_provider_started_idx',
                       ['provider_id', 'started_at']),
    'verifications': ('verifications_project_id_created_at_idx',
                      ['project_id', 'created_at']),
    'triggers': ('triggers_project_id_created_at_idx',
                 ['project_id', 'created_at']),
    'scheduled_operations': ('scheduled_operations_project_id_created_at_idx',
                             ['project_id', 'created_at']),
}


def upgrade():
    # Every backend (SQLite too) drops and creates an index in place.
    for table, (name, columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns + ['id'])
