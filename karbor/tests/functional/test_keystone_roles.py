"""Every v1 route under auth_strategy = keystone, as each Keystone role.

The routes come from ``karbor.api.app.V1_ROUTES``: a route added there
without a row in ``CASES`` fails ``test_every_route_has_a_case``, and its
parametrized test fails too. For each route:

- no token: 401 JSON;
- ``reader`` of project A: may call what only reads; anything that
  creates, changes, deletes or acts gets 403 JSON;
- ``member`` of project A: may also write; admin-only routes get 403;
- ``admin`` (a token of a third project, calling A's URLs): everything,
  and lists with ``all_tenants=1`` show A's rows;
- ``member`` of project B: 403 on A's URLs; through B's own URL, A's rows
  are 404 and never in a list.

Tokens carry the roles Keystone's default role implication gives
(admin implies member implies reader). No [keystone_authtoken]
www_authenticate_uri is set: the 401s must not depend on it.

One world of rows (a plan, an available checkpoint, a restore, a
verification, a trigger and a scheduled operation of project A) is made
per module; a caller allowed to delete gets a fresh row to delete.
"""

import dataclasses
import typing

from keystonemiddleware import fixture as ksm_fixture
from oslo_serialization import jsonutils
import pytest
import webob

from karbor.api import app as api_app
from karbor.cmd import protection as protection_cmd
from karbor.conf import CONF
from karbor.db import models
from karbor.db import session as db_session
from karbor import policy
from karbor.services.protection import provider as provider_registry
from karbor.tests.functional.helpers import DIRECTORY
from karbor.tests.functional.helpers import make_tree
from karbor.tests.functional.helpers import PROVIDER
from karbor.tests.functional.helpers import wait_for

PROJECT_A = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1'
PROJECT_B = 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2'
PROJECT_ADMIN = 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3'

# token id: (user, project, roles as Keystone hands them out)
TOKENS = {
    'reader-a': ('u-reader', PROJECT_A, ['reader']),
    'member-a': ('u-member', PROJECT_A, ['member', 'reader']),
    'admin': ('u-admin', PROJECT_ADMIN, ['admin', 'member', 'reader']),
    'member-b': ('u-other', PROJECT_B, ['member', 'reader']),
}

ANY, READ, WRITE, ADMIN = 'any', 'read', 'write', 'admin'


class Client(object):
    def __init__(self, app, token):
        self.app = app
        self.token = token

    def call(self, method, path, body=None):
        headers = {'X-Auth-Token': self.token} if self.token else {}
        req = webob.Request.blank('/v1' + path, method=method,
                                  headers=headers)
        if body is not None:
            req.body = jsonutils.dump_as_bytes(body)
            req.content_type = 'application/json'
        res = req.get_response(self.app)
        assert res.content_type == 'application/json', (
            method, path, res.status, res.body[:200])
        res.json_body = jsonutils.loads(res.body) if res.body else None
        return res


def ok(res, what):
    assert 200 <= res.status_code < 300, (what, res.status, res.json_body)
    return res.json_body


def refused(res, status, what):
    assert res.status_code == status, (what, res.status, res.json_body)
    ((_, fault),) = res.json_body.items()
    assert fault['code'] == status and fault['message'], what


# What each route needs, and how to call it. ``owned`` names the URL
# variable holding a row of project A; ``listed`` is (collection key,
# world key) of a list that shows that row, ``tenants`` whether the list
# takes all_tenants; ``body(world)`` builds the request body and
# ``refers`` says whether it names A's rows (then B gets 404 for it);
# ``fresh(member)`` makes a new target {variable: id} for a caller that
# will change it; ``settle(member, world, body)`` waits for the background
# work a successful call started; ``foreign`` is what B gets for ``owned``
# through B's own URL (a quota of A: 403, whether A exists or not).
@dataclasses.dataclass
class Case:
    access: str
    owned: str | None = None
    listed: tuple | None = None
    tenants: bool = True
    body: typing.Callable | None = None
    refers: bool = False
    fresh: typing.Callable | None = None
    settle: typing.Callable | None = None
    foreign: int = 404


def _final(member, path, key, busy):
    return wait_for(lambda: member.call('GET', path).json_body[key],
                    lambda row: row['status'] != busy, timeout=60)


def _checkpoints_path(project=PROJECT_A):
    return '/%s/providers/%s/checkpoints' % (project, PROVIDER)


def new_plan(member, world):
    body = ok(member.call('POST', '/%s/plans' % PROJECT_A, _plan_body(world)),
              'plan')
    return {'plan_id': body['plan']['id']}


def _plan_body(world):
    return {'plan': {'name': 'docs', 'provider_id': PROVIDER,
                     'resources': [{'id': world['resource_id'],
                                    'type': DIRECTORY, 'name': 'docs'}]}}


def new_checkpoint(member, world):
    body = ok(member.call('POST', _checkpoints_path(),
                          {'checkpoint': {'plan_id': world['plan_id']}}),
              'checkpoint')
    checkpoint_id = body['checkpoint']['id']
    row = _final(member, '%s/%s' % (_checkpoints_path(), checkpoint_id),
                 'checkpoint', 'protecting')
    assert row['status'] == 'available', row
    return {'checkpoint_id': checkpoint_id}


def _trigger_body(world):
    return {'trigger_info': {'name': 'daily', 'type': 'time', 'properties': {
        'format': 'crontab', 'pattern': '0 3 * * *'}}}


def new_trigger(member, world):
    body = ok(member.call('POST', '/%s/triggers' % PROJECT_A,
                          _trigger_body(world)), 'trigger')
    return {'trigger_id': body['trigger_info']['id']}


def _operation_body(world):
    return {'scheduled_operation': {
        'name': 'nightly', 'operation_type': 'protect',
        'trigger_id': world['trigger_id'],
        'operation_definition': {'provider_id': PROVIDER,
                                 'plan_id': world['plan_id']}}}


def new_operation(member, world):
    body = ok(member.call('POST', '/%s/scheduled_operations' % PROJECT_A,
                          _operation_body(world)), 'scheduled operation')
    return {'scheduled_operation_id': body['scheduled_operation']['id']}


def _restore_body(world):
    return {'restore': {'provider_id': PROVIDER,
                        'checkpoint_id': world['checkpoint_id'],
                        'restore_target': None, 'restore_auth': None,
                        'parameters': {}}}


def _verification_body(world):
    return {'verification': {'provider_id': PROVIDER,
                             'checkpoint_id': world['checkpoint_id'],
                             'parameters': {}}}


def _settle_created(collection, key, busy):
    def settle(member, world, body):
        _final(member, '/%s/%s/%s' % (PROJECT_A, collection, body[key]['id']),
               key, busy)
    return settle


def _settle_checkpoint(member, world, body):
    _final(member, '%s/%s' % (_checkpoints_path(), body['checkpoint']['id']),
           'checkpoint', 'protecting')


def _settle_deleted_checkpoint(member, world, body):
    wait_for(lambda: member.call('GET', '%s/%s' % (
        _checkpoints_path(), world['checkpoint_id'])).status_code,
        lambda status: status == 404, timeout=60)


P = '/{project_id}'
CHECKPOINTS = P + '/providers/{provider_id}/checkpoints'
INSTANCES = P + '/protectables/{protectable_type}/instances'

CASES = {
    ('GET', '/'): Case(ANY),
    ('GET', '/openapi.json'): Case(ANY),
    ('GET', P + '/providers'): Case(READ),
    ('GET', P + '/providers/{provider_id}'): Case(READ),
    ('GET', CHECKPOINTS): Case(
        READ, listed=('checkpoints', 'checkpoint_id')),
    ('POST', CHECKPOINTS): Case(
        WRITE, body=lambda w: {'checkpoint': {'plan_id': w['plan_id']}},
        refers=True, settle=_settle_checkpoint),
    ('GET', CHECKPOINTS + '/{checkpoint_id}'): Case(
        READ, owned='checkpoint_id'),
    ('PUT', CHECKPOINTS + '/{checkpoint_id}'): Case(
        ADMIN, owned='checkpoint_id',
        body=lambda w: {'os-resetState': {'state': 'available'}}),
    ('DELETE', CHECKPOINTS + '/{checkpoint_id}'): Case(
        WRITE, owned='checkpoint_id', fresh=new_checkpoint,
        settle=_settle_deleted_checkpoint),
    ('GET', P + '/providers/{provider_id}/operation_logs'): Case(
        READ, listed=('operation_logs', 'operation_log_id')),
    ('GET', P + '/providers/{provider_id}/operation_logs/'
     '{operation_log_id}'): Case(READ, owned='operation_log_id'),
    ('GET', P + '/operation_logs'): Case(
        READ, listed=('operation_logs', 'operation_log_id')),
    ('GET', P + '/operation_logs/{operation_log_id}'): Case(
        READ, owned='operation_log_id'),
    ('GET', P + '/plans'): Case(READ, listed=('plans', 'plan_id')),
    ('POST', P + '/plans'): Case(WRITE, body=_plan_body, refers=True),
    ('GET', P + '/plans/{plan_id}'): Case(READ, owned='plan_id'),
    ('PUT', P + '/plans/{plan_id}'): Case(
        WRITE, owned='plan_id', body=lambda w: {'plan': {'name': 'x'}}),
    ('DELETE', P + '/plans/{plan_id}'): Case(
        WRITE, owned='plan_id', fresh=new_plan),
    ('GET', P + '/protectables'): Case(READ),
    ('GET', P + '/protectables/{protectable_type}'): Case(READ),
    ('GET', INSTANCES): Case(
        READ, listed=('instances', 'resource_id'), tenants=False),
    ('GET', INSTANCES + '/{resource_id}'): Case(READ, owned='resource_id'),
    ('GET', P + '/restores'): Case(READ, listed=('restores', 'restore_id')),
    ('POST', P + '/restores'): Case(
        WRITE, body=_restore_body, refers=True,
        settle=_settle_created('restores', 'restore', 'in_progress')),
    ('GET', P + '/restores/{restore_id}'): Case(READ, owned='restore_id'),
    ('GET', P + '/verifications'): Case(
        READ, listed=('verifications', 'verification_id')),
    ('POST', P + '/verifications'): Case(
        WRITE, body=_verification_body, refers=True,
        settle=_settle_created('verifications', 'verification',
                               'verifying')),
    ('GET', P + '/verifications/{verification_id}'): Case(
        READ, owned='verification_id'),
    ('GET', P + '/triggers'): Case(READ, listed=('triggers', 'trigger_id')),
    ('POST', P + '/triggers'): Case(WRITE, body=_trigger_body),
    ('GET', P + '/triggers/{trigger_id}'): Case(READ, owned='trigger_id'),
    ('PUT', P + '/triggers/{trigger_id}'): Case(
        WRITE, owned='trigger_id',
        body=lambda w: {'trigger_info': {'name': 'x'}}),
    ('DELETE', P + '/triggers/{trigger_id}'): Case(
        WRITE, owned='trigger_id', fresh=new_trigger),
    ('GET', P + '/scheduled_operations'): Case(
        READ, listed=('operations', 'scheduled_operation_id')),
    ('POST', P + '/scheduled_operations'): Case(
        WRITE, body=_operation_body, refers=True),
    ('GET', P + '/scheduled_operations/{scheduled_operation_id}'): Case(
        READ, owned='scheduled_operation_id'),
    ('PUT', P + '/scheduled_operations/{scheduled_operation_id}'): Case(
        WRITE, owned='scheduled_operation_id',
        body=lambda w: {'scheduled_operation': {'name': 'x'}}),
    ('DELETE', P + '/scheduled_operations/{scheduled_operation_id}'): Case(
        WRITE, owned='scheduled_operation_id', fresh=new_operation),
    ('GET', P + '/quotas/{target_project_id}'): Case(
        READ, owned='target_project_id', foreign=403),
    ('GET', P + '/quotas/{target_project_id}/detail'): Case(
        READ, owned='target_project_id', foreign=403),
    ('GET', P + '/quotas/{target_project_id}/defaults'): Case(
        READ, owned='target_project_id', foreign=403),
    # Limits above anything this module creates.
    ('PUT', P + '/quotas/{target_project_id}'): Case(
        ADMIN, owned='target_project_id',
        body=lambda w: {'quota': {'plans': 1000}}),
    ('DELETE', P + '/quotas/{target_project_id}'): Case(
        ADMIN, owned='target_project_id'),
    ('GET', P + '/quota_classes/{class_name}'): Case(READ),
    ('PUT', P + '/quota_classes/{class_name}'): Case(
        ADMIN, body=lambda w: {'quota_class': {'plans': None}}),
    ('GET', P + '/os-services'): Case(ADMIN),
    ('PUT', P + '/os-services/{service_id}'): Case(
        ADMIN, body=lambda w: {'status': 'enabled'}),
}


def routes():
    return sorted((method, path)
                  for path, methods in api_app.V1_ROUTES.items()
                  for method in methods)


def _empty_tables():
    with db_session.get_engine().begin() as connection:
        for table in reversed(models.Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    """The keystone app, its clients and project A's rows."""
    data = tmp_path_factory.mktemp('keystone-roles')
    overrides = [('auth_strategy', 'keystone', None),
                 ('root_path', str(data / 'data'), 'directory'),
                 ('file_system_bank_path', str(data / 'bank'),
                  'file_system_bank_plugin')]
    for name, value, group in overrides:
        CONF.set_override(name, value, group=group)
    tokens = ksm_fixture.AuthTokenFixture()
    tokens.setUp()
    for token_id, (user, project, roles) in TOKENS.items():
        tokens.add_token_data(token_id=token_id, user_id=user,
                              project_id=project, role_list=roles)
    app = api_app.load_app()
    service = protection_cmd.build_service()
    service.start()
    try:
        clients = {name: Client(app, name) for name in TOKENS}
        clients[None] = Client(app, None)
        member = clients['member-a']
        make_tree(PROJECT_A, 'docs', {'a.txt': b'alpha\n'})
        make_tree(PROJECT_B, 'docs', {'a.txt': b'beta\n'})
        instances = '/%s/protectables/%s/instances' % (
            PROJECT_A, DIRECTORY)
        (instance,) = ok(member.call('GET', instances),
                         'instances')['instances']
        rows = {'project_id': PROJECT_A, 'provider_id': PROVIDER,
                'protectable_type': DIRECTORY,
                'resource_id': instance['id'],
                'target_project_id': PROJECT_A, 'class_name': 'default'}
        rows.update(new_plan(member, rows))
        rows.update(new_checkpoint(member, rows))
        for collection, key, busy, body in (
                ('restores', 'restore', 'in_progress', _restore_body),
                ('verifications', 'verification', 'verifying',
                 _verification_body)):
            made = ok(member.call('POST', '/%s/%s' % (PROJECT_A, collection),
                                  body(rows)), collection)
            _final(member, '/%s/%s/%s' % (PROJECT_A, collection,
                                          made[key]['id']), key, busy)
            rows['%s_id' % key] = made[key]['id']
        rows.update(new_trigger(member, rows))
        rows.update(new_operation(member, rows))
        logs = ok(member.call('GET', '/%s/operation_logs' % PROJECT_A),
                  'logs')['operation_logs']
        rows['operation_log_id'] = logs[0]['id']
        services = ok(clients['admin'].call(
            'GET', '/%s/os-services' % PROJECT_ADMIN), 'services')
        rows['service_id'] = services['services'][0]['id']
        yield clients, rows
    finally:
        service.stop()
        tokens.cleanUp()
        for name, _, group in overrides:
            CONF.clear_override(name, group=group)
        _empty_tables()
        policy.reset()
        provider_registry.reset_registry()


def test_every_route_has_a_case():
    assert sorted(CASES) == routes()


def _url(path, rows, project, extra=None):
    values = dict(rows, project_id=project, **(extra or {}))
    return path.format(**values)


def _call(client, case, method, path, rows, project, allowed, member):
    """One call; a caller allowed to change the target gets a fresh one."""
    extra = case.fresh(member, rows) if (allowed and case.fresh) else {}
    target = dict(rows, **extra)
    body = case.body(target) if case.body else None
    res = client.call(method, _url(path, target, project), body)
    return res, target


@pytest.mark.parametrize('route', routes(),
                         ids=['%s %s' % route for route in routes()])
def test_route_as_each_role(world, route):
    clients, rows = world
    method, path = route
    case = CASES[route]
    member = clients['member-a']
    what = '%s %s' % route

    refused(clients[None].call(method, _url(path, rows, PROJECT_A)), 401,
            what + ' without a token')
    if case.access == ANY:
        for name in TOKENS:
            ok(clients[name].call(method, path), what + ' as ' + name)
        return

    expected = {'reader-a': case.access == READ,
                'member-a': case.access in (READ, WRITE),
                'admin': True}
    for name, allowed in expected.items():
        res, target = _call(clients[name], case, method, path, rows,
                            PROJECT_A, allowed, member)
        if not allowed:
            refused(res, 403, '%s as %s' % (what, name))
            continue
        body = ok(res, '%s as %s' % (what, name))
        if method == 'POST':
            # Made in the URL's project, the admin's token's project aside.
            (created,) = body.values()
            assert created['project_id'] == PROJECT_A, (what, name, body)
        if case.settle:
            case.settle(member, target, body)
        if case.listed:
            key, row_key = case.listed
            assert rows[row_key] in [r['id'] for r in body[key]], what

    # The admin sees A's rows from its own project with all_tenants.
    if case.listed and case.tenants:
        key, row_key = case.listed
        body = ok(clients['admin'].call(
            method, _url(path, rows, PROJECT_ADMIN) + '?all_tenants=1'),
            what + ' all_tenants')
        assert rows[row_key] in [r['id'] for r in body[key]], what

    # A member of project B: 403 on A's URLs...
    outsider = clients['member-b']
    refused(outsider.call(method, _url(path, rows, PROJECT_A),
                          case.body(rows) if case.body else None),
            403, what + ' as member of B in A\'s URL')
    # ...and, through B's URL, A's rows are not found and not listed.
    res = outsider.call(method, _url(path, rows, PROJECT_B),
                        case.body(rows) if case.body else None)
    if case.access == ADMIN:
        refused(res, 403, what + ' as member of B')
    elif case.owned or case.refers:
        refused(res, case.foreign, what + ' as member of B in B\'s URL')
    elif case.listed:
        key, row_key = case.listed
        assert rows[row_key] not in [r['id'] for r in ok(res, what)[key]]
        if case.tenants:
            refused(outsider.call(method, _url(path, rows, PROJECT_B) +
                                  '?all_tenants=1'), 403,
                    what + ' all_tenants as member of B')
    else:
        ok(res, what + ' as member of B in B\'s URL')
