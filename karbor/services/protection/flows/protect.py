"""The protect flow: plan resources -> a checkpoint in the bank.

InitiateProtect (operation log ``protecting``, bank metadata) -> one hook
task per resource and hook (karbor.services.protection.flows.resources)
-> CompleteProtect (checkpoint and log ``available``). Any failure
reverts the flow, and InitiateProtect's revert ends the checkpoint in
``error`` with the failing resources' reasons, in the bank and the
database alike, and its log in ``error`` with that reason in error_info.
"""

from oslo_log import log as logging
from taskflow.patterns import linear_flow
from taskflow import task

from karbor import context as karbor_context
from karbor.db import models
from karbor import objects
from karbor.objects import checkpoint as checkpoint_obj
from karbor.objects import operation_log
from karbor.services.protection import checkpoint as bank_checkpoint
from karbor.services.protection.flows import engine
from karbor.services.protection.flows import resources as resource_flow
from karbor.services.protection import protectables
from karbor.services.protection import resource as resource_mod

LOG = logging.getLogger(__name__)


def _now():
    return models.utcnow().isoformat()


def _log_ids(checkpoint_row):
    extra = checkpoint_row.extra_info or {}
    return {'checkpoint_id': checkpoint_row.id,
            'plan_id': checkpoint_row.plan_id,
            'provider_id': checkpoint_row.provider_id,
            'scheduled_operation_id': extra.get('scheduled_operation_id')}


class InitiateProtect(task.Task):

    default_provides = 'operation_log'

    def execute(self, context, checkpoint_row, checkpoint, report):
        log = engine.start_log(context, operation_log.PROTECT,
                               checkpoint_row.project_id, report,
                               **_log_ids(checkpoint_row))
        checkpoint.save()
        return log

    def revert(self, checkpoint_row, checkpoint, report, result, *args,
               **kwargs):
        reason = engine.summarize(report) or 'protect failed'
        report.fail_unfinished('not protected: the protect failed')
        with engine.ending(checkpoint_row, result):
            if isinstance(result, operation_log.OperationLog):
                engine.end_log(result, report, False, reason)
            fail(checkpoint_row, checkpoint, report, reason)


class CompleteProtect(task.Task):

    def execute(self, checkpoint_row, checkpoint, report, operation_log):
        report.finish('available')
        records = report.snapshot()
        checkpoint.update(status=checkpoint_obj.AVAILABLE, resources=records,
                          finished_at=_now())
        with engine.ending(checkpoint_row, operation_log):
            engine.end_log(operation_log, report, True)
            ended = checkpoint_row.conditional_update(
                {'status': checkpoint_obj.AVAILABLE,
                 'resources_status': _statuses(records)},
                {'status': checkpoint_obj.PROTECTING})
        if not ended:
            # Ended meanwhile as interrupted: this service was taken for
            # dead (its heartbeat stalled). The bank must not say
            # otherwise than the index and the log.
            ended = objects.Checkpoint.get_by_id(
                karbor_context.get_admin_context(), checkpoint_row.id)
            LOG.warning('Checkpoint %s finished after it was ended as %s: '
                        '%s', ended.id, ended.status, ended.error_reason)
            checkpoint.update(status=ended.status,
                              error_reason=ended.error_reason)


def _statuses(records):
    return {rid: {'type': r.get('type'), 'name': r.get('name'),
                  'status': r.get('status'), 'reason': r.get('reason')}
            for rid, r in records.items()}


def fail(checkpoint_row, checkpoint, report, reason):
    """End the checkpoint in error, in the bank (if any) and the DB."""
    records = {}
    if report is not None:
        report.fail_unfinished('not protected: the protect failed')
        records = report.snapshot()
    if checkpoint is not None:
        try:
            checkpoint.update(status=checkpoint_obj.ERROR, resources=records,
                              error_reason=reason, finished_at=_now())
        except Exception:
            LOG.exception('Could not record the failure of checkpoint %s '
                          'in the bank', checkpoint.id)
    checkpoint_row.conditional_update(
        {'status': checkpoint_obj.ERROR, 'error_reason': reason,
         'resources_status': _statuses(records)},
        {'status': checkpoint_obj.PROTECTING})


def run(context, checkpoint_row, provider, bank):
    """Protect the plan of ``checkpoint_row`` (already claimed by us)."""
    report = None
    checkpoint = None
    try:
        plan = checkpoint_row.protection_plan
        plan_resources = [resource_mod.resource_from_dict(r)
                          for r in plan['resources']]
        graph = protectables.build_graph(context, plan_resources)
        graph_list = resource_mod.graph_to_list(graph)
        checkpoint_row.resource_graph = graph_list
        checkpoint_row.save()
        report = resource_mod.OperationReport(
            node.value for node in resource_mod.walk(graph))
        checkpoint = bank_checkpoint.Checkpoint(bank, {
            'id': checkpoint_row.id,
            'project_id': checkpoint_row.project_id,
            'provider_id': checkpoint_row.provider_id,
            'status': checkpoint_obj.PROTECTING,
            'protection_plan': plan,
            'resource_graph': graph_list,
            'created_at': checkpoint_row.created_at.isoformat(),
            'extra_info': checkpoint_row.extra_info or {},
            'resources': {},
        })
        plugins = {}

        def operation(res):
            return provider.plugin(res.type, bank, plugins) \
                .get_protect_operation(res)

        flow = linear_flow.Flow('protect-%s' % checkpoint_row.id)
        flow.add(InitiateProtect(),
                 resource_flow.build(graph, operation,
                                     plan.get('parameters')),
                 CompleteProtect())
    except Exception as exc:
        LOG.exception('Checkpoint %s could not start', checkpoint_row.id)
        with engine.ending(checkpoint_row):
            engine.log_failure(checkpoint_row._context,
                               operation_log.PROTECT,
                               checkpoint_row.project_id, str(exc),
                               **_log_ids(checkpoint_row))
            fail(checkpoint_row, checkpoint, report, str(exc))
        return
    engine.run_recorded(
        'Protect of checkpoint %s' % checkpoint_row.id, flow,
        {'checkpoint_row': checkpoint_row, 'checkpoint': checkpoint,
         'context': context, 'report': report, 'operation_kwargs': {}})
