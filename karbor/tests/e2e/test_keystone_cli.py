"""The released CLIs against a Karbor API that Keystone protects.

A real Keystone (karbor/tests/e2e/keystone.py) issues the tokens and
lists Karbor in its catalog; karbor-all runs with auth_strategy =
keystone. The CLIs log in with a password and find the API through the
catalog, as a tenant's would: no ``--karbor-url``, no ``--os-endpoint``.
The tests run in file order and share the plan and checkpoint of project
A's member.
"""

import json
import pathlib
import subprocess
import types
import urllib.error
import urllib.request

import pytest

from karbor.tests.e2e import helpers
from karbor.tests.e2e.helpers import failed
from karbor.tests.e2e.helpers import ok
from karbor.tests.e2e.helpers import parse_show
from karbor.tests.e2e.helpers import parse_table
from karbor.tests.e2e import keystone as e2e_keystone
from karbor.tests.e2e import test_protection_cli as protection

PROVIDER = helpers.LOCAL_PROVIDER_ID
DIRECTORY = 'OS::Karbor::Directory'
A, B = e2e_keystone.PROJECTS
A_MEMBER = e2e_keystone.user_name(A, 'member')
A_READER = e2e_keystone.user_name(A, 'reader')
B_MEMBER = e2e_keystone.user_name(B, 'member')
FORBIDDEN = 'not allow'  # 'policy does not allow', 'not allowed'


def _raw_get(url, token=None):
    headers = {'Accept': 'application/json'}
    if token is not None:
        headers['X-Auth-Token'] = token
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _make_directory(server, project_id, name):
    top = pathlib.Path(server.state_path) / 'data' / project_id / name
    top.mkdir(parents=True)
    (top / 'hello.txt').write_text('protected by %s\n' % project_id)


def _instance_id(cli, name, user, project):
    rows = parse_table(ok(cli('protectable-list-instances', DIRECTORY,
                              user=user, project=project)))
    ids = [row['Id'] for row in rows if row['Name'] == name]
    assert len(ids) == 1, rows
    return ids[0]


def _plan(cli, server, keystone, user, project, name):
    _make_directory(server, keystone.project_ids[project], name)
    instance = _instance_id(cli, name, user, project)
    return parse_show(ok(cli('plan-create', name, PROVIDER,
                             '%s=%s=%s' % (instance, DIRECTORY, name),
                             user=user, project=project)))


@pytest.fixture(scope='module')
def a_member_cli(keystone_karbor_cli):
    return lambda *args: keystone_karbor_cli(*args, user=A_MEMBER, project=A)


@pytest.fixture(scope='module')
def a_reader_cli(keystone_karbor_cli):
    return lambda *args: keystone_karbor_cli(*args, user=A_READER, project=A)


@pytest.fixture(scope='module')
def a_objects(keystone_karbor_cli, keystone_karbor_server, keystone,
              a_member_cli):
    """Project A's plan and available checkpoint, made by its member."""
    plan = _plan(keystone_karbor_cli, keystone_karbor_server, keystone,
                 A_MEMBER, A, 'a-docs')
    _created, checkpoint = protection.protect(keystone_karbor_server,
                                              a_member_cli, plan['id'])
    return types.SimpleNamespace(plan=plan, checkpoint=checkpoint)


@pytest.mark.parametrize('token', [None, 'not-a-keystone-token'],
                         ids=['no-token', 'bad-token'])
def test_unauthenticated_is_a_json_401(keystone, keystone_karbor_server,
                                       token):
    status, headers, body = _raw_get(
        keystone_karbor_server.endpoint(keystone.project_ids[A]) + '/plans',
        token)
    assert status == 401, body
    assert headers['Content-Type'].startswith('application/json'), headers
    error = json.loads(body)
    assert list(error.values())[0]['message'], error
    # Tells the client where to get a token.
    assert keystone.url in headers['WWW-Authenticate'], headers


def test_a_valid_token_works_on_the_raw_api(keystone, keystone_karbor_server):
    token = keystone.token(A_READER, A)
    status, _headers, body = _raw_get(
        keystone_karbor_server.endpoint(keystone.project_ids[A])
        + '/providers', token)
    assert status == 200, body
    assert PROVIDER in [p['id'] for p in json.loads(body)['providers']]


def test_karbor_cli_finds_the_api_in_the_catalog(keystone_karbor_cli):
    rows = parse_table(ok(keystone_karbor_cli('provider-list',
                                              user=A_READER, project=A)))
    assert PROVIDER in [row['Id'] for row in rows], rows


def test_openstack_cli_finds_the_api_in_the_catalog(keystone_openstack_cli):
    rows = json.loads(ok(keystone_openstack_cli(
        'provider', 'list', '-f', 'json', user=A_READER, project=A)))
    assert PROVIDER in [row['Id'] for row in rows], rows


def test_a_wrong_password_is_refused_by_keystone(client_venv, keystone,
                                                 keystone_karbor_server):
    argv = keystone.password_argv(A_MEMBER, A)
    argv[argv.index('--os-password') + 1] = 'wrong'
    result = helpers.CliResult(*_run(client_venv, 'karbor',
                                     argv + ['plan-list']))
    message = failed(result)
    assert '401' in message or 'authenticat' in message.lower(), message


def _run(venv, binary, argv):
    proc = subprocess.run(
        [str(helpers.venv_bin(venv, binary))] + argv, capture_output=True,
        text=True, stdin=subprocess.DEVNULL, timeout=120,
        env=helpers.clean_env(helpers.venv_bin(venv)))
    return proc.returncode, proc.stdout, proc.stderr


def test_member_protects_through_the_catalog(a_objects):
    assert a_objects.checkpoint['status'] == 'available', a_objects


def test_reader_lists_and_shows(a_reader_cli, a_objects):
    plans = parse_table(ok(a_reader_cli('plan-list')))
    assert a_objects.plan['id'] in [row['Id'] for row in plans], plans
    shown = parse_show(ok(a_reader_cli('plan-show', a_objects.plan['id'])))
    assert shown['name'] == 'a-docs', shown
    checkpoints = parse_table(ok(a_reader_cli('checkpoint-list', PROVIDER)))
    assert a_objects.checkpoint['id'] in [row['Id'] for row in checkpoints]
    shown = parse_show(ok(a_reader_cli('checkpoint-show', PROVIDER,
                                       a_objects.checkpoint['id'])))
    assert shown['status'] == 'available', shown
    logs = parse_table(ok(a_reader_cli('operationlog-list')))
    assert logs, 'the reader sees no operation log of project A'


@pytest.mark.parametrize('action', [
    'plan-create', 'plan-delete', 'checkpoint-create', 'checkpoint-delete',
    'checkpoint-reset-state', 'restore-create'])
def test_reader_cannot_change_anything(keystone_karbor_cli, a_reader_cli,
                                       a_objects, action):
    plan_id = a_objects.plan['id']
    checkpoint_id = a_objects.checkpoint['id']
    instance = _instance_id(keystone_karbor_cli, 'a-docs', A_READER, A)
    argv = {
        'plan-create': ['plan-create', 'r-docs', PROVIDER,
                        '%s=%s=a-docs' % (instance, DIRECTORY)],
        'plan-delete': ['plan-delete', plan_id],
        'checkpoint-create': ['checkpoint-create', PROVIDER, plan_id],
        'checkpoint-delete': ['checkpoint-delete', PROVIDER, checkpoint_id],
        'checkpoint-reset-state': ['checkpoint-reset-state', PROVIDER,
                                   checkpoint_id],
        'restore-create': ['restore-create', PROVIDER, checkpoint_id],
    }[action]
    message = failed(a_reader_cli(*argv))
    assert '403' in message or FORBIDDEN in message, message


def test_reader_changed_nothing(a_reader_cli, a_objects):
    # (test_dashboard may have left plans of its own in project A.)
    plans = [row['Name'] for row in parse_table(ok(a_reader_cli(
        'plan-list')))]
    assert 'a-docs' in plans and 'r-docs' not in plans, plans
    shown = parse_show(ok(a_reader_cli('checkpoint-show', PROVIDER,
                                       a_objects.checkpoint['id'])))
    assert shown['status'] == 'available', shown
    restores = parse_table(ok(a_reader_cli('restore-list')))
    assert a_objects.checkpoint['id'] not in [
        row['Checkpoint id'] for row in restores], restores


def test_projects_do_not_see_each_other(keystone_karbor_cli,
                                        keystone_openstack_cli,
                                        keystone_karbor_server, keystone,
                                        a_member_cli, a_objects):
    b_plan = _plan(keystone_karbor_cli, keystone_karbor_server, keystone,
                   B_MEMBER, B, 'b-docs')

    a_plans = [row['Id'] for row in parse_table(ok(a_member_cli(
        'plan-list')))]
    assert b_plan['id'] not in a_plans
    assert a_objects.plan['id'] in a_plans
    message = failed(a_member_cli('plan-show', b_plan['id']))
    assert 'could not be found' in message, message

    b_plans = json.loads(ok(keystone_openstack_cli(
        'plan', 'list', '-f', 'json', user=B_MEMBER, project=B)))
    assert [row['Id'] for row in b_plans] == [b_plan['id']], b_plans
    b_checkpoints = json.loads(ok(keystone_openstack_cli(
        'checkpoint', 'list', PROVIDER, '-f', 'json', user=B_MEMBER,
        project=B)))
    assert b_checkpoints == [], b_checkpoints
    b_logs = parse_table(ok(keystone_karbor_cli(
        'operationlog-list', user=B_MEMBER, project=B)))
    assert a_objects.checkpoint['id'] not in json.dumps(b_logs), b_logs


def test_quotas_of_the_tokens_project(keystone, keystone_karbor_cli,
                                      keystone_openstack_cli):
    """With a Keystone session the clients know their project: quota-show
    needs no --tenant here (it does under noauth, test_quotas_cli)."""
    a_id, b_id = keystone.project_ids[A], keystone.project_ids[B]
    shown = parse_show(ok(keystone_karbor_cli('quota-show', user=A_READER,
                                              project=A)))
    assert shown['id'] == a_id, shown
    shown = json.loads(ok(keystone_openstack_cli(
        'quotas', 'show', '--detail', '-f', 'json', user=A_READER,
        project=A)))
    assert shown['id'] == a_id and 'reserved = 0' in shown['plans'], shown
    message = failed(keystone_karbor_cli('quota-update', a_id, '--plans',
                                         '500', user=A_MEMBER, project=A))
    assert FORBIDDEN in message, message
    message = failed(keystone_karbor_cli('quota-show', '--tenant', b_id,
                                         user=A_MEMBER, project=A))
    assert FORBIDDEN in message, message
    # An admin of A sets B's limit (above anything these tests create).
    admin = e2e_keystone.user_name(A, 'admin')
    ok(keystone_karbor_cli('quota-update', b_id, '--plans', '500',
                           user=admin, project=A))
    shown = parse_show(ok(keystone_karbor_cli('quota-defaults', user=B_MEMBER,
                                              project=B)))
    assert shown['id'] == b_id and shown['plans'] != '500', shown
    shown = parse_show(ok(keystone_karbor_cli('quota-show', user=B_MEMBER,
                                              project=B)))
    assert shown['plans'] == '500', shown
