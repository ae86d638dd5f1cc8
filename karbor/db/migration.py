"""Schema upgrades through alembic, driven from code (no alembic.ini)."""

import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration

from karbor.db import session

_SCRIPT_LOCATION = os.path.join(os.path.dirname(__file__), 'migrations')


def _config(connection):
    config = alembic_config.Config()
    config.set_main_option('script_location', _SCRIPT_LOCATION)
    config.attributes['connection'] = connection
    return config


def upgrade(revision='head', engine=None):
    """Bring the schema up to ``revision`` (all migrations by default)."""
    engine = engine or session.get_engine()
    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)


def version(engine=None):
    """The revision the database is at, or None before the first sync."""
    engine = engine or session.get_engine()
    with engine.connect() as connection:
        return alembic_migration.MigrationContext.configure(
            connection).get_current_revision()
