"""Operation logs: the spec's use cases and the audit trail's guarantees."""

import datetime
import uuid

import pytest

from karbor import context
from karbor import objects
from karbor.tests.functional.helpers import create_plan
from karbor.tests.functional.helpers import DIRECTORY
from karbor.tests.functional.helpers import make_tree
from karbor.tests.functional.helpers import protect
from karbor.tests.functional.helpers import PROVIDER
from karbor.tests.functional.helpers import refuse_reading
from karbor.tests.functional.helpers import restore
from karbor.tests.functional.helpers import wait_for
from karbor.tests.functional.test_verifications import verify


def logs(api, query=''):
    res = api.get('operation_logs' + query)
    assert res.status_code == 200, res.json_body
    return res.json_body['operation_logs']


def delete_checkpoint(api, checkpoint_id):
    path = 'providers/%s/checkpoints/%s' % (PROVIDER, checkpoint_id)
    assert api.delete(path).status_code == 202
    wait_for(lambda: api.get(path).status_code, lambda s: s == 404)


def test_every_operation_is_logged_and_outlives_its_checkpoint(
        api, protection):
    """Use cases 1 and 2: one API for protect, restore and delete logs,
    including those of checkpoints that no longer exist."""
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    checkpoint = protect(api, plan['id'])
    result = restore(api, checkpoint['id'])
    delete_checkpoint(api, checkpoint['id'])

    rows = logs(api)
    assert [r['operation_type'] for r in rows] == [
        'delete', 'restore', 'protect']
    by_type = {r['operation_type']: r for r in rows}
    assert by_type['protect']['status'] == 'available'
    assert by_type['restore']['status'] == 'restored'
    assert by_type['delete']['status'] == 'deleted'
    for row in rows:
        assert row['started_at'] and row['ended_at']
        assert row['started_at'] <= row['ended_at']
        assert row['checkpoint_id'] == checkpoint['id']
        assert row['plan_id'] == plan['id']
        assert row['provider_id'] == PROVIDER
        assert row['project_id'] == 'demo'
        assert row['error_info'] is None
        assert isinstance(row['extra_info'], dict)
        assert row['scheduled_operation_id'] is None
    assert by_type['restore']['restore_id'] == result['id']
    assert by_type['protect']['restore_id'] is None

    # The plugin's figures reach the log.
    figures = by_type['protect']['extra_info']
    assert figures['files'] >= 3
    assert figures['bytes_read'] > 70000
    assert plan['resources'][0]['id'] in figures['resources']

    # The checkpoint is gone; its logs are not.
    assert api.get('providers/%s/checkpoints/%s' % (
        PROVIDER, checkpoint['id'])).status_code == 404
    kept = logs(api, '?checkpoint_id=%s' % checkpoint['id'])
    assert {r['operation_type'] for r in kept} == {
        'protect', 'restore', 'delete'}
    for row in rows:
        res = api.get('operation_logs/%s' % row['id'])
        assert res.json_body['operation_log'] == row
        res = api.get('providers/%s/operation_logs/%s' % (
            PROVIDER, row['id']))
        assert res.json_body['operation_log'] == row
    assert len(api.get('providers/%s/operation_logs' % PROVIDER).json_body[
        'operation_logs']) == 3


def test_filters_sorting_and_pages(api, protection):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    first = protect(api, plan['id'])
    second = protect(api, plan['id'])
    restore(api, second['id'])

    assert len(logs(api, '?operation_type=protect')) == 2
    assert len(logs(api, '?status=restored')) == 1
    assert len(logs(api, '?plan_id=%s' % plan['id'])) == 3
    assert len(logs(api, '?provider_id=%s' % PROVIDER)) == 3
    assert logs(api, '?restore_id=%s' % uuid.uuid4()) == []

    rows = logs(api, '?sort=started_at:asc')
    assert [r['checkpoint_id'] for r in rows[:2]] == [
        first['id'], second['id']]
    page = api.get('operation_logs?limit=2').json_body
    assert len(page['operation_logs']) == 2
    next_href = page['operation_logs_links'][0]['href']
    rest = api.get(next_href.split('localhost', 1)[1],
                   project_prefix=False).json_body['operation_logs']
    assert len(rest) == 1
    assert {r['id'] for r in page['operation_logs'] + rest} == {
        r['id'] for r in logs(api)}

    start = rows[0]['started_at']
    assert len(logs(api, '?started_after=%s' % start)) == 3
    assert len(logs(api, '?started_before=%s' % start)) == 0
    tomorrow = (datetime.datetime.utcnow() +
                datetime.timedelta(days=1)).strftime('%Y-%m-%d')
    assert len(logs(api, '?ended_before=%s' % tomorrow)) == 3
    assert len(logs(api, '?ended_after=%s' % tomorrow)) == 0


@pytest.mark.parametrize('query,field', [
    ('?colour=red', 'colour'),
    ('?sort=nosuchkey:asc', 'sort'),
    ('?sort=error_info:asc', 'sort'),
    ('?status=sleeping', 'status'),
    ('?operation_type=backup', 'operation_type'),
    ('?checkpoint_id=not-a-uuid', 'checkpoint_id'),
    ('?started_after=last-tuesday', 'started_after'),
    ('?limit=abc', 'limit'),
    ('?marker=8c2f4b43-6c4b-4e59-8f0b-9d1d2f5a0000', 'marker'),
])
def test_bad_queries_are_400(api, query, field):
    res = api.get('operation_logs' + query)
    assert res.status_code == 400
    assert field in res.json_body['badRequest']['message']


def test_logs_are_isolated(api, protection):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    protect(api, plan['id'])
    (row,) = logs(api)
    bob = api.as_user('bob', 'other')
    assert bob.get('/v1/other/operation_logs',
                   project_prefix=False).json_body['operation_logs'] == []
    assert bob.get('/v1/other/operation_logs/%s' % row['id'],
                   project_prefix=False).status_code == 404
    assert bob.get('/v1/other/providers/%s/operation_logs' % PROVIDER,
                   project_prefix=False).json_body['operation_logs'] == []
    assert bob.get('/v1/other/providers/%s/operation_logs/%s' % (
        PROVIDER, row['id']), project_prefix=False).status_code == 404
    assert bob.get('/v1/other/operation_logs?all_tenants=1',
                   project_prefix=False).status_code == 403
    # A marker from another project is as unknown as a random one.
    assert bob.get('/v1/other/operation_logs?marker=%s' % row['id'],
                   project_prefix=False).status_code == 400
    admin = api.as_user('admin', 'other')
    rows = admin.get('/v1/other/operation_logs?all_tenants=1',
                     project_prefix=False).json_body['operation_logs']
    assert [r['id'] for r in rows] == [row['id']]
    rows = admin.get('/v1/other/operation_logs?project_id=demo',
                     project_prefix=False).json_body['operation_logs']
    assert [r['id'] for r in rows] == [row['id']]


def test_provider_scoped_urls(api, protection):
    res = api.get('providers/%s/operation_logs' % uuid.uuid4())
    assert res.status_code == 404
    res = api.get('providers/nope/operation_logs')
    assert res.status_code == 404


def test_failed_protect_logs_the_plugins_reason(api, protection,
                                                monkeypatch):
    make_tree('demo', 'docs')
    refuse_reading(monkeypatch, 'sub/b.bin')
    plan = create_plan(api, ['docs'])
    checkpoint = protect(api, plan['id'])
    assert checkpoint['status'] == 'error'
    (row,) = logs(api)
    assert row['status'] == 'error'
    assert 'sub/b.bin' in row['error_info']
    assert row['ended_at']


def test_failed_restore_and_delete_are_logged(api, protection,
                                              monkeypatch):
    from karbor.services.protection.plugins.directory import protection \
        as directory_protection
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    checkpoint = protect(api, plan['id'])
    result = restore(api, checkpoint['id'],
                     {DIRECTORY: {'restore_name': 'docs'}})  # exists
    assert result['status'] == 'error'
    (row,) = logs(api, '?operation_type=restore')
    assert row['status'] == 'error-restoring'
    assert 'docs' in row['error_info']

    plugin = directory_protection.DirectoryProtectionPlugin

    def broken_delete(self, resource):
        raise RuntimeError('bank unreachable')

    monkeypatch.setattr(plugin, 'get_delete_operation', broken_delete)
    path = 'providers/%s/checkpoints/%s' % (PROVIDER, checkpoint['id'])
    assert api.delete(path).status_code == 202
    shown = wait_for(lambda: api.get(path).json_body['checkpoint'],
                     lambda c: c['status'] != 'deleting')
    assert shown['status'] == 'error-deleting'
    (row,) = logs(api, '?operation_type=delete')
    assert row['status'] == 'error-deleting'
    assert 'bank unreachable' in row['error_info']


def test_scheduled_operation_id_comes_from_extra_info(api, protection):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    schedule = str(uuid.uuid4())
    checkpoint = protect(api, plan['id'], {
        'created_by': 'operation-engine',
        'scheduled_operation_id': schedule})
    (row,) = logs(api, '?scheduled_operation_id=%s' % schedule)
    assert row['checkpoint_id'] == checkpoint['id']


def test_restart_ends_running_logs_in_error(api, protection):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    service = protection[0]
    ctx = context.get_admin_context()
    row = objects.Checkpoint(
        ctx, id=str(uuid.uuid4()), project_id='demo', provider_id=PROVIDER,
        plan_id=plan['id'], status='protecting', host=service.host,
        protection_plan={'id': plan['id'], 'name': plan['name'],
                         'resources': plan['resources']})
    row.create()
    objects.OperationLog.start(ctx, 'protect', 'demo', checkpoint_id=row.id,
                               plan_id=plan['id'], provider_id=PROVIDER)
    service.stop()
    service.start()
    (log,) = logs(api)
    assert log['status'] == 'error'
    assert 'interrupted' in log['error_info']
    assert log['ended_at']


def test_purge_removes_old_finished_logs_only(db):
    ctx = context.get_admin_context()
    old = datetime.datetime(2020, 1, 1)
    for project in ('a', 'b'):
        for status in ('available', 'protecting'):
            log = objects.OperationLog.start(ctx, 'protect', project)
            log.started_at = old
            log.status = status
            log.save()
    objects.OperationLog.start(ctx, 'protect', 'a')  # recent
    removed = objects.OperationLog.purge(
        ctx, datetime.datetime(2021, 1, 1), project_id='a', batch_size=1)
    assert removed == 1
    removed = objects.OperationLog.purge(ctx, datetime.datetime(2021, 1, 1))
    assert removed == 1
    from karbor.api import listing
    left = objects.OperationLog.list(ctx, listing.ListQuery(
        limit=100, sort=[('started_at', 'asc')]))
    assert sorted((r.project_id, r.status) for r in left) == [
        ('a', 'protecting'), ('a', 'protecting'), ('b', 'protecting')]


# An operation's row and its log end in one transaction ---------------------

# The row's final statuses, and the log status each goes with.
_ENDINGS = {
    (objects.Checkpoint, 'available'): ('protect', 'available'),
    (objects.Checkpoint, 'error'): ('protect', 'error'),
    (objects.Checkpoint, 'deleted'): ('delete', 'deleted'),
    (objects.Checkpoint, 'error-deleting'): ('delete', 'error-deleting'),
    (objects.Restore, 'success'): ('restore', 'restored'),
    (objects.Restore, 'error'): ('restore', 'error-restoring'),
    (objects.Verification, 'success'): ('verify', 'success'),
    (objects.Verification, 'error'): ('verify', 'error'),
}


def watch_endings(monkeypatch):
    """Just before a row takes its final status, look (in a transaction of
    our own) at the row and at its operation's log: either both ended or
    neither did. Returns [(operation, row status, log status)] seen."""
    seen = []

    def log_status(row, operation):
        ids = {objects.Restore: {'restore_id': row.id},
               objects.Verification: {'verification_id': row.id}}.get(
            type(row), {'checkpoint_id': row.id})
        found = objects.OperationLog.list_of_operation(
            context.get_admin_context(), operation, **ids)
        return found[0].status if found else None

    for cls in (objects.Checkpoint, objects.Restore, objects.Verification):
        def watching(self, values, expected, real=cls.conditional_update,
                     cls=cls):
            ending = _ENDINGS.get((cls, values.get('status')))
            if ending is not None:
                shown = cls.get_by_id(context.get_admin_context(), self.id)
                seen.append((ending[0], shown.status,
                             log_status(self, ending[0])))
            return real(self, values, expected)
        monkeypatch.setattr(cls, 'conditional_update', watching)
    return seen


def test_no_reader_sees_a_log_ended_before_its_operation(
        api, protection, monkeypatch):
    """A reader that sees the log ended sees the checkpoint or restore
    ended too (test_retention_keeps_the_newest_backups waits for the
    delete logs, then lists the checkpoints)."""
    from karbor.services.protection.plugins.directory import protection \
        as directory_protection
    seen = watch_endings(monkeypatch)
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    checkpoint = protect(api, plan['id'])
    restore(api, checkpoint['id'])
    restore(api, checkpoint['id'], {DIRECTORY: {'restore_name': 'docs'}})
    verify(api, checkpoint['id'])
    delete_checkpoint(api, checkpoint['id'])

    def broken_delete(self, resource):
        raise RuntimeError('bank unreachable')

    monkeypatch.setattr(directory_protection.DirectoryProtectionPlugin,
                        'get_delete_operation', broken_delete)
    refuse_reading(monkeypatch, 'a.txt')
    failed = protect(api, plan['id'])
    assert failed['status'] == 'error'
    path = 'providers/%s/checkpoints/%s' % (PROVIDER, failed['id'])
    assert api.delete(path).status_code == 202
    wait_for(lambda: api.get(path).json_body['checkpoint']['status'],
             lambda status: status == 'error-deleting')

    # Whatever was seen just before the row ended: its log still running
    # (or, for the delete that could not start, not written yet).
    assert seen == [
        ('protect', 'protecting', 'protecting'),
        ('restore', 'in_progress', 'restoring'),
        ('restore', 'in_progress', 'restoring'),
        ('verify', 'verifying', 'verifying'),
        ('delete', 'deleting', 'deleting'),
        ('protect', 'protecting', 'protecting'),
        ('delete', 'deleting', None),
    ]
    (log,) = [row for row in logs(api, '?operation_type=delete')
              if row['checkpoint_id'] == failed['id']]
    assert log['status'] == 'error-deleting'
