"""Triggers and scheduled operations through the released karbor CLI.

A trigger firing every minute and a ``protect`` scheduled operation on a
small plan, against the session's karbor-all and its real operation
engine (real clock, default poll interval): within two minutes a
checkpoint appears whose protect log carries the operation's id.

Everything lives in a project of its own, and the operation is deleted
when the module ends, so that no other module sees its checkpoints.
Retention over several runs, with a fake clock driving the engine, is in
test_retention_cli.
"""

import functools
import pathlib

import pytest

from karbor.tests.e2e import helpers
from karbor.tests.e2e.helpers import failed
from karbor.tests.e2e.helpers import ok
from karbor.tests.e2e.helpers import parse_show
from karbor.tests.e2e.helpers import parse_table

PROVIDER = helpers.LOCAL_PROVIDER_ID
DIRECTORY = 'OS::Karbor::Directory'
PROJECT = 'schedules'
USER = 'carol'
SOURCE = 'notes'

# A minute for the trigger to fire, the engine's poll and the protect.
FIRST_RUN_TIMEOUT = 120


@pytest.fixture(scope='module')
def cli(karbor_cli):
    return functools.partial(karbor_cli, user=USER, project=PROJECT)


@pytest.fixture(scope='module')
def plan(karbor_server, cli):
    top = pathlib.Path(karbor_server.state_path) / 'data' / PROJECT / SOURCE
    (top / 'sub').mkdir(parents=True)
    (top / 'todo.txt').write_text('protect me on time\n')
    (top / 'sub' / 'more.txt').write_text('and me\n')
    rows = parse_table(ok(cli('protectable-list-instances', DIRECTORY)))
    (instance,) = [row for row in rows if row['Name'] == SOURCE]
    return parse_show(ok(cli('plan-create', 'scheduled-notes', PROVIDER,
                             '%s=%s=%s' % (instance['Id'], DIRECTORY,
                                           SOURCE))))


@pytest.fixture(scope='module')
def trigger(cli):
    return parse_show(ok(cli('trigger-create', 'every-minute', 'time',
                             'format=crontab,pattern=* * * * *')))


@pytest.fixture(scope='module')
def operation(cli, plan, trigger):
    shown = parse_show(ok(cli(
        'scheduledoperation-create', 'protect-notes', 'protect',
        trigger['id'],
        'provider_id=%s,plan_id=%s' % (PROVIDER, plan['id']))))
    yield shown
    # Whatever the tests did: no more runs once the module is done.
    cli('scheduledoperation-delete', shown['id'])


def test_trigger_create_show_and_list(cli, trigger):
    assert trigger['name'] == 'every-minute'
    assert trigger['type'] == 'time'
    assert '"pattern": "* * * * *"' in trigger['properties']
    assert '"format": "crontab"' in trigger['properties']
    shown = parse_show(ok(cli('trigger-show', trigger['id'])))
    assert shown['id'] == trigger['id']
    assert shown['properties'] == trigger['properties']
    rows = parse_table(ok(cli('trigger-list')))
    (row,) = [r for r in rows if r['Id'] == trigger['id']]
    assert row['Name'] == 'every-minute'
    assert '"window": 300' in row['Properties']
    rows = parse_table(ok(cli('trigger-list', '--name', 'every-minute',
                              '--type', 'time')))
    assert [r['Id'] for r in rows] == [trigger['id']]


def test_bad_trigger_is_refused_naming_the_field(cli):
    message = failed(cli('trigger-create', 'too-often', 'time',
                         'format=crontab,pattern=* * * *'))
    assert 'pattern' in message and 'five fields' in message
    message = failed(cli('trigger-create', 'no-window', 'time',
                         'format=crontab,pattern=0 * * * *,window=1'))
    assert 'window' in message


def test_scheduled_operation_create_show_and_list(cli, operation, plan,
                                                  trigger):
    assert operation['operation_type'] == 'protect'
    assert operation['trigger_id'] == trigger['id']
    assert plan['id'] in operation['operation_definition']
    assert operation['enabled'] == 'True'
    shown = parse_show(ok(cli('scheduledoperation-show', operation['id'])))
    assert shown['id'] == operation['id']
    assert shown['next_run_at'] not in ('', '-')
    rows = parse_table(ok(cli('scheduledoperation-list')))
    assert [r['Id'] for r in rows] == [operation['id']]
    assert rows[0]['Name'] == 'protect-notes'


def test_trigger_in_use_is_not_deleted(cli, operation, trigger):
    message = failed(cli('trigger-delete', trigger['id']))
    assert operation['id'] in message
    assert parse_show(ok(cli('trigger-show', trigger['id'])))['id'] == \
        trigger['id']


def test_scheduled_run_protects_the_plan(karbor_server, cli, operation,
                                         plan):
    def protect_log():
        rows = parse_table(ok(cli('operationlog-list')))
        done = [row for row in rows
                if row['Scheduled Operation Id'] == operation['id']
                and row['Operation Type'] == 'protect'
                and row['Status'] in ('available', 'error')]
        return done[0] if done else None

    log, waited = helpers.poll(protect_log, FIRST_RUN_TIMEOUT, interval=2)
    assert log, 'no scheduled protect after %.0f s; server output:\n%s' % (
        waited, karbor_server.output(last_lines=60))
    assert log['Status'] == 'available', log
    assert log['Plan Id'] == plan['id']
    checkpoint = parse_show(ok(cli('checkpoint-show', PROVIDER,
                                   log['Checkpoint id'])))
    assert checkpoint['status'] == 'available'
    assert "'created_by': 'operation-engine'" in checkpoint['extra_info']
    assert operation['id'] in checkpoint['extra_info']

    shown, _ = helpers.poll(
        lambda: (lambda s: s if s['last_run_result'] == 'success' else None)(
            parse_show(ok(cli('scheduledoperation-show', operation['id'])))),
        30)
    assert shown, 'the run was not recorded as a success'
    assert shown['last_run_checkpoint_id'] == log['Checkpoint id']


def test_delete_stops_the_schedule_and_frees_the_trigger(cli, operation,
                                                         trigger):
    ok(cli('scheduledoperation-delete', operation['id']))
    message = failed(cli('scheduledoperation-show', operation['id']))
    assert 'could not be found' in message
    assert parse_table(ok(cli('scheduledoperation-list'))) == []
    ok(cli('trigger-delete', trigger['id']))
    assert parse_table(ok(cli('trigger-list'))) == []


def test_server_log_is_clean(karbor_server):
    log = pathlib.Path(karbor_server.log_path).read_text(errors='replace')
    assert 'Traceback' not in log, log[-5000:]


# The same through the OpenStack CLI, in a project of its own.
OSC_PROJECT = 'schedules-osc'


def test_openstack_cli_manages_triggers_and_operations(karbor_server,
                                                       openstack_json,
                                                       openstack_cli,
                                                       karbor_cli):
    osc = functools.partial(openstack_json, user=USER, project=OSC_PROJECT)
    plain = functools.partial(openstack_cli, user=USER, project=OSC_PROJECT)
    karbor = functools.partial(karbor_cli, user=USER, project=OSC_PROJECT)
    top = pathlib.Path(karbor_server.state_path) / 'data' / OSC_PROJECT
    (top / 'osc').mkdir(parents=True)
    (top / 'osc' / 'a.txt').write_text('a\n')
    rows = parse_table(ok(karbor('protectable-list-instances', DIRECTORY)))
    (instance,) = [row for row in rows if row['Name'] == 'osc']
    plan = parse_show(ok(karbor('plan-create', 'osc-plan', PROVIDER,
                                '%s=%s=osc' % (instance['Id'], DIRECTORY))))

    # ``openstack data protection trigger create`` of karborclient 2.1.0
    # fails in the client before sending anything ('str' object has no
    # attribute 'get': it hands its key=value text to a method expecting
    # a dict), so the trigger comes from the karbor CLI.
    broken = plain('trigger', 'create', 'nightly', 'time',
                   'format=crontab,pattern=0 2 * * *')
    assert broken.rc != 0 and "no attribute 'get'" in broken.stderr
    trigger = parse_show(ok(karbor('trigger-create', 'nightly', 'time',
                                   'format=crontab,pattern=0 2 * * *,'
                                   'window=600')))
    trigger = osc('trigger', 'show', trigger['id'])
    assert trigger['name'] == 'nightly'
    assert trigger['properties']['pattern'] == '0 2 * * *'
    assert trigger['properties']['window'] == 600
    updated = osc('trigger', 'update', trigger['id'], '--name', 'twice',
                  '--properties', 'format=crontab,pattern=30 3 * * *')
    assert updated['name'] == 'twice'
    assert updated['properties']['pattern'] == '30 3 * * *'
    assert osc('trigger', 'show', trigger['id'])['name'] == 'twice'
    assert [row['Id'] for row in osc('trigger', 'list')] == [trigger['id']]
    bad = plain('trigger', 'update', trigger['id'], '--properties',
                'format=crontab,pattern=61 * * * *')
    assert bad.rc != 0 and 'pattern' in bad.stderr, bad

    operation = osc('scheduledoperation', 'create', 'twice-daily',
                    'protect', trigger['id'],
                    'provider_id=%s,plan_id=%s' % (PROVIDER, plan['id']))
    assert operation['operation_type'] == 'protect'
    assert operation['trigger_id'] == trigger['id']
    shown = osc('scheduledoperation', 'show', operation['id'])
    assert shown['id'] == operation['id']
    assert shown['next_run_at'].split('T')[1][:5] == '03:30'
    assert [row['Id'] for row in osc('scheduledoperation', 'list')] == [
        operation['id']]

    in_use = plain('trigger', 'delete', trigger['id'])
    assert in_use.rc != 0, in_use
    assert osc('trigger', 'show', trigger['id'])['id'] == trigger['id']
    ok(plain('scheduledoperation', 'delete', operation['id']))
    assert osc('scheduledoperation', 'list') == []
    ok(plain('trigger', 'delete', trigger['id']))
    assert osc('trigger', 'list') == []
