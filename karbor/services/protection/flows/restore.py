"""The restore flow: a checkpoint's resources back into the world.

InitiateRestore -> the resources' restore hooks -> CompleteRestore
(status success, each resource ``restored``). A failure reverts the flow
and InitiateRestore's revert ends the restore in ``error`` with every
resource's status and reason.
"""

from oslo_log import log as logging
from taskflow.patterns import linear_flow
from taskflow import task

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


class InitiateRestore(task.Task):

    def execute(self, restore_row):
        pass

    def revert(self, restore_row, report, *args, **kwargs):
        fail(restore_row, report, engine.summarize(report) or
             'restore failed')


class CompleteRestore(task.Task):

    def execute(self, restore_row, report):
        report.finish('restored')
        _record(restore_row, restore_obj.SUCCESS, report)


def _record(restore_row, status, report):
    records = report.snapshot() if report is not None else {}
    restore_row.conditional_update(
        {'status': status,
         'resources_status': {rid: r['status'] for rid, r in records.items()},
         'resources_reason': {rid: r['reason'] for rid, r in records.items()
                              if r.get('reason')}},
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
        fail(restore_row, report, str(exc))
        return
    try:
        engine.run(flow, {
            'restore_row': restore_row, 'checkpoint': checkpoint,
            'context': context, 'report': report,
            'operation_kwargs': {
                'restore': RestoreRequest(restore_row, restore_auth)}})
    except Exception:
        LOG.exception('Restore %s failed', restore_row.id)
