"""The scheduler: finds due runs, claims them once, and starts them.

Every ``[operationengine] poll_interval`` seconds its loop thread calls
``tick()``, which

1. lists the live, enabled scheduled operations whose ``next_run_at`` is
   due at ``clock.now()``;
2. for each, looks at the runs that fell due since then (an engine may
   have been down): the latest runs if it is still within the trigger's
   window, and is skipped otherwise; the earlier ones are skipped as
   replaced by it. Skips are recorded with their reason;
3. claims them in one transaction: a compare-and-swap moves next_run_at
   from the due time it read to the trigger's following run (of several
   engines, exactly one changes the row), inserts the run rows (unique
   per operation and due time, a second guard) and creates the run's
   checkpoint row;
4. after the commit, casts protect and hands the run to a worker that
   waits for the checkpoint and applies retention (``operations``).

Nothing is kept in memory between ticks: the database is the schedule.
An engine that dies after step 3 leaves a started run whose checkpoint
waits for its protect; ``recover()``, when that host starts again, casts
protect again while the run is within its window (the protection
service protects a checkpoint once, however many casts it gets) or
fails it, and follows it to its end. If that host does not come back,
another engine sees its heartbeat stop (``service_down_time``), takes
its started runs over one by one (compare-and-swap on the run's host)
and resumes them the same way (``adopt_orphans()``).

The clock is injected: tests pass one they move themselves and call
``tick()`` directly; a running engine takes its time from
``[operationengine] clock_file`` when that is set (end-to-end tests and
drills), else from the system clock.
"""

from concurrent import futures
import datetime
import random
import threading
import time

from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_utils import uuidutils

from karbor.conf import CONF
from karbor import context as karbor_context
from karbor.db import models
from karbor.db import session as db_session
from karbor import exception
from karbor import objects
from karbor.objects import checkpoint as checkpoint_obj
from karbor.objects import scheduled_operation as operation_obj
from karbor.objects import verification as verification_obj
from karbor.services.operationengine import operations
from karbor.services.protection import rpcapi

LOG = logging.getLogger(__name__)

ENGINE_BINARY = 'karbor-operationengine'


class SystemClock(object):
    """The wall clock, in naive UTC like the database."""

    def now(self):
        return models.utcnow()


class FileClock(object):
    """The time written in a file, read again at every call.

    Lets a test or a drill move a running engine's clock from outside the
    process. A file that cannot be read or parsed raises, so the poll
    fails loudly rather than running on a made-up time.
    """

    def __init__(self, path):
        self.path = path

    def now(self):
        with open(self.path, encoding='utf-8') as f:
            text = f.read().strip()
        moment = datetime.datetime.fromisoformat(text)
        if moment.tzinfo is not None:
            moment = moment.astimezone(datetime.timezone.utc).replace(
                tzinfo=None)
        return moment


def configured_clock():
    path = CONF.operationengine.clock_file
    if path:
        LOG.warning('The operation engine takes its time from %s, not from '
                    'the system clock ([operationengine] clock_file)', path)
        return FileClock(path)
    return SystemClock()


def due_runs(trigger, due, now, no_trigger=None):
    """What to do about an operation whose next run was due at ``due``.

    Returns ``(following, runs)``: the due time to wait for next (None
    when the trigger has no more runs), and ``[(due time, status,
    reason)]`` to record. The latest run due by ``now`` starts if ``now``
    is still within its window, and is skipped otherwise; the runs due
    before it (missed while no engine ran) are recorded as one skip,
    replaced by it. ``trigger`` is a TimeTrigger, or None with
    ``no_trigger`` saying why there is none: the run due then fails with
    that reason, and no other follows (an update of the trigger's
    properties reschedules the operation).
    """
    if trigger is None:
        return None, [(due, operation_obj.FAILED, no_trigger)]
    runs = []
    latest = max(due, trigger.last_at_or_before(now) or due)
    if latest > due:
        runs.append((due, operation_obj.SKIPPED,
                     'missed: no operation engine started the runs due '
                     'from %s until %s, replaced by the one due at %s' %
                     (due, latest, latest)))
    if now <= latest + trigger.window:
        runs.append((latest, operation_obj.STARTED, None))
    else:
        runs.append((latest, operation_obj.SKIPPED,
                     'missed its window: due at %s, window %d seconds, '
                     'seen at %s' % (latest, trigger.window.total_seconds(),
                                     now)))
    return trigger.next_after(now), runs


class Scheduler(object):

    def __init__(self, host, clock=None, protection_api=None):
        self.host = host
        self.clock = clock or configured_clock()
        self.protection_api = protection_api or rpcapi.ProtectionAPI()
        self._stopping = threading.Event()
        self._thread = None
        self._executor = futures.ThreadPoolExecutor(
            max_workers=CONF.operationengine.workers,
            thread_name_prefix='karbor-scheduled-run')
        self._followed = set()
        self._followed_lock = threading.Lock()

    # Life ---------------------------------------------------------------
    def start(self):
        """Resume this host's unfinished runs, fail the next run of
        operations without a usable trigger, then poll in a thread."""
        self.recover()
        try:
            self.check_triggers()
        except Exception:
            # Their runs then fail when due, with the same reason.
            LOG.exception('The scheduler on %s could not check the '
                          'triggers of scheduled operations', self.host)
        self._thread = threading.Thread(target=self._loop,
                                        name='karbor-scheduler', daemon=True)
        self._thread.start()

    def stop(self):
        """Stop polling; runs being followed stay started for next time."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        self._executor.shutdown(wait=True)

    def _loop(self):
        next_adoption = 0.0
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:
                # A database blip must not end the schedule: the runs stay
                # due and the next tick takes them.
                LOG.exception('The scheduler on %s failed to start due '
                              'runs', self.host)
            if time.monotonic() >= next_adoption:
                # An engine is declared gone after service_down_time; no
                # need to look much more often than it reports.
                next_adoption = time.monotonic() + CONF.report_interval
                try:
                    self.adopt_orphans()
                except Exception:
                    LOG.exception('The scheduler on %s failed to take over '
                                  'the runs of stopped engines', self.host)
            self._stopping.wait(CONF.operationengine.poll_interval)

    def wait_idle(self, timeout=None):
        """Wait until the runs this engine follows have ended (tests)."""
        with self._followed_lock:
            pending = list(self._followed)
        done, not_done = futures.wait(pending, timeout)
        return not not_done

    # Due runs -----------------------------------------------------------
    def tick(self):
        """Claim and start what is due now; return the runs it recorded.

        The list holds this engine's started, failed and skipped runs; an
        operation another engine claimed first is not in it.
        """
        now = self.clock.now()
        due = objects.ScheduledOperation.list_due(
            karbor_context.get_admin_context(), now)
        # Engines polling at the same moment then contend less for rows.
        random.shuffle(due)
        recorded = []
        for operation in due:
            if self._stopping.is_set():
                break
            try:
                recorded.extend(self._claim(operation, now))
            except Exception:
                LOG.exception('Could not start the due run of scheduled '
                              'operation %s', operation.id)
        return recorded

    @staticmethod
    def _time_trigger(operation):
        """``(the operation's TimeTrigger, None)``, or ``(None, why it
        has none)``."""
        try:
            return operations.time_trigger(operation), None
        except exception.TriggerNotFound:
            return None, ('trigger %s no longer exists; the operation will '
                          'not run again' % operation.trigger_id)
        except exception.TriggerRefused as exc:
            return None, exc.message

    def check_triggers(self):
        """Stop, saying why, the operations whose trigger this version
        refuses (or that is gone); return the failed runs recorded.

        A trigger stored before the checks got stricter (an impossible
        rule, BYEASTER, a DTSTART out of the years allowed) has no run
        times. Rather than wait, maybe weeks, for the next run's due time
        to show it, an engine looks when it starts: each such operation
        gets a failed run, due now, whose reason its last run shows, and
        its next_run_at is cleared, so that it is neither retried nor
        reported again. Updating the trigger's properties reschedules
        it. Each trigger is logged once per engine start, each failed
        run once.
        """
        admin = karbor_context.get_admin_context()
        now = self.clock.now().replace(microsecond=0)
        # Why each trigger seen has no run times (None: it has).
        no_trigger = {}
        recorded = []
        for operation in objects.ScheduledOperation.list_scheduled(admin):
            if operation.trigger_id not in no_trigger:
                _, why = self._time_trigger(operation)
                no_trigger[operation.trigger_id] = why
                if why is not None:
                    LOG.warning('The scheduled operations using trigger %s '
                                'will not run: %s', operation.trigger_id,
                                why)
            why = no_trigger[operation.trigger_id]
            if why is None:
                continue
            ctx = operations.run_context(operation)
            try:
                with db_session.writer.using(ctx):
                    # Of several engines starting, one records it.
                    if objects.ScheduledOperation.claim(
                            ctx, operation.id, operation.next_run_at, None,
                            self.host):
                        recorded.append(self._record(
                            ctx, operation, now, operation_obj.FAILED, why))
            except Exception:
                # Its run then fails when due, with the same reason.
                LOG.exception('Could not record why scheduled operation %s '
                              'will not run', operation.id)
        return recorded

    def _claim(self, operation, now):
        ctx = operations.run_context(operation)
        due = operation.next_run_at
        trigger, no_trigger = self._time_trigger(operation)
        following, planned = due_runs(trigger, due, now, no_trigger)
        try:
            # One transaction: the claim, the run rows and the checkpoint
            # row are all written, or none is.
            with db_session.writer.using(ctx):
                if not objects.ScheduledOperation.claim(
                        ctx, operation.id, due, following, self.host):
                    return []
                runs = [self._record(ctx, operation, *run)
                        for run in planned]
        except db_exc.DBDuplicateEntry:
            # Only possible if the operation's next run was moved back to a
            # due time that already has its run: never run it twice.
            LOG.warning('Runs of scheduled operation %s due at %s are '
                        'already recorded; moving on to %s', operation.id,
                        due, following)
            objects.ScheduledOperation.claim(ctx, operation.id, due,
                                             following, self.host)
            return []
        for run in runs:
            if run.status == operation_obj.STARTED:
                self._start(ctx, operation, run)
        return runs

    def _record(self, ctx, operation, due_at, status, reason):
        wall = models.utcnow()
        run = objects.ScheduledOperationRun(
            ctx, id=uuidutils.generate_uuid(),
            project_id=operation.project_id,
            scheduled_operation_id=operation.id, due_at=due_at,
            status=status, host=self.host, checkpoint_id=None,
            verification_id=None, reason=reason, started_at=wall,
            ended_at=None if status == operation_obj.STARTED else wall)
        if status == operation_obj.STARTED:
            try:
                if operation.operation_type == operation_obj.VERIFY:
                    verification = operations.make_verification(
                        ctx, operation, due_at)
                    run.checkpoint_id = verification.checkpoint_id
                    run.verification_id = verification.id
                else:
                    run.checkpoint_id = operations.make_checkpoint(
                        ctx, operation).id
            except (exception.PlanNotFound, exception.QuotaExceeded,
                    operations.NothingToVerify) as exc:
                run.status = operation_obj.FAILED
                run.reason = exc.message
                run.ended_at = wall
            except operations.StillVerifying as exc:
                run.status = operation_obj.SKIPPED
                run.reason = exc.message
                run.ended_at = wall
        run.create()
        objects.ScheduledOperation.record_run(
            ctx, operation.id, due_at, run.status, run.reason,
            run.checkpoint_id)
        if run.status != operation_obj.STARTED:
            LOG.warning('Run of scheduled operation %s due at %s %s: %s',
                        operation.id, due_at, run.status, run.reason)
        return run

    def _start(self, ctx, operation, run):
        if run.verification_id is not None:
            try:
                self.protection_api.verify(
                    ctx, run.verification_id,
                    scheduled_operation_id=operation.id)
            except Exception as exc:
                LOG.exception('Could not cast verify of verification %s',
                              run.verification_id)
                if operations.fail_unstarted_verification(
                        ctx, run, 'the protection service could not be '
                                  'asked to verify: %s' % exc):
                    return
            self._follow(ctx, operation, run)
            return
        try:
            self.protection_api.protect(ctx, run.checkpoint_id)
        except Exception as exc:
            LOG.exception('Could not cast protect of checkpoint %s',
                          run.checkpoint_id)
            if operations.fail_unstarted(
                    ctx, run, 'the protection service could not be asked '
                              'to protect: %s' % exc):
                return
        self._follow(ctx, operation, run)

    def _follow(self, ctx, operation, run):
        future = self._executor.submit(
            self._guarded, operations.follow, ctx, operation, run,
            self.protection_api, self.clock, self._stopping)
        with self._followed_lock:
            self._followed.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future):
        with self._followed_lock:
            self._followed.discard(future)

    @staticmethod
    def _guarded(fn, *args):
        try:
            fn(*args)
        except Exception:
            LOG.exception('Following a scheduled run failed unexpectedly')

    # Restart ------------------------------------------------------------
    def recover(self):
        """Resume the runs this host started and did not see end."""
        admin = karbor_context.get_admin_context()
        for run in objects.ScheduledOperationRun.list_owned(
                admin, self.host, [operation_obj.STARTED]):
            try:
                self._resume(run)
            except Exception:
                LOG.exception('Could not resume run %s of scheduled '
                              'operation %s', run.id,
                              run.scheduled_operation_id)

    def adopt_orphans(self):
        """Take over and resume the started runs of engines whose
        heartbeat stopped; return the runs this engine took."""
        admin = karbor_context.get_admin_context()
        silent_since = models.utcnow() - datetime.timedelta(
            seconds=CONF.service_down_time)
        adopted = []
        for run in objects.ScheduledOperationRun.list_orphaned(
                admin, ENGINE_BINARY, silent_since, self.host):
            previous = run.host
            if not run.adopt(self.host):
                continue
            LOG.warning('Operation engine %s stopped reporting; %s takes '
                        'over run %s of scheduled operation %s (due at %s)',
                        previous, self.host, run.id,
                        run.scheduled_operation_id, run.due_at)
            adopted.append(run)
            try:
                self._resume(run)
            except Exception:
                LOG.exception('Could not resume run %s of scheduled '
                              'operation %s', run.id,
                              run.scheduled_operation_id)
        return adopted

    def _window(self, operation):
        trigger, _ = self._time_trigger(operation)
        if trigger is None:
            # The run started while the trigger was usable: it is resumed
            # within the default window.
            return datetime.timedelta(
                seconds=CONF.operationengine.default_window)
        return trigger.window

    def _resume_verification(self, ctx, operation, run):
        admin = karbor_context.get_admin_context()
        try:
            verification = objects.Verification.get_by_id(
                admin, run.verification_id)
        except exception.VerificationNotFound:
            operations.end_run(ctx, run, operation_obj.FAILED,
                               'verification %s is gone' %
                               run.verification_id)
            return
        if (verification.status == verification_obj.VERIFYING and
                verification.host is None):
            # The verify cast may have been lost with this engine.
            if self.clock.now() > run.due_at + self._window(operation):
                if operations.fail_unstarted_verification(
                        ctx, run, 'the operation engine stopped before the '
                                  'verification started, and the run\'s '
                                  'window has passed'):
                    return
            else:
                LOG.info('Casting verify of run %s (verification %s) '
                         'again', run.id, verification.id)
                self.protection_api.verify(
                    ctx, verification.id,
                    scheduled_operation_id=operation.id)
        self._follow(ctx, operation, run)

    def _resume(self, run):
        admin = karbor_context.get_admin_context()
        operation = objects.ScheduledOperation.get_even_deleted(
            admin, run.scheduled_operation_id)
        ctx = operations.run_context(operation)
        if run.verification_id is not None:
            self._resume_verification(ctx, operation, run)
            return
        try:
            checkpoint = objects.Checkpoint.get_by_id(admin,
                                                      run.checkpoint_id)
        except exception.CheckpointNotFound:
            operations.end_run(ctx, run, operation_obj.FAILED,
                               'checkpoint %s was deleted before it was '
                               'available' % run.checkpoint_id)
            return
        if (checkpoint.status == checkpoint_obj.PROTECTING and
                checkpoint.host is None):
            # The protect cast may have been lost with this engine.
            if self.clock.now() > run.due_at + self._window(operation):
                if operations.fail_unstarted(
                        ctx, run, 'the operation engine stopped before the '
                                  'protect started, and the run\'s window '
                                  'has passed'):
                    return
            else:
                LOG.info('Casting protect of run %s (checkpoint %s) '
                         'again', run.id, checkpoint.id)
                self.protection_api.protect(ctx, checkpoint.id)
        self._follow(ctx, operation, run)
