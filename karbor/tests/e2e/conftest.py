"""Fixtures of the end-to-end suite: a real karbor-all and the real clients.

The released python-karborclient 2.1.0 pins PrettyTable<0.8 and its OSC
plugin needs an older osc-lib, so the clients live in a virtualenv of their
own (``client_venv``), built from tools/e2e-client-requirements.txt and
reused while that file does not change. ``karbor_server`` runs
``karbor-all`` as a subprocess on a free loopback port with its state in a
temporary directory; the tests drive it only through the two CLIs.
"""

import json
import os
import pathlib
import subprocess
import time

import pytest

from karbor.tests.e2e import helpers
from karbor.tests.e2e import keystone as e2e_keystone

SERVER_HOST = 'karbor-e2e-all'
REPORT_INTERVAL = 1
SERVICE_DOWN_TIME = 5
START_TIMEOUT = 60
CLI_TIMEOUT = 120


@pytest.fixture(scope='session')
def client_venv():
    """The virtualenv with the released karbor and openstack CLIs.

    ``$KARBOR_E2E_CLIENT_VENV`` if set, else ``<repo>/.tox/e2e-clients``.
    """
    location = (os.environ.get('KARBOR_E2E_CLIENT_VENV')
                or helpers.DEFAULT_CLIENT_VENV)
    return helpers.build_venv(pathlib.Path(location).expanduser().absolute(),
                              helpers.CLIENT_REQUIREMENTS,
                              ('karbor', 'openstack'))


class KarborServer(object):
    """A running karbor-all: where it listens and where it keeps state."""

    def __init__(self, process, port, state_path, config_path, log_path,
                 database_connection):
        self.process = process
        self.port = port
        self.url = 'http://127.0.0.1:%d' % port
        self.state_path = state_path
        self.config_path = config_path
        self.log_path = log_path
        self.database_connection = database_connection
        self.service_host = SERVER_HOST
        self.report_interval = REPORT_INTERVAL
        self.service_down_time = SERVICE_DOWN_TIME

    def endpoint(self, project=helpers.PROJECT):
        return '%s/v1/%s' % (self.url, project)

    def output(self, last_lines=None):
        return helpers.read_log(self.log_path, last_lines)


def start_karbor_all(workdir, port=None, **sections):
    """Start karbor-all with its state in ``workdir``; return KarborServer.

    ``sections`` (``{group: {option: value}}``) add to its configuration.

    Fails the test (with the process output) unless ``GET /`` answers
    within START_TIMEOUT seconds.
    """
    workdir = pathlib.Path(workdir)
    port = port or helpers.free_port()
    # The default connection lives under state_path too; spelling it out
    # lets other processes (test_cli's extra karbor-protection) share it.
    connection = 'sqlite:///%s' % (workdir / 'karbor.sqlite')
    settings = {
        'DEFAULT': {'state_path': workdir,
                    'host': SERVER_HOST,
                    'osapi_karbor_listen': '127.0.0.1',
                    'osapi_karbor_listen_port': port,
                    'report_interval': REPORT_INTERVAL,
                    'service_down_time': SERVICE_DOWN_TIME},
        'database': {'connection': connection}}
    for group, options in sections.items():
        settings.setdefault(group, {}).update(options)
    config = helpers.write_config(workdir / 'karbor-all.conf', **settings)
    log_path = workdir / 'karbor-all.log'
    process = helpers.start_logged(
        [helpers.find_script('karbor-all'), '--config-file', config],
        log_path, workdir)
    server = KarborServer(process, port, str(workdir), config,
                          str(log_path), connection)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        if helpers.answers(server.url + '/'):
            return server
        time.sleep(0.2)
    exit_code = helpers.stop_process(process)
    pytest.fail('karbor-all did not answer GET %s/ within %d s (exit code '
                '%s); the end of its output:\n%s' % (
                    server.url, START_TIMEOUT, exit_code,
                    server.output(last_lines=150)),
                pytrace=False)


@pytest.fixture(scope='session')
def karbor_server(tmp_path_factory):
    """A karbor-all subprocess, stopped (SIGTERM, then SIGKILL) at the end."""
    server = start_karbor_all(tmp_path_factory.mktemp('karbor-all'))
    try:
        yield server
    finally:
        helpers.stop_process(server.process)


def _cli(venv, binary, auth_argv):
    def run(*args, user=helpers.ADMIN, project=helpers.PROJECT,
            timeout=CLI_TIMEOUT):
        argv = ([str(helpers.venv_bin(venv, binary))]
                + auth_argv(user, project) + [str(arg) for arg in args])
        proc = subprocess.run(argv, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=timeout,
                              env=helpers.clean_env(helpers.venv_bin(venv)))
        return helpers.CliResult(proc.returncode, proc.stdout, proc.stderr)
    return run


@pytest.fixture(scope='session')
def karbor_cli_of(client_venv):
    """karbor_cli_of(server) -> the ``karbor_cli`` of another server."""
    def make(server):
        def auth(user, project):
            return ['--os-auth-token', '%s:%s' % (user, project),
                    '--os-no-client-auth',
                    '--karbor-url', server.endpoint(project)]
        return _cli(client_venv, 'karbor', auth)
    return make


@pytest.fixture(scope='session')
def karbor_cli(karbor_cli_of, karbor_server):
    """karbor_cli(*args, user='admin', project=PROJECT) -> (rc, out, err)."""
    return karbor_cli_of(karbor_server)


@pytest.fixture(scope='session')
def openstack_cli_of(client_venv):
    """openstack_cli_of(server) -> the ``openstack_cli`` of another server."""
    def make(server):
        def auth(user, project):
            return ['--os-auth-type', 'admin_token',
                    '--os-endpoint', server.endpoint(project),
                    '--os-token', '%s:%s' % (user, project),
                    'data', 'protection']
        return _cli(client_venv, 'openstack', auth)
    return make


@pytest.fixture(scope='session')
def openstack_cli(openstack_cli_of, karbor_server):
    """openstack_cli(*args, user=, project=) -> (rc, out, err).

    ``args`` follow ``openstack ... data protection``.
    """
    return openstack_cli_of(karbor_server)


@pytest.fixture(scope='session')
def openstack_json(openstack_cli):
    """openstack_json(*args, user=, project=): ``-f json`` output, parsed."""
    def run(*args, **kwargs):
        result = openstack_cli(*(args + ('-f', 'json')), **kwargs)
        return json.loads(helpers.ok(result))
    return run


# ----------------------------------------------------- behind a real Keystone

@pytest.fixture(scope='session')
def keystone_venv():
    """The virtualenv with Keystone and gunicorn.

    ``$KARBOR_E2E_KEYSTONE_VENV`` if set, else ``<repo>/.tox/e2e-keystone``.
    """
    return e2e_keystone.build_venv(
        os.environ.get('KARBOR_E2E_KEYSTONE_VENV')
        or e2e_keystone.DEFAULT_VENV)


@pytest.fixture(scope='session')
def keystone_karbor_port():
    """The port of the Keystone-protected karbor-all.

    Chosen before either starts: Keystone's catalog must name it.
    """
    return helpers.free_port()


@pytest.fixture(scope='session')
def keystone(keystone_venv, keystone_karbor_port, tmp_path_factory):
    """A seeded Keystone (see karbor/tests/e2e/keystone.py), stopped last."""
    server = e2e_keystone.start_keystone(
        keystone_venv, tmp_path_factory.mktemp('keystone'),
        'http://127.0.0.1:%d/v1/$(project_id)s' % keystone_karbor_port)
    try:
        yield server
    finally:
        helpers.stop_process(server.process)


@pytest.fixture(scope='session')
def keystone_karbor_server(keystone, keystone_karbor_port, tmp_path_factory):
    """A karbor-all with auth_strategy = keystone, validating tokens there."""
    server = start_karbor_all(tmp_path_factory.mktemp('karbor-keystone'),
                              port=keystone_karbor_port,
                              DEFAULT={'auth_strategy': 'keystone'},
                              keystone_authtoken=keystone.authtoken_options())
    try:
        yield server
    finally:
        helpers.stop_process(server.process)


@pytest.fixture(scope='session')
def keystone_karbor_cli(client_venv, keystone, keystone_karbor_server):
    """keystone_karbor_cli(*args, user=, project=) -> (rc, out, err).

    Password auth of a seeded user; the API is found in the catalog.
    """
    cli = _cli(client_venv, 'karbor', keystone.password_argv)

    def run(*args, user, project):
        return cli(*args, user=user, project=project)
    return run


@pytest.fixture(scope='session')
def keystone_openstack_cli(client_venv, keystone, keystone_karbor_server):
    """keystone_openstack_cli(*args, user=, project=): ``data protection``."""
    cli = _cli(client_venv, 'openstack',
               lambda user, project: keystone.password_argv(user, project)
               + ['--os-identity-api-version', '3', 'data', 'protection'])

    def run(*args, user, project):
        return cli(*args, user=user, project=project)
    return run


# ------------------------------------------------------------ artifacts

ARTIFACTS = []


@pytest.fixture(scope='session')
def artifacts():
    """artifacts(name) -> a directory kept after the run for people to see.

    Under ``$KARBOR_E2E_ARTIFACTS`` (default ``<repo>/.tox/e2e-artifacts``);
    the end of the run lists the directories made.
    """
    root = pathlib.Path(os.environ.get('KARBOR_E2E_ARTIFACTS')
                        or helpers.REPO / '.tox' / 'e2e-artifacts')

    def make(name):
        directory = (root / name).absolute()
        directory.mkdir(parents=True, exist_ok=True)
        ARTIFACTS.append(directory)
        return directory
    return make


def pytest_terminal_summary(terminalreporter):
    for directory in ARTIFACTS:
        terminalreporter.write_line('e2e artifacts: %s' % directory)
