"""Operations nobody will finish end in error, with their logs.

Two protection services in-process against one SQLite file and the
in-process transport: one of them is made to look dead (its heartbeat
stopped and moved back in time), casts are left without any service, or
fail to be sent, and a service is disabled.
"""

import datetime
import json
import os
import threading
import time
import uuid

import oslo_messaging as messaging
import pytest
from sqlalchemy import update

from karbor.conf import CONF
from karbor import context
from karbor.db import models
from karbor.db import session as db_session
from karbor import objects
from karbor import service as service_mod
from karbor.services.protection.banks import file_system
from karbor.services.protection import checkpoint as bank_checkpoint
from karbor.services.protection import manager
from karbor.services.protection import recovery
from karbor.services.protection import rpcapi
from karbor.tests.functional.helpers import create_plan
from karbor.tests.functional.helpers import DIRECTORY
from karbor.tests.functional.helpers import make_tree
from karbor.tests.functional.helpers import protect
from karbor.tests.functional.helpers import PROVIDER
from karbor.tests.functional.helpers import wait_for
from karbor.tests.functional.test_verifications import verify


@pytest.fixture
def start_protection(db, data_root, override):
    """start_protection(host) -> a running karbor-protection Service."""
    override('report_interval', 1)
    started = []

    def _start(host):
        svc = service_mod.Service(manager.BINARY, manager.TOPIC,
                                  manager.ProtectionManager(host), host=host)
        svc.start()
        started.append(svc)
        return svc

    yield _start
    for svc in started:
        svc.stop()


def _checkpoint(api, checkpoint_id):
    return api.get('providers/%s/checkpoints/%s' % (
        PROVIDER, checkpoint_id)).json_body['checkpoint']


def _logs(admin_api, **filters):
    query = '&'.join('%s=%s' % item for item in filters.items())
    res = admin_api.get('operation_logs?all_tenants=1&' + query)
    assert res.status_code == 200, res.json_body
    return res.json_body['operation_logs']


@pytest.fixture
def hold_protects(start_protection):
    """hold_protects(project) -> a fresh garbage-collection marker: the
    directory plugin's protects of ``project`` wait (after taking their
    lease) until it is removed, as it is at the latest before the services
    stop."""
    markers = []

    def _hold(project):
        marker = os.path.join(
            CONF.file_system_bank_plugin.file_system_bank_path, 'locks',
            project, 'gc-test-%s' % uuid.uuid4().hex)
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        with open(marker, 'w') as f:
            json.dump({'kind': 'gc', 'host': 'test',
                       'updated_at': time.time()}, f)
        markers.append(marker)
        return marker

    yield _hold
    for marker in markers:
        if os.path.exists(marker):
            os.unlink(marker)


def _make_dead(svc):
    """Stop ``svc``'s heartbeat and date its last one back beyond
    service_down_time, as if its process had been killed then; its flows
    go on (a stalled, not a dead, service)."""
    svc._stopping.set()
    svc._heartbeat_thread.join()
    long_ago = models.utcnow() - datetime.timedelta(
        seconds=CONF.service_down_time + 60)
    with db_session.get_engine().begin() as connection:
        connection.execute(update(models.Service)
                           .where(models.Service.id == svc.record.id)
                           .values(last_seen_at=long_ago))
    return long_ago


def _taken_rows(ctx, host, plan, checkpoint):
    """A restore and a verification ``host`` took and had not started."""
    rows = []
    for cls, status in ((objects.Restore, 'in_progress'),
                        (objects.Verification, 'verifying')):
        row = cls(ctx, id=str(uuid.uuid4()), project_id='demo',
                  provider_id=PROVIDER, checkpoint_id=checkpoint['id'],
                  parameters={}, status=status, host=host)
        row.create()
        rows.append(row)
    return rows


def test_survivor_ends_the_work_of_a_dead_peer(api, admin_api,
                                               start_protection, override,
                                               hold_protects):
    override('interrupted_check_interval', 1)
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    resource_id = plan['resources'][0]['id']
    p1 = start_protection('p1')
    first = protect(api, plan['id'])
    assert first['status'] == 'available'

    marker = hold_protects('demo')
    held = [api.post('providers/%s/checkpoints' % PROVIDER, {
        'checkpoint': {'plan_id': plan['id']}}).json_body['checkpoint']['id']
        for _ in range(3)]
    ctx = context.get_admin_context()
    for checkpoint_id in held:
        wait_for(lambda: _logs(admin_api, checkpoint_id=checkpoint_id),
                 lambda logs: [log['status'] for log in logs] ==
                 ['protecting'])
    restore_row, verification_row = _taken_rows(ctx, 'p1', plan, first)

    seen = _make_dead(p1)
    start_protection('p2')
    reason = ('interrupted: protection service p1 stopped reporting at %s'
              % seen.isoformat(timespec='seconds'))
    for checkpoint_id in held:
        shown = wait_for(lambda: _checkpoint(api, checkpoint_id),
                         lambda c: c['status'] != 'protecting')
        assert (shown['status'], shown['error_reason']) == ('error', reason)
        assert shown['resources_status'][resource_id]['status'] == 'error'
        assert shown['resources_status'][resource_id]['reason'] == reason
        (log,) = _logs(admin_api, checkpoint_id=checkpoint_id)
        assert (log['status'], log['error_info']) == ('error', reason)
        assert log['ended_at']
        assert log['extra_info']['resources'][resource_id]['status'] == \
            'error'
    key = '%s#%s' % (DIRECTORY, resource_id)
    for row, log_filter, log_status in (
            (restore_row, 'restore_id', 'error-restoring'),
            (verification_row, 'verification_id', 'error')):
        row = type(row).get_by_id(ctx, row.id)
        assert row.status == 'error'
        assert row.resources_reason == {'': reason, key: reason}
        assert row.resources_status == {key: 'error'}
        # It never started: its log was written when it was ended.
        (log,) = _logs(admin_api, **{log_filter: row.id})
        assert (log['status'], log['error_info']) == (log_status, reason)

    # The stalled service wakes up and finishes: the outcome stays error,
    # in the index, the log and the bank alike.
    os.unlink(marker)
    p1.stop()
    for checkpoint_id in held:
        shown = _checkpoint(api, checkpoint_id)
        assert (shown['status'], shown['error_reason']) == ('error', reason)
        (log,) = _logs(admin_api, checkpoint_id=checkpoint_id)
        assert log['status'] == 'error'
        in_bank = bank_checkpoint.Checkpoint.load(
            file_system.FileSystemBank(), checkpoint_id)
        assert (in_bank.status, in_bank.metadata['error_reason']) == (
            'error', reason)

    # The plan protects and verifies on the survivor.
    again = protect(api, plan['id'])
    assert again['status'] == 'available', again
    assert objects.Checkpoint.get_by_id(ctx, again['id']).host == 'p2'
    assert verify(api, again['id'])['status'] == 'success'


def test_each_dead_peer_operation_is_ended_exactly_once(db, admin_context):
    ctx = admin_context
    dead = objects.Service(ctx, host='gone', binary=manager.BINARY,
                           topic=manager.TOPIC, report_count=1,
                           disabled=False)
    dead.create()
    rows = []
    for index in range(12):
        row = objects.Checkpoint(
            ctx, id=str(uuid.uuid4()), project_id='demo',
            provider_id=PROVIDER, plan_id=None,
            status='protecting' if index % 2 else 'deleting', host='gone',
            protection_plan={'resources': []})
        row.create()
        rows.append(row)
    ended = []
    barrier = threading.Barrier(6)

    def survivor(host):
        barrier.wait()
        ended.append(recovery.fail_dead_peers(ctx, host))

    threads = [threading.Thread(target=survivor, args=('s%d' % n,))
               for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(ended) == len(rows)
    for row in rows:
        row = objects.Checkpoint.get_by_id(ctx, row.id)
        assert row.status in ('error', 'error-deleting')
        assert row.error_reason == ('interrupted: protection service gone '
                                    'it never reported')
        log_type = 'protect' if row.status == 'error' else 'delete'
        logs = objects.OperationLog.list_of_operation(
            ctx, log_type, checkpoint_id=row.id)
        assert [log.status for log in logs] == [row.status]


def test_a_live_peer_keeps_its_work(api, start_protection, admin_context):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    start_protection('p1')
    checkpoint = protect(api, plan['id'])
    restore_row, _ = _taken_rows(admin_context, 'p1', plan, checkpoint)
    assert recovery.fail_dead_peers(admin_context, 'p2') == 0
    assert objects.Restore.get_by_id(admin_context,
                                     restore_row.id).status == 'in_progress'


def test_operation_nobody_takes_ends_in_error(api, admin_api,
                                              start_protection, override):
    override('operation_claim_timeout', 1)
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    resource_id = plan['resources'][0]['id']
    res = api.post('providers/%s/checkpoints' % PROVIDER,
                   {'checkpoint': {'plan_id': plan['id']}})
    assert res.status_code == 202
    checkpoint_id = res.json_body['checkpoint']['id']
    # What an operation engine does while no protection service runs.
    watcher = recovery.Watcher()
    assert watcher.check() == 0
    time.sleep(1.1)
    assert watcher.check() == 1
    reason = 'no protection service took this operation within 1 seconds'
    shown = _checkpoint(api, checkpoint_id)
    assert (shown['status'], shown['error_reason']) == ('error', reason)
    assert shown['resources_status'][resource_id]['status'] == 'error'
    (log,) = _logs(admin_api, checkpoint_id=checkpoint_id)
    assert (log['status'], log['error_info']) == ('error', reason)
    assert watcher.check() == 0

    # The message reaches a protection service at last: it is not run.
    svc = start_protection('late')
    wait_for(lambda: svc._rpc_server._started, bool)
    time.sleep(1)
    assert _checkpoint(api, checkpoint_id)['status'] == 'error'
    assert len(_logs(admin_api, checkpoint_id=checkpoint_id)) == 1


class _Unreachable(object):
    """An RPC client whose broker cannot be reached."""

    def __init__(self, error):
        self.error = error

    def prepare(self, version):
        return self

    def cast(self, context, method, **kwargs):
        raise self.error


# The rabbit driver raises MessageDeliveryFailure once its retries are
# spent on a pooled connection, but lets the broker client's error
# through when it cannot open a new one.
@pytest.mark.parametrize('error', [
    messaging.MessageDeliveryFailure('broker unreachable'),
    ConnectionRefusedError(111, 'Connection refused'),
], ids=['MessageDeliveryFailure', 'ConnectionRefusedError'])
def test_a_cast_that_cannot_be_sent_fails_the_operation(
        api, admin_api, start_protection, monkeypatch, error):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    start_protection('p1')
    available = protect(api, plan['id'])

    monkeypatch.setattr(rpcapi.rpc, 'get_client',
                        lambda topic, version: _Unreachable(error))
    res = api.post('providers/%s/checkpoints' % PROVIDER,
                   {'checkpoint': {'plan_id': plan['id']}})
    assert res.status_code == 503, res.json_body
    name = type(error).__name__
    assert name in res.json_body['serviceUnavailable']['message']
    (failed,) = [c for c in api.get('providers/%s/checkpoints' % PROVIDER)
                 .json_body['checkpoints'] if c['id'] != available['id']]
    reason = 'could not be sent to a protection service: %s' % name
    assert (failed['status'], failed['error_reason']) == ('error', reason)
    (log,) = _logs(admin_api, checkpoint_id=failed['id'])
    assert (log['status'], log['error_info']) == ('error', reason)

    res = api.delete('providers/%s/checkpoints/%s' % (PROVIDER,
                                                      available['id']))
    assert res.status_code == 503
    shown = _checkpoint(api, available['id'])
    assert (shown['status'], shown['error_reason']) == ('error-deleting',
                                                        reason)

    res = api.post('verifications', {'verification': {
        'provider_id': PROVIDER, 'checkpoint_id': available['id']}})
    assert res.status_code == 400      # error-deleting: not available


def _wait_consuming(svc, consuming):
    wait_for(lambda: svc._rpc_server is not None, lambda v: v == consuming,
             timeout=10)


def test_a_disabled_service_takes_no_new_work(api, admin_api,
                                              start_protection, override,
                                              admin_context):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    p1 = start_protection('p1')
    p2 = start_protection('p2')
    res = admin_api.put('os-services/%d' % p1.record.id, body={
        'status': 'disabled', 'disabled_reason': 'disk replacement'})
    assert res.status_code == 200
    _wait_consuming(p1, False)
    for _ in range(4):
        checkpoint = protect(api, plan['id'])
        assert checkpoint['status'] == 'available'
        assert objects.Checkpoint.get_by_id(
            admin_context, checkpoint['id']).host == 'p2'

    admin_api.put('os-services/%d' % p1.record.id,
                  body={'status': 'enabled'})
    _wait_consuming(p1, True)

    # Every service disabled: the operation waits, then fails visibly.
    override('operation_claim_timeout', 1)
    services = admin_api.get('os-services?binary=%s' % manager.BINARY)
    for row in services.json_body['services']:
        admin_api.put('os-services/%d' % row['id'],
                      body={'status': 'disabled'})
    _wait_consuming(p1, False)
    _wait_consuming(p2, False)
    res = api.post('providers/%s/checkpoints' % PROVIDER,
                   {'checkpoint': {'plan_id': plan['id']}})
    checkpoint_id = res.json_body['checkpoint']['id']
    time.sleep(1.5)
    assert _checkpoint(api, checkpoint_id)['status'] == 'protecting'
    assert recovery.Watcher().check() == 1
    shown = _checkpoint(api, checkpoint_id)
    assert shown['status'] == 'error'
    assert 'no protection service took' in shown['error_reason']


def test_a_service_disabled_before_it_starts_does_not_consume(
        start_protection, admin_context):
    svc = start_protection('p1')
    svc.record.disabled = True
    svc.record.save()
    svc.stop()
    again = start_protection('p1')
    assert again._rpc_server is None
