"""Compile a resource graph into a taskflow graph of plugin hook tasks.

For every resource, its four hooks run in order. Across resources, for a
resource R that depends on D: R's prepare-begin runs before D's, and D's
prepare-finish and complete run before R's (dependencies are ready before
their dependents finish).

Only the hooks an operation implements become tasks; the orders a
skipped hook carried are kept by linking around it.
"""

import collections

from taskflow.patterns import graph_flow
from taskflow import task

from karbor.services.protection.plugins import base as plugin_base

HOOKS = ('on_prepare_begin', 'on_prepare_finish', 'on_main', 'on_complete')


def merged_parameters(parameters, resource):
    """The ``TYPE`` parameters overlaid with the ``TYPE#ID`` ones."""
    parameters = parameters or {}
    merged = dict(parameters.get(resource.type) or {})
    merged.update(parameters.get('%s#%s' % (resource.type, resource.id))
                  or {})
    return merged


def implemented_hooks(operation):
    """The hooks ``operation`` implements, in order: those its class does
    not inherit from base.Operation, whose hooks do nothing.

    A task costs the flow engine scheduling and persisted state changes
    whether or not it does anything, and an operation usually implements
    on_main alone. A resource keeps at least one task, which reports it
    running and done.
    """
    hooks = [hook for hook in HOOKS
             if getattr(type(operation), hook, None)
             is not getattr(plugin_base.Operation, hook)]
    return hooks or ['on_main']


class HookTask(task.Task):
    """One hook of one resource's operation; the resource's first task
    reports it running, its last one done."""

    def __init__(self, operation, hook, resource, parameters, first, last):
        super().__init__(name='%s#%s:%s' % (resource.type, resource.id,
                                            hook))
        self.operation = operation
        self.hook = hook
        self.resource = resource
        self.parameters = parameters
        self.first = first
        self.last = last

    def execute(self, checkpoint, context, report, operation_kwargs):
        if self.first:
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
        if self.last and report.get(
                self.resource.id).get('status') == 'running':
            report.update(self.resource, status='done')


def _ordering(nodes, operations):
    """Edges (before, after) between (resource key, hook) pairs: every
    hook of every resource with an operation, ordered as the module
    docstring says."""
    edges = set()
    for key, node in nodes.items():
        if key not in operations:
            continue
        steps = [(key, hook) for hook in HOOKS]
        edges.update(zip(steps, steps[1:]))
        for child in node.child_nodes:
            child_key = (child.value.type, child.value.id)
            if child_key not in operations:
                continue
            edges.add(((key, HOOKS[0]), (child_key, HOOKS[0])))
            for hook in HOOKS[1], HOOKS[3]:
                edges.add(((child_key, hook), (key, hook)))
    return edges


def _without(edges, absent):
    """``edges`` with the ``absent`` steps taken out, each one's
    predecessors linked to its successors, so that the steps left keep
    every order the absent ones carried.

    By adjacency sets: a plan of a thousand resources has thousands of
    steps, and a scan of every edge per removed step would be quadratic.
    """
    after = collections.defaultdict(set)
    before = collections.defaultdict(set)
    for first, then in edges:
        after[first].add(then)
        before[then].add(first)
    for step in absent:
        predecessors = before.pop(step, set())
        successors = after.pop(step, set())
        for first in predecessors:
            after[first].discard(step)
            after[first].update(successors)
        for then in successors:
            before[then].discard(step)
            before[then].update(predecessors)
    return {(first, then) for first, thens in after.items()
            for then in thens}


def build(graph, get_operation, parameters, name='resources'):
    """A graph flow running ``get_operation(resource)``'s hooks.

    ``get_operation`` may return None for a resource that has nothing to
    do (e.g. a plugin without a verify operation); the caller decides what
    that means for the resource's status.
    """
    nodes = {}

    def add(node):
        key = (node.value.type, node.value.id)
        if key in nodes:
            return
        nodes[key] = node
        for child in node.child_nodes:
            add(child)

    for node in graph:
        add(node)
    operations = {}
    for key, node in nodes.items():
        operation = get_operation(node.value)
        if operation is not None:
            operations[key] = operation

    flow = graph_flow.Flow(name)
    tasks = {}
    absent = []
    for key, operation in operations.items():
        resource = nodes[key].value
        hooks = implemented_hooks(operation)
        params = merged_parameters(parameters, resource)
        for hook in HOOKS:
            if hook not in hooks:
                absent.append((key, hook))
                continue
            tasks[key, hook] = HookTask(
                operation, hook, resource, params,
                first=hook == hooks[0], last=hook == hooks[-1])
    # One add: graph_flow copies and re-checks its graph on every call.
    flow.add(*tasks.values())
    for before, after in _without(_ordering(nodes, operations), absent):
        flow.link(tasks[before], tasks[after])
    return flow
