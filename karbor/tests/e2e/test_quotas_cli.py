"""Quotas through the released clients: ``karbor quota-*`` and
``openstack data protection quotas ...`` / ``quotaclass ...``.

The module runs its own karbor-all (``[quota] plans = 3``,
``checkpoints = 30``): the default quota class it changes applies to every
project of its server. Project ``quotas`` (member ``quinn``) is the one
limited; ``bob`` of ``other`` only looks. The tests run in file order.

Pinned client-side breakage of python-karborclient 2.1.0 (not fixable in
the server): without ``--tenant``, ``karbor quota-show`` and
``quota-defaults`` fail before sending anything ("'HTTPClient' object has
no attribute 'get_project_id'"), and ``openstack data protection quotas
show``/``default`` under ``admin_token`` ask for the project "None";
``quota-update``/``quotaclass update`` without ``--plans`` send
``plans: 50``; neither CLI can set ``checkpoints`` or reset a project
(``PUT``/``DELETE`` on the API do).
"""

import functools
import json
import pathlib

import pytest

from karbor.tests.e2e.conftest import start_karbor_all
from karbor.tests.e2e import helpers
from karbor.tests.e2e.helpers import failed
from karbor.tests.e2e.helpers import ok
from karbor.tests.e2e.helpers import parse_show
from karbor.tests.e2e.helpers import parse_table

PROVIDER = helpers.LOCAL_PROVIDER_ID
DIRECTORY = 'OS::Karbor::Directory'
PROJECT = 'quotas'
QUINN = 'quinn'
OTHER = 'other'
BOB = 'bob'


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    server = start_karbor_all(tmp_path_factory.mktemp('karbor-quotas'),
                              quota={'plans': 3, 'checkpoints': 30})
    try:
        yield server
    finally:
        helpers.stop_process(server.process)


@pytest.fixture(scope='module')
def karbor(karbor_cli_of, server):
    return karbor_cli_of(server)


@pytest.fixture(scope='module')
def quinn(karbor):
    return functools.partial(karbor, user=QUINN, project=PROJECT)


@pytest.fixture(scope='module')
def admin(karbor):
    return functools.partial(karbor, user=helpers.ADMIN, project=PROJECT)


@pytest.fixture(scope='module')
def osc(openstack_cli_of, server):
    cli = openstack_cli_of(server)

    def run(*args, user=QUINN, project=PROJECT):
        return cli(*args, user=user, project=project)
    return run


def osc_json(result):
    return json.loads(ok(result))


@pytest.fixture(scope='module')
def instance_id(server, quinn):
    top = pathlib.Path(server.state_path) / 'data' / PROJECT / 'docs'
    top.mkdir(parents=True)
    (top / 'a.txt').write_text('alpha\n')
    (row,) = parse_table(ok(quinn('protectable-list-instances', DIRECTORY)))
    return row['Id']


def plan_create(cli, instance_id):
    return cli('plan-create', 'docs', PROVIDER,
               '%s=%s=docs' % (instance_id, DIRECTORY))


def test_a_member_sees_limits_usage_and_defaults(quinn):
    assert parse_show(ok(quinn('quota-show', '--tenant', PROJECT))) == {
        'id': PROJECT, 'plans': '3', 'checkpoints': '30'}
    detail = parse_show(ok(quinn('quota-show', '--tenant', PROJECT,
                                 '--detail')))
    assert detail['plans'] == 'in_use = 0\nlimit = 3\nreserved = 0'
    assert detail['checkpoints'] == 'in_use = 0\nlimit = 30\nreserved = 0'
    assert parse_show(ok(quinn('quota-defaults', '--tenant', PROJECT))) == {
        'id': PROJECT, 'plans': '3', 'checkpoints': '30'}


def test_an_admin_override_is_enforced_on_plan_create(admin, quinn,
                                                      instance_id):
    shown = parse_show(ok(admin('quota-update', PROJECT, '--plans', '1')))
    assert shown == {'id': PROJECT, 'plans': '1', 'checkpoints': '30'}
    ok(plan_create(quinn, instance_id))
    text = failed(plan_create(quinn, instance_id))
    assert ('Quota exceeded for plans of project quotas: 1 in use, limit 1 '
            '(quota of project quotas)') in text, text
    assert 'HTTP 403' in text
    detail = parse_show(ok(quinn('quota-show', '--tenant', PROJECT,
                                 '--detail')))
    assert detail['plans'] == 'in_use = 1\nlimit = 1\nreserved = 0'
    # Pinned: without --plans the client sends 50.
    assert parse_show(ok(admin('quota-update', PROJECT)))['plans'] == '50'
    ok(plan_create(quinn, instance_id))


def test_the_default_class_applies_to_projects_without_their_own(
        admin, quinn, karbor):
    shown = parse_show(ok(admin('quota-class-update', 'default',
                                '--plans', '2')))
    assert shown == {'id': 'default', 'plans': '2', 'checkpoints': '30'}
    assert parse_show(ok(quinn('quota-class-show', 'default')))[
        'plans'] == '2'
    assert parse_show(ok(quinn('quota-defaults', '--tenant', PROJECT)))[
        'plans'] == '2'
    # other has no limit of its own; quotas keeps its 50.
    assert parse_show(ok(karbor('quota-show', '--tenant', OTHER, user=BOB,
                                project=OTHER)))['plans'] == '2'
    assert parse_show(ok(quinn('quota-show', '--tenant', PROJECT)))[
        'plans'] == '50'
    text = failed(quinn('quota-class-show', 'gold'))
    assert 'Quota class gold could not be found' in text, text


def test_non_admins_change_nothing_and_see_only_their_own(quinn):
    text = failed(quinn('quota-update', PROJECT, '--plans', '1000'))
    assert 'karbor:quota:update' in text and 'HTTP 403' in text, text
    text = failed(quinn('quota-class-update', 'default', '--plans', '1000'))
    assert 'karbor:quota_class:update' in text, text
    text = failed(quinn('quota-show', '--tenant', OTHER))
    assert 'karbor:quota:get' in text and 'HTTP 403' in text, text
    assert parse_show(ok(quinn('quota-show', '--tenant', PROJECT)))[
        'plans'] == '50'


def test_the_openstack_cli(osc):
    assert osc_json(osc('quotas', 'show', '--tenant', PROJECT, '-f',
                        'json')) == {'id': PROJECT, 'plans': 50,
                                     'checkpoints': 30}
    detail = osc_json(osc('quotas', 'show', '--tenant', PROJECT, '--detail',
                          '-f', 'json'))
    assert detail['plans'] == 'in_use = 2\nlimit = 50\nreserved = 0'
    assert osc_json(osc('quotas', 'default', '--tenant', PROJECT, '-f',
                        'json'))['plans'] == 2
    assert osc_json(osc('quotas', 'update', PROJECT, '--plans', '4', '-f',
                        'json', user=helpers.ADMIN)) == {
        'id': PROJECT, 'plans': 4, 'checkpoints': 30}
    assert osc_json(osc('quotaclass', 'update', 'default', '--plans', '6',
                        '-f', 'json', user=helpers.ADMIN))['plans'] == 6
    assert osc_json(osc('quotaclass', 'show', 'default', '-f',
                        'json')) == {'id': 'default', 'plans': 6,
                                     'checkpoints': 30}
    text = failed(osc('quotas', 'update', PROJECT, '--plans', '9'))
    assert 'karbor:quota:update' in text, text


def test_reset_through_the_api(server, quinn):
    result = helpers.api_call(server, 'DELETE', '/quotas/%s' % PROJECT)
    assert helpers.api_ok(result) == {'quota': {
        'id': PROJECT, 'plans': 6, 'checkpoints': 30}}
    helpers.api_ok(helpers.api_call(
        server, 'PUT', '/quota_classes/default',
        body={'quota_class': {'plans': None}}))
    assert parse_show(ok(quinn('quota-show', '--tenant', PROJECT)))[
        'plans'] == '3'


def test_client_side_breakage_is_pinned(quinn, osc):
    for command in ('quota-show', 'quota-defaults'):
        text = failed(quinn(command))
        assert "'HTTPClient' object has no attribute 'get_project_id'" in \
            text, text
    # admin_token gives the OpenStack CLI no project: it asks for "None".
    text = failed(osc('quotas', 'show'))
    assert 'karbor:quota:get' in text, text
    assert osc_json(osc('quotas', 'show', '-f', 'json',
                        user=helpers.ADMIN))['id'] == 'None'
