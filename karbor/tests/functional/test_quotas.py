"""Per-project quotas and the default quota class through the real API,
in the shapes python-karborclient 2.1.0 sends and reads."""

import threading

import pytest

from karbor.tests.functional.helpers import create_plan
from karbor.tests.functional.helpers import make_tree
from karbor.tests.functional.helpers import PROVIDER
from karbor.tests.functional.test_limits import fault
from karbor.tests.functional.test_limits import plan_body

CHECKPOINTS = 'providers/%s/checkpoints' % PROVIDER


@pytest.fixture
def config_limits(override):
    override('plans', 3, group='quota')
    override('checkpoints', 30, group='quota')


def quota_of(client, project='demo', suffix=''):
    res = client.get('quotas/%s%s' % (project, suffix))
    assert res.status_code == 200, res.json_body
    return res.json_body['quota']


def set_quota(admin_api, project, **limits):
    res = admin_api.put('quotas/%s' % project, {'quota': limits})
    assert res.status_code == 200, res.json_body
    return res.json_body['quota']


def set_class(admin_api, **limits):
    res = admin_api.put('quota_classes/default', {'quota_class': limits})
    assert res.status_code == 200, res.json_body
    return res.json_body['quota_class']


def test_a_project_sees_its_limits_usage_and_defaults(api, docs,
                                                      config_limits):
    assert quota_of(api) == {'id': 'demo', 'plans': 3, 'checkpoints': 30}
    create_plan(api, ['docs'])
    assert quota_of(api, suffix='/detail') == {
        'id': 'demo',
        'plans': {'limit': 3, 'in_use': 1, 'reserved': 0},
        'checkpoints': {'limit': 30, 'in_use': 0, 'reserved': 0}}
    assert quota_of(api, suffix='/defaults') == {
        'id': 'demo', 'plans': 3, 'checkpoints': 30}


def test_an_override_lowers_then_raises_the_limit(api, admin_api, docs,
                                                  config_limits):
    create_plan(api, ['docs'])
    shown = set_quota(admin_api, 'demo', plans=1)
    assert shown == {'id': 'demo', 'plans': 1, 'checkpoints': 30}
    assert quota_of(api) == shown
    name, message = fault(api.post('plans', plan_body(api)), 403)
    assert name == 'forbidden'
    assert message == (
        'Quota exceeded for plans of project demo: 1 in use, limit 1 '
        '(quota of project demo). Delete some, or ask an administrator to '
        'raise the limit.')
    # Above [quota] plans (3): the override, not the option, holds.
    set_quota(admin_api, 'demo', plans=5)
    for _ in range(4):
        create_plan(api, ['docs'])
    assert '5 in use, limit 5 (quota of project demo)' in fault(
        api.post('plans', plan_body(api)), 403)[1]
    # Lowering below what is in use keeps the rows, refuses new ones.
    set_quota(admin_api, 'demo', plans=2)
    assert len(api.get('plans').json_body['plans']) == 5
    assert quota_of(api, suffix='/detail')['plans'] == {
        'limit': 2, 'in_use': 5, 'reserved': 0}


def test_a_checkpoint_override_is_enforced(api, admin_api, docs,
                                           config_limits):
    plan = create_plan(api, ['docs'])
    set_quota(admin_api, 'demo', checkpoints=0)
    message = fault(api.post(CHECKPOINTS, {'checkpoint': {
        'plan_id': plan['id']}}), 403)[1]
    assert message.startswith(
        'Quota exceeded for checkpoints of project demo: 0 in use, '
        'limit 0 (quota of project demo).')


def test_the_default_class_applies_to_projects_without_their_own(
        api, admin_api, docs, config_limits):
    make_tree('other', 'docs', {'a.txt': b'b\n'})
    bob = api.as_user('bob', 'other')
    set_quota(admin_api, 'other', plans=2)
    assert set_class(admin_api, plans=1) == {
        'id': 'default', 'plans': 1, 'checkpoints': 30}
    assert api.get('quota_classes/default').json_body == {
        'quota_class': {'id': 'default', 'plans': 1, 'checkpoints': 30}}
    assert quota_of(api) == {'id': 'demo', 'plans': 1, 'checkpoints': 30}
    assert quota_of(api, suffix='/defaults')['plans'] == 1
    create_plan(api, ['docs'])
    assert '(quota class default)' in fault(
        api.post('plans', plan_body(api)), 403)[1]
    # other's own limit wins over the class.
    create_plan(bob, ['docs'])
    create_plan(bob, ['docs'])
    assert quota_of(bob, 'other')['plans'] == 2
    # null hands the class's limit back to [quota].
    assert set_class(admin_api, plans=None)['plans'] == 3
    create_plan(api, ['docs'])


def test_unlimited_and_reset(api, admin_api, docs, config_limits):
    set_class(admin_api, plans=0)
    set_quota(admin_api, 'demo', plans=-1, checkpoints=-1)
    for _ in range(4):
        create_plan(api, ['docs'])
    assert quota_of(api, suffix='/detail')['plans'] == {
        'limit': -1, 'in_use': 4, 'reserved': 0}
    res = admin_api.delete('quotas/demo')
    assert res.status_code == 200, res.json_body
    assert res.json_body == {'quota': {'id': 'demo', 'plans': 0,
                                       'checkpoints': 30}}
    assert '(quota class default)' in fault(
        api.post('plans', plan_body(api)), 403)[1]


def test_concurrent_first_overrides_all_succeed(admin_api, config_limits):
    start = threading.Barrier(8)
    statuses = []

    def put(limit):
        start.wait()
        statuses.append(admin_api.put('quotas/fresh', {'quota': {
            'plans': limit, 'checkpoints': limit}}).status_code)

    threads = [threading.Thread(target=put, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 8
    shown = quota_of(admin_api, 'fresh')
    assert shown['plans'] == shown['checkpoints'] in range(8)


@pytest.mark.parametrize('body,field', [
    ({'quota': {'volumes': 3}}, 'quota/volumes'),
    ({'quota': {'plans': 3, 'gigabytes': 1}}, 'quota/gigabytes'),
    ({'quota': {'plans': -2}}, 'quota/plans'),
    ({'quota': {'plans': '3'}}, 'quota/plans'),
    ({'quota': {'plans': 1.5}}, 'quota/plans'),
    ({'quota': {'plans': True}}, 'quota/plans'),
    ({'quota': {'plans': 2 ** 31}}, 'quota/plans'),
    ({'quota': {}}, 'quota'),
    ({'quota_class': {'plans': 1}}, 'quota'),
    ({}, 'quota'),
])
def test_bad_update_bodies_are_400_naming_the_field(admin_api, body, field):
    res = admin_api.put('quotas/demo', body)
    message = fault(res, 400)[1]
    assert message.startswith('Invalid input for field %s:' % field), message


@pytest.mark.parametrize('target', ['a%20b', 'x' * 256, '%C3%A9t%C3%A9',
                                    'a:b'])
def test_a_malformed_project_id_is_400(admin_api, target):
    for method, suffix in (('get', ''), ('get', '/detail'),
                           ('get', '/defaults'), ('delete', '')):
        res = getattr(admin_api, method)('quotas/%s%s' % (target, suffix))
        message = fault(res, 400)[1]
        assert 'target_project_id' in message
    res = admin_api.put('quotas/%s' % target, {'quota': {'plans': 1}})
    assert 'target_project_id' in fault(res, 400)[1]


def test_non_admins_see_only_their_own_quota_and_change_none(api):
    for suffix in ('', '/detail', '/defaults'):
        res = api.get('quotas/other%s' % suffix)
        assert fault(res, 403)[1] == (
            'Policy does not allow karbor:quota:get to be performed.')
    # Another project's URL is refused before any quota is looked at.
    res = api.get('/v1/other/quotas/other', project_prefix=False)
    assert fault(res, 403)[0] == 'forbidden'
    for res in (api.put('quotas/demo', {'quota': {'plans': 1000}}),
                api.delete('quotas/demo'),
                api.put('quota_classes/default',
                        {'quota_class': {'plans': 1000}})):
        assert 'karbor:quota' in fault(res, 403)[1]
    assert quota_of(api)['plans'] != 1000


def test_an_admin_may_look_at_any_project(admin_api, config_limits):
    assert quota_of(admin_api, 'never-seen') == {
        'id': 'never-seen', 'plans': 3, 'checkpoints': 30}


def test_only_the_default_quota_class_exists(api, admin_api):
    assert fault(api.get('quota_classes/gold'), 404)[1] == (
        'Quota class gold could not be found; the only quota class is '
        '"default".')
    fault(admin_api.put('quota_classes/gold', {'quota_class': {
        'plans': 1}}), 404)
