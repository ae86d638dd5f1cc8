"""On PostgreSQL too, the migrations build exactly what the models say."""

import unittest

from oslo_db.sqlalchemy import test_migrations
import pytest
import sqlalchemy

from karbor.db import migration
from karbor.db import models


class TestModelsMatchMigrationsOnPostgreSQL(
        test_migrations.ModelsMigrationsSync, unittest.TestCase):

    @pytest.fixture(autouse=True)
    def _fresh_database(self, postgresql):
        self.engine = sqlalchemy.create_engine(
            postgresql.create_database('schema_sync'))
        yield
        self.engine.dispose()

    def get_engine(self):
        return self.engine

    def get_metadata(self):
        return models.Base.metadata

    def db_sync(self, engine):
        migration.upgrade(engine=engine)
