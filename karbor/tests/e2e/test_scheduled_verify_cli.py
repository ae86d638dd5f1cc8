"""Scheduled verification through the released clients.

A plan with two checkpoints and a ``verify`` scheduled operation on a
trigger firing every minute, against the session's karbor-all and its
real operation engine (real clock): within two minutes a verification of
the newer checkpoint exists, and its verify log carries the operation's
id. A second operation with ``cycle_days`` shows its cycle's progress on
``scheduledoperation-show`` once its first run ended.

The released ``karbor`` CLI (2.1.0) only offers ``protect`` and
``retention_protect`` to ``scheduledoperation-create`` (argparse choices,
checked before any request): the operations are created with
``openstack data protection scheduledoperation create``, which passes the
type through, and everything else is done with the ``karbor`` CLI.

The project is this module's own, and the operations are deleted when
the module ends, so that no other module sees their verifications.
"""

import functools
import json
import pathlib

import pytest

from karbor.tests.e2e import helpers
from karbor.tests.e2e.helpers import ok
from karbor.tests.e2e.helpers import parse_show
from karbor.tests.e2e.helpers import parse_table
from karbor.tests.e2e import test_protection_cli as protection

PROVIDER = helpers.LOCAL_PROVIDER_ID
DIRECTORY = 'OS::Karbor::Directory'
PROJECT = 'scheduled-verify'
USER = 'erin'
SOURCE = 'ledger'

# A minute for the trigger to fire, the engine's poll and the verify.
FIRST_RUN_TIMEOUT = 120


@pytest.fixture(scope='module')
def cli(karbor_cli):
    return functools.partial(karbor_cli, user=USER, project=PROJECT)


@pytest.fixture(scope='module')
def api(karbor_server):
    def call(path):
        return helpers.api_ok(helpers.api_call(karbor_server, 'GET', path,
                                               user=USER, project=PROJECT))
    return call


@pytest.fixture(scope='module')
def plan(karbor_server, cli):
    top = pathlib.Path(karbor_server.state_path) / 'data' / PROJECT / SOURCE
    (top / 'sub').mkdir(parents=True)
    (top / 'january.txt').write_text('opening balance\n')
    (top / 'sub' / 'receipts.bin').write_bytes(bytes(range(256)) * 4096)
    rows = parse_table(ok(cli('protectable-list-instances', DIRECTORY)))
    (instance,) = [row for row in rows if row['Name'] == SOURCE]
    return parse_show(ok(cli('plan-create', 'verified-ledger', PROVIDER,
                             '%s=%s=%s' % (instance['Id'], DIRECTORY,
                                           SOURCE))))


@pytest.fixture(scope='module')
def checkpoints(karbor_server, cli, plan):
    """Two available checkpoints of the plan, the newer last."""
    older, _ = protection.protect(karbor_server, cli, plan['id'])
    top = pathlib.Path(karbor_server.state_path) / 'data' / PROJECT / SOURCE
    (top / 'february.txt').write_text('a later entry\n')
    newer, _ = protection.protect(karbor_server, cli, plan['id'])
    return older['id'], newer['id']


@pytest.fixture(scope='module')
def trigger(cli):
    return parse_show(ok(cli('trigger-create', 'verify-every-minute',
                             'time', 'format=crontab,pattern=* * * * *')))


@pytest.fixture(scope='module')
def operations(cli, openstack_json, plan, trigger, checkpoints):
    made = []

    def create(name, *definition):
        shown = openstack_json(
            'scheduledoperation', 'create', name, 'verify', trigger['id'],
            ','.join(('provider_id=%s' % PROVIDER,
                      'plan_id=%s' % plan['id']) + definition),
            user=USER, project=PROJECT)
        made.append(shown['id'])
        return shown

    yield create
    # Whatever the tests did: no more runs once the module is done.
    for operation_id in made:
        cli('scheduledoperation-delete', operation_id)


def _verify_log_of(cli, operation_id):
    rows = parse_table(ok(cli('operationlog-list')))
    done = [row for row in rows
            if row['Scheduled Operation Id'] == operation_id
            and row['Operation Type'] == 'verify'
            and row['Status'] in ('success', 'error')]
    return done[0] if done else None


def test_the_karbor_cli_offers_no_verify_type(cli, trigger, plan):
    result = cli('scheduledoperation-create', 'refused', 'verify',
                 trigger['id'], 'provider_id=%s,plan_id=%s' % (PROVIDER,
                                                               plan['id']))
    assert result.rc == 2 and "invalid choice: 'verify'" in result.stderr


def test_scheduled_verify_verifies_the_newest_checkpoint(
        karbor_server, cli, api, operations, checkpoints, plan):
    operation = operations('verify-ledger')
    assert operation['operation_type'] == 'verify'
    shown = parse_show(ok(cli('scheduledoperation-show', operation['id'])))
    assert shown['operation_type'] == 'verify'
    log, waited = helpers.poll(lambda: _verify_log_of(cli, operation['id']),
                               FIRST_RUN_TIMEOUT, interval=2)
    assert log, 'no scheduled verify after %.0f s; server output:\n%s' % (
        waited, karbor_server.output(last_lines=60))
    assert log['Status'] == 'success', log
    assert log['Checkpoint id'] == checkpoints[1]
    assert log['Plan Id'] == plan['id']

    (row,) = [r for r in api('/operation_logs')['operation_logs']
              if r['id'] == log['Id']]
    assert row['scheduled_operation_id'] == operation['id']
    verification = api('/verifications/%s' % row['verification_id'])[
        'verification']
    assert verification['checkpoint_id'] == checkpoints[1]
    assert verification['status'] == 'success'
    listed = parse_table(ok(cli('verification-list')))
    assert row['verification_id'] in [r['Id'] for r in listed]

    shown, _ = helpers.poll(
        lambda: (lambda s: s if s['last_run_result'] == 'success' else None)(
            parse_show(ok(cli('scheduledoperation-show', operation['id'])))),
        30)
    assert shown, 'the run was not recorded as a success'
    assert shown['last_run_checkpoint_id'] == checkpoints[1]


def test_scheduled_verify_over_a_cycle_shows_its_progress(
        karbor_server, cli, api, operations, checkpoints):
    operation = operations('cycle-ledger', 'cycle_days=1')
    assert json.loads(operation['operation_definition'])['cycle_days'] == 1

    def progressed():
        shown = api('/scheduled_operations/%s' % operation['id'])[
            'scheduled_operation']
        cycle = shown.get('verify_cycle')
        return shown if cycle and cycle['runs'] else None

    shown, waited = helpers.poll(progressed, FIRST_RUN_TIMEOUT, interval=2)
    assert shown, 'no cycle progress after %.0f s; server output:\n%s' % (
        waited, karbor_server.output(last_lines=60))
    cycle = shown['verify_cycle']
    assert cycle['number'] == 0
    assert cycle['status'] == 'reading'
    assert cycle['chunks_read'] + cycle['chunks_left'] == cycle['chunks']
    assert cycle['chunks'] > 0
    assert cycle['expected_completion'] is not None
    log = _verify_log_of(cli, operation['id'])
    assert log is not None and log['Status'] == 'success', log
    # The CLI shows the progress too.
    printed = parse_show(ok(cli('scheduledoperation-show',
                                operation['id'])))
    assert 'chunks_left' in printed['verify_cycle']
    # A run reads a slice of every checkpoint and verifies none of them
    # whole: no checkpoint takes it as its last verification (the older
    # one was verified by nothing else), until the cycle completes.
    runs = {row['verification_id'] for row in api(
        '/operation_logs?scheduled_operation_id=%s' % operation['id'])[
            'operation_logs']}
    assert runs

    def checkpoint(checkpoint_id):
        return api('/providers/%s/checkpoints/%s' % (
            PROVIDER, checkpoint_id))['checkpoint']
    older, newer = checkpoint(checkpoints[0]), checkpoint(checkpoints[1])
    assert (older['last_verification_id'],
            older['last_verification_scope']) == (None, None)
    assert newer['last_verification_id'] not in runs
    assert newer['last_verification_scope'] == 'full'
    # The released CLI shows a checkpoint with the added field.
    printed = parse_show(ok(cli('checkpoint-show', PROVIDER,
                                checkpoints[0])))
    assert printed['id'] == checkpoints[0]


def test_server_log_is_clean(karbor_server):
    log = pathlib.Path(karbor_server.log_path).read_text(errors='replace')
    assert 'Traceback' not in log, log[-5000:]
