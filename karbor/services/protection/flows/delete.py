"""The delete flow: a checkpoint and its data out of the bank.

InitiateDelete (operation log ``deleting``) -> the resources' delete hooks
(plugins remove their data and collect garbage) -> CompleteDelete (bank
metadata removed, the index row ``deleted``, the log ``deleted``). A
failure ends the checkpoint and its log in ``error-deleting``; its
metadata stays in the bank so that the delete can be retried. The log
outlives the checkpoint: it is the trace that the checkpoint existed.
"""

from oslo_log import log as logging
from taskflow.patterns import linear_flow
from taskflow import task

from karbor import exception
from karbor.objects import checkpoint as checkpoint_obj
from karbor.objects import operation_log
from karbor.services.protection import checkpoint as bank_checkpoint
from karbor.services.protection.flows import engine
from karbor.services.protection.flows import resources as resource_flow
from karbor.services.protection import resource as resource_mod

LOG = logging.getLogger(__name__)


def _log_ids(checkpoint_row, scheduled_operation_id):
    return {'checkpoint_id': checkpoint_row.id,
            'plan_id': checkpoint_row.plan_id,
            'provider_id': checkpoint_row.provider_id,
            'scheduled_operation_id': scheduled_operation_id}


class InitiateDelete(task.Task):

    default_provides = 'operation_log'

    def execute(self, context, checkpoint_row, report,
                scheduled_operation_id):
        return engine.start_log(
            context, operation_log.DELETE, checkpoint_row.project_id,
            report, **_log_ids(checkpoint_row, scheduled_operation_id))

    def revert(self, checkpoint_row, report, result, *args, **kwargs):
        reason = engine.summarize(report) or 'delete failed'
        report.fail_unfinished('not deleted: %s' % reason)
        with engine.ending(checkpoint_row, result):
            if isinstance(result, operation_log.OperationLog):
                engine.end_log(result, report, False, reason)
            fail(checkpoint_row, report, reason)


class CompleteDelete(task.Task):

    def execute(self, checkpoint_row, checkpoint, report, operation_log):
        report.finish('deleted')
        if checkpoint is not None:
            checkpoint.delete_metadata()
        with engine.ending(checkpoint_row, operation_log):
            engine.end_log(operation_log, report, True)
            if checkpoint_row.conditional_update(
                    {'status': checkpoint_obj.DELETED,
                     'resources_status': report.snapshot()},
                    {'status': checkpoint_obj.DELETING}):
                checkpoint_row.destroy()


def fail(checkpoint_row, report, reason):
    statuses = None
    if report is not None:
        report.fail_unfinished('not deleted: %s' % reason)
        statuses = report.snapshot()
    checkpoint_row.conditional_update(
        {'status': checkpoint_obj.ERROR_DELETING, 'error_reason': reason,
         'resources_status': statuses},
        {'status': checkpoint_obj.DELETING})


def run(context, checkpoint_row, provider, bank,
        scheduled_operation_id=None):
    report = None
    try:
        try:
            checkpoint = bank_checkpoint.Checkpoint.load(bank,
                                                         checkpoint_row.id)
            graph = checkpoint.resource_graph
        except exception.CheckpointNotFound:
            # Protect failed before writing anything: only the row is left.
            checkpoint, graph = None, []
        report = resource_mod.OperationReport(
            node.value for node in resource_mod.walk(graph))
        plugins = {}

        def operation(res):
            return provider.plugin(res.type, bank, plugins) \
                .get_delete_operation(res)

        flow = linear_flow.Flow('delete-%s' % checkpoint_row.id)
        flow.add(InitiateDelete(),
                 resource_flow.build(graph, operation, {}),
                 CompleteDelete())
    except Exception as exc:
        LOG.exception('Delete of checkpoint %s could not start',
                      checkpoint_row.id)
        with engine.ending(checkpoint_row):
            engine.log_failure(
                checkpoint_row._context, operation_log.DELETE,
                checkpoint_row.project_id, str(exc),
                **_log_ids(checkpoint_row, scheduled_operation_id))
            fail(checkpoint_row, report, str(exc))
        return
    engine.run_recorded(
        'Delete of checkpoint %s' % checkpoint_row.id, flow,
        {'checkpoint_row': checkpoint_row, 'checkpoint': checkpoint,
         'context': context, 'report': report, 'operation_kwargs': {},
         'scheduled_operation_id': scheduled_operation_id})
