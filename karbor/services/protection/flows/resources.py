"""Compile a resource graph into a taskflow graph of plugin hook tasks.

For every resource, its four hooks run in order. Across resources, for a
resource R that depends on D: R's prepare-begin runs before D's, and D's
prepare-finish and complete run before R's (dependencies are ready before
their dependents finish).
"""

from taskflow.patterns import graph_flow
from taskflow import task

HOOKS = ('on_prepare_begin', 'on_prepare_finish', 'on_main', 'on_complete')


def merged_parameters(parameters, resource):
    """The ``TYPE`` parameters overlaid with the ``TYPE#ID`` ones."""
    parameters = parameters or {}
    merged = dict(parameters.get(resource.type) or {})
    merged.update(parameters.get('%s#%s' % (resource.type, resource.id))
                  or {})
    return merged


class HookTask(task.Task):
    """One hook of one resource's operation."""

    def __init__(self, operation, hook, resource, parameters):
        super().__init__(name='%s#%s:%s' % (resource.type, resource.id,
                                            hook))
        self.operation = operation
        self.hook = hook
        self.resource = resource
        self.parameters = parameters

    def execute(self, checkpoint, context, report, operation_kwargs):
        if self.hook == HOOKS[0]:
            report.update(self.resource, status='running')
        try:
            getattr(self.operation, self.hook)(
                checkpoint=checkpoint, resource=self.resource,
                context=context, parameters=self.parameters, report=report,
                **operation_kwargs)
        except Exception as exc:
            report.update(self.resource, status='error',
                          reason=str(exc) or exc.__class__.__name__)
            raise
        # A hook may have reported a finding (a verify that found damage)
        # without raising; only a clean run counts as done.
        if self.hook == HOOKS[-1] and report.get(
                self.resource.id).get('status') == 'running':
            report.update(self.resource, status='done')


def build(graph, get_operation, parameters, name='resources'):
    """A graph flow running ``get_operation(resource)``'s hooks.

    ``get_operation`` may return None for a resource that has nothing to
    do (e.g. a plugin without a verify operation); the caller decides what
    that means for the resource's status.
    """
    flow = graph_flow.Flow(name)
    tasks = {}
    nodes = {}

    def add(node):
        key = (node.value.type, node.value.id)
        if key in nodes:
            return
        nodes[key] = node
        operation = get_operation(node.value)
        if operation is not None:
            params = merged_parameters(parameters, node.value)
            tasks[key] = [HookTask(operation, hook, node.value, params)
                          for hook in HOOKS]
            flow.add(*tasks[key])
            for before, after in zip(tasks[key], tasks[key][1:]):
                flow.link(before, after)
        for child in node.child_nodes:
            add(child)

    for node in graph:
        add(node)

    for key, node in nodes.items():
        if key not in tasks:
            continue
        begin, finish, _, complete = tasks[key]
        for child in node.child_nodes:
            child_tasks = tasks.get((child.value.type, child.value.id))
            if child_tasks is None:
                continue
            flow.link(begin, child_tasks[0])
            flow.link(child_tasks[1], finish)
            flow.link(child_tasks[3], complete)
    return flow
