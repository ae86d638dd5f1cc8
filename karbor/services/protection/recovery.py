"""Ending operations that no protection service will finish.

An operation row (a checkpoint being protected or deleted, a restore, a
verification) is taken by the protection service that receives its cast:
that service writes its host on the row, then runs the flow. Two things
can leave a row in its running status for ever, and both end here in the
row's error status with a reason, its operation log too:

- the service running it died (SIGKILL, power loss): the service itself
  ends its rows when it starts again, and any live protection service ends
  them as soon as the dead one's heartbeat is older than
  ``service_down_time``, whichever comes first;
- no service ever took it (no protection service running, the message
  lost): a live protection service or operation engine ends it once it
  waited ``operation_claim_timeout`` seconds.

Every ending is a compare-and-swap on the row's status and host, so each
operation is ended by exactly one of the services racing to do it, and
never once its flow recorded an outcome.
"""

import collections
import datetime
import threading

from oslo_log import log as logging

from karbor.conf import CONF
from karbor import context as karbor_context
from karbor.db import models
from karbor import exception
from karbor import objects
from karbor.objects import checkpoint as checkpoint_obj
from karbor.objects import operation_log
from karbor.objects import restore as restore_obj
from karbor.objects import verification as verification_obj
from karbor.services.protection import checkpoint as bank_checkpoint
from karbor.services.protection import provider as provider_registry

LOG = logging.getLogger(__name__)

PROTECTION_BINARY = 'karbor-protection'

# A resource whose status is one of these had finished when its operation
# was interrupted; any other status (pending, running) becomes error.
_FINISHED = frozenset(['done', 'error', 'available', 'deleted', 'restored',
                       'success'])

Kind = collections.namedtuple('Kind', 'name cls running failed log_type')

KINDS = (
    Kind('protect of checkpoint', objects.Checkpoint,
         checkpoint_obj.PROTECTING, checkpoint_obj.ERROR,
         operation_log.PROTECT),
    Kind('delete of checkpoint', objects.Checkpoint,
         checkpoint_obj.DELETING, checkpoint_obj.ERROR_DELETING,
         operation_log.DELETE),
    Kind('restore', objects.Restore, restore_obj.IN_PROGRESS,
         restore_obj.ERROR, operation_log.RESTORE),
    Kind('verification', objects.Verification, verification_obj.VERIFYING,
         verification_obj.ERROR, operation_log.VERIFY),
)


def _log_ids(kind, row):
    if kind.cls is objects.Checkpoint:
        return {'checkpoint_id': row.id, 'plan_id': row.plan_id,
                'provider_id': row.provider_id}
    key = 'restore_id' if kind.cls is objects.Restore else 'verification_id'
    return {key: row.id, 'checkpoint_id': row.checkpoint_id,
            'provider_id': row.provider_id}


def _plan_resources(ctx, kind, row):
    """{resource id: {type, name}} the operation acts on, from the plan
    copied into the checkpoint."""
    try:
        checkpoint = (row if kind.cls is objects.Checkpoint else
                      objects.Checkpoint.get_by_id(ctx, row.checkpoint_id))
    except exception.CheckpointNotFound:
        return {}
    return {r['id']: {'type': r.get('type'), 'name': r.get('name')}
            for r in (checkpoint.protection_plan or {}).get('resources', [])}


def _resource_outcomes(ctx, kind, row, logged, reason):
    """Per resource {type, name, status, reason} and the figures the log
    recorded (``logged``: its extra_info resources), else the plan's
    resources; any resource that had not finished is in error with
    ``reason``."""
    resources = logged or _plan_resources(ctx, kind, row)
    outcomes = {}
    for resource_id, entry in resources.items():
        finished = entry.get('status') in _FINISHED
        outcomes[resource_id] = dict(
            entry, status=entry.get('status') if finished else 'error',
            reason=entry.get('reason') if finished else reason)
    return outcomes


def _row_values(kind, outcomes, reason):
    """The columns of the failed row, in the shape each row type shows."""
    if kind.cls is objects.Checkpoint:
        return {'status': kind.failed, 'error_reason': reason,
                'resources_status': outcomes}
    statuses = {}
    reasons = {'': reason}
    for resource_id, outcome in outcomes.items():
        key = '%s#%s' % (outcome['type'], resource_id)
        statuses[key] = outcome['status']
        if outcome['reason']:
            reasons[key] = outcome['reason']
    return {'status': kind.failed, 'resources_status': statuses,
            'resources_reason': reasons}


def fail(ctx, kind, row, host, reason):
    """End ``row`` (of ``kind``, taken by ``host``, None if by nobody) and
    its operation log in error with ``reason``.

    Returns False, changing nothing, if the row is no longer running on
    ``host``: its flow ended it, or another service got there first.
    """
    ids = _log_ids(kind, row)
    logs = objects.OperationLog.list_of_operation(ctx, kind.log_type, **ids)
    running = [log for log in logs
               if log.status == operation_log.STATUS_OF[kind.log_type][0]]
    logged = {}
    for log in running:
        logged.update((log.extra_info or {}).get('resources') or {})
    outcomes = _resource_outcomes(ctx, kind, row, logged, reason)
    if not row.conditional_update(_row_values(kind, outcomes, reason),
                                  {'status': kind.running, 'host': host}):
        return False
    # Only the winner of the swap gets here: the logs are ours to end.
    for log in running:
        log.finish(False, error_info=reason,
                   extra_info=dict(log.extra_info or {}, resources=outcomes))
    if not logs:
        # It never started: its log is the trace that it was asked for.
        objects.OperationLog.start(ctx, kind.log_type, row.project_id,
                                   **ids).finish(
            False, error_info=reason, extra_info={'resources': outcomes})
    if kind.cls is objects.Checkpoint and host is not None:
        _fail_in_bank(row, kind.failed, reason, outcomes)
    LOG.warning('%s %s ended in %s: %s', kind.name.capitalize(), row.id,
                kind.failed, reason)
    return True


def _fail_in_bank(row, status, reason, outcomes):
    """Record the failure in the checkpoint's bank metadata too (the truth
    a reindex rebuilds from), if the protect got as far as writing it."""
    try:
        provider = provider_registry.get_registry().get(row.provider_id)
        checkpoint = bank_checkpoint.Checkpoint.load(provider.bank_class(),
                                                     row.id)
        resources = checkpoint.resources
        for resource_id, outcome in outcomes.items():
            resources[resource_id] = dict(resources.get(resource_id, {}),
                                          **outcome)
        checkpoint.update(status=status, error_reason=reason,
                          resources=resources)
    except exception.CheckpointNotFound:
        pass
    except Exception:
        LOG.exception('Could not record in its bank that checkpoint %s '
                      'is %s', row.id, status)


def fail_host(ctx, host, reason):
    """End every running operation taken by ``host``; returns how many."""
    ended = 0
    for kind in KINDS:
        for row in kind.cls.list_owned(ctx, host, [kind.running]):
            ended += fail(ctx, kind, row, host, reason)
    return ended


def _older_than(seconds):
    return models.utcnow() - datetime.timedelta(seconds=seconds)


def fail_unclaimed(ctx):
    """End the operations no protection service took within
    ``operation_claim_timeout`` seconds of their cast; returns how many."""
    timeout = CONF.operation_claim_timeout
    reason = ('no protection service took this operation within %d '
              'seconds' % timeout)
    ended = 0
    for kind in KINDS:
        for row in kind.cls.list_unclaimed(ctx, [kind.running],
                                           _older_than(timeout)):
            ended += fail(ctx, kind, row, None, reason)
    return ended


def fail_dead_peers(ctx, own_host):
    """End the running operations of protection services that stopped
    reporting (heartbeat older than ``service_down_time``)."""
    services = {s.host: s for s in objects.Service.list_by_binary(
        ctx, PROTECTION_BINARY)}
    hosts = set()
    for kind in KINDS:
        hosts.update(kind.cls.hosts_running(ctx, [kind.running]))
    ended = 0
    for host in sorted(hosts - {own_host}):
        service = services.get(host)
        if service is not None and service.is_up:
            continue
        if service is None or service.last_seen_at is None:
            seen = 'it never reported'
        else:
            seen = 'stopped reporting at %s' % (
                service.last_seen_at.replace(tzinfo=None).isoformat(
                    timespec='seconds'))
        ended += fail_host(ctx, host, 'interrupted: protection service %s '
                                      '%s' % (host, seen))
    return ended


class Watcher(object):
    """A thread ending, every ``interrupted_check_interval`` seconds, the
    operations nobody will finish: those nobody took and, in a protection
    service (``own_host`` set), those of dead protection services."""

    def __init__(self, own_host=None):
        self.own_host = own_host
        self._stopping = threading.Event()
        self._thread = None

    def check(self):
        ctx = karbor_context.get_admin_context()
        ended = fail_unclaimed(ctx)
        if self.own_host is not None:
            ended += fail_dead_peers(ctx, self.own_host)
        return ended

    def _loop(self):
        while not self._stopping.wait(CONF.interrupted_check_interval):
            try:
                self.check()
            except Exception:
                # A database blip must not end the watch: the next round
                # finds the same rows.
                LOG.exception('Could not check for interrupted operations')

    def start(self):
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name='karbor-interrupted-watch')
        self._thread.start()

    def stop(self):
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
