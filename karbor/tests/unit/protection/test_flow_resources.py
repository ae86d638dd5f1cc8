"""The hook tasks a resource graph compiles to, and their order."""

import threading

from karbor.services.protection.flows import engine
from karbor.services.protection.flows import resources
from karbor.services.protection.plugins import base
from karbor.services.protection import resource as resource_mod

ALL_HOOKS = resources.HOOKS


def _operation(hooks, calls):
    """An Operation overriding ``hooks``; each call appends (id, hook)."""
    lock = threading.Lock()

    def hook_method(hook):
        def method(self, checkpoint, resource, context, parameters,
                   **kwargs):
            with lock:
                calls.append((resource.id, hook))
        return method

    cls = type('Op', (base.Operation,),
               {hook: hook_method(hook) for hook in hooks})
    return cls()


def _graph():
    """parent depends on child; child depends on leaf."""
    leaf = resource_mod.ResourceNode(
        resource_mod.Resource('T', 'leaf', 'leaf'), [])
    child = resource_mod.ResourceNode(
        resource_mod.Resource('T', 'child', 'child'), [leaf])
    parent = resource_mod.ResourceNode(
        resource_mod.Resource('T', 'parent', 'parent'), [child])
    return [parent]


def _orders(flow):
    """Every (earlier, later) pair of task names the flow's links imply:
    what holds whatever the parallel engine's timing."""
    after = {}
    for before, later, _ in flow.iter_links():
        after.setdefault(before.name, set()).add(later.name)
    closure = set()
    for start in list(after):
        stack = list(after[start])
        while stack:
            name = stack.pop()
            if (start, name) not in closure:
                closure.add((start, name))
                stack.extend(after.get(name, ()))
    return closure


def _name(rid, hook):
    return 'T#%s:%s' % (rid, hook)


def _run(hooks_of):
    """Build and run the graph; (flow, calls in order, report)."""
    calls = []
    operations = {rid: _operation(hooks, calls)
                  for rid, hooks in hooks_of.items()}
    flow = resources.build(_graph(), lambda r: operations.get(r.id), {})
    report = resource_mod.OperationReport()
    engine.run(flow, {'checkpoint': None, 'context': None,
                      'report': report, 'operation_kwargs': {}})
    return flow, calls, report


def _before(calls, first, second):
    return calls.index(first) < calls.index(second)


def test_a_hook_left_to_the_base_class_makes_no_task():
    flow, calls, report = _run({'parent': ['on_main'],
                                'child': ['on_main'],
                                'leaf': ['on_main']})
    assert sorted(t.name for t in flow) == [
        'T#child:on_main', 'T#leaf:on_main', 'T#parent:on_main']
    assert sorted(calls) == [('child', 'on_main'), ('leaf', 'on_main'),
                             ('parent', 'on_main')]
    assert {rid: r['status'] for rid, r in report.snapshot().items()} == {
        'parent': 'done', 'child': 'done', 'leaf': 'done'}


def test_an_operation_overriding_nothing_still_reports_its_resource():
    calls = []
    flow = resources.build(
        _graph(), lambda r: base.Operation() if r.id == 'leaf'
        else _operation(['on_main'], calls), {})
    report = resource_mod.OperationReport()
    engine.run(flow, {'checkpoint': None, 'context': None,
                      'report': report, 'operation_kwargs': {}})
    assert 'T#leaf:on_main' in [t.name for t in flow]
    assert report.get('leaf')['status'] == 'done'


def test_every_hook_keeps_the_documented_order():
    flow, calls, _ = _run({rid: ALL_HOOKS
                           for rid in ('parent', 'child', 'leaf')})
    assert len(list(flow)) == 12
    orders = _orders(flow)
    for rid in ('parent', 'child', 'leaf'):
        mine = [hook for who, hook in calls if who == rid]
        assert mine == list(ALL_HOOKS)
    for dependent, dependency in (('parent', 'child'), ('child', 'leaf')):
        # The dependent begins preparing first; its dependency finishes
        # preparing and completes first.
        for first, then in (
                ((dependent, 'on_prepare_begin'),
                 (dependency, 'on_prepare_begin')),
                ((dependency, 'on_prepare_finish'),
                 (dependent, 'on_prepare_finish')),
                ((dependency, 'on_complete'), (dependent, 'on_complete'))):
            assert (_name(*first), _name(*then)) in orders
            assert _before(calls, first, then)


def test_orders_carried_by_skipped_hooks_still_hold():
    # parent: begin and main; child: main; leaf: finish and complete.
    # Skipped steps carried these orders: parent's begin before leaf's
    # finish (through both begins below it), leaf's finish before child's
    # and parent's main (through the finish steps above it).
    flow, calls, report = _run({
        'parent': ['on_prepare_begin', 'on_main'],
        'child': ['on_main'],
        'leaf': ['on_prepare_finish', 'on_complete']})
    assert sorted(t.name for t in flow) == [
        'T#child:on_main', 'T#leaf:on_complete', 'T#leaf:on_prepare_finish',
        'T#parent:on_main', 'T#parent:on_prepare_begin']
    orders = _orders(flow)
    for first, then in ((('parent', 'on_prepare_begin'),
                         ('leaf', 'on_prepare_finish')),
                        (('leaf', 'on_prepare_finish'), ('child', 'on_main')),
                        (('leaf', 'on_prepare_finish'), ('parent', 'on_main')),
                        (('leaf', 'on_prepare_finish'),
                         ('leaf', 'on_complete'))):
        assert (_name(*first), _name(*then)) in orders
        assert _before(calls, first, then)
    assert {rid: r['status'] for rid, r in report.snapshot().items()} == {
        'parent': 'done', 'child': 'done', 'leaf': 'done'}


def test_without_links_around_each_removed_step():
    a, b, c, d = 'abcd'
    edges = {(a, b), (b, c), (c, d)}
    assert resources._without(edges, [b, c]) == {(a, d)}
    assert resources._without({(a, b), (c, b), (b, d)}, [b]) == {
        (a, d), (c, d)}
