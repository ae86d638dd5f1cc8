"""What a run of a scheduled operation does, once the scheduler claimed it.

``protect``: a checkpoint of the plan, made like the API makes one but
with ``created_by: operation-engine`` and the operation's id in its
extra_info (so its protect log carries ``scheduled_operation_id``).
``retention_protect``: the same, then, once the checkpoint is available,
the deletion of the plan's older checkpoints made by this operation
beyond ``max_backups`` or older than ``retention_duration`` days. Each
goes ``available -> deleting`` by the compare-and-swap the API's delete
uses, and its delete is cast with the operation's id, so that each writes
its own delete log.

Only available checkpoints count as backups: a failed one is left for
its owner to look at.

``verify``: a verification of the plan's newest available checkpoint,
made like the API makes one (with the definition's ``parameters``), its
verify cast with the operation's id (so its log carries
``scheduled_operation_id``). The run succeeds if the verification does.
With ``cycle_days``, the verification reads the part of the chunks of
all the plan's available checkpoints that falls due before the next run
(karbor.objects.verify_cycle); when it ended, what it read is added to
its cycle. Such a run does not start while the previous one verifies
(it would read the same part): it is skipped, and the next one reads
what fell due meanwhile.
"""

import datetime

from oslo_log import log as logging
from oslo_utils import uuidutils

from karbor.conf import CONF
from karbor import context as karbor_context
from karbor.db import models
from karbor import exception
from karbor import objects
from karbor.objects import checkpoint as checkpoint_obj
from karbor.objects import scheduled_operation as operation_obj
from karbor.objects import verification as verification_obj
from karbor.objects import verify_cycle
from karbor.services.operationengine import timetrigger

LOG = logging.getLogger(__name__)

CREATED_BY = 'operation-engine'


class RunFailed(Exception):
    """The run ended in failure; the message says why."""


class Stopped(Exception):
    """The engine is stopping; the run stays started for its next start."""


def run_context(operation):
    """Act as the operation's creator in its project."""
    return karbor_context.RequestContext(
        user_id=operation.user_id, project_id=operation.project_id,
        roles=['reader', 'member'], overwrite=False)


def make_checkpoint(context, operation):
    """The checkpoint row of a run (inside the scheduler's claim).

    Raises PlanNotFound if the plan was deleted since, QuotaExceeded if
    the project has its limit of checkpoints (the run then fails with
    that message).
    """
    plan = objects.Plan.get_by_id(
        context, operation.operation_definition['plan_id'])
    return objects.Checkpoint.for_plan(
        context, plan, {'created_by': CREATED_BY,
                        'scheduled_operation_id': operation.id})


class NothingToVerify(exception.KarborException):
    message = 'Plan %(plan_id)s has no available checkpoint to verify.'


class StillVerifying(exception.KarborException):
    message = ('The previous run (verification %(verification_id)s) is '
               'still verifying; the next run reads what falls due '
               'meanwhile.')


# Why an operation has no run times: its trigger is gone, or stored with
# properties this version refuses.
NO_TRIGGER = (exception.TriggerNotFound, exception.TriggerRefused)


def time_trigger(operation):
    """The operation's TimeTrigger; raises one of NO_TRIGGER if it has
    none."""
    return timetrigger.of_stored(objects.Trigger.get_by_id(
        karbor_context.get_admin_context(), operation.trigger_id))


def _trigger_of(operation):
    """The operation's TimeTrigger, or None: a run already started (its
    trigger was usable then) still ends and is recorded; the scheduler
    fails the operation's next run, saying why."""
    try:
        return time_trigger(operation)
    except NO_TRIGGER:
        return None


def _cycle_scope(context, operation, plan_id, due_at):
    """What a run of a verify cycle due at ``due_at`` reads."""
    for run in objects.ScheduledOperationRun.started_of(context,
                                                        operation.id):
        if run.verification_id is not None:
            raise StillVerifying(verification_id=run.verification_id)
    trigger = _trigger_of(operation)
    scope = verify_cycle.plan_run(
        objects.VerifyCycle.latest_of(context, operation.id),
        operation.operation_definition['cycle_days'], due_at,
        trigger.next_after(due_at) if trigger is not None else None)
    scope['checkpoints'] = objects.Checkpoint.ids_of_plan(context, plan_id)
    return scope


def make_verification(context, operation, due_at):
    """The verification row of a verify run (inside the scheduler's
    claim), of the plan's newest available checkpoint.

    Raises PlanNotFound if the plan was deleted since, NothingToVerify if
    it has no available checkpoint, StillVerifying if the run of a cycle
    must wait for the previous one.
    """
    definition = operation.operation_definition
    plan = objects.Plan.get_by_id(context, definition['plan_id'])
    checkpoint = objects.Checkpoint.newest_of_plan(context, plan.id)
    if checkpoint is None:
        raise NothingToVerify(plan_id=plan.id)
    scope = None
    if definition.get('cycle_days'):
        scope = _cycle_scope(context, operation, plan.id, due_at)
    verification = objects.Verification(
        context, id=uuidutils.generate_uuid(),
        project_id=checkpoint.project_id,
        provider_id=checkpoint.provider_id, checkpoint_id=checkpoint.id,
        status=verification_obj.VERIFYING, host=None,
        parameters=definition.get('parameters') or {},
        resources_status={}, resources_reason={}, scope=scope)
    verification.create()
    return verification


def record_cycle_run(context, operation, verification, now):
    """Add what a cycle's run read to its cycle (if it read anything)."""
    scope = verification.scope
    if not scope or 'result' not in scope:
        return []
    trigger = _trigger_of(operation)

    def expected(cycle):
        # The run reading a cycle's last chunks is the last one due
        # before the cycle ends (it reads what falls due before the next).
        if trigger is None:
            return None
        last = trigger.last_at_or_before(
            cycle.ends_at - datetime.timedelta(microseconds=1))
        if last is None or last < now:
            return trigger.next_after(now)
        return last

    changed = objects.VerifyCycle.record_run(
        context, operation, scope, now, expected,
        verification_id=verification.id)
    for cycle in changed:
        LOG.info('Verify cycle %d of scheduled operation %s: %s, %d chunks '
                 'read, %d left', cycle.number, operation.id, cycle.status,
                 cycle.chunks_read, cycle.chunks_left)
    return changed


def fail_unstarted_verification(context, run, reason):
    """Fail a run whose verification never started, and the verification.

    Returns False if it started after all (a protection service claimed
    it): the run is then followed as usual.
    """
    verification = objects.Verification.get_by_id(
        karbor_context.get_admin_context(), run.verification_id)
    if not verification.conditional_update(
            {'status': verification_obj.ERROR,
             'resources_reason': {'': reason}},
            {'status': verification_obj.VERIFYING, 'host': None}):
        return False
    end_run(context, run, operation_obj.FAILED, reason)
    return True


def end_run(context, run, status, reason=None):
    """Record how a started run ended, on the run and its operation."""
    if run.finish(status, reason):
        objects.ScheduledOperation.record_run(
            context, run.scheduled_operation_id, run.due_at, status, reason,
            run.checkpoint_id)
        LOG.info('Run %s of scheduled operation %s (due %s) %s%s', run.id,
                 run.scheduled_operation_id, run.due_at, status,
                 ': %s' % reason if reason else '')


def fail_unstarted(context, run, reason):
    """Fail a run whose protect never started, and its checkpoint.

    Returns False if the protect started after all (the protection
    service claimed the checkpoint): the run is then followed as usual.
    """
    checkpoint = objects.Checkpoint.get_by_id(
        karbor_context.get_admin_context(), run.checkpoint_id)
    if not checkpoint.conditional_update(
            {'status': checkpoint_obj.ERROR, 'error_reason': reason},
            {'status': checkpoint_obj.PROTECTING, 'host': None}):
        return False
    end_run(context, run, operation_obj.FAILED, reason)
    return True


def _wait_for_checkpoint(run, stopping):
    """The run's checkpoint once available; RunFailed if it will not be."""
    timeout = CONF.operationengine.run_timeout
    deadline = run.started_at + datetime.timedelta(seconds=timeout)
    admin = karbor_context.get_admin_context()
    while True:
        try:
            checkpoint = objects.Checkpoint.get_by_id(admin,
                                                      run.checkpoint_id)
        except exception.CheckpointNotFound:
            raise RunFailed('checkpoint %s was deleted before it was '
                            'available' % run.checkpoint_id)
        if checkpoint.status == checkpoint_obj.AVAILABLE:
            return checkpoint
        if checkpoint.status != checkpoint_obj.PROTECTING:
            raise RunFailed('checkpoint %s is %s: %s' % (
                checkpoint.id, checkpoint.status,
                checkpoint.error_reason or 'no reason given'))
        if models.utcnow() > deadline:
            raise RunFailed('checkpoint %s was not available within %d '
                            'seconds' % (checkpoint.id, timeout))
        if stopping.wait(CONF.operationengine.status_check_interval):
            raise Stopped()


def _wait_for_verification(run, stopping):
    """The run's verification once it ended (in success or error);
    RunFailed if it is gone or did not end in time."""
    timeout = CONF.operationengine.run_timeout
    deadline = run.started_at + datetime.timedelta(seconds=timeout)
    admin = karbor_context.get_admin_context()
    while True:
        try:
            verification = objects.Verification.get_by_id(
                admin, run.verification_id)
        except exception.VerificationNotFound:
            raise RunFailed('verification %s is gone' % run.verification_id)
        if verification.status != verification_obj.VERIFYING:
            return verification
        if models.utcnow() > deadline:
            raise RunFailed('verification %s did not end within %d '
                            'seconds' % (verification.id, timeout))
        if stopping.wait(CONF.operationengine.status_check_interval):
            raise Stopped()


def retain(context, operation, keep, protection_api, now):
    """Delete the operation's older backups beyond its bounds.

    ``keep`` (this run's checkpoint) is never deleted. Returns the ids of
    the checkpoints whose delete was cast.
    """
    try:
        # The definition as it is now, and nothing if it was deleted.
        operation = objects.ScheduledOperation.get_by_id(context,
                                                         operation.id)
    except exception.ScheduledOperationNotFound:
        LOG.info('Scheduled operation %s was deleted: no retention',
                 operation.id)
        return []
    definition = operation.operation_definition
    max_backups = definition.get('max_backups')
    days = definition.get('retention_duration')
    oldest = now - datetime.timedelta(days=days) if days else None
    backups = objects.Checkpoint.list_of_scheduled_operation(
        context, definition['plan_id'], operation.id,
        [checkpoint_obj.AVAILABLE])
    deleted = []
    for index, checkpoint in enumerate(backups):
        if checkpoint.id == keep.id:
            continue
        too_many = max_backups is not None and index >= max_backups
        too_old = oldest is not None and (
            checkpoint.created_at.replace(tzinfo=None) < oldest)
        if not (too_many or too_old):
            continue
        # The API's delete does the same; whoever wins deletes it.
        if checkpoint.conditional_update(
                {'status': checkpoint_obj.DELETING, 'host': None},
                {'status': [checkpoint_obj.AVAILABLE,
                            checkpoint_obj.ERROR]}):
            protection_api.delete(context, checkpoint.id,
                                  scheduled_operation_id=operation.id)
            deleted.append(checkpoint.id)
    if deleted:
        LOG.info('Scheduled operation %s deletes %d older checkpoint(s) '
                 'of plan %s: %s', operation.id, len(deleted),
                 definition['plan_id'], ', '.join(deleted))
    return deleted


def follow(context, operation, run, protection_api, clock, stopping):
    """See a started run to its end (in one of the engine's workers).

    Waits for the checkpoint, applies retention and records the outcome.
    If the engine stops meanwhile, the run stays started and the engine
    resumes it when it starts again.
    """
    try:
        if run.verification_id is not None:
            verification = _wait_for_verification(run, stopping)
            # Damage found is news, not a reason to read it again: the
            # cycle moves on whatever the verification's status.
            try:
                record_cycle_run(context, operation, verification,
                                 clock.now())
            except Exception as exc:
                LOG.exception('Could not record what verification %s read '
                              'in its cycle', verification.id)
                raise RunFailed('what verification %s read could not be '
                                'added to its cycle (the next run reads it '
                                'again): %s' % (verification.id, exc))
            if verification.status != verification_obj.SUCCESS:
                reasons = verification.resources_reason or {}
                raise RunFailed('verification %s of checkpoint %s is %s: %s'
                                % (verification.id,
                                   verification.checkpoint_id,
                                   verification.status, '; '.join(
                                       '%s: %s' % (key, reason) if key
                                       else reason for key, reason in
                                       sorted(reasons.items()))
                                   or 'no reason given'))
            end_run(context, run, operation_obj.SUCCEEDED)
            return
        checkpoint = _wait_for_checkpoint(run, stopping)
    except Stopped:
        return
    except RunFailed as exc:
        end_run(context, run, operation_obj.FAILED, str(exc))
        return
    if operation.operation_type == operation_obj.RETENTION_PROTECT:
        retain(context, operation, checkpoint, protection_api, clock.now())
    end_run(context, run, operation_obj.SUCCEEDED)
