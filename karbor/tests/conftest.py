"""Fixtures shared by unit and functional tests.

The process gets one configuration and one database (enginefacade
cannot be reconfigured): a SQLite file, or with ``--database=postgresql``
a private PostgreSQL cluster the process starts on a free port (each
pytest-xdist worker its own; the server from Debian's ``postgresql``
package, as tools/install-test-services.sh installs it). Each test that
touches the database empties its tables afterwards.
"""

from oslo_log import log as logging
import pytest

from karbor.conf import CONF
from karbor import context
from karbor.db import migration
from karbor.db import models
from karbor.db import session as db_session
from karbor import objects
from karbor import policy
from karbor.services.protection import provider


def pytest_addoption(parser):
    parser.addoption(
        '--database', choices=('sqlite', 'postgresql'), default='sqlite',
        help='the database the tests run on: a SQLite file (default) or a '
             'private PostgreSQL cluster started for the test process')


@pytest.fixture(scope='session', autouse=True)
def karbor_config(tmp_path_factory, pytestconfig):
    state = tmp_path_factory.mktemp('karbor-state')
    logging.register_options(CONF)
    CONF([], project='karbor', default_config_files=[])
    CONF.set_override('state_path', str(state))
    CONF.set_override('transport_url', 'fake://')
    postgres = None
    if pytestconfig.getoption('database') == 'postgresql':
        # Imported here: only this mode needs the server helpers.
        from karbor.tests.multiprocess import servers
        postgres = servers.PostgreSQL(state / 'postgresql',
                                      max_connections=100)
        postgres.start()
        CONF.set_override('connection', postgres.url, group='database')
    objects.register_all()
    db_session.configure(CONF)
    migration.upgrade()
    yield CONF
    if postgres is not None:
        db_session.get_engine().dispose()
        postgres.cleanup()
    CONF.reset()


@pytest.fixture
def db():
    """The migrated database, emptied after the test."""
    yield db_session.get_engine()
    with db_session.get_engine().begin() as connection:
        for table in reversed(models.Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def admin_context():
    return context.get_admin_context()


@pytest.fixture
def override():
    """set_override that is undone after the test: override(name, v, group)."""
    done = []

    def _override(name, value, group=None):
        CONF.set_override(name, value, group=group)
        done.append((name, group))

    yield _override
    for name, group in done:
        CONF.clear_override(name, group=group)
    policy.reset()
    provider.reset_registry()
