"""The alembic migrations build exactly the schema the models describe."""

import unittest

from oslo_db.sqlalchemy import test_migrations
import sqlalchemy

from karbor.db import migration
from karbor.db import models


class TestModelsMatchMigrations(test_migrations.ModelsMigrationsSync,
                                unittest.TestCase):

    def setUp(self):
        super().setUp()
        # One in-memory database shared by every connection of the test.
        self.engine = sqlalchemy.create_engine(
            'sqlite://', poolclass=sqlalchemy.pool.StaticPool)

    def tearDown(self):
        self.engine.dispose()
        super().tearDown()

    def get_engine(self):
        return self.engine

    def get_metadata(self):
        return models.Base.metadata

    def db_sync(self, engine):
        migration.upgrade(engine=engine)


def test_version_after_sync(tmp_path):
    engine = sqlalchemy.create_engine('sqlite:///%s/v.sqlite' % tmp_path)
    assert migration.version(engine=engine) is None
    migration.upgrade(engine=engine)
    assert migration.version(engine=engine) is not None
    # A second sync is a no-op.
    migration.upgrade(engine=engine)
