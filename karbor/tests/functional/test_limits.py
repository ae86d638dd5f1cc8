"""Limits through the real API: body size, page size and the per-project
quotas on plans and checkpoints (also as the operation engine meets them).
"""

import datetime
import threading

from karbor import context
from karbor import objects
from karbor.services.operationengine import scheduler as scheduler_mod
from karbor.tests.functional.helpers import create_plan
from karbor.tests.functional.helpers import DIRECTORY
from karbor.tests.functional.helpers import instance_of
from karbor.tests.functional.helpers import make_tree
from karbor.tests.functional.helpers import protect
from karbor.tests.functional.helpers import PROVIDER
from karbor.tests.functional.helpers import wait_for
from karbor.tests.functional.test_schedules_api import create_operation
from karbor.tests.functional.test_schedules_api import create_trigger

CHECKPOINTS = 'providers/%s/checkpoints' % PROVIDER


def fault(res, status):
    assert res.status_code == status, res.json_body
    ((name, body),) = res.json_body.items()
    assert body['code'] == status
    return name, body['message']


def plan_body(api, name='plan'):
    """A valid plan of ``docs`` as the request body."""
    return {'plan': {'name': name, 'provider_id': PROVIDER, 'resources': [{
        'id': instance_of(api, 'docs')['id'], 'type': DIRECTORY,
        'name': 'docs'}]}}


# Body size ----------------------------------------------------------------

def test_a_body_over_the_limit_is_a_413_naming_the_limit(api, docs,
                                                         override):
    override('osapi_max_request_body_size', 2048)
    body = plan_body(api)
    body['plan']['description'] = 'x' * 4096
    res = api.post('plans', body)
    name, message = fault(res, 413)
    assert name == 'requestEntityTooLarge'
    assert message == 'Request body is larger than 2048 bytes.'
    # Nothing was created, and a body under the limit still goes through.
    assert api.get('plans').json_body['plans'] == []
    create_plan(api, ['docs'])


# Page size ----------------------------------------------------------------

def test_a_limit_above_the_maximum_is_cut_down_to_it(api, override):
    override('osapi_max_limit', 2)
    for name in ('a', 'b', 'c'):
        res = api.post('triggers', {'trigger_info': {
            'name': name, 'type': 'time',
            'properties': {'format': 'crontab', 'pattern': '0 * * * *'}}})
        assert res.status_code == 200, res.json_body
    for query in ('', '?limit=1000'):
        page = api.get('triggers' + query + ('&' if query else '?') +
                       'sort=name').json_body
        assert [t['name'] for t in page['triggers']] == ['a', 'b']
        (link,) = page['triggers_links']
        rest = api.get(link['href'], project_prefix=False).json_body
        assert [t['name'] for t in rest['triggers']] == ['c']
        assert 'triggers_links' not in rest
    assert api.get('triggers?limit=0').json_body == {'triggers': []}


# Plan quota ---------------------------------------------------------------

def test_plans_beyond_the_quota_are_refused_naming_it(api, docs, override):
    override('plans', 2, group='quota')
    first = create_plan(api, ['docs'])
    create_plan(api, ['docs'])
    res = api.post('plans', plan_body(api, 'third'))
    name, message = fault(res, 403)
    assert name == 'forbidden'
    assert message == (
        'Quota exceeded for plans of project demo: 2 in use, limit 2 '
        '([quota] plans). Delete some, or ask an administrator to raise '
        'the limit.')
    assert len(api.get('plans').json_body['plans']) == 2

    # Another project has its own count; an admin creating in demo's URL
    # is held to demo's.
    make_tree('other', 'docs', {'a.txt': b'b\n'})
    create_plan(api.as_user('bob', 'other'), ['docs'])
    res = api.as_user('admin').post('plans', plan_body(api, 'by admin'))
    assert fault(res, 403)[1].startswith(
        'Quota exceeded for plans of project demo: 2 in use')

    # A deleted plan frees its place.
    assert api.delete('plans/%s' % first['id']).status_code == 202
    create_plan(api, ['docs'])


def test_a_negative_quota_is_unlimited_and_zero_refuses_all(api, docs,
                                                            override):
    override('plans', -1, group='quota')
    for _ in range(3):
        create_plan(api, ['docs'])
    override('plans', 0, group='quota')
    res = api.post('plans', plan_body(api))
    assert '3 in use, limit 0' in fault(res, 403)[1]


def test_concurrent_creates_do_not_overshoot_the_quota(api, docs,
                                                       override):
    """Twelve creates at once for three places: exactly three succeed.

    The count and the insert run in one transaction behind a lock (see
    karbor.objects.quota); without it the creates all count before any
    inserts and most succeed.
    """
    override('plans', 3, group='quota')
    body = plan_body(api, 'racer')
    start = threading.Barrier(12)
    statuses = []

    def create():
        start.wait()
        statuses.append(api.post('plans', body).status_code)

    threads = [threading.Thread(target=create) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 3 + [403] * 9
    assert len(api.get('plans').json_body['plans']) == 3


# Checkpoint quota ---------------------------------------------------------

def test_checkpoints_counted_are_those_holding_data(api, admin_api, docs,
                                                    protection, override):
    override('checkpoints', 1, group='quota')
    plan = create_plan(api, ['docs'])
    body = {'checkpoint': {'plan_id': plan['id']}}
    available = protect(api, plan['id'])
    assert available['status'] == 'available'
    name, message = fault(api.post(CHECKPOINTS, body), 403)
    assert message.startswith(
        'Quota exceeded for checkpoints of project demo: 1 in use, '
        'limit 1 ([quota] checkpoints).')

    # A failed protect does not count...
    res = admin_api.put('%s/%s' % (CHECKPOINTS, available['id']),
                        {'os-resetState': {'state': 'error'}})
    assert res.status_code == 200, res.json_body
    second = protect(api, plan['id'])
    fault(api.post(CHECKPOINTS, body), 403)
    # ...nor does one being deleted; one whose delete failed does again.
    assert api.delete('%s/%s' % (CHECKPOINTS, second['id'])
                      ).status_code == 202
    wait_for(lambda: api.get('%s/%s' % (CHECKPOINTS, second['id'])
                             ).status_code, lambda status: status == 404)
    third = protect(api, plan['id'])
    row = objects.Checkpoint.get_by_id(context.get_admin_context(),
                                       third['id'])
    assert row.conditional_update({'status': 'error-deleting'},
                                  {'status': 'available'})
    fault(api.post(CHECKPOINTS, body), 403)


def test_a_scheduled_protect_over_the_quota_fails_its_run(
        api, docs, override):
    override('checkpoints', 0, group='quota')
    plan = create_plan(api, ['docs'])
    trigger = create_trigger(api, '* * * * *', window=300)
    operation = create_operation(api, trigger['id'], plan['id'])
    due = objects.ScheduledOperation.get_by_id(
        context.get_admin_context(), operation['id']).next_run_at

    class Clock(object):
        def now(self):
            return due + datetime.timedelta(seconds=1)

    engine = scheduler_mod.Scheduler('engine-quota', clock=Clock())
    try:
        (run,) = engine.tick()
    finally:
        engine.stop()
    assert run.status == 'failed'
    assert run.checkpoint_id is None
    expected = ('Quota exceeded for checkpoints of project demo: 0 in use, '
                'limit 0')
    assert run.reason.startswith(expected)
    shown = api.get('scheduled_operations/%s' % operation['id']).json_body[
        'scheduled_operation']
    assert shown['last_run_result'] == 'error'
    assert shown['last_run_reason'].startswith(expected)
    assert api.get(CHECKPOINTS).json_body['checkpoints'] == []
