"""karbor-manage, run as its own process against the test database."""

import datetime
import subprocess
import sys

from oslo_utils import uuidutils
import pytest

from karbor.api import listing
from karbor.conf import CONF
from karbor import context
from karbor.db import migration
from karbor import objects


@pytest.fixture
def manage(tmp_path, db):
    config = tmp_path / 'karbor.conf'
    config.write_text('[DEFAULT]\nstate_path = %s\n[database]\n'
                      'connection = %s\n' % (
                          tmp_path, CONF.database.connection))

    def run(*args):
        return subprocess.run(
            [sys.executable, '-c',
             'import sys; from karbor.cmd.manage import main; '
             'sys.exit(main())', '--config-file', str(config)] + list(args),
            capture_output=True, text=True, timeout=120)

    return run


def _logs():
    return objects.OperationLog.list(
        context.get_admin_context(),
        listing.ListQuery(limit=100, sort=[('started_at', 'asc')]))


def test_db_sync_and_version(manage):
    result = manage('db', 'sync')
    assert result.returncode == 0, result.stderr
    result = manage('db', 'version')
    assert result.returncode == 0
    assert result.stdout.strip() == migration.version()


def test_operation_log_purge(manage):
    ctx = context.get_admin_context()
    for project in ('a', 'b'):
        log = objects.OperationLog.start(ctx, 'protect', project)
        log.finish(True)
        log.started_at = datetime.datetime(2020, 5, 1)
        log.save()
    objects.OperationLog.start(ctx, 'protect', 'a').finish(True)

    result = manage('operation_log', 'purge', '--before', '2021-01-01',
                    '--project', 'a')
    assert result.returncode == 0, result.stderr
    assert 'Purged 1 ' in result.stdout
    assert sorted(log.project_id for log in _logs()) == ['a', 'b']

    result = manage('operation_log', 'purge', '--before', 'not-a-date')
    assert result.returncode == 1
    assert '--before' in result.stderr


def test_checkpoint_reindex_and_batch_size(manage):
    result = manage('checkpoint', 'reindex')
    assert result.returncode == 0, result.stderr
    assert 'checkpoints added' in result.stdout
    result = manage('checkpoint', 'reindex', '--provider',
                    'b766f37c-d011-4026-8228-28730d734a3f')
    assert result.returncode == 0, result.stderr
    result = manage('operation_log', 'purge', '--before', '2021-01-01',
                    '--batch-size', '0')
    assert result.returncode != 0


def _run(ctx, project, due, status):
    run = objects.ScheduledOperationRun(
        ctx, id=uuidutils.generate_uuid(), project_id=project,
        scheduled_operation_id=uuidutils.generate_uuid(), due_at=due,
        status=status, host='engine', checkpoint_id=None,
        verification_id=None, reason=None, started_at=due,
        ended_at=None if status == 'started' else due)
    run.create()
    return run


def test_scheduled_operation_purge_runs(manage):
    ctx = context.get_admin_context()
    old = datetime.datetime(2020, 5, 1)
    kept = [_run(ctx, 'a', old, 'started'),
            _run(ctx, 'b', old, 'succeeded'),
            _run(ctx, 'a', datetime.datetime(2022, 1, 1), 'failed')]
    for status in ('succeeded', 'failed', 'skipped'):
        _run(ctx, 'a', old, status)

    result = manage('scheduled_operation', 'purge_runs', '--before',
                    '2021-01-01', '--project', 'a', '--batch-size', '2')
    assert result.returncode == 0, result.stderr
    assert 'Purged 3 ' in result.stdout
    left = []
    for run in kept:
        left.extend(r.id for r in objects.ScheduledOperationRun.list_of(
            ctx, run.scheduled_operation_id))
    assert sorted(left) == sorted(run.id for run in kept)

    result = manage('scheduled_operation', 'purge_runs', '--before', 'x')
    assert result.returncode == 1
    assert '--before' in result.stderr
