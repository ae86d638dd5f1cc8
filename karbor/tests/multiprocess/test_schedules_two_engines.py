"""Scheduled runs with two operation engines: each due time runs once.

The e2e retention scenario (karbor/tests/e2e/test_retention_cli.py: five
runs of a ``retention_protect`` operation driven by a fake clock, the
newest two checkpoints kept) on a deployment of its own whose two
operation engines both read that clock and both poll every 0.2 s: they
race for every due run. Each must have started exactly once, by one of
them, and retention must still leave exactly two checkpoints.
"""

import collections

import pytest

from karbor.tests.e2e import test_retention_cli as retention
from karbor.tests.e2e.test_retention_cli import cli  # noqa: F401
from karbor.tests.e2e.test_retention_cli import plan  # noqa: F401
from karbor.tests.multiprocess import servers

DATABASE = 'karbor_retention'


@pytest.fixture(scope='module')
def server(tmp_path_factory, postgresql, rabbitmq):
    workdir = tmp_path_factory.mktemp('karbor-fake-clock')
    clock = workdir / 'clock'
    retention.set_clock(clock, retention.EPOCH)
    karbor = servers.Deployment(
        workdir / 'karbor', postgresql.create_database(DATABASE),
        rabbitmq.add_vhost(DATABASE),
        extra_options={'operationengine': {'clock_file': clock,
                                           'poll_interval': 0.2,
                                           'status_check_interval': 0.2}})
    karbor.clock = clock
    try:
        karbor.start()
        yield karbor
    finally:
        karbor.stop()
    assert karbor.tracebacks() == {}


def test_each_run_starts_once_on_one_engine(server, cli, plan,  # noqa
                                            postgresql):
    retention.test_five_runs_keep_the_newest_two(server, cli, plan)

    rows = [line.split('|') for line in postgresql.psql(
        'SELECT due_at, host, status FROM scheduled_operation_runs',
        database=DATABASE).split('\n') if line]
    per_due = collections.Counter(due for due, _host, _status in rows)
    assert len(per_due) == retention.RUNS, rows
    assert set(per_due.values()) == {1}, rows
    engines = {engine.host for engine in server.engines}
    assert {host for _due, host, _status in rows} <= engines, rows
    assert {status for _due, _host, status in rows} == {'succeeded'}, rows
