"""A real Keystone for the end-to-end suite (plain helpers, no fixtures).

Keystone 30 runs from a virtualenv of its own (tools/
e2e-keystone-requirements.txt, built once and reused while that file does
not change) under gunicorn on a free loopback port, with SQLite and
fernet tokens in a temporary directory. ``start_keystone`` bootstraps it
and seeds what the tests log in as:

- the service user ``karbor`` (role ``service`` in project ``service``),
  which Karbor's auth_token middleware validates tokens with;
- projects ``e2e-a`` and ``e2e-b``, each with the users ``<project>-admin``,
  ``<project>-member`` and ``<project>-reader`` holding that role;
- the catalog: ``data-protect`` pointing at the Karbor API (its port is
  chosen before Karbor starts) and a ``compute`` endpoint that nothing
  answers on, because Horizon's project pages refuse a catalog without one.
"""

import grp
import os
import pathlib
import pwd

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
import pytest

from karbor.tests.e2e import helpers

REQUIREMENTS = helpers.REPO / 'tools' / 'e2e-keystone-requirements.txt'
DEFAULT_VENV = helpers.REPO / '.tox' / 'e2e-keystone'
SCRIPTS = ('keystone-manage', 'gunicorn')

REGION = 'RegionOne'
DOMAIN = 'Default'
BOOTSTRAP_ADMIN = 'admin'
SERVICE_USER = 'karbor'
SERVICE_PROJECT = 'service'
PROJECTS = ('e2e-a', 'e2e-b')
ROLES = ('admin', 'member', 'reader')
START_TIMEOUT = 60

# keystone's CONF() parses sys.argv: under gunicorn it would read the
# server's own options and exit, so they are hidden while it is imported.
WSGI_MODULE = '''import sys
_argv, sys.argv = sys.argv, sys.argv[:1]
try:
    from keystone.wsgi.api import application  # noqa: F401
finally:
    sys.argv = _argv
'''


def user_name(project, role):
    return '%s-%s' % (project, role)


def password_of(user):
    # Test-only credentials: predictable so a failing run can be replayed
    # by hand against the Keystone it left in its temporary directory.
    return '%s-password' % user


class Keystone(object):
    """A running Keystone: its URL, process, and the seeded ids."""

    def __init__(self, process, port, workdir, log_path):
        self.process = process
        self.url = 'http://127.0.0.1:%d/v3' % port
        self.workdir = workdir
        self.log_path = log_path
        self.project_ids = {}

    def session(self, user, project):
        """A keystoneauth session of ``user`` scoped to ``project``."""
        auth = v3.Password(auth_url=self.url, username=user,
                           password=password_of(user),
                           project_name=project,
                           user_domain_name=DOMAIN,
                           project_domain_name=DOMAIN)
        return ks_session.Session(auth=auth)

    def token(self, user, project):
        return self.session(user, project).get_token()

    def password_argv(self, user, project):
        """The common ``--os-*`` options of both CLIs for password auth."""
        return ['--os-auth-url', self.url,
                '--os-username', user,
                '--os-password', password_of(user),
                '--os-project-name', project,
                '--os-user-domain-name', DOMAIN,
                '--os-project-domain-name', DOMAIN,
                '--os-region-name', REGION]

    def authtoken_options(self):
        """Karbor's [keystone_authtoken] section for this Keystone."""
        return {'www_authenticate_uri': self.url,
                'auth_url': self.url,
                'auth_type': 'password',
                'username': SERVICE_USER,
                'password': password_of(SERVICE_USER),
                'project_name': SERVICE_PROJECT,
                'user_domain_name': DOMAIN,
                'project_domain_name': DOMAIN,
                'region_name': REGION,
                'service_token_roles_required': 'true'}

    def output(self, last_lines=None):
        return helpers.read_log(self.log_path, last_lines)


def build_venv(location):
    return helpers.build_venv(pathlib.Path(location).expanduser().absolute(),
                              REQUIREMENTS, SCRIPTS)


def _manage(venv, config, *args):
    helpers.run_or_fail(
        [str(helpers.venv_bin(venv, 'keystone-manage')), '--config-file',
         str(config)] + list(args),
        'keystone-manage %s' % args[0], timeout=300)


def _configure(venv, workdir, port):
    for name in ('fernet-keys', 'credential-keys', 'log'):
        (workdir / name).mkdir()
    config = pathlib.Path(helpers.write_config(
        workdir / 'keystone.conf',
        DEFAULT={'log_dir': workdir / 'log'},
        database={'connection': 'sqlite:///%s' % (workdir / 'keystone.db')},
        token={'provider': 'fernet'},
        fernet_tokens={'key_repository': workdir / 'fernet-keys'},
        fernet_receipts={'key_repository': workdir / 'fernet-keys'},
        credential={'key_repository': workdir / 'credential-keys'},
        cache={'enabled': 'false'}))
    (workdir / 'karbor_e2e_keystone_wsgi.py').write_text(WSGI_MODULE)
    url = 'http://127.0.0.1:%d/v3' % port
    # The key repositories belong to whoever runs the tests.
    owner = ['--keystone-user', pwd.getpwuid(os.getuid()).pw_name,
             '--keystone-group', grp.getgrgid(os.getgid()).gr_name]
    _manage(venv, config, 'db_sync')
    _manage(venv, config, 'fernet_setup', *owner)
    _manage(venv, config, 'credential_setup', *owner)
    _manage(venv, config, 'bootstrap',
            '--bootstrap-password', password_of(BOOTSTRAP_ADMIN),
            '--bootstrap-region-id', REGION,
            '--bootstrap-admin-url', url,
            '--bootstrap-internal-url', url,
            '--bootstrap-public-url', url)
    return config


def _seed(keystone, karbor_endpoint):
    admin = keystone.session(BOOTSTRAP_ADMIN, 'admin')
    url = keystone.url

    def post(path, kind, body):
        return admin.post(url + path, json={kind: body}).json()[kind]['id']

    roles = {role['name']: role['id']
             for role in admin.get(url + '/roles').json()['roles']}

    def add_user(name, project_id, role):
        user_id = post('/users', 'user', {
            'name': name, 'password': password_of(name),
            'domain_id': 'default', 'default_project_id': project_id})
        admin.put('%s/projects/%s/users/%s/roles/%s'
                  % (url, project_id, user_id, roles[role]))

    for project in (SERVICE_PROJECT,) + PROJECTS:
        keystone.project_ids[project] = post('/projects', 'project', {
            'name': project, 'domain_id': 'default'})
    add_user(SERVICE_USER, keystone.project_ids[SERVICE_PROJECT], 'service')
    for project in PROJECTS:
        for role in ROLES:
            add_user(user_name(project, role), keystone.project_ids[project],
                     role)
    for name, kind, endpoint in [
            ('karbor', 'data-protect', karbor_endpoint),
            ('nova', 'compute',
             'http://127.0.0.1:%d/v2.1' % helpers.free_port())]:
        service_id = post('/services', 'service', {'name': name,
                                                   'type': kind})
        post('/endpoints', 'endpoint', {
            'service_id': service_id, 'interface': 'public',
            'region_id': REGION, 'url': endpoint})


def start_keystone(venv, workdir, karbor_endpoint):
    """Set up, start and seed a Keystone in ``workdir``; return Keystone.

    ``karbor_endpoint`` is the data-protect URL for the catalog, with
    ``$(project_id)s`` where the project goes. Fails the test with
    Keystone's output unless it answers within START_TIMEOUT seconds.
    """
    workdir = pathlib.Path(workdir)
    port = helpers.free_port()
    config = _configure(venv, workdir, port)
    log_path = workdir / 'gunicorn.log'
    process = helpers.start_logged(
        [str(helpers.venv_bin(venv, 'gunicorn')),
         '--bind', '127.0.0.1:%d' % port, '--workers', '1',
         '--threads', '4', '--no-control-socket',
         '--graceful-timeout', '5', '--chdir', str(workdir),
         'karbor_e2e_keystone_wsgi:application'],
        log_path, workdir,
        extra_env={'OS_KEYSTONE_CONFIG_FILES': str(config)})
    keystone = Keystone(process, port, workdir, log_path)
    answered, _ = helpers.poll(lambda: (process.poll() is not None
                                        or helpers.answers(keystone.url)),
                               START_TIMEOUT, interval=0.1)
    if process.poll() is not None or not answered:
        exit_code = helpers.stop_process(process)
        pytest.fail('Keystone did not answer GET %s within %d s (exit code '
                    '%s); the end of its output:\n%s' % (
                        keystone.url, START_TIMEOUT, exit_code,
                        keystone.output(last_lines=100)), pytrace=False)
    try:
        _seed(keystone, karbor_endpoint)
    except ks_exceptions.ClientException:
        helpers.stop_process(process)
        raise
    return keystone
