"""Retention over five scheduled runs, driven by a fake clock.

A karbor-all of its own whose operation engine takes its time from a file
(``[operationengine] clock_file``): the test writes the due time of each
run into it instead of waiting five minutes. Everything else is real: the
released karbor CLI creates the trigger and a ``retention_protect``
operation with ``max_backups=2``, the engine starts each run, the
protection service protects and deletes, and the operation logs record it.
After five runs two checkpoints remain; the three deleted ones each have a
``deleted`` delete log, and all five protect logs are still listed.
"""

import datetime
import functools
import os
import pathlib

import pytest

from karbor.tests.e2e import conftest
from karbor.tests.e2e import helpers
from karbor.tests.e2e.helpers import ok
from karbor.tests.e2e.helpers import parse_show
from karbor.tests.e2e.helpers import parse_table

PROVIDER = helpers.LOCAL_PROVIDER_ID
DIRECTORY = 'OS::Karbor::Directory'
PROJECT = 'retention'
USER = 'dora'
SOURCE = 'ledger'
RUNS = 5
KEPT = 2
RUN_TIMEOUT = 60
MINUTE = datetime.timedelta(minutes=1)
SECOND = datetime.timedelta(seconds=1)
# Before any run of the schedule: nothing is due until the test says so.
EPOCH = '2000-01-01T00:00:00'


def set_clock(path, text):
    """Write the engine's clock file in one step: the engines read it
    every poll and must never see it empty."""
    path = pathlib.Path(path)
    scratch = path.with_name(path.name + '.new')
    scratch.write_text(text)
    os.replace(scratch, path)


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp('karbor-all-fake-clock')
    clock = workdir / 'clock'
    set_clock(clock, EPOCH)
    server = conftest.start_karbor_all(
        workdir, operationengine={'clock_file': clock,
                                  'poll_interval': 0.2,
                                  'status_check_interval': 0.2})
    server.clock = clock
    try:
        yield server
    finally:
        helpers.stop_process(server.process)


@pytest.fixture(scope='module')
def cli(karbor_cli_of, server):
    return functools.partial(karbor_cli_of(server), user=USER,
                             project=PROJECT)


@pytest.fixture(scope='module')
def plan(server, cli):
    top = pathlib.Path(server.state_path) / 'data' / PROJECT / SOURCE
    top.mkdir(parents=True)
    (top / 'entries.csv').write_text('2026-11-28,opening balance,100\n')
    rows = parse_table(ok(cli('protectable-list-instances', DIRECTORY)))
    (instance,) = [row for row in rows if row['Name'] == SOURCE]
    return parse_show(ok(cli('plan-create', 'ledger', PROVIDER,
                             '%s=%s=%s' % (instance['Id'], DIRECTORY,
                                           SOURCE))))


def show(cli, operation_id):
    return parse_show(ok(cli('scheduledoperation-show', operation_id)))


def test_five_runs_keep_the_newest_two(server, cli, plan):
    trigger = parse_show(ok(cli('trigger-create', 'every-minute', 'time',
                                'format=crontab,pattern=* * * * *')))
    operation = parse_show(ok(cli(
        'scheduledoperation-create', 'keep-two', 'retention_protect',
        trigger['id'], 'provider_id=%s,plan_id=%s,max_backups=%d' % (
            PROVIDER, plan['id'], KEPT))))
    first_due = datetime.datetime.fromisoformat(operation['next_run_at'])

    made = []
    for index in range(RUNS):
        due = first_due + index * MINUTE
        set_clock(server.clock, (due + SECOND).isoformat())

        def ended():
            shown = show(cli, operation['id'])
            if (shown['last_run_at'] not in ('', 'None') and
                    datetime.datetime.fromisoformat(
                        shown['last_run_at']) == due and
                    shown['last_run_result'] != 'running'):
                return shown
            return None

        shown, waited = helpers.poll(ended, RUN_TIMEOUT, interval=0.5)
        assert shown, 'run %d (due %s) did not end in %.0f s:\n%s' % (
            index + 1, due, waited, server.output(last_lines=60))
        assert shown['last_run_result'] == 'success', shown
        made.append(shown['last_run_checkpoint_id'])
    assert len(set(made)) == RUNS
    deleted, kept = made[:-KEPT], made[-KEPT:]

    def logs_of(operation_type):
        return [row for row in parse_table(ok(cli('operationlog-list')))
                if row['Operation Type'] == operation_type]

    def deletes_ended():
        done = [row for row in logs_of('delete')
                if row['Status'] != 'deleting']
        return done if len(done) == len(deleted) else None

    delete_logs, waited = helpers.poll(deletes_ended, RUN_TIMEOUT)
    assert delete_logs, 'the %d deletes did not end in %.0f s:\n%s' % (
        len(deleted), waited, server.output(last_lines=60))
    assert sorted(row['Checkpoint id'] for row in delete_logs) == sorted(
        deleted)
    for row in delete_logs:
        assert row['Status'] == 'deleted', row
        assert row['Scheduled Operation Id'] == operation['id'], row

    remaining = parse_table(ok(cli('checkpoint-list', PROVIDER,
                                   '--plan_id', plan['id'])))
    assert sorted(row['Id'] for row in remaining) == sorted(kept)
    assert {row['Status'] for row in remaining} == {'available'}

    protect_logs = logs_of('protect')
    assert sorted(row['Checkpoint id'] for row in protect_logs) == sorted(
        made)
    for row in protect_logs:
        assert row['Status'] == 'available', row
        assert row['Scheduled Operation Id'] == operation['id'], row

    ok(cli('scheduledoperation-delete', operation['id']))
    ok(cli('trigger-delete', trigger['id']))


def test_server_log_is_clean(server):
    log = pathlib.Path(server.log_path).read_text(errors='replace')
    assert 'Traceback' not in log, log[-5000:]
