"""Fixtures of the multi-process suite: Karbor as operators deploy it.

PostgreSQL and RabbitMQ are started privately for the session (see
``servers``; tools/install-test-services.sh installs their Debian
packages, and tox runs it first). Then:

``deployment``
    the session's ``servers.Deployment``: ``karbor-manage db sync``, then
    karbor-api under gunicorn (3 workers), two karbor-protection and two
    karbor-operationengine processes, all on the session's database and
    RabbitMQ. Tests must leave it running: a test that kills one of its
    processes starts it again (``deployment.protection[0].start()``).
    Its teardown fails if any process logged a traceback.
``make_deployment(**kwargs)``
    a fresh Deployment of its own (keyword arguments as for
    ``servers.Deployment``) on a new database and a new RabbitMQ vhost of
    the session's servers, stopped after the test (``tracebacks()`` tells
    what its processes logged): for tests that crash processes or
    restart RabbitMQ (``rabbitmq.restart()`` touches every
    deployment, so such a test should not share the session with others
    running at the same moment; the suite runs without xdist).
``postgresql``, ``rabbitmq``
    the session's ``servers.PostgreSQL`` and ``servers.RabbitMQ``;
    ``postgresql.psql(sql, database=...)`` reads the tables directly.
``karbor_server``, ``karbor_cli``, ``karbor_cli_of``, ``openstack_cli``,
``openstack_cli_of``, ``openstack_json``
    the e2e suite's CLI fixtures (released clients in their own
    virtualenv) pointed at ``deployment``.
"""

import secrets

import pytest

from karbor.tests.e2e.conftest import client_venv  # noqa: F401
from karbor.tests.e2e.conftest import karbor_cli  # noqa: F401
from karbor.tests.e2e.conftest import karbor_cli_of  # noqa: F401
from karbor.tests.e2e.conftest import openstack_cli  # noqa: F401
from karbor.tests.e2e.conftest import openstack_cli_of  # noqa: F401
from karbor.tests.e2e.conftest import openstack_json  # noqa: F401
from karbor.tests.multiprocess import servers


def _started(server, what):
    try:
        server.start()
    except servers.ServerError as exc:
        pytest.fail('%s did not start: %s' % (what, exc), pytrace=False)
    return server


@pytest.fixture(scope='session')
def postgresql(tmp_path_factory):
    server = servers.PostgreSQL(tmp_path_factory.mktemp('postgresql'))
    try:
        yield _started(server, 'PostgreSQL')
    finally:
        server.cleanup()


@pytest.fixture(scope='session')
def rabbitmq(tmp_path_factory):
    server = servers.RabbitMQ(tmp_path_factory.mktemp('rabbitmq'))
    try:
        yield _started(server, 'RabbitMQ')
    finally:
        server.stop()


def _fail_on_tracebacks(karbor):
    # Whatever the tests saw through the API, no process may have logged
    # an unexpected exception meanwhile.
    logged = karbor.tracebacks()
    if logged:
        pytest.fail('tracebacks in the logs of %s:\n%s' % (
            ', '.join(sorted(logged)), '\n'.join(
                '==== %s\n%s' % item for item in sorted(logged.items()))),
            pytrace=False)


@pytest.fixture(scope='session')
def deployment(tmp_path_factory, postgresql, rabbitmq):
    karbor = servers.Deployment(tmp_path_factory.mktemp('karbor'),
                                postgresql.url, rabbitmq.url)
    try:
        yield _started(karbor, 'The Karbor deployment')
    finally:
        karbor.stop()
    _fail_on_tracebacks(karbor)


@pytest.fixture(scope='session')
def karbor_server(deployment):
    """What the e2e CLI fixtures talk to."""
    return deployment


@pytest.fixture
def make_deployment(tmp_path, postgresql, rabbitmq):
    made = []

    def make(**kwargs):
        name = 'karbor_%s' % secrets.token_hex(4)
        karbor = servers.Deployment(
            tmp_path / ('%s-%d' % (name, len(made))),
            postgresql.create_database(name), rabbitmq.add_vhost(name),
            **kwargs)
        made.append(karbor)
        return _started(karbor, 'A Karbor deployment')

    yield make
    for karbor in made:
        karbor.stop()
