"""The verify flow: is every byte a restore would need there and intact?

InitiateVerify (operation log ``verifying``) -> the resources' verify
hooks -> CompleteVerify. The verification is ``success`` only if every
resource of the checkpoint was verified and found intact: a resource
whose plugin cannot verify is ``skipped`` (with the reason) and makes the
verification an ``error``, never a silent success. A plugin reports damage
per resource (status ``error`` and a reason naming what is damaged), so
one damaged resource does not stop the others from being checked; an
exception reverts the flow, and InitiateVerify's revert ends the
verification and its log in ``error``.

A run of a verify cycle (a verification with a ``scope``) verifies the
resources of every checkpoint its scope lists, not only of its own: each
resource's hook gets them from ``verification.scope`` (a CycleScope),
which also sees that each chunk is read once however many resources and
checkpoints refer to it. What it read is recorded in the verification's
scope (``result``) when the flow completes; a verification that failed
before reading records nothing, and its part is read by the next run.
Such a run is not noted on its checkpoint as its last verification: it
read only a slice of it.
"""

import threading

import datetime

from oslo_log import log as logging
from taskflow.patterns import linear_flow
from taskflow import task

from karbor.db import models
from karbor.db import session as db_session
from karbor import exception
from karbor.objects import checkpoint as checkpoint_obj
from karbor.objects import operation_log
from karbor.objects import verification as verification_obj
from karbor.objects import verify_cycle
from karbor.services.protection import checkpoint as bank_checkpoint
from karbor.services.protection.flows import engine
from karbor.services.protection.flows import resources as resource_flow
from karbor.services.protection import resource as resource_mod

LOG = logging.getLogger(__name__)

SKIPPED = 'skipped'


class VerifyRequest(object):
    """What verify hooks get as ``verification``."""

    def __init__(self, row, scope=None):
        self.id = row.id
        self.parameters = row.parameters or {}
        self.scope = scope


class CycleScope(object):
    """The part of a plan's chunks a run of a verify cycle reads.

    Shared by the hooks of every resource of the verification (they may
    run at once): a chunk in the scope's parts is read by the first hook
    that claims it, and every chunk any of them saw is counted for what
    the cycle has left.
    """

    def __init__(self, spec, checkpoints, skipped=()):
        self.spec = spec
        # Bank checkpoints, the newest (the verification's own) first.
        self.checkpoints = checkpoints
        # The listed checkpoints gone from the bank since the run began.
        self.skipped = list(skipped)
        self.parts = spec['parts']
        # The offset where the sweep stands in its cycle after this run
        # (the end, not the start of the next, when it ends a cycle).
        to = spec['to']
        self._left_from = to - max(0, to - 1) // verify_cycle.SPACE * \
            verify_cycle.SPACE
        self._lock = threading.Lock()
        self._claimed = {}
        self._seen = set()
        self._read = [0] * len(self.parts)
        self._damaged = [0] * len(self.parts)

    def __str__(self):
        return ', '.join(
            'cycle %d offsets %d-%d' % (p['cycle'], p['from'], p['to'])
            for p in self.parts) or 'nothing due'

    def checkpoints_with(self, resource):
        """The scope's checkpoints that protected ``resource``."""
        key = (resource.type, resource.id)
        return [checkpoint for checkpoint in self.checkpoints
                if any((node.value.type, node.value.id) == key
                       for node in resource_mod.walk(
                           checkpoint.resource_graph))]

    def _part_of(self, digest):
        place = verify_cycle.offset(digest)
        for index, part in enumerate(self.parts):
            if part['from'] <= place < part['to']:
                return index
        return None

    def note(self, digests):
        with self._lock:
            self._seen.update(digests)

    def claim(self, digest):
        """True if the caller is to read this chunk (once per scope)."""
        index = self._part_of(digest)
        if index is None:
            return False
        with self._lock:
            if digest in self._claimed:
                return False
            self._claimed[digest] = index
            self._read[index] += 1
            return True

    def damaged(self, digest):
        with self._lock:
            index = self._claimed.get(digest)
            if index is not None:
                self._damaged[index] += 1

    def result(self):
        with self._lock:
            return {
                'chunks': len(self._seen),
                'chunks_left': sum(
                    1 for digest in self._seen
                    if verify_cycle.offset(digest) >= self._left_from),
                'checkpoints_skipped': self.skipped,
                'parts': [{'chunks_read': read, 'chunks_damaged': damaged}
                          for read, damaged in zip(self._read,
                                                   self._damaged)],
            }


def _log_ids(row, checkpoint, scheduled_operation_id=None):
    plan = checkpoint.plan if checkpoint is not None else {}
    ids = {'verification_id': row.id, 'checkpoint_id': row.checkpoint_id,
           'provider_id': row.provider_id, 'plan_id': plan.get('id')}
    if scheduled_operation_id is not None:
        ids['scheduled_operation_id'] = scheduled_operation_id
    return ids


class InitiateVerify(task.Task):

    default_provides = 'operation_log'

    def execute(self, context, verification_row, checkpoint, report,
                scheduled_operation_id):
        return engine.start_log(context, operation_log.VERIFY,
                                verification_row.project_id, report,
                                **_log_ids(verification_row, checkpoint,
                                           scheduled_operation_id))

    def revert(self, verification_row, report, result, *args, **kwargs):
        reason = engine.summarize(report) or 'verification failed'
        report.fail_unfinished('not verified: %s' % reason)
        with engine.ending(verification_row, result):
            if isinstance(result, operation_log.OperationLog):
                engine.end_log(result, report, False, reason,
                               overall=_overall(result))
            _record(verification_row, verification_obj.ERROR, report)


class CompleteVerify(task.Task):

    def execute(self, verification_row, report, operation_log,
                operation_kwargs):
        report.finish('success')
        problems = ['%s %s: %s' % (r.get('type'), rid, r.get('reason'))
                    for rid, r in sorted(report.snapshot().items())
                    if r.get('status') != 'success']
        scope = operation_kwargs['verification'].scope
        read = scope.result() if scope is not None else None
        succeeded = not problems
        with engine.ending(verification_row, operation_log):
            engine.end_log(operation_log, report, succeeded,
                           None if succeeded else '; '.join(problems),
                           overall=_overall(operation_log, read))
            _record(verification_row, verification_obj.SUCCESS
                    if succeeded else verification_obj.ERROR, report, read)


def _overall(log, read=None):
    """The verification's own duration and throughput, for its log (and
    what a run of a verify cycle read, counted once over its resources).

    The resources are verified one after the other or at once: their
    durations and rates do not add up, their bytes and chunks do.
    """
    def figures(summed):
        started = log.started_at
        if started is None:
            return {}
        if started.tzinfo is not None:
            started = started.astimezone(
                datetime.timezone.utc).replace(tzinfo=None)
        seconds = max((models.utcnow() - started).total_seconds(), 1e-3)
        overall = {'duration_seconds': round(seconds, 3),
                   'throughput_mb_s': round(
                       summed.get('bytes_read', 0) / 1e6 / seconds, 1)}
        if read is not None:
            overall['cycle'] = read
        return overall
    return figures


def _record(row, status, report, read=None):
    statuses, reasons = engine.keyed_outcomes(report)
    values = {'status': status, 'resources_status': statuses,
              'resources_reason': reasons}
    if read is not None:
        values['scope'] = dict(row.scope, result=read)
    _end(row, values)


def fail(row, reason):
    _end(row, {'status': verification_obj.ERROR,
               'resources_reason': {'': reason}})


def _end(row, values):
    """End the verification and note it on its checkpoint in one
    transaction, so whoever sees the verification ended sees the
    checkpoint's last_verification_* say so too.

    Not a run of a verify cycle: it read a slice of every checkpoint and
    verified none of them; the cycle it completes is noted on them
    instead (karbor.objects.verify_cycle).
    """
    with db_session.writer.using(row._context):
        if row.conditional_update(values,
                                  {'status': verification_obj.VERIFYING}) \
                and not row.scope:
            checkpoint_obj.Checkpoint.record_verification(
                row._context, row.checkpoint_id, row.id, row.status,
                at=row.updated_at)


def run(context, row, provider, bank, scheduled_operation_id=None):
    report = None
    checkpoint = None
    try:
        try:
            checkpoint = bank_checkpoint.Checkpoint.load(bank,
                                                         row.checkpoint_id)
            graph = checkpoint.resource_graph
        except exception.CheckpointNotFound:
            raise exception.CheckpointOperationFailed(
                reason='the metadata of checkpoint %s is missing from the '
                       'bank' % row.checkpoint_id)
        except (ValueError, TypeError, KeyError, AttributeError,
                exception.Invalid) as exc:
            checkpoint = None
            raise exception.CheckpointOperationFailed(
                reason='the metadata %s of checkpoint %s is corrupt: %s' % (
                    bank_checkpoint.metadata_key(row.checkpoint_id),
                    row.checkpoint_id, exc))
        scope = None
        if row.scope:
            scope = _scope(bank, row, checkpoint)
            # Every resource of every listed checkpoint, once (the flow
            # builder and walk() take each resource once).
            graph = [node for each in scope.checkpoints
                     for node in each.resource_graph]
        report = resource_mod.OperationReport(
            node.value for node in resource_mod.walk(graph))
        plugins = {}

        def operation(res):
            plugin = provider.plugin(res.type, bank, plugins)
            verify = plugin.get_verify_operation(res)
            if verify is None:
                report.update(res, status=SKIPPED, reason=(
                    'not verified: the %s plugin has no verify operation'
                    % res.type))
            return verify

        flow = linear_flow.Flow('verify-%s' % row.id)
        flow.add(InitiateVerify(),
                 resource_flow.build(graph, operation, row.parameters),
                 CompleteVerify())
    except Exception as exc:
        LOG.warning('Verification %s could not start: %s', row.id, exc)
        with engine.ending(row):
            engine.log_failure(row._context, operation_log.VERIFY,
                               row.project_id, str(exc),
                               **_log_ids(row, checkpoint,
                                          scheduled_operation_id))
            fail(row, str(exc))
        return
    engine.run_recorded(
        'Verification %s' % row.id, flow,
        {'verification_row': row, 'checkpoint': checkpoint,
         'context': context, 'report': report,
         'scheduled_operation_id': scheduled_operation_id,
         'operation_kwargs': {'verification': VerifyRequest(row, scope)}})


def _scope(bank, row, checkpoint):
    """The CycleScope of a run of a verify cycle.

    A listed checkpoint deleted since the run was planned is skipped (its
    chunks no other checkpoint uses are being deleted too); one whose
    metadata is damaged fails the verification, as the newest one's does.
    """
    checkpoints, skipped = [checkpoint], []
    for checkpoint_id in row.scope.get('checkpoints') or ():
        if checkpoint_id == checkpoint.id:
            continue
        try:
            loaded = bank_checkpoint.Checkpoint.load(bank, checkpoint_id)
            loaded.resource_graph
        except exception.CheckpointNotFound:
            skipped.append(checkpoint_id)
            continue
        except (ValueError, TypeError, KeyError, AttributeError,
                exception.Invalid) as exc:
            raise exception.CheckpointOperationFailed(
                reason='the metadata %s of checkpoint %s is corrupt: %s' % (
                    bank_checkpoint.metadata_key(checkpoint_id),
                    checkpoint_id, exc))
        checkpoints.append(loaded)
    return CycleScope(row.scope, checkpoints, skipped)
