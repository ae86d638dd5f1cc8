"""karbor-manage, run as its own process against the test database."""

import datetime
import subprocess
import sys

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
