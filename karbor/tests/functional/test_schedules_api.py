"""Triggers and scheduled operations through the real API and database."""

import datetime

from dateutil import rrule
import pytest

from karbor.tests.functional.helpers import create_plan
from karbor.tests.functional.helpers import make_tree
from karbor.tests.functional.helpers import PROVIDER

OTHER_PROVIDER = '0b1c8b2e-2f55-4c67-9b37-4a1c1a4b7c11'
# Ids of nothing (fixed: test ids must be the same in every xdist worker).
UNKNOWN = '8c2f4b43-6c4b-4e59-8f0b-9d1d2f5a0000'


def message(res):
    (fault,) = res.json_body.values()
    assert fault['code'] == res.status_code
    return fault['message']


def create_trigger(api, pattern='0 * * * *', fmt='crontab', name='hourly',
                   **properties):
    res = api.post('triggers', {'trigger_info': {
        'name': name, 'type': 'time',
        'properties': dict(format=fmt, pattern=pattern, **properties)}})
    assert res.status_code == 200, res.json_body
    return res.json_body['trigger_info']


def create_operation(api, trigger_id, plan_id, operation_type='protect',
                     name='nightly', **definition):
    res = api.post('scheduled_operations', {'scheduled_operation': {
        'name': name, 'operation_type': operation_type,
        'trigger_id': trigger_id,
        'operation_definition': dict(provider_id=PROVIDER, plan_id=plan_id,
                                     **definition)}})
    assert res.status_code == 200, res.json_body
    return res.json_body['scheduled_operation']


@pytest.fixture
def plan(api, data_root):
    make_tree('demo', 'docs')
    return create_plan(api, ['docs'])


# Triggers -----------------------------------------------------------------

def test_trigger_lifecycle(api):
    # The karbor CLI's body: window as an integer.
    trigger = create_trigger(api, '*/5 * * * *', window=120)
    assert trigger['type'] == 'time'
    assert trigger['project_id'] == 'demo'
    props = trigger['properties']
    assert (props['format'], props['pattern'], props['window'],
            props['end_time']) == ('crontab', '*/5 * * * *', 120, None)
    assert datetime.datetime.fromisoformat(props['start_time'])
    assert api.get('triggers/%s' % trigger['id']).json_body[
        'trigger_info'] == trigger
    assert [t['id'] for t in api.get('triggers').json_body['triggers']] == [
        trigger['id']]

    res = api.put('triggers/%s' % trigger['id'], {'trigger_info': {
        'name': 'renamed', 'properties': {'window': '600'}}})
    assert res.status_code == 200, res.json_body
    updated = res.json_body['trigger_info']
    assert updated['name'] == 'renamed'
    # Properties not given are kept.
    assert updated['properties'] == dict(props, window=600)

    assert api.delete('triggers/%s' % trigger['id']).status_code == 202
    assert api.get('triggers/%s' % trigger['id']).status_code == 404
    assert api.delete('triggers/%s' % trigger['id']).status_code == 404


def test_trigger_list_filters_and_pages(api):
    first = create_trigger(api, name='a')
    create_trigger(api, fmt='calendar', pattern='FREQ=DAILY', name='b')
    rows = api.get('triggers?name=a').json_body['triggers']
    assert [t['id'] for t in rows] == [first['id']]
    assert len(api.get('triggers?type=time').json_body['triggers']) == 2
    # The CLIs send properties=...; it is accepted, not filtered on.
    assert len(api.get('triggers?properties=x').json_body['triggers']) == 2
    page = api.get('triggers?limit=1&sort=name:asc').json_body
    assert [t['name'] for t in page['triggers']] == ['a']
    assert 'triggers_links' in page
    for query, field in [('type=date', 'type'), ('colour=red', 'colour'),
                         ('sort=properties', 'sort'),
                         ('marker=nope', 'marker')]:
        res = api.get('triggers?' + query)
        assert res.status_code == 400
        assert field in message(res)


@pytest.mark.parametrize('change,field', [
    ({'format': 'cron'}, 'format'),
    ({'pattern': '* * *'}, 'pattern'),
    ({'pattern': '99 * * * *'}, 'pattern'),
    ({'pattern': ''}, 'pattern'),
    ({'format': 'calendar', 'pattern': 'FREQ=SECONDLY;INTERVAL=5'},
     'pattern'),
    ({'format': 'calendar', 'pattern': 'not a rule'}, 'pattern'),
    ({'pattern': '0 0 30 2 *'}, 'pattern'),
    ({'start_time': 'yesterday'}, 'start_time'),
    ({'start_time': '2030-01-02T00:00:00', 'end_time': '2030-01-01T00:00:00'},
     'end_time'),
    ({'end_time': 12}, 'end_time'),
    ({'window': 'soon'}, 'window'),
    ({'window': 1}, 'window'),
    ({'window': -60}, 'window'),
    ({'colour': 'red'}, 'colour'),
])
def test_bad_trigger_properties(api, change, field):
    properties = dict({'format': 'crontab', 'pattern': '0 * * * *'},
                      **change)
    res = api.post('triggers', {'trigger_info': {
        'name': 't', 'type': 'time', 'properties': properties}})
    assert res.status_code == 400, res.json_body
    assert 'properties/%s' % field in message(res)


@pytest.mark.parametrize('body,field', [
    ({'name': 't', 'type': 'event',
      'properties': {'format': 'crontab', 'pattern': '0 * * * *'}}, 'type'),
    ({'type': 'time',
      'properties': {'format': 'crontab', 'pattern': '0 * * * *'}}, 'name'),
    ({'name': 't', 'type': 'time'}, 'properties'),
    ({'name': 't', 'type': 'time', 'properties': {'format': 'crontab'}},
     'pattern'),
    ({'name': 't', 'type': 'time', 'properties': 'hourly'}, 'properties'),
])
def test_bad_trigger_bodies(api, body, field):
    res = api.post('triggers', {'trigger_info': body})
    assert res.status_code == 400
    assert field in message(res)


def test_trigger_interval_minimum(api, override):
    override('min_interval', 3600, group='operationengine')
    res = api.post('triggers', {'trigger_info': {
        'name': 't', 'type': 'time',
        'properties': {'format': 'crontab', 'pattern': '*/30 * * * *'}}})
    assert res.status_code == 400
    assert 'minimum interval is 3600 seconds' in message(res)
    trigger = create_trigger(api, '0 * * * *')
    res = api.put('triggers/%s' % trigger['id'], {'trigger_info': {
        'properties': {'pattern': '*/10 * * * *'}}})
    assert res.status_code == 400
    assert 'properties/pattern' in message(res)


def test_bad_trigger_updates(api):
    trigger = create_trigger(api)
    path = 'triggers/%s' % trigger['id']
    for body, field in [({'trigger_info': {}}, 'trigger_info'),
                        ({'trigger_info': {'id': 'x'}}, 'id'),
                        ({'trigger_info': {'properties': {
                            'end_time': '2000-01-01T00:00:00'}}},
                         'end_time')]:
        res = api.put(path, body)
        assert res.status_code == 400, res.json_body
        assert field in message(res)
    assert api.get(path).json_body['trigger_info'] == trigger


def test_triggers_are_isolated(api):
    trigger = create_trigger(api)
    bob = api.as_user('bob', 'other')
    assert bob.get('/v1/other/triggers', project_prefix=False).json_body[
        'triggers'] == []
    path = '/v1/other/triggers/%s' % trigger['id']
    assert bob.get(path, project_prefix=False).status_code == 404
    assert bob.put(path, {'trigger_info': {'name': 'mine'}},
                   project_prefix=False).status_code == 404
    assert bob.delete(path, project_prefix=False).status_code == 404
    assert bob.get('/v1/demo/triggers/%s' % trigger['id'],
                   project_prefix=False).status_code == 403
    assert bob.get('/v1/other/triggers?all_tenants=1',
                   project_prefix=False).status_code == 403
    admin = api.as_user('admin', 'other')
    rows = admin.get('triggers?all_tenants=1').json_body['triggers']
    assert trigger['id'] in [t['id'] for t in rows]


# Scheduled operations -----------------------------------------------------

def test_scheduled_operation_lifecycle(api, plan):
    trigger = create_trigger(api)
    operation = create_operation(api, trigger['id'], plan['id'])
    assert operation['operation_type'] == 'protect'
    assert operation['enabled'] is True
    assert operation['user_id'] == 'alice'
    assert operation['operation_definition'] == {'provider_id': PROVIDER,
                                                 'plan_id': plan['id']}
    for key in ('last_run_at', 'last_run_result', 'last_run_reason',
                'last_run_checkpoint_id'):
        assert operation[key] is None
    # The trigger runs hourly on the hour.
    next_run = datetime.datetime.fromisoformat(operation['next_run_at'])
    assert (next_run.minute, next_run.second) == (0, 0)
    assert next_run > datetime.datetime.utcnow()

    path = 'scheduled_operations/%s' % operation['id']
    assert api.get(path).json_body['scheduled_operation'] == operation
    rows = api.get('scheduled_operations').json_body['operations']
    assert [o['id'] for o in rows] == [operation['id']]

    res = api.put(path, {'scheduled_operation': {'enabled': False}})
    assert res.status_code == 200
    assert res.json_body['scheduled_operation']['enabled'] is False
    assert res.json_body['scheduled_operation']['next_run_at'] is None
    res = api.put(path, {'scheduled_operation': {'enabled': True,
                                                 'name': 'again'}})
    shown = res.json_body['scheduled_operation']
    assert (shown['enabled'], shown['name']) == (True, 'again')
    assert shown['next_run_at'] == operation['next_run_at']

    assert api.delete(path).status_code == 202
    assert api.get(path).status_code == 404
    assert api.delete(path).status_code == 404


def test_operation_list_filters(api, plan):
    trigger = create_trigger(api)
    first = create_operation(api, trigger['id'], plan['id'], name='one')
    second = create_operation(api, trigger['id'], plan['id'],
                              'retention_protect', name='two',
                              max_backups=3)
    api.put('scheduled_operations/%s' % second['id'],
            {'scheduled_operation': {'enabled': False}})

    def ids(query):
        res = api.get('scheduled_operations?' + query)
        assert res.status_code == 200, res.json_body
        return {o['id'] for o in res.json_body['operations']}

    assert ids('name=one') == {first['id']}
    assert ids('operation_type=retention_protect') == {second['id']}
    assert ids('trigger_id=%s' % trigger['id']) == {first['id'],
                                                    second['id']}
    assert ids('enabled=false') == {second['id']}
    assert ids('operation_definition=x') == {first['id'], second['id']}
    for query, field in [('operation_type=backup', 'operation_type'),
                         ('trigger_id=nope', 'trigger_id'),
                         ('enabled=maybe', 'enabled'),
                         ('plan_id=%s' % plan['id'], 'plan_id')]:
        res = api.get('scheduled_operations?' + query)
        assert res.status_code == 400
        assert field in message(res)


def test_retention_counts_accept_the_clis_strings(api, plan):
    trigger = create_trigger(api)
    operation = create_operation(api, trigger['id'], plan['id'],
                                 'retention_protect', max_backups='2',
                                 retention_duration=' 7 ')
    definition = operation['operation_definition']
    assert (definition['max_backups'],
            definition['retention_duration']) == (2, 7)


def test_definition_as_the_openstack_clis_text(api, plan):
    trigger = create_trigger(api)
    res = api.post('scheduled_operations', {'scheduled_operation': {
        'name': 'osc', 'operation_type': 'retention_protect',
        'trigger_id': trigger['id'],
        'operation_definition': 'provider_id=%s,plan_id=%s,max_backups=4'
                                % (PROVIDER, plan['id'])}})
    assert res.status_code == 200, res.json_body
    assert res.json_body['scheduled_operation']['operation_definition'] == {
        'provider_id': PROVIDER, 'plan_id': plan['id'], 'max_backups': 4}


@pytest.mark.parametrize('change,status,field', [
    ({'operation_type': 'backup'}, 400, 'operation_type'),
    ({'trigger_id': 'nope'}, 400, 'trigger_id'),
    ({'trigger_id': UNKNOWN}, 404, 'trigger_id'),
    ({'colour': 'red'}, 400, 'colour'),
    ({'enabled': 'yes'}, 400, 'enabled'),
    ({'definition': {'plan_id': UNKNOWN}}, 404, 'plan_id'),
    ({'definition': {'plan_id': 'nope'}}, 400, 'plan_id'),
    ({'definition': {'provider_id': OTHER_PROVIDER}}, 404, 'provider_id'),
    ({'definition': {'max_backups': 2}}, 400, 'max_backups'),
    ({'definition': {'colour': 'red'}}, 400, 'colour'),
    ({'definition': None}, 400, 'operation_definition'),
    ({'definition': 'plan_id'}, 400, 'operation_definition'),
    ({'operation_type': 'retention_protect'}, 400, 'max_backups'),
    ({'operation_type': 'retention_protect',
      'definition': {'max_backups': '0'}}, 400, 'max_backups'),
    ({'operation_type': 'retention_protect',
      'definition': {'max_backups': 'two'}}, 400, 'max_backups'),
    ({'operation_type': 'retention_protect',
      'definition': {'max_backups': -1}}, 400, 'max_backups'),
    ({'operation_type': 'retention_protect',
      'definition': {'retention_duration': 0}}, 400, 'retention_duration'),
    ({'operation_type': 'retention_protect',
      'definition': {'retention_duration': 1.5}}, 400,
     'retention_duration'),
    ({'definition': {'parameters': {}}}, 400, 'parameters'),
    ({'operation_type': 'verify', 'definition': {'max_backups': 2}}, 400,
     'max_backups'),
    ({'operation_type': 'verify', 'definition': {'parameters': {
        'OS::Karbor::Directory': {'mode': 'fast'}}}}, 400, 'parameters'),
    ({'operation_type': 'verify', 'definition': {'parameters': {
        'OS::Karbor::Directory': {'mode': 'subset', 'subset': '3/2'}}}},
     400, 'subset'),
    ({'operation_type': 'verify', 'definition': {'parameters': {
        'OS::Nova::Server': {}}}}, 400, 'parameters'),
    ({'operation_type': 'verify', 'definition': {'parameters': []}}, 400,
     'parameters'),
    ({'definition': {'cycle_days': 3}}, 400, 'cycle_days'),
    ({'operation_type': 'verify', 'definition': {'cycle_days': 0}}, 400,
     'operation_definition/cycle_days'),
    ({'operation_type': 'verify', 'definition': {'cycle_days': 'week'}}, 400,
     'operation_definition/cycle_days'),
    ({'operation_type': 'verify', 'definition': {'cycle_days': 2.5}}, 400,
     'cycle_days'),
    ({'operation_type': 'verify', 'definition': {
        'cycle_days': 3, 'parameters': {
            'OS::Karbor::Directory': {'mode': 'quick'}}}}, 400,
     'operation_definition/parameters'),
])
def test_bad_scheduled_operations(api, plan, change, status, field):
    trigger = create_trigger(api)
    body = {'name': 'op', 'operation_type': 'protect',
            'trigger_id': trigger['id'],
            'operation_definition': {'provider_id': PROVIDER,
                                     'plan_id': plan['id']}}
    definition = change.pop('definition', {})
    if isinstance(definition, dict):
        body['operation_definition'].update(definition)
    else:
        body['operation_definition'] = definition
    body.update(change)
    res = api.post('scheduled_operations', {'scheduled_operation': body})
    assert res.status_code == status, res.json_body
    assert field in message(res)
    assert api.get('scheduled_operations').json_body['operations'] == []


@pytest.mark.parametrize('pattern,days,status', [
    ('0 * * * *', 1, 200),
    ('0 3 * * *', 1, 200),
    ('0 3 */2 * *', 1, 400),
    ('0 0 * * 0', 3, 400),
    ('0 0 * * 0', 7, 200),
    # Weekdays only: Friday to Monday is three days.
    ('0 9 * * 1-5', 2, 400),
    ('0 9 * * 1-5', 3, 200),
])
def test_a_cycle_needs_a_run_at_least_every_cycle_days(api, plan, pattern,
                                                       days, status):
    trigger = create_trigger(api, pattern)
    res = api.post('scheduled_operations', {'scheduled_operation': {
        'name': 'cycle', 'operation_type': 'verify',
        'trigger_id': trigger['id'],
        'operation_definition': {'provider_id': PROVIDER,
                                 'plan_id': plan['id'],
                                 # As the karbor CLI sends it.
                                 'cycle_days': str(days)}}})
    assert res.status_code == status, res.json_body
    if status == 400:
        assert 'operation_definition/cycle_days' in message(res)
        assert 'must run at least once every cycle_days days' in message(
            res)
        assert api.get('scheduled_operations').json_body['operations'] == []
    else:
        shown = res.json_body['scheduled_operation']
        assert shown['operation_definition']['cycle_days'] == days
        assert shown['verify_cycle'] is None


def test_a_trigger_used_by_a_cycle_keeps_running_often_enough(api, plan):
    trigger = create_trigger(api, '0 3 * * *')
    operation = create_operation(api, trigger['id'], plan['id'], 'verify',
                                 cycle_days=2)
    path = 'triggers/%s' % trigger['id']
    res = api.put(path, {'trigger_info': {'properties': {
        'pattern': '0 3 * * 1'}}})
    assert res.status_code == 400, res.json_body
    assert 'trigger_info/properties' in message(res)
    assert operation['id'] in message(res)
    assert api.get(path).json_body['trigger_info']['properties'][
        'pattern'] == '0 3 * * *'
    res = api.put(path, {'trigger_info': {'properties': {
        'pattern': '0 */12 * * *'}}})
    assert res.status_code == 200, res.json_body


def test_plan_of_another_provider_is_refused(api, plan, db):
    from karbor import context
    from karbor import objects
    row = objects.Plan.get_by_id(context.get_admin_context(), plan['id'])
    row.provider_id = OTHER_PROVIDER
    row.save()
    trigger = create_trigger(api)
    res = api.post('scheduled_operations', {'scheduled_operation': {
        'name': 'op', 'operation_type': 'protect',
        'trigger_id': trigger['id'],
        'operation_definition': {'provider_id': PROVIDER,
                                 'plan_id': plan['id']}}})
    assert res.status_code == 400
    assert 'operation_definition/provider_id' in message(res)


def test_trigger_in_use_cannot_be_deleted(api, plan):
    trigger = create_trigger(api)
    operation = create_operation(api, trigger['id'], plan['id'])
    res = api.delete('triggers/%s' % trigger['id'])
    assert res.status_code == 409
    assert operation['id'] in message(res)
    assert api.get('triggers/%s' % trigger['id']).status_code == 200
    api.delete('scheduled_operations/%s' % operation['id'])
    assert api.delete('triggers/%s' % trigger['id']).status_code == 202


def test_trigger_update_reschedules_its_operations(api, plan):
    trigger = create_trigger(api, '0 * * * *')
    operation = create_operation(api, trigger['id'], plan['id'])
    res = api.put('triggers/%s' % trigger['id'], {'trigger_info': {
        'properties': {'pattern': '30 * * * *'}}})
    assert res.status_code == 200, res.json_body
    shown = api.get('scheduled_operations/%s' % operation['id']).json_body[
        'scheduled_operation']
    assert datetime.datetime.fromisoformat(shown['next_run_at']).minute == 30


def test_a_calendar_rule_of_an_old_dtstart_is_not_stepped_through(
        api, plan, monkeypatch):
    """An hourly rule from 1900: dateutil alone steps through 45,000 days
    of hours (over a million) at every computation."""
    days = [0]
    real = rrule._iterinfo.ddayset

    def counting(self, *args):
        days[0] += 1
        return real(self, *args)

    monkeypatch.setattr(rrule._iterinfo, 'ddayset', counting)
    trigger = create_trigger(
        api, 'DTSTART:19000101T001500\nRRULE:FREQ=HOURLY;INTERVAL=7',
        fmt='calendar')
    operation = create_operation(api, trigger['id'], plan['id'])
    res = api.put('triggers/%s' % trigger['id'], {'trigger_info': {
        'properties': {'window': 600}}})
    assert res.status_code == 200, res.json_body
    # Creating, updating and scheduling, each searching the next runs
    # and the last 400-year cycle before the year 9999 a few times.
    assert days[0] < 2000
    next_run = datetime.datetime.fromisoformat(api.get(
        'scheduled_operations/%s' % operation['id']).json_body[
        'scheduled_operation']['next_run_at'])
    # The rule's phase from 1900: 00:15 and every seventh hour since.
    assert next_run.minute == 15
    hours = (next_run - datetime.datetime(1900, 1, 1, 0, 15)) / \
        datetime.timedelta(hours=1)
    assert hours % 7 == 0
    assert datetime.timedelta(0) < next_run - datetime.datetime.utcnow() \
        <= datetime.timedelta(hours=7)


def test_scheduled_operations_are_isolated(api, plan, data_root):
    trigger = create_trigger(api)
    operation = create_operation(api, trigger['id'], plan['id'])
    bob = api.as_user('bob', 'other')
    path = '/v1/other/scheduled_operations'
    assert bob.get(path, project_prefix=False).json_body['operations'] == []
    one = '%s/%s' % (path, operation['id'])
    assert bob.get(one, project_prefix=False).status_code == 404
    assert bob.put(one, {'scheduled_operation': {'enabled': False}},
                   project_prefix=False).status_code == 404
    assert bob.delete(one, project_prefix=False).status_code == 404
    # Bob may not schedule Alice's plan, nor use her trigger.
    make_tree('other', 'mine')
    bobs_plan = create_plan(bob, ['mine'])
    bobs_trigger = create_trigger(bob)
    for trigger_id, plan_id, field in [
            (trigger['id'], bobs_plan['id'], 'trigger_id'),
            (bobs_trigger['id'], plan['id'], 'plan_id')]:
        res = bob.post('scheduled_operations', {'scheduled_operation': {
            'name': 'x', 'operation_type': 'protect',
            'trigger_id': trigger_id,
            'operation_definition': {'provider_id': PROVIDER,
                                     'plan_id': plan_id}}})
        assert res.status_code == 404
        assert field in message(res)
    # Nor can an admin working in Bob's project mix in Alice's plan.
    admin = api.as_user('admin', 'other')
    res = admin.post('scheduled_operations', {'scheduled_operation': {
        'name': 'x', 'operation_type': 'protect',
        'trigger_id': bobs_trigger['id'],
        'operation_definition': {'provider_id': PROVIDER,
                                 'plan_id': plan['id']}}})
    assert res.status_code == 404
    rows = admin.get('scheduled_operations?all_tenants=1').json_body[
        'operations']
    assert operation['id'] in [o['id'] for o in rows]
    assert bob.get('%s?all_tenants=1' % path,
                   project_prefix=False).status_code == 403


@pytest.mark.parametrize('method,path,raw', [
    ('GET', 'triggers/not-a-uuid', None),
    ('PUT', 'triggers/not-a-uuid', b'{}'),
    ('DELETE', 'triggers/%s' % UNKNOWN, None),
    ('GET', 'scheduled_operations/not-a-uuid', None),
    ('DELETE', 'scheduled_operations/%s' % UNKNOWN, None),
    ('POST', 'triggers', b'{"trigger_info": '),
    ('POST', 'triggers', b'[]'),
    ('POST', 'triggers', b''),
    ('POST', 'scheduled_operations', b'{"scheduled_operation": 7}'),
    ('POST', 'scheduled_operations', b'"text"'),
    ('PUT', 'scheduled_operations/%s' % UNKNOWN,
     b'{"scheduled_operation": {"enabled": true}}'),
    ('PATCH', 'triggers', None),
    ('PUT', 'scheduled_operations', b'{}'),
])
def test_bad_requests_are_4xx_with_json(api, method, path, raw):
    res = api.request(method, path, raw=raw)
    assert 400 <= res.status_code < 500, res.json_body
    message(res)
