"""The operation logs of one checkpoint's life, through the released clients.

One checkpoint of an ``OS::Karbor::Directory`` tree is protected,
restored (once into a new name, once onto that same name, which fails),
verified and deleted with the ``karbor`` CLI; then the audit trail is read
back with ``operationlog-list``/``operationlog-show``, the OpenStack CLI
and, for the filters the CLIs do not expose, the raw API. The project of
this module (``oplog``) is its own, so the rows it expects are exactly
the rows there are; ``bob`` of ``other`` only looks.
"""

import datetime
import functools
import pathlib
import types

import pytest

from karbor.tests.e2e import helpers
from karbor.tests.e2e.helpers import failed
from karbor.tests.e2e.helpers import ok
from karbor.tests.e2e.helpers import parse_show
from karbor.tests.e2e.helpers import parse_table
from karbor.tests.e2e import test_protection_cli as protection

PROVIDER = helpers.LOCAL_PROVIDER_ID
DIRECTORY = 'OS::Karbor::Directory'

PROJECT = 'oplog'
CAROL = 'carol'         # a plain member of PROJECT
OTHER = 'other'
BOB = 'bob'             # a plain member of OTHER

SOURCE = 'records'
RESTORED = 'records-back'

VERIFY_TIMEOUT = 120
LOG_SETTLE_TIMEOUT = 30

# What the CLIs print for an id a row does not have.
EMPTY = ('', 'None', '-')

FINAL = {'protect': ('available', 'error'),
         'restore': ('restored', 'error-restoring'),
         'verify': ('success', 'error'),
         'delete': ('deleted', 'error-deleting')}


def parse_time(text):
    """A timestamp as the API or a CLI prints it, as naive UTC."""
    text = str(text).strip()
    assert text not in EMPTY, 'no timestamp: %r' % (text,)
    if text.endswith('Z'):
        text = text[:-1] + '+00:00'
    parsed = datetime.datetime.fromisoformat(text.replace(' ', 'T', 1))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.timezone.utc).replace(
            tzinfo=None)
    return parsed


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def empty(value):
    return value is None or str(value).strip() in EMPTY


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope='module')
def cli(karbor_cli):
    return functools.partial(karbor_cli, user=CAROL, project=PROJECT)


@pytest.fixture(scope='module')
def other_cli(karbor_cli):
    return functools.partial(karbor_cli, user=BOB, project=OTHER)


@pytest.fixture(scope='module')
def api(karbor_server):
    """api(method, path, user=CAROL, project=PROJECT, body=None)."""
    def call(method, path, user=CAROL, project=PROJECT, body=None):
        return helpers.api_call(karbor_server, method, path, user=user,
                                project=project, body=body)
    return call


def logs_where(api, user=CAROL, project=PROJECT, **filters):
    query = '&'.join('%s=%s' % item for item in sorted(filters.items()))
    body = helpers.api_ok(api('GET', '/operation_logs' + (
        '?' + query if query else ''), user=user, project=project))
    return body['operation_logs']


def verify(server, cli, checkpoint_id):
    created = parse_show(ok(cli('verification-create', PROVIDER,
                                checkpoint_id)))
    shown, _history = protection.wait_for_status(
        server, lambda: parse_show(ok(cli('verification-show',
                                          created['id']))),
        ('success', 'error'), VERIFY_TIMEOUT,
        'verification %s' % created['id'])
    return created, shown


@pytest.fixture(scope='module')
def story(karbor_server, cli, api):
    """protect, restore, a failing restore, verify and delete one checkpoint.

    Returns the ids of everything made, with the (naive UTC) time just
    before the first and just after the last operation.
    """
    data_root = pathlib.Path(karbor_server.state_path) / 'data'
    tree = data_root / PROJECT / SOURCE
    total_bytes, _distinct, _big = protection.make_tree(tree)
    files = sum(1 for path in tree.rglob('*')
                if path.is_file() and not path.is_symlink())
    rows = parse_table(ok(cli('protectable-list-instances', DIRECTORY)))
    instance_id = {row['Name']: row['Id'] for row in rows}[SOURCE]
    plan = protection.make_plan(cli, 'oplog-records', instance_id)

    began = utc_now()
    created, _shown = protection.protect(karbor_server, cli, plan['id'])
    checkpoint_id = created['id']
    restored, restored_shown = protection.restore(
        karbor_server, cli, checkpoint_id, 'restore_name=%s' % RESTORED)
    assert restored_shown['status'] == 'success', restored_shown
    clash, clash_shown = protection.restore(
        karbor_server, cli, checkpoint_id, 'restore_name=%s' % RESTORED)
    assert clash_shown['status'] == 'error', clash_shown
    verification, verification_shown = verify(karbor_server, cli,
                                              checkpoint_id)
    ok(cli('checkpoint-delete', PROVIDER, checkpoint_id))
    protection.wait_until_gone(karbor_server, cli, checkpoint_id)

    # The flows end their logs as they end the objects; allow a moment.
    def settled():
        found = logs_where(api, checkpoint_id=checkpoint_id)
        if len(found) >= 5 and all(
                row['status'] in FINAL[row['operation_type']]
                for row in found):
            return found
        return None

    logs, waited = helpers.poll(settled, LOG_SETTLE_TIMEOUT)
    assert logs, protection.failure_with_log(
        karbor_server, 'the logs of checkpoint %s did not settle in %.0f s: '
        '%s' % (checkpoint_id, waited,
                logs_where(api, checkpoint_id=checkpoint_id)))
    ended = utc_now()
    return types.SimpleNamespace(
        plan_id=plan['id'], instance_id=instance_id,
        checkpoint_id=checkpoint_id, restore_id=restored['id'],
        clash_id=clash['id'], clash_shown=clash_shown,
        verification_id=verification['id'],
        verification_status=verification_shown['status'],
        files=files, total_bytes=total_bytes, began=began, ended=ended)


@pytest.fixture(scope='module')
def by_kind(story, api):
    """{'protect'|'restore'|'clash'|'verify'|'delete': the API's row}."""
    rows = logs_where(api, checkpoint_id=story.checkpoint_id)
    found = {}
    for row in rows:
        kind = row['operation_type']
        if kind == 'restore' and row['restore_id'] == story.clash_id:
            kind = 'clash'
        assert kind not in found, 'two %s logs: %s' % (kind, rows)
        found[kind] = row
    assert sorted(found) == ['clash', 'delete', 'protect', 'restore',
                             'verify'], rows
    return found


# ------------------------------------------------------------------ tests

def test_one_log_per_operation_in_operationlog_list(cli, story):
    rows = parse_table(ok(cli('operationlog-list')))
    mine = [row for row in rows if row['Checkpoint id'] ==
            story.checkpoint_id]
    # The project is this module's: it has no other logs.
    assert len(mine) == len(rows) == 5, rows

    kinds = {}
    for row in mine:
        kind = row['Operation Type']
        if kind == 'restore' and row['Restore Id'] == story.clash_id:
            kind = 'clash'
        assert kind not in kinds, rows
        kinds[kind] = row
    assert sorted(kinds) == ['clash', 'delete', 'protect', 'restore',
                             'verify'], rows

    expected_status = {'protect': 'available', 'restore': 'restored',
                       'clash': 'error-restoring', 'verify': 'success',
                       'delete': 'deleted'}
    for kind, row in kinds.items():
        assert row['Status'] == expected_status[kind], (kind, row)
        assert row['Provider id'] == PROVIDER, (kind, row)
        assert row['Plan Id'] == story.plan_id, (kind, row)
        assert empty(row['Scheduled Operation Id']), (kind, row)
        if kind != 'clash':
            assert empty(row['Error Info']), (kind, row)
    assert kinds['restore']['Restore Id'] == story.restore_id
    assert kinds['clash']['Restore Id'] == story.clash_id
    for kind in ('protect', 'verify', 'delete'):
        assert empty(kinds[kind]['Restore Id']), (kind, kinds[kind])

    # Both timestamps, in order, within the story, and the operations
    # one after the other as they were run.
    order = ['protect', 'restore', 'clash', 'verify', 'delete']
    spans = []
    for kind in order:
        started = parse_time(kinds[kind]['Started At'])
        ended = parse_time(kinds[kind]['Ended At'])
        assert started <= ended, (kind, kinds[kind])
        spans.append((started, ended))
    slack = datetime.timedelta(seconds=2)
    assert story.began - slack <= spans[0][0], (story.began, spans)
    assert spans[-1][1] <= story.ended + slack, (story.ended, spans)
    for (_s1, previous_end), (next_start, _e2) in zip(spans, spans[1:]):
        assert previous_end <= next_start, spans


def test_api_rows_carry_the_ids_and_figures(story, by_kind):
    for kind, row in by_kind.items():
        assert row['checkpoint_id'] == story.checkpoint_id, row
        assert row['provider_id'] == PROVIDER, row
        assert row['plan_id'] == story.plan_id, row
        assert row['project_id'] == PROJECT, row
        assert row['scheduled_operation_id'] is None, row
        assert isinstance(row['extra_info'], dict), row
        assert row['started_at'] and row['ended_at'], row
    assert by_kind['verify']['verification_id'] == story.verification_id
    for kind in ('protect', 'restore', 'clash', 'delete'):
        assert by_kind[kind]['verification_id'] is None, by_kind[kind]

    # The protect's figures: totals at the top, and per resource.
    info = by_kind['protect']['extra_info']
    assert info['files'] == story.files, info
    assert info['bytes'] == story.total_bytes, info
    assert info['bytes_read'] >= 0, info
    resource = info['resources'][story.instance_id]
    assert resource['type'] == DIRECTORY, info
    assert resource['files'] == story.files, info
    assert by_kind['verify']['extra_info']['chunks_checked'] > 0, \
        by_kind['verify']
    assert by_kind['verify']['extra_info']['chunks_damaged'] == 0, \
        by_kind['verify']


def test_failed_restore_log_names_the_target(story, by_kind):
    row = by_kind['clash']
    assert row['status'] == 'error-restoring', row
    assert row['restore_id'] == story.clash_id, row
    assert RESTORED in (row['error_info'] or ''), row
    assert 'exists' in row['error_info'], row
    assert parse_time(row['started_at']) <= parse_time(row['ended_at'])
    # The restore itself says the same.
    reasons = protection.resources_of(story.clash_shown, 'resources_reason')
    assert RESTORED in reasons['%s#%s' % (DIRECTORY, story.instance_id)]


def test_logs_of_the_deleted_checkpoint_stay_filterable(cli, api, story,
                                                        by_kind):
    message = failed(cli('checkpoint-show', PROVIDER, story.checkpoint_id))
    assert protection.NOT_FOUND in message, message

    ids = sorted(row['id'] for row in by_kind.values())
    assert sorted(row['id'] for row in logs_where(
        api, checkpoint_id=story.checkpoint_id)) == ids
    for kind, operation_type in (('protect', 'protect'),
                                 ('delete', 'delete'),
                                 ('verify', 'verify')):
        rows = logs_where(api, checkpoint_id=story.checkpoint_id,
                          operation_type=operation_type)
        assert [row['id'] for row in rows] == [by_kind[kind]['id']], rows
    rows = logs_where(api, checkpoint_id=story.checkpoint_id,
                      operation_type='restore')
    assert sorted(row['id'] for row in rows) == sorted(
        [by_kind['restore']['id'], by_kind['clash']['id']]), rows
    assert [row['id'] for row in logs_where(
        api, restore_id=story.clash_id)] == [by_kind['clash']['id']]
    assert [row['id'] for row in logs_where(
        api, verification_id=story.verification_id)] == \
        [by_kind['verify']['id']]
    assert [row['id'] for row in logs_where(
        api, plan_id=story.plan_id, status='deleted')] == \
        [by_kind['delete']['id']]

    # And through the CLI's own filter.
    rows = parse_table(ok(cli('operationlog-list', '--status', 'deleted')))
    assert [row['Id'] for row in rows] == [by_kind['delete']['id']], rows
    rows = parse_table(ok(cli('operationlog-list', '--status',
                              'error-restoring')))
    assert [row['Id'] for row in rows] == [by_kind['clash']['id']], rows

    # The provider-scoped URL lists them too.
    body = helpers.api_ok(api('GET', '/providers/%s/operation_logs'
                              % PROVIDER))
    assert sorted(row['id'] for row in body['operation_logs']) == ids


def test_operationlog_show(cli, story, by_kind):
    for kind, row in by_kind.items():
        shown = parse_show(ok(cli('operationlog-show', row['id'])))
        assert shown['id'] == row['id'], shown
        assert shown['operation_type'] == row['operation_type'], shown
        assert shown['status'] == row['status'], shown
        assert shown['checkpoint_id'] == story.checkpoint_id, shown
        assert shown['provider_id'] == PROVIDER, shown
        assert shown['plan_id'] == story.plan_id, shown
        assert parse_time(shown['started_at']) == \
            parse_time(row['started_at']), shown
        assert parse_time(shown['ended_at']) == \
            parse_time(row['ended_at']), shown
    shown = parse_show(ok(cli('operationlog-show', by_kind['verify']['id'])))
    assert shown['verification_id'] == story.verification_id, shown
    shown = parse_show(ok(cli('operationlog-show', by_kind['clash']['id'])))
    assert RESTORED in shown['error_info'], shown


def test_osc_operationlog_list_and_show(openstack_json, story, by_kind):
    as_carol = functools.partial(openstack_json, user=CAROL,
                                 project=PROJECT)
    rows = {row['Id']: row for row in as_carol('operationlog', 'list')}
    assert sorted(rows) == sorted(row['id'] for row in by_kind.values())
    for row in by_kind.values():
        listed = rows[row['id']]
        assert listed['Operation Type'] == row['operation_type'], listed
        assert listed['Status'] == row['status'], listed
        assert listed['Checkpoint id'] == story.checkpoint_id, listed
        assert listed['Provider id'] == PROVIDER, listed
        assert listed['Plan Id'] == story.plan_id, listed
        assert listed['Started At'] and listed['Ended At'], listed
    assert rows[by_kind['restore']['id']]['Restore Id'] == story.restore_id

    shown = as_carol('operationlog', 'show', by_kind['protect']['id'])
    assert shown['id'] == by_kind['protect']['id'], shown
    assert shown['status'] == 'available', shown
    assert shown['operation_type'] == 'protect', shown


def test_other_tenant_sees_none_of_the_rows(karbor_cli, other_cli,
                                            openstack_json, api, story,
                                            by_kind):
    ids = {row['id'] for row in by_kind.values()}

    rows = parse_table(ok(other_cli('operationlog-list')))
    assert not ids & {row['Id'] for row in rows}, rows
    rows = openstack_json('operationlog', 'list', user=BOB, project=OTHER)
    assert not ids & {row['Id'] for row in rows}, rows
    for log_id in sorted(ids):
        message = failed(other_cli('operationlog-show', log_id))
        assert 'not found' in message.lower() or \
            protection.NOT_FOUND in message, message

    for path in ('/operation_logs', '/providers/%s/operation_logs'
                 % PROVIDER,
                 '/operation_logs?checkpoint_id=%s' % story.checkpoint_id,
                 '/providers/%s/operation_logs?checkpoint_id=%s'
                 % (PROVIDER, story.checkpoint_id)):
        body = helpers.api_ok(api('GET', path, user=BOB, project=OTHER))
        assert not ids & {row['id'] for row in body['operation_logs']}, (
            path, body)
    for log_id in sorted(ids):
        for path in ('/operation_logs/%s' % log_id,
                     '/providers/%s/operation_logs/%s' % (PROVIDER,
                                                          log_id)):
            result = api('GET', path, user=BOB, project=OTHER)
            assert result.status == 404, (path, result)
            assert 'application/json' in result.content_type, result
            fault = list(result.body.values())[0]
            assert fault['code'] == 404, result

    # The owner reads them by id through both URLs; an admin lists them
    # with --all-tenants.
    for log_id in sorted(ids):
        for path in ('/operation_logs/%s' % log_id,
                     '/providers/%s/operation_logs/%s' % (PROVIDER,
                                                          log_id)):
            body = helpers.api_ok(api('GET', path))
            assert body['operation_log']['id'] == log_id
    rows = parse_table(ok(karbor_cli('operationlog-list', '--all-tenants',
                                     user=helpers.ADMIN, project=OTHER)))
    assert ids <= {row['Id'] for row in rows}, rows


def test_unknown_filters_and_sort_keys_are_400(cli, api, story):
    # The client refuses a sort key it does not know before sending...
    message = failed(cli('operationlog-list', '--sort', 'nosuchkey:asc'))
    assert 'sort_key' in message, message
    # ...and the server one the client knows but operation logs lack.
    message = failed(cli('operationlog-list', '--sort', 'name:asc'))
    assert "'name'" in message and '400' in message, message

    for path, word in (
            ('/operation_logs?colour=red', 'colour'),
            ('/operation_logs?sort=nosuchkey:asc', 'nosuchkey'),
            ('/operation_logs?sort_key=nosuchkey', 'nosuchkey'),
            ('/operation_logs?sort=started_at:sideways', 'sideways'),
            ('/operation_logs?operation_type=backup', 'operation_type'),
            ('/operation_logs?checkpoint_id=not-a-uuid', 'checkpoint_id'),
            ('/providers/%s/operation_logs?colour=red' % PROVIDER,
             'colour')):
        result = api('GET', path)
        assert result.status == 400, (path, result)
        assert 'application/json' in result.content_type, (path, result)
        assert isinstance(result.body, dict) and len(result.body) == 1, (
            path, result)
        fault = list(result.body.values())[0]
        assert fault['code'] == 400, (path, result)
        assert word in fault['message'], (path, result)

    # The known keys and filters work.
    rows = logs_where(api, sort='started_at:asc')
    starts = [parse_time(row['started_at']) for row in rows]
    assert starts == sorted(starts), rows
    rows = logs_where(api, sort_key='operation_type', sort_dir='asc')
    assert [row['operation_type'] for row in rows] == sorted(
        row['operation_type'] for row in rows), rows
