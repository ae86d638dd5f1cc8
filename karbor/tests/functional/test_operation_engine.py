"""The operation engine: schedulers on a fake clock, the real protection
service (in-process) and the real database.

Each test drives ``Scheduler.tick()`` itself with a clock it moves, so no
test waits for a trigger's minute to come.
"""

import collections
import datetime
import os
import random
import shutil
import threading

import pytest

from karbor.cmd import operationengine
from karbor.cmd import protection as protection_cmd
from karbor.conf import CONF
from karbor import context
from karbor.db import models
from karbor import objects
from karbor.objects import verify_cycle
from karbor.services.operationengine import scheduler as scheduler_mod
from karbor.services.protection.banks import file_system
from karbor.services.protection.plugins.directory import backup
from karbor.services.protection.plugins.directory import manifest as mf
from karbor.tests.functional.helpers import create_plan
from karbor.tests.functional.helpers import make_tree
from karbor.tests.functional.helpers import protect
from karbor.tests.functional.helpers import PROVIDER
from karbor.tests.functional.helpers import wait_for
from karbor.tests.functional.test_schedules_api import create_operation
from karbor.tests.functional.test_schedules_api import create_trigger

MINUTE = datetime.timedelta(minutes=1)
SECOND = datetime.timedelta(seconds=1)


class FakeClock(object):

    def __init__(self, now):
        self.moment = now

    def now(self):
        return self.moment

    def set(self, moment):
        self.moment = moment


@pytest.fixture
def protection_service(data_root, override):
    """karbor-protection only: the engines are the tests' own."""
    override('status_check_interval', 0.05, group='operationengine')
    svc = protection_cmd.build_service()
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture
def schedulers():
    """make(host, clock, protection_api=None) -> a Scheduler, stopped at
    the end of the test."""
    made = []

    def make(host, clock, protection_api=None):
        scheduler = scheduler_mod.Scheduler(host, clock=clock,
                                            protection_api=protection_api)
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        scheduler.stop()


@pytest.fixture
def plan(api, data_root):
    make_tree('demo', 'docs', {'a.txt': b'alpha\n'})
    return create_plan(api, ['docs'])


def operation_row(operation_id):
    return objects.ScheduledOperation.get_even_deleted(
        context.get_admin_context(), operation_id)


def runs_of(operation_id):
    return objects.ScheduledOperationRun.list_of(
        context.get_admin_context(), operation_id)


def checkpoints(api, query=''):
    res = api.get('providers/%s/checkpoints%s' % (PROVIDER, query))
    assert res.status_code == 200, res.json_body
    return res.json_body['checkpoints']


def logs(api, query=''):
    res = api.get('operation_logs%s' % query)
    assert res.status_code == 200, res.json_body
    return res.json_body['operation_logs']


def schedule(api, plan, operation_type='protect', window=300,
             **definition):
    """An every-minute operation; returns (operation, its first due)."""
    trigger = create_trigger(api, '* * * * *', window=window)
    operation = create_operation(api, trigger['id'], plan['id'],
                                 operation_type, **definition)
    return operation, operation_row(operation['id']).next_run_at


def settle(*engines):
    for engine in engines:
        assert engine.wait_idle(timeout=60)


def test_a_run_protects_the_plan_once(api, plan, protection_service,
                                      schedulers):
    operation, due = schedule(api, plan)
    clock = FakeClock(due - SECOND)
    engine = schedulers('engine-a', clock)
    assert engine.tick() == []

    clock.set(due + 2 * SECOND)
    (run,) = engine.tick()
    assert (run.status, run.due_at, run.host) == ('started', due,
                                                  'engine-a')
    # The same moment again: nothing more is due.
    assert engine.tick() == []
    settle(engine)

    (checkpoint,) = checkpoints(api)
    assert checkpoint['id'] == run.checkpoint_id
    assert checkpoint['status'] == 'available'
    assert checkpoint['extra_info'] == {
        'created_by': 'operation-engine',
        'scheduled_operation_id': operation['id']}
    assert checkpoint['protection_plan']['id'] == plan['id']
    (log,) = logs(api)
    assert (log['operation_type'], log['status'], log['checkpoint_id'],
            log['scheduled_operation_id']) == (
        'protect', 'available', checkpoint['id'], operation['id'])
    assert logs(api, '?scheduled_operation_id=%s' % operation['id']) == [
        log]

    shown = api.get('scheduled_operations/%s' % operation['id']).json_body[
        'scheduled_operation']
    assert shown['last_run_result'] == 'success'
    assert shown['last_run_checkpoint_id'] == checkpoint['id']
    assert shown['last_run_reason'] is None
    assert datetime.datetime.fromisoformat(shown['last_run_at']) == due
    assert datetime.datetime.fromisoformat(
        shown['next_run_at']) == due + MINUTE
    (recorded,) = runs_of(operation['id'])
    assert (recorded.status, recorded.checkpoint_id) == (
        'succeeded', checkpoint['id'])
    assert recorded.ended_at >= recorded.started_at


def test_retention_keeps_the_newest_backups(api, plan, protection_service,
                                            schedulers):
    operation, due = schedule(api, plan, 'retention_protect',
                              max_backups=2)
    clock = FakeClock(due)
    engine = schedulers('engine-a', clock)
    made = []
    for index in range(5):
        clock.set(due + index * MINUTE + SECOND)
        (run,) = engine.tick()
        made.append(run.checkpoint_id)
        settle(engine)

    deleted = made[:3]
    kept = made[3:]

    def delete_logs():
        return [row for row in logs(api, '?operation_type=delete')
                if row['status'] != 'deleting']

    finished = wait_for(delete_logs, lambda rows: len(rows) == 3)
    assert sorted(row['checkpoint_id'] for row in finished) == sorted(
        deleted)
    for row in finished:
        assert row['status'] == 'deleted'
        assert row['scheduled_operation_id'] == operation['id']
    assert sorted(c['id'] for c in checkpoints(api)) == sorted(kept)
    for checkpoint_id in deleted:
        res = api.get('providers/%s/checkpoints/%s' % (PROVIDER,
                                                       checkpoint_id))
        assert res.status_code == 404
    protects = logs(api, '?operation_type=protect')
    assert sorted(row['checkpoint_id'] for row in protects) == sorted(made)
    assert {row['scheduled_operation_id'] for row in protects} == {
        operation['id']}
    assert [r.status for r in runs_of(operation['id'])] == [
        'succeeded'] * 5


def test_retention_by_age(api, plan, protection_service, schedulers):
    operation, due = schedule(api, plan, 'retention_protect',
                              retention_duration=1)
    clock = FakeClock(due + SECOND)
    engine = schedulers('engine-a', clock)
    (first,) = engine.tick()
    settle(engine)
    clock.set(due + MINUTE + SECOND)
    (second,) = engine.tick()
    settle(engine)
    assert len(checkpoints(api)) == 2
    # Two days on the clock: both earlier backups are too old now.
    later = operation_row(operation['id']).next_run_at
    clock.set(later + datetime.timedelta(days=2))
    skipped, third = engine.tick()
    assert skipped.status == 'skipped'
    settle(engine)
    wait_for(lambda: checkpoints(api), lambda rows: len(rows) == 1)
    assert checkpoints(api)[0]['id'] == third.checkpoint_id


def test_deleted_or_disabled_operations_do_not_run(api, plan,
                                                   protection_service,
                                                   schedulers):
    operation, due = schedule(api, plan)
    clock = FakeClock(due + SECOND)
    engine = schedulers('engine-a', clock)
    path = 'scheduled_operations/%s' % operation['id']
    api.put(path, {'scheduled_operation': {'enabled': False}})
    assert engine.tick() == []
    assert api.delete(path).status_code == 202
    api.put(path, {'scheduled_operation': {'enabled': True}})
    clock.set(due + 10 * MINUTE)
    assert engine.tick() == []
    assert runs_of(operation['id']) == []
    assert checkpoints(api) == []


def test_a_deleted_plan_fails_the_run(api, plan, protection_service,
                                      schedulers):
    operation, due = schedule(api, plan)
    api.delete('plans/%s' % plan['id'])
    engine = schedulers('engine-a', FakeClock(due + SECOND))
    (run,) = engine.tick()
    assert run.status == 'failed'
    assert plan['id'] in run.reason
    shown = api.get('scheduled_operations/%s' % operation['id']).json_body[
        'scheduled_operation']
    assert shown['last_run_result'] == 'error'
    assert plan['id'] in shown['last_run_reason']
    assert checkpoints(api) == []


def test_a_failed_protect_fails_the_run(api, plan, protection_service,
                                        schedulers, data_root):
    operation, due = schedule(api, plan)
    shutil.rmtree(os.path.join(str(data_root), 'data', 'demo', 'docs'))
    engine = schedulers('engine-a', FakeClock(due + SECOND))
    engine.tick()
    settle(engine)
    (run,) = runs_of(operation['id'])
    assert run.status == 'failed'
    assert run.checkpoint_id in run.reason and 'error' in run.reason
    shown = api.get('scheduled_operations/%s' % operation['id']).json_body[
        'scheduled_operation']
    assert shown['last_run_result'] == 'error'
    assert shown['last_run_reason'] == run.reason
    assert checkpoints(api)[0]['status'] == 'error'


# Several engines, one database ---------------------------------------------

class CountingProtect(object):
    """Stand-in for ProtectionAPI in the 200-run test only: each cast
    ends the checkpoint ``available`` at once, as a protect would, but
    without the protection service's work (200 real protects would make
    this test slow without testing more of the engine)."""

    def __init__(self):
        self.casts = []
        self.lock = threading.Lock()

    def protect(self, ctx, checkpoint_id):
        with self.lock:
            self.casts.append(checkpoint_id)
        row = objects.Checkpoint.get_by_id(context.get_admin_context(),
                                           checkpoint_id)
        row.conditional_update({'status': 'available'},
                               {'status': 'protecting'})

    def delete(self, ctx, checkpoint_id, scheduled_operation_id=None):
        raise AssertionError('nothing is deleted in this test')


def test_two_engines_start_each_of_200_due_runs_once(api, plan, schedulers,
                                                     override):
    override('status_check_interval', 0.01, group='operationengine')
    trigger = create_trigger(api, '* * * * *')
    operations = [create_operation(api, trigger['id'], plan['id'],
                                   name='op-%d' % i)['id'] for i in range(4)]
    due = operation_row(operations[0]).next_run_at
    clock = FakeClock(due)
    protect = CountingProtect()
    engines = [schedulers('engine-a', clock, protect),
               schedulers('engine-b', clock, protect)]
    claimed = {engine.host: [] for engine in engines}
    steps = 50
    for step in range(steps):
        clock.set(due + step * MINUTE + SECOND)
        barrier = threading.Barrier(len(engines))

        def tick(engine):
            barrier.wait()
            claimed[engine.host].extend(engine.tick())

        threads = [threading.Thread(target=tick, args=(engine,))
                   for engine in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    settle(*engines)

    started = claimed['engine-a'] + claimed['engine-b']
    assert len(started) == steps * len(operations) == 200
    # (Started when claimed; their followers may have ended them since.)
    assert {run.status for run in started} <= {'started', 'succeeded'}
    # Both engines took part, neither took a run twice.
    assert claimed['engine-a'] and claimed['engine-b']
    assert len({(r.scheduled_operation_id, r.due_at) for r in started}) == 200
    assert sorted(protect.casts) == sorted(r.checkpoint_id for r in started)

    made = [c for c in checkpoints(api, '?limit=1000')
            if c['extra_info'].get('created_by') == 'operation-engine']
    assert len(made) == 200
    assert {c['id'] for c in made} == set(protect.casts)
    for operation_id in operations:
        runs = runs_of(operation_id)
        assert [r.due_at for r in runs] == [due + i * MINUTE
                                            for i in range(steps)]
        assert {r.status for r in runs} == {'succeeded'}
        assert len({c['id'] for c in made
                    if c['extra_info']['scheduled_operation_id'] ==
                    operation_id}) == steps


def test_two_engines_with_real_protects(api, plan, protection_service,
                                        schedulers):
    operation, due = schedule(api, plan)
    clock = FakeClock(due)
    engines = [schedulers('engine-a', clock), schedulers('engine-b', clock)]
    for step in range(3):
        clock.set(due + step * MINUTE + SECOND)
        started = engines[step % 2].tick() + engines[1 - step % 2].tick()
        assert len(started) == 1
        settle(*engines)
    made = checkpoints(api)
    assert len(made) == 3
    assert {c['status'] for c in made} == {'available'}
    assert len(logs(api, '?scheduled_operation_id=%s' % operation['id'])) == 3


# Restarts -------------------------------------------------------------------

def test_restart_runs_a_missed_run_inside_its_window_once(
        api, plan, protection_service, schedulers):
    operation, due = schedule(api, plan, window=300)
    clock = FakeClock(due + SECOND)
    first = schedulers('engine-a', clock)
    first.tick()
    settle(first)
    first.stop()

    # Down over the next due time; back 2 minutes after it (window 5).
    clock.set(due + MINUTE + 2 * MINUTE - SECOND)
    second = schedulers('engine-a', clock)
    second.recover()
    started = second.tick()
    assert [(r.status, r.due_at) for r in started] == [
        ('skipped', due + MINUTE), ('started', due + 2 * MINUTE)]
    assert 'missed' in started[0].reason
    assert second.tick() == []
    settle(second)
    assert len(checkpoints(api)) == 2
    assert [r.status for r in runs_of(operation['id'])] == [
        'succeeded', 'skipped', 'succeeded']


def test_runs_missed_while_down_are_skipped_or_run_once(
        api, plan, protection_service, schedulers, override):
    override('min_window', 10, group='operationengine')
    operation, due = schedule(api, plan, window=30)
    # Seen 45 seconds late: after its 30-second window.
    clock = FakeClock(due + 45 * SECOND)
    engine = schedulers('engine-a', clock)
    (late,) = engine.tick()
    assert late.status == 'skipped'
    assert 'window' in late.reason
    shown = api.get('scheduled_operations/%s' % operation['id']).json_body[
        'scheduled_operation']
    assert shown['last_run_result'] == 'skipped'
    assert datetime.datetime.fromisoformat(
        shown['next_run_at']) == due + MINUTE

    # Down from +1 to +3 minutes and back within the +3 run's window: the
    # +3 run starts, once; +1 and +2 are recorded as replaced by it.
    clock.set(due + 3 * MINUTE + 10 * SECOND)
    runs = engine.tick()
    assert [(r.status, r.due_at) for r in runs] == [
        ('skipped', due + MINUTE), ('started', due + 3 * MINUTE)]
    assert 'replaced by the one due at' in runs[0].reason
    assert engine.tick() == []
    settle(engine)
    assert [(r.status, r.due_at) for r in runs_of(operation['id'])] == [
        ('skipped', due), ('skipped', due + MINUTE),
        ('succeeded', due + 3 * MINUTE)]
    assert len(checkpoints(api)) == 1


class LostCast(object):
    """A ProtectionAPI whose casts never arrive: the engine died between
    its claim's commit and the cast."""

    def protect(self, ctx, checkpoint_id):
        pass


def test_restart_casts_a_lost_protect_again_once(api, plan,
                                                 protection_service,
                                                 schedulers):
    operation, due = schedule(api, plan, window=300)
    clock = FakeClock(due + SECOND)
    crashed = schedulers('engine-a', clock, LostCast())
    (run,) = crashed.tick()
    crashed.stop()
    (waiting,) = checkpoints(api)
    assert (waiting['status'], waiting['id']) == ('protecting',
                                                  run.checkpoint_id)

    clock.set(due + 2 * MINUTE - 2 * SECOND)
    restarted = schedulers('engine-a', clock)
    restarted.recover()
    settle(restarted)
    (checkpoint,) = checkpoints(api)
    assert (checkpoint['id'], checkpoint['status']) == (run.checkpoint_id,
                                                        'available')
    assert [r.status for r in runs_of(operation['id'])] == ['succeeded']
    # Resuming twice (another restart) changes nothing.
    restarted.recover()
    settle(restarted)
    assert len(checkpoints(api)) == 1
    assert len(logs(api, '?operation_type=protect')) == 1
    # The schedule goes on from where it was.
    assert [r.due_at for r in restarted.tick()] == [due + MINUTE]


def test_restart_after_the_window_fails_a_lost_protect(api, plan,
                                                       protection_service,
                                                       schedulers):
    operation, due = schedule(api, plan, window=60)
    clock = FakeClock(due + SECOND)
    crashed = schedulers('engine-a', clock, LostCast())
    (run,) = crashed.tick()
    crashed.stop()
    clock.set(due + 5 * MINUTE)
    restarted = schedulers('engine-a', clock)
    restarted.recover()
    (checkpoint,) = checkpoints(api)
    assert checkpoint['status'] == 'error'
    assert 'window' in checkpoint['error_reason']
    (recorded,) = runs_of(operation['id'])
    assert recorded.status == 'failed'


def test_restart_while_protecting_follows_the_run_to_its_end(
        api, plan, protection_service, schedulers):
    operation, due = schedule(api, plan, 'retention_protect',
                              max_backups=1)
    clock = FakeClock(due + SECOND)
    first = schedulers('engine-a', clock)
    first.tick()
    settle(first)
    clock.set(due + MINUTE + SECOND)
    (run,) = first.tick()
    # The engine stops while it waits for the protect.
    first.stop()
    second = schedulers('engine-a', clock)
    second.recover()
    settle(second)
    assert [r.status for r in runs_of(operation['id'])] == ['succeeded',
                                                            'succeeded']
    # Retention ran after the restart: only the newest backup is left.
    wait_for(lambda: checkpoints(api), lambda rows: len(rows) == 1)
    assert checkpoints(api)[0]['id'] == run.checkpoint_id


@pytest.fixture
def fast_engine(override):
    """Engines that poll often; set before any service starts."""
    override('poll_interval', 0.05, group='operationengine')
    override('status_check_interval', 0.05, group='operationengine')


def test_the_service_runs_the_scheduler(api, plan, data_root, fast_engine,
                                        running_services):
    operation, due = schedule(api, plan)
    # Make the run due now, as if its minute had come.
    now = models.utcnow().replace(microsecond=0)
    assert objects.ScheduledOperation.claim(
        context.get_admin_context(), operation['id'], due, now, 'test')
    shown = wait_for(
        lambda: api.get('scheduled_operations/%s' % operation['id'])
        .json_body['scheduled_operation'],
        lambda o: o['last_run_result'] == 'success')
    (checkpoint,) = checkpoints(api)
    assert shown['last_run_checkpoint_id'] == checkpoint['id']
    (run,) = runs_of(operation['id'])
    assert run.host == CONF.host


# Scheduled verification ---------------------------------------------------

def _protect_now(api, plan):
    checkpoint = protect(api, plan['id'])
    assert checkpoint['status'] == 'available', checkpoint
    return checkpoint


def verifications(api, query=''):
    res = api.get('verifications%s' % query)
    assert res.status_code == 200, res.json_body
    return res.json_body['verifications']


def test_a_verify_run_verifies_the_newest_checkpoint(api, plan,
                                                     protection_service,
                                                     schedulers):
    _protect_now(api, plan)
    newest = _protect_now(api, plan)
    operation, due = schedule(api, plan, 'verify',
                              parameters={'OS::Karbor::Directory': {
                                  'mode': 'quick'}})
    assert operation['operation_definition']['parameters'] == {
        'OS::Karbor::Directory': {'mode': 'quick'}}
    clock = FakeClock(due + SECOND)
    engine = schedulers('engine-a', clock)
    (run,) = engine.tick()
    assert run.status == 'started'
    assert run.checkpoint_id == newest['id']
    settle(engine)

    (verification,) = verifications(api)
    assert verification['id'] == run.verification_id
    assert verification['checkpoint_id'] == newest['id']
    assert verification['status'] == 'success', verification
    assert verification['parameters'] == {
        'OS::Karbor::Directory': {'mode': 'quick'}}
    (log,) = logs(api, '?operation_type=verify')
    assert (log['status'], log['verification_id'], log['checkpoint_id'],
            log['scheduled_operation_id']) == (
        'success', verification['id'], newest['id'], operation['id'])
    assert logs(api, '?scheduled_operation_id=%s' % operation['id']) == [
        log]
    (recorded,) = runs_of(operation['id'])
    assert (recorded.status, recorded.verification_id,
            recorded.checkpoint_id) == ('succeeded', verification['id'],
                                        newest['id'])
    shown = api.get('scheduled_operations/%s' % operation['id']).json_body[
        'scheduled_operation']
    assert (shown['last_run_result'], shown['last_run_checkpoint_id']) == (
        'success', newest['id'])
    checkpoint = api.get('providers/%s/checkpoints/%s' % (
        PROVIDER, newest['id'])).json_body['checkpoint']
    assert (checkpoint['last_verification_id'],
            checkpoint['last_verification_status']) == (
        verification['id'], 'success')
    # No new checkpoint was made.
    assert len(checkpoints(api)) == 2


def test_a_verify_run_fails_with_the_verification(api, plan, data_root,
                                                  protection_service,
                                                  schedulers):
    checkpoint = _protect_now(api, plan)
    for dirpath, _, names in os.walk(str(data_root / 'bank' / 'chunks')):
        for name in names:
            os.unlink(os.path.join(dirpath, name))
    operation, due = schedule(api, plan, 'verify')
    engine = schedulers('engine-a', FakeClock(due + SECOND))
    (run,) = engine.tick()
    settle(engine)
    (verification,) = verifications(api)
    assert verification['status'] == 'error'
    (recorded,) = runs_of(operation['id'])
    assert recorded.status == 'failed'
    assert verification['id'] in recorded.reason
    assert 'missing chunk' in recorded.reason
    (log,) = logs(api, '?operation_type=verify')
    assert (log['status'], log['scheduled_operation_id']) == (
        'error', operation['id'])
    assert run.checkpoint_id == checkpoint['id']


def test_a_verify_run_without_a_checkpoint_fails(api, plan,
                                                 protection_service,
                                                 schedulers):
    operation, due = schedule(api, plan, 'verify')
    engine = schedulers('engine-a', FakeClock(due + SECOND))
    (run,) = engine.tick()
    assert run.status == 'failed'
    assert 'no available checkpoint' in run.reason
    assert verifications(api) == []
    shown = api.get('scheduled_operations/%s' % operation['id']).json_body[
        'scheduled_operation']
    assert shown['last_run_result'] == 'error'


class LostVerifyCast(object):
    """A ProtectionAPI whose verify casts never arrive."""

    def verify(self, ctx, verification_id, scheduled_operation_id=None):
        pass


def test_restart_casts_a_lost_verify_again_once(api, plan,
                                                protection_service,
                                                schedulers):
    checkpoint = _protect_now(api, plan)
    operation, due = schedule(api, plan, 'verify', window=300)
    clock = FakeClock(due + SECOND)
    crashed = schedulers('engine-a', clock, LostVerifyCast())
    (run,) = crashed.tick()
    crashed.stop()
    (waiting,) = verifications(api)
    assert waiting['status'] == 'verifying'

    clock.set(due + 2 * MINUTE)
    restarted = schedulers('engine-a', clock)
    restarted.recover()
    settle(restarted)
    (verification,) = verifications(api)
    assert (verification['id'], verification['status']) == (
        run.verification_id, 'success')
    assert [r.status for r in runs_of(operation['id'])] == ['succeeded']
    (log,) = logs(api, '?operation_type=verify')
    assert log['scheduled_operation_id'] == operation['id']
    assert log['checkpoint_id'] == checkpoint['id']


def test_restart_after_the_window_fails_a_lost_verify(api, plan,
                                                      protection_service,
                                                      schedulers):
    _protect_now(api, plan)
    operation, due = schedule(api, plan, 'verify', window=60)
    clock = FakeClock(due + SECOND)
    crashed = schedulers('engine-a', clock, LostVerifyCast())
    crashed.tick()
    crashed.stop()
    clock.set(due + 5 * MINUTE)
    restarted = schedulers('engine-a', clock)
    restarted.recover()
    (verification,) = verifications(api)
    assert verification['status'] == 'error'
    assert 'window' in verification['resources_reason']['']
    (recorded,) = runs_of(operation['id'])
    assert recorded.status == 'failed'


def engine_service(host, last_seen_at):
    """The services row of an operation engine on ``host``."""
    service = objects.Service(
        context.get_admin_context(), host=host,
        binary=scheduler_mod.ENGINE_BINARY, topic='karbor-operationengine',
        report_count=1, disabled=False, disabled_reason=None,
        last_seen_at=last_seen_at)
    service.create()
    return service


def test_a_live_engine_takes_over_the_runs_of_a_dead_one(
        api, plan, protection_service, schedulers):
    operation, due = schedule(api, plan, window=300)
    clock = FakeClock(due + SECOND)
    dead = schedulers('engine-a', clock, LostCast())
    (run,) = dead.tick()
    dead.stop()
    live = schedulers('engine-b', clock)
    engine_service('engine-b', models.utcnow())
    service = engine_service('engine-a', models.utcnow())

    # engine-a still reports: its run is its own.
    assert live.adopt_orphans() == []
    service.last_seen_at = models.utcnow() - datetime.timedelta(
        seconds=CONF.service_down_time + 1)
    service.save()
    (adopted,) = live.adopt_orphans()
    assert (adopted.id, adopted.host) == (run.id, 'engine-b')
    settle(live)
    (checkpoint,) = checkpoints(api)
    assert (checkpoint['id'], checkpoint['status']) == (run.checkpoint_id,
                                                        'available')
    (recorded,) = runs_of(operation['id'])
    assert (recorded.status, recorded.host) == ('succeeded', 'engine-b')
    # A second engine looking later finds nothing left to take.
    other = schedulers('engine-c', clock)
    assert other.adopt_orphans() == []
    assert len(logs(api, '?operation_type=protect')) == 1


def test_runs_of_an_engine_without_a_service_row_are_left_alone(
        api, plan, protection_service, schedulers):
    _, due = schedule(api, plan, window=300)
    clock = FakeClock(due + SECOND)
    unknown = schedulers('engine-x', clock, LostCast())
    assert len(unknown.tick()) == 1
    unknown.stop()
    assert schedulers('engine-b', clock).adopt_orphans() == []


# Verify cycles --------------------------------------------------------------

HOURS = datetime.timedelta(hours=1)


def _chunks_of(data_root, checkpoint_id):
    """The chunk digests the checkpoint's manifests refer to."""
    found = set()
    area = data_root / 'bank' / 'checkpoints' / checkpoint_id / 'resources'
    for manifest in area.glob('*/manifest'):
        found |= mf.chunk_digests(mf.loads(manifest.read_bytes(),
                                           str(manifest)))
    return found


class ChunkReads(object):
    """Which chunks the bank hands out (the bank, watched, not faked)."""

    def __init__(self, monkeypatch):
        self.keys = []
        real = file_system.FileSystemBank.get_object
        reads = self

        def get_object(bank, key):
            if key.startswith('chunks/'):
                reads.keys.append(key.rsplit('/', 1)[-1])
            return real(bank, key)

        monkeypatch.setattr(file_system.FileSystemBank, 'get_object',
                            get_object)


def _part_of(scope, digest):
    place = verify_cycle.offset(digest)
    (cycle,) = [part['cycle'] for part in scope['parts']
                if part['from'] <= place < part['to']]
    return cycle


def test_a_verify_cycle_reads_every_chunk_once_per_cycle(
        api, data_root, protection_service, schedulers, monkeypatch):
    """The issue's case: cycle_days 3 over a plan of several checkpoints;
    every chunk read once per cycle and within its three days, a byte
    flipped in a chunk reported within one cycle, the chunks of a
    checkpoint made mid-cycle read within three days, and runs missed
    while the engine was down made up by the run after them."""
    monkeypatch.setattr(backup, 'CHUNK_SIZE', 64 * 1024)
    monkeypatch.setattr(backup, 'SMALL_FILE_LIMIT', 16 * 1024)
    monkeypatch.setattr(backup, 'PACK_SIZE', 64 * 1024)
    rng = random.Random(3)
    files = {'f%02d.bin' % i: rng.randbytes(3 * 64 * 1024)
             for i in range(10)}
    top = make_tree('demo', 'ledger', dict(files, **{'a.txt': b'alpha\n'}))
    plan = create_plan(api, ['ledger'])
    made = [_protect_now(api, plan)['id']]
    for index in range(3):
        with open(os.path.join(top, 'f%02d.bin' % index), 'wb') as f:
            f.write(rng.randbytes(3 * 64 * 1024))
    made.append(_protect_now(api, plan)['id'])
    with open(os.path.join(top, 'new.bin'), 'wb') as f:
        f.write(rng.randbytes(2 * 64 * 1024))
    made.append(_protect_now(api, plan)['id'])
    referenced = set().union(*(_chunks_of(data_root, c) for c in made))
    # 10 files of 3 chunks, a pack of the small file, 3 files changed,
    # 1 file added.
    assert len(referenced) == 30 + 1 + 9 + 2

    trigger = create_trigger(api, '0 */6 * * *')
    operation = create_operation(api, trigger['id'], plan['id'], 'verify',
                                 cycle_days=3)
    assert operation['operation_definition']['cycle_days'] == 3
    assert operation['verify_cycle'] is None
    due = operation_row(operation['id']).next_run_at
    day = datetime.timedelta(days=1)
    clock = FakeClock(due)
    engine = schedulers('engine-a', clock)
    reads = ChunkReads(monkeypatch)
    # cycle -> [(due time of the run, digest)] of every chunk read.
    read_in = collections.defaultdict(list)
    verified = []

    def run(step):
        clock.set(due + step * 6 * HOURS + SECOND)
        before = len(reads.keys)
        started = [r for r in engine.tick() if r.status == 'started']
        settle(engine)
        for started_run in started:
            verification = api.get('verifications/%s' % (
                started_run.verification_id)).json_body['verification']
            assert verification['scope']['result'], verification
            verified.append(verification)
            for digest in reads.keys[before:]:
                read_in[_part_of(verification['scope'], digest)].append(
                    (started_run.due_at, digest))
        return started

    def cycle_row():
        return api.get('scheduled_operations/%s' % operation['id']).json_body[
            'scheduled_operation']['verify_cycle']

    def last_verifications():
        """checkpoint id -> (id, status, scope, at) of its last
        verification, as the API shows it."""
        shown = {}
        for row in checkpoints(api):
            at = row['last_verified_at']
            shown[row['id']] = (
                row['last_verification_id'], row['last_verification_status'],
                row['last_verification_scope'],
                at and datetime.datetime.fromisoformat(at))
        return shown

    # Cycle 0: twelve runs, six hours apart.
    for step in range(12):
        (started,) = run(step)
        if step == 5:
            shown = cycle_row()
            assert (shown['number'], shown['status'], shown['runs']) == (
                0, 'reading', 6)
            assert shown['chunks'] == len(referenced)
            assert shown['chunks_read'] + shown['chunks_left'] == \
                len(referenced)
            assert 0 < shown['chunks_read'] < len(referenced)
            assert datetime.datetime.fromisoformat(
                shown['started_at']) == due
            assert datetime.datetime.fromisoformat(
                shown['ends_at']) == due + 3 * day
            # The run due at +66 h reads what falls due before +72 h.
            assert datetime.datetime.fromisoformat(
                shown['expected_completion']) == due + 66 * HOURS
            # A run reads a slice of each checkpoint: it verified none.
            assert set(last_verifications().values()) == {
                (None, None, None, None)}
    digests = [digest for _, digest in read_in[0]]
    assert sorted(digests) == sorted(referenced)
    assert all(due <= at < due + 3 * day for at, _ in read_in[0])
    shown = cycle_row()
    assert (shown['number'], shown['status'], shown['chunks_read'],
            shown['chunks_left'], shown['runs']) == (
        0, 'complete', len(referenced), 0, 12)
    # Each run wrote its verification (of the newest checkpoint) and a
    # verify log carrying the operation's id.
    assert {v['checkpoint_id'] for v in verified} == {made[-1]}
    assert {v['status'] for v in verified} == {'success'}
    logged = logs(api, '?scheduled_operation_id=%s&limit=100' %
                  operation['id'])
    assert sorted(row['verification_id'] for row in logged) == sorted(
        v['id'] for v in verified)
    assert {row['operation_type'] for row in logged} == {'verify'}
    assert sum(row['extra_info']['cycle']['parts'][0]['chunks_read']
               for row in logged) == len(referenced)
    # The completed cycle read every chunk of each checkpoint: it is their
    # last verification, by the run that completed it.
    assert last_verifications() == {
        checkpoint_id: (verified[-1]['id'], 'success', 'cycle',
                        due + 66 * HOURS + SECOND)
        for checkpoint_id in made}

    # Cycle 1: a byte flipped in one chunk is found within the cycle; a
    # checkpoint made mid-cycle has its chunks read within three days.
    # The chunks read first, in the middle and last of a cycle.
    by_offset = sorted(referenced, key=verify_cycle.offset)
    flipped = [by_offset[0], by_offset[len(by_offset) // 2], by_offset[-1]]
    originals = {}
    for digest in flipped:
        path = data_root / 'bank' / 'chunks' / 'demo' / digest[:2] / digest
        originals[path] = data = path.read_bytes()
        path.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    verified.clear()
    for step in range(12, 24):
        if step == 18:
            with open(os.path.join(top, 'later.bin'), 'wb') as f:
                f.write(rng.randbytes(3 * 64 * 1024))
            made.append(_protect_now(api, plan)['id'])
            added = _chunks_of(data_root, made[-1]) - referenced
            assert len(added) == 3
            added_at = due + 17 * 6 * HOURS
        run(step)
    failed = [v for v in verified if v['status'] == 'error']
    assert len(failed) == 3
    reasons = ' '.join(reason for v in failed
                       for reason in v['resources_reason'].values())
    for digest in flipped:
        assert 'corrupt chunk %s' % digest in reasons
    shown = cycle_row()
    assert (shown['number'], shown['status'], shown['chunks_damaged']) == (
        1, 'complete', 3)
    # Damage found in the cycle is its result; the checkpoint made in its
    # middle was not read whole in it (nor yet in any).
    cycle_1 = (verified[-1]['id'], 'error', 'cycle',
               due + 5 * day + 18 * HOURS + SECOND)
    assert last_verifications() == dict(
        {checkpoint_id: cycle_1 for checkpoint_id in made[:3]},
        **{made[3]: (None, None, None, None)})
    assert sorted(d for _, d in read_in[1] if d not in added) == sorted(
        referenced)
    # The verifications moved the damaged chunks to the quarantine; the
    # protect at step 18 wrote back those its source still holds. Put the
    # others back by hand.
    for path, data in originals.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    # Cycle 2: the engine is down from +6 h to +30 h into it; the run after
    # reads what the missed ones would have.
    for step in list(range(24, 26)) + list(range(30, 36)):
        run(step)
    runs = runs_of(operation['id'])
    # (The missed runs are recorded as one skip, replaced by the +30 h.)
    assert [r.status for r in runs if r.due_at >= due + 6 * day] == [
        'succeeded'] * 2 + ['skipped'] + ['succeeded'] * 6
    everything = referenced | added
    assert sorted(d for _, d in read_in[2]) == sorted(everything)
    assert all(due + 6 * day <= at < due + 9 * day for at, _ in read_in[2])
    for digest in added:
        first = min(at for at, d in read_in[1] + read_in[2] if d == digest)
        assert first - added_at <= 3 * day
    shown = cycle_row()
    assert (shown['number'], shown['status'], shown['chunks_read'],
            shown['chunks_damaged']) == (2, 'complete', len(everything), 0)
    cycles = objects.VerifyCycle.list_of(context.get_admin_context(),
                                         operation['id'])
    assert [(c.number, c.status) for c in cycles] == [
        (2, 'complete'), (1, 'complete'), (0, 'complete')]
    assert set(last_verifications().values()) == {
        (verified[-1]['id'], 'success', 'cycle',
         due + 8 * day + 18 * HOURS + SECOND)}


# Triggers stored before the checks got stricter --------------------------

# Calendar patterns an earlier version stored and this one refuses, and
# what the reason says.
REFUSED_NOW = [
    ('FREQ=YEARLY;BYEASTER=0', 'BYEASTER is not supported'),
    ('FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30', 'never matches within 4 years'),
    ('RRULE:FREQ=DAILY\nEXRULE:FREQ=HOURLY;BYMONTHDAY=30',
     'hourly, minutely and secondly rules may filter by weekday'),
    ('DTSTART:18500101T000000\nRRULE:FREQ=YEARLY',
     'DTSTART must be within the years 1900 to 9000'),
]


def store_refused(trigger_id, pattern):
    """Give a trigger, in the database, calendar properties the API now
    refuses, as an earlier version may have stored them."""
    trigger = objects.Trigger.get_by_id(context.get_admin_context(),
                                        trigger_id)
    trigger.properties = dict(trigger.properties, format='calendar',
                              pattern=pattern)
    trigger.save()


def shown(api, operation):
    return api.get('scheduled_operations/%s' % operation['id']).json_body[
        'scheduled_operation']


def test_the_engine_service_shows_why_a_stored_trigger_is_refused(
        api, plan, data_root):
    operation, due = schedule(api, plan)
    store_refused(operation['trigger_id'], 'FREQ=YEARLY;BYEASTER=0')
    engine = operationengine.build_service()
    engine.start()
    try:
        # No need to wait for the due time: the engine looks as it starts.
        result = shown(api, operation)
    finally:
        engine.stop()
    assert result['last_run_result'] == 'error'
    assert result['last_run_reason'] == (
        'Trigger %s has properties this version no longer accepts (BYEASTER '
        'is not supported); update its properties for its scheduled '
        'operations to run.' % operation['trigger_id'])
    assert result['next_run_at'] is None
    # Due when the engine started, which may be before the run's time.
    assert datetime.datetime.fromisoformat(
        result['last_run_at']) <= models.utcnow()


@pytest.mark.parametrize('pattern,reason', REFUSED_NOW)
def test_a_refused_trigger_fails_the_next_run_once_until_updated(
        api, plan, protection_service, schedulers, caplog, pattern, reason):
    operation, due = schedule(api, plan)
    other, _ = schedule(api, plan)
    store_refused(operation['trigger_id'], pattern)
    clock = FakeClock(due - 30 * SECOND)
    caplog.set_level('WARNING', logger='karbor')
    engine = schedulers('engine-a', clock)
    (run,) = engine.check_triggers()
    assert (run.status, run.due_at) == ('failed', due - 30 * SECOND)
    assert reason in run.reason and operation['trigger_id'] in run.reason
    result = shown(api, operation)
    assert (result['last_run_result'], result['last_run_reason'],
            result['next_run_at']) == ('error', run.reason, None)
    # The operation of a usable trigger is left alone.
    assert shown(api, other)['next_run_at'] is not None
    assert shown(api, other)['last_run_result'] is None

    # Neither another engine starting nor the due time fails it again.
    assert schedulers('engine-b', clock).check_triggers() == []
    clock.set(due + SECOND)
    assert [r.scheduled_operation_id for r in engine.tick()] == [other['id']]
    assert [r.id for r in runs_of(operation['id'])] == [run.id]
    warned = [record.getMessage() for record in caplog.records
              if operation['trigger_id'] in record.getMessage()]
    assert len(warned) == 2, warned  # the trigger's, and its run's

    # The trigger updated, the operation runs again.
    res = api.put('triggers/%s' % operation['trigger_id'], {
        'trigger_info': {'properties': {'format': 'crontab',
                                        'pattern': '* * * * *'}}})
    assert res.status_code == 200, res.json_body
    following = operation_row(operation['id']).next_run_at
    assert following is not None
    clock.set(following + SECOND)
    started = [r for r in engine.tick()
               if r.scheduled_operation_id == operation['id']]
    assert [r.status for r in started] == ['started']
    settle(engine)
    assert shown(api, operation)['last_run_result'] == 'success'


def test_a_trigger_refused_while_the_engine_runs_fails_the_due_run(
        api, plan, schedulers):
    operation, due = schedule(api, plan)
    engine = schedulers('engine-a', FakeClock(due + SECOND))
    assert engine.check_triggers() == []
    store_refused(operation['trigger_id'], 'FREQ=YEARLY;BYEASTER=0')
    (run,) = engine.tick()
    assert run.status == 'failed'
    assert 'BYEASTER is not supported' in run.reason
    assert shown(api, operation)['next_run_at'] is None


def test_the_api_refuses_to_schedule_with_a_refused_trigger(api, plan):
    operation, _ = schedule(api, plan)
    store_refused(operation['trigger_id'], 'FREQ=YEARLY;BYEASTER=0')
    path = 'scheduled_operations/%s' % operation['id']
    assert api.put(path, {'scheduled_operation': {
        'enabled': False}}).status_code == 200
    res = api.put(path, {'scheduled_operation': {'enabled': True}})
    assert res.status_code == 409, res.json_body
    (fault,) = res.json_body.values()
    assert 'BYEASTER is not supported' in fault['message']
    assert shown(api, operation)['enabled'] is False
    res = api.post('scheduled_operations', {'scheduled_operation': {
        'name': 'again', 'operation_type': 'protect',
        'trigger_id': operation['trigger_id'],
        'operation_definition': {'provider_id': PROVIDER,
                                 'plan_id': plan['id']}}})
    assert res.status_code == 409, res.json_body
    # Its properties are refused as a new trigger's are, naming the field.
    res = api.put('triggers/%s' % operation['trigger_id'], {
        'trigger_info': {'properties': {'window': 600}}})
    assert res.status_code == 400
    (fault,) = res.json_body.values()
    assert 'properties/pattern' in fault['message']
