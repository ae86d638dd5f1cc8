"""Alembic environment: runs on the connection karbor.db.migration hands in."""

from alembic import context

from karbor.db import models

config = context.config
connection = config.attributes['connection']
context.configure(connection=connection,
                  target_metadata=models.Base.metadata,
                  render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
