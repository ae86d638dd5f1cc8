"""Horizon with the Karbor plugin, for the dashboard's end-to-end test.

Horizon 27 (Django 5.2) runs from a virtualenv of its own (tools/
e2e-horizon-requirements.txt, reused while that file does not change),
into which the plugin of ``dashboard/`` is installed afresh each session
the way an operator would install it: ``pip install``, its enabled files
and settings snippet copied under ``openstack_dashboard/local/``. It is
served by gunicorn on a free loopback port against the test Keystone.
"""

import pathlib
import shutil

import pytest

from karbor.tests.e2e import helpers

REQUIREMENTS = helpers.REPO / 'tools' / 'e2e-horizon-requirements.txt'
DEFAULT_VENV = helpers.REPO / '.tox' / 'e2e-horizon'
PLUGIN = helpers.REPO / 'dashboard'
START_TIMEOUT = 60

# Horizon's settings import local/local_settings.py from inside the
# installed package, so that is where a test configuration has to go.
LOCAL_SETTINGS = '''# Written by karbor/tests/e2e/horizon.py for one session.
DEBUG = True  # Django serves /static/ only in debug mode
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
SECRET_KEY = 'karbor-e2e-only'
OPENSTACK_HOST = '127.0.0.1'
OPENSTACK_KEYSTONE_URL = '%(keystone_url)s'
OPENSTACK_KEYSTONE_DEFAULT_DOMAIN = 'Default'
OPENSTACK_KEYSTONE_DEFAULT_ROLE = 'member'
SESSION_ENGINE = 'django.contrib.sessions.backends.file'
SESSION_FILE_PATH = '%(workdir)s/sessions'
CACHES = {'default': {
    'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}
STATIC_ROOT = '%(workdir)s/static'
COMPRESS_OFFLINE = True
TIME_ZONE = 'UTC'
LOGGING = {'version': 1, 'disable_existing_loggers': False,
           'handlers': {'console': {'class': 'logging.StreamHandler'}},
           'root': {'handlers': ['console'], 'level': 'WARNING'}}
# The test cloud has no Neutron: the project overview must not ask it.
OPENSTACK_NEUTRON_NETWORK = {
    'enable_router': False, 'enable_quotas': False,
    'enable_distributed_router': False, 'enable_ha_router': False,
    'enable_fip_topology_check': False}
'''

MANAGE = '''import os
import sys

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'openstack_dashboard.settings')
from django.core.management import execute_from_command_line  # noqa: E402
execute_from_command_line(sys.argv)
'''


class Horizon(object):
    def __init__(self, process, port, workdir, log_path):
        self.process = process
        self.url = 'http://127.0.0.1:%d' % port
        self.workdir = workdir
        self.log_path = log_path

    def output(self, last_lines=None):
        return helpers.read_log(self.log_path, last_lines)


def build_venv(location):
    return helpers.build_venv(pathlib.Path(location).expanduser().absolute(),
                              REQUIREMENTS, ('gunicorn',))


def _python(venv):
    return str(helpers.venv_bin(venv, 'python'))


def install_plugin(venv):
    """pip-install dashboard/ into ``venv``.

    Returns the directories of openstack_dashboard and of the plugin.
    """
    helpers.run_or_fail(
        [_python(venv), '-m', 'pip', 'install', '--disable-pip-version-check',
         '--no-deps', '--force-reinstall',
         str(PLUGIN)], 'installing the dashboard plugin', timeout=600)
    found = helpers.run_or_fail(
        [_python(venv), '-c', 'import os, openstack_dashboard, karbor_horizon;'
         'print(os.path.dirname(openstack_dashboard.__file__));'
         'print(os.path.dirname(karbor_horizon.__file__))'],
        'locating Horizon and the plugin', timeout=120).stdout.split()
    return pathlib.Path(found[0]), pathlib.Path(found[1])


def _configure(venv, workdir, keystone_url):
    dashboard, plugin = install_plugin(venv)
    local = dashboard / 'local'
    (workdir / 'sessions').mkdir()
    (local / 'local_settings.py').write_text(LOCAL_SETTINGS % {
        'keystone_url': keystone_url, 'workdir': workdir})
    for name in ('enabled', 'local_settings.d'):
        target = local / name
        target.mkdir(exist_ok=True)
        for old in target.glob('_60*_karbor*.py'):
            old.unlink()
        for source in (plugin / name).glob('_60*_karbor*.py'):
            shutil.copy(source, target / source.name)
    manage = workdir / 'manage.py'
    manage.write_text(MANAGE)
    for command in (['collectstatic', '--noinput', '-v0'],
                    ['compress', '--force', '-v0']):
        helpers.run_or_fail([_python(venv), str(manage)] + command,
                            'manage.py %s' % command[0], timeout=600)


def start_horizon(venv, workdir, keystone_url):
    """Configure and start Horizon in ``workdir``; return Horizon."""
    workdir = pathlib.Path(workdir)
    _configure(venv, workdir, keystone_url)
    port = helpers.free_port()
    log_path = workdir / 'gunicorn.log'
    process = helpers.start_logged(
        [str(helpers.venv_bin(venv, 'gunicorn')),
         '--bind', '127.0.0.1:%d' % port, '--workers', '1',
         '--threads', '4', '--timeout', '120', '--graceful-timeout', '5',
         '--no-control-socket', 'openstack_dashboard.wsgi:application'],
        log_path, workdir)
    horizon = Horizon(process, port, workdir, log_path)
    answered, _ = helpers.poll(
        lambda: process.poll() is not None or helpers.answers(
            horizon.url + '/auth/login/'), START_TIMEOUT, interval=0.2)
    if process.poll() is not None or not answered:
        exit_code = helpers.stop_process(process)
        pytest.fail('Horizon did not answer GET %s/auth/login/ within %d s '
                    '(exit code %s); the end of its output:\n%s' % (
                        horizon.url, START_TIMEOUT, exit_code,
                        horizon.output(last_lines=100)), pytrace=False)
    return horizon
