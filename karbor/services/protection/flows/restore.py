"""The restore flow: a checkpoint's resources back into the world.

InitiateRestore (operation log ``restoring``) -> the resources' restore
hooks -> CompleteRestore (restore ``success``, each resource ``restored``,
log ``restored``). A failure reverts the flow and InitiateRestore's revert
ends the restore in ``error`` with every resource's status and reason,
and its log in ``error-restoring``.
"""

from oslo_log import log as logging
from taskflow.patterns import linear_flow
from taskflow import task

from karbor.objects import operation_log
from karbor.objects import restore as restore_obj
from karbor.services.protection import checkpoint as bank_checkpoint
from karbor.services.protection.flows import engine
from karbor.services.protection.flows import resources as resource_flow
from karbor.services.protection import resource as resource_mod

LOG = logging.getLogger(__name__)


class RestoreRequest(object):
    """What restore hooks get as ``restore``."""

    def __init__(self, restore_row, restore_auth):
        self.id = restore_row.id
        self.target = restore_row.restore_target
        self.restore_auth = restore_auth
        self.parameters = restore_row.parameters


def _log_ids(restore_row, checkpoint):
    plan = checkpoint.plan if checkpoint is not None else {}
    return {'restore_id': restore_row.id,
            'checkpoint_id': restore_row.checkpoint_id,
            'provider_id': restore_row.provider_id,
            'plan_id': plan.get('id')}


class InitiateRestore(task.Task):

    default_provides = 'operation_log'

    def execute(self, context, restore_row, checkpoint, report):
        return engine.start_log(context, operation_log.RESTORE,
                                restore_row.project_id, report,
                                **_log_ids(restore_row, checkpoint))

    def revert(self, restore_row, report, result, *args, **kwargs):
        reason = engine.summarize(report) or 'restore failed'
        report.fail_unfinished('not restored: %s' % reason)
        with engine.ending(restore_row, result):
            if isinstance(result, operation_log.OperationLog):
                engine.end_log(result, report, False, reason)
            fail(restore_row, report, reason)


class CompleteRestore(task.Task):

    def execute(self, restore_row, report, operation_log):
        report.finish('restored')
        with engine.ending(restore_row, operation_log):
            engine.end_log(operation_log, report, True)
            _record(restore_row, restore_obj.SUCCESS, report)


def _record(restore_row, status, report):
    statuses, reasons = engine.keyed_outcomes(report)
    restore_row.conditional_update(
        {'status': status, 'resources_status': statuses,
         'resources_reason': reasons},
        {'status': restore_obj.IN_PROGRESS})


def fail(restore_row, report, reason):
    if report is not None:
        report.fail_unfinished('not restored: %s' % reason)
        _record(restore_row, restore_obj.ERROR, report)
    else:
        restore_row.conditional_update(
            {'status': restore_obj.ERROR,
             'resources_reason': {'': reason}},
            {'status': restore_obj.IN_PROGRESS})


def run(context, restore_row, restore_auth, provider, bank):
    report = None
    checkpoint = None
    try:
        checkpoint = bank_checkpoint.Checkpoint.load(
            bank, restore_row.checkpoint_id)
        graph = checkpoint.resource_graph
        report = resource_mod.OperationReport(
            node.value for node in resource_mod.walk(graph))
        plugins = {}

        def operation(res):
            return provider.plugin(res.type, bank, plugins) \
                .get_restore_operation(res)

        flow = linear_flow.Flow('restore-%s' % restore_row.id)
        flow.add(InitiateRestore(),
                 resource_flow.build(graph, operation,
                                     restore_row.parameters),
                 CompleteRestore())
    except Exception as exc:
        LOG.exception('Restore %s could not start', restore_row.id)
        with engine.ending(restore_row):
            engine.log_failure(restore_row._context, operation_log.RESTORE,
                               restore_row.project_id, str(exc),
                               **_log_ids(restore_row, checkpoint))
            fail(restore_row, report, str(exc))
        return
    engine.run_recorded(
        'Restore %s' % restore_row.id, flow,
        {'restore_row': restore_row, 'checkpoint': checkpoint,
         'context': context, 'report': report,
         'operation_kwargs': {
             'restore': RestoreRequest(restore_row, restore_auth)}})
