"""karbor-manage, run as its own process against the test database."""

import datetime
import subprocess
import sys

from oslo_utils import uuidutils
import pytest
from sqlalchemy import select

from karbor.api import listing
from karbor.conf import CONF
from karbor import context
from karbor.db import migration
from karbor.db import models
from karbor.db import session as db_session
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


def _operation_with_cycles(ctx, project, deleted, cycles):
    """A verify scheduled operation and its cycles: (number, status,
    started_at, completed_at) each. Returns their ids by number."""
    operation_id = uuidutils.generate_uuid()
    ids = {}
    with db_session.writer.using(ctx) as session:
        session.add(models.ScheduledOperation(
            id=operation_id, project_id=project, name='verify',
            operation_type='verify', trigger_id=uuidutils.generate_uuid(),
            operation_definition={}, deleted=deleted))
        for number, status, started, completed in cycles:
            ids[number] = uuidutils.generate_uuid()
            session.add(models.VerifyCycle(
                id=ids[number], project_id=project,
                scheduled_operation_id=operation_id, number=number,
                status=status, started_at=started,
                ends_at=started + datetime.timedelta(days=3),
                read_to=0, chunks=1, chunks_read=1, chunks_left=0,
                chunks_damaged=0, runs=1, completed_at=completed))
    return ids


def _cycle_ids():
    with db_session.reader.using(context.get_admin_context()) as session:
        return set(session.execute(
            select(models.VerifyCycle.id)).scalars().all())


def test_scheduled_operation_purge_cycles(manage):
    ctx = context.get_admin_context()
    day = datetime.timedelta(days=1)
    old = datetime.datetime(2020, 5, 1)
    recent = datetime.datetime(2022, 1, 1)
    # A live operation: two old finished cycles, a newer one, and the one
    # being read.
    live = _operation_with_cycles(ctx, 'a', False, [
        (0, 'complete', old, old + 3 * day),
        (1, 'incomplete', old + 3 * day, old + 6 * day),
        (2, 'complete', recent, recent + 3 * day),
        (3, 'reading', recent + 3 * day, None)])
    # A live operation whose newest cycle ended long ago (its trigger
    # stopped): that cycle places its next run, so it stays.
    idle = _operation_with_cycles(ctx, 'a', False, [
        (0, 'complete', old, old + 3 * day),
        (1, 'complete', old + 3 * day, old + 6 * day)])
    # Deleted operations: an old cycle still being read goes, a recent
    # one stays until a later purge.
    _operation_with_cycles(ctx, 'a', True, [
        (0, 'complete', old, old + 3 * day),
        (1, 'reading', old + 3 * day, None)])
    gone_recently = _operation_with_cycles(ctx, 'a', True, [
        (0, 'reading', recent, None)])
    # Another project's cycles are left to --project b.
    other = _operation_with_cycles(ctx, 'b', True, [
        (0, 'complete', old, old + 3 * day)])

    result = manage('scheduled_operation', 'purge_cycles', '--before',
                    '2021-01-01', '--project', 'a', '--batch-size', '2')
    assert result.returncode == 0, result.stderr
    assert 'Purged 5 verify cycles' in result.stdout
    assert _cycle_ids() == {live[2], live[3], idle[1],
                            gone_recently[0], other[0]}

    # A later date: the deleted operations' cycles go, and a live
    # operation's finished cycles but its newest.
    result = manage('scheduled_operation', 'purge_cycles', '--before',
                    '2030-01-01')
    assert result.returncode == 0, result.stderr
    assert 'Purged 3 ' in result.stdout
    assert _cycle_ids() == {live[3], idle[1]}

    result = manage('scheduled_operation', 'purge_cycles', '--before', 'x')
    assert result.returncode == 1
    assert '--before' in result.stderr
