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
"""

import datetime

from oslo_log import log as logging
from taskflow.patterns import linear_flow
from taskflow import task

from karbor.db import models
from karbor import exception
from karbor.objects import checkpoint as checkpoint_obj
from karbor.objects import operation_log
from karbor.objects import verification as verification_obj
from karbor.services.protection import checkpoint as bank_checkpoint
from karbor.services.protection.flows import engine
from karbor.services.protection.flows import resources as resource_flow
from karbor.services.protection import resource as resource_mod

LOG = logging.getLogger(__name__)

SKIPPED = 'skipped'


class VerifyRequest(object):
    """What verify hooks get as ``verification``."""

    def __init__(self, row):
        self.id = row.id
        self.parameters = row.parameters or {}


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
        if isinstance(result, operation_log.OperationLog):
            engine.end_log(result, report, False, reason,
                           overall=_overall(result))
        _record(verification_row, verification_obj.ERROR, report)


class CompleteVerify(task.Task):

    def execute(self, verification_row, report, operation_log):
        report.finish('success')
        problems = ['%s %s: %s' % (r.get('type'), rid, r.get('reason'))
                    for rid, r in sorted(report.snapshot().items())
                    if r.get('status') != 'success']
        succeeded = not problems
        engine.end_log(operation_log, report, succeeded,
                       None if succeeded else '; '.join(problems),
                       overall=_overall(operation_log))
        _record(verification_row, verification_obj.SUCCESS if succeeded
                else verification_obj.ERROR, report)


def _overall(log):
    """The verification's own duration and throughput, for its log.

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
        return {'duration_seconds': round(seconds, 3),
                'throughput_mb_s': round(
                    summed.get('bytes_read', 0) / 1e6 / seconds, 1)}
    return figures


def _record(row, status, report):
    statuses, reasons = engine.keyed_outcomes(report)
    if row.conditional_update(
            {'status': status, 'resources_status': statuses,
             'resources_reason': reasons},
            {'status': verification_obj.VERIFYING}):
        _note_on_checkpoint(row)


def fail(row, reason):
    if row.conditional_update(
            {'status': verification_obj.ERROR,
             'resources_reason': {'': reason}},
            {'status': verification_obj.VERIFYING}):
        _note_on_checkpoint(row)


def _note_on_checkpoint(row):
    """The checkpoint shows when it was last verified, and the result."""
    try:
        checkpoint_obj.Checkpoint.record_verification(
            row._context, row.checkpoint_id, row.id, row.status,
            at=row.updated_at)
    except Exception:
        # The verification's own row holds the result already.
        LOG.exception('Could not note verification %s on checkpoint %s',
                      row.id, row.checkpoint_id)


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
        engine.log_failure(context, operation_log.VERIFY, row.project_id,
                           str(exc), **_log_ids(row, checkpoint,
                                                scheduled_operation_id))
        fail(row, str(exc))
        return
    engine.run_recorded(
        'Verification %s' % row.id, flow,
        {'verification_row': row, 'checkpoint': checkpoint,
         'context': context, 'report': report,
         'scheduled_operation_id': scheduled_operation_id,
         'operation_kwargs': {'verification': VerifyRequest(row)}})
