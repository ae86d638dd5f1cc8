"""Resources, the resource graph, and per-resource operation reports."""

import collections
import numbers
import threading
import time

from karbor import exception

Resource = collections.namedtuple('Resource', ['type', 'id', 'name',
                                               'extra_info'])
Resource.__new__.__defaults__ = (None, None)


def resource_from_dict(values):
    return Resource(type=values['type'], id=values['id'],
                    name=values.get('name'),
                    extra_info=values.get('extra_info'))


def resource_to_dict(resource):
    values = {'type': resource.type, 'id': resource.id,
              'name': resource.name}
    if resource.extra_info:
        values['extra_info'] = resource.extra_info
    return values


# A node of the resource graph: a resource and the nodes it depends on
# (which the flows handle first).
ResourceNode = collections.namedtuple('ResourceNode',
                                      ['value', 'child_nodes'])


def graph_to_list(nodes):
    """Serialize a graph to JSON-able data: each resource once, with the
    (type, id) of its dependencies."""
    seen = {}

    def visit(node):
        key = (node.value.type, node.value.id)
        if key in seen:
            return
        entry = resource_to_dict(node.value)
        entry['dependencies'] = [
            {'type': c.value.type, 'id': c.value.id}
            for c in node.child_nodes]
        seen[key] = entry
        for child in node.child_nodes:
            visit(child)

    for node in nodes:
        visit(node)
    return list(seen.values())


def graph_from_list(entries):
    """The inverse of graph_to_list: the list of root nodes."""
    by_key = {(e['type'], e['id']): e for e in entries}
    built = {}

    def build(key, path):
        if key in path:
            raise exception.Invalid('The resource graph has a cycle at '
                                    '%s %s' % key)
        if key not in built:
            entry = by_key[key]
            children = tuple(build((d['type'], d['id']), path | {key})
                             for d in entry.get('dependencies', []))
            built[key] = ResourceNode(resource_from_dict(entry), children)
        return built[key]

    children = {(d['type'], d['id']) for e in entries
                for d in e.get('dependencies', [])}
    return [build(key, frozenset()) for key in by_key if key not in children]


def walk(nodes):
    """Every node of the graph once, dependencies after their dependents."""
    seen = set()
    stack = list(nodes)
    while stack:
        node = stack.pop(0)
        key = (node.value.type, node.value.id)
        if key in seen:
            continue
        seen.add(key)
        yield node
        stack.extend(node.child_nodes)


class OperationReport(object):
    """What each resource's operation reported, shared by parallel tasks.

    Plugins call ``update(resource, ...)`` from their hooks: ``status``
    and ``reason`` for the resource, ``saved_info`` (protect: what restore
    will need), ``extra_info`` (figures for the operation log such as
    bytes and files handled) and ``progress``. The flow sets the final
    statuses.
    """

    # Seconds between two progress notifications to the listener.
    NOTIFY_INTERVAL = 2.0

    def __init__(self, resources=None):
        self._lock = threading.Lock()
        self.listener = None
        self._notified_at = 0.0
        self.records = {}
        for res in resources or []:
            self.records[res.id] = {'type': res.type, 'name': res.name,
                                    'status': 'pending', 'reason': None}

    def update(self, resource, **values):
        with self._lock:
            record = self.records.setdefault(
                resource.id, {'type': resource.type, 'name': resource.name,
                              'status': 'pending', 'reason': None})
            for key, value in values.items():
                if key in ('saved_info', 'extra_info') and isinstance(
                        record.get(key), dict) and isinstance(value, dict):
                    record[key] = dict(record[key], **value)
                else:
                    record[key] = value
        self._notify()

    def _notify(self):
        # Throttled, and outside the lock: the listener writes to the DB.
        if self.listener is None:
            return
        now = time.monotonic()
        if now - self._notified_at < self.NOTIFY_INTERVAL:
            return
        self._notified_at = now
        self.listener(self)

    def finish(self, done_status):
        """Rename the status of resources whose hooks all ran."""
        with self._lock:
            for record in self.records.values():
                if record.get('status') == 'done':
                    record['status'] = done_status

    def fail_unfinished(self, reason):
        """Mark resources that did not finish as failed with ``reason``."""
        with self._lock:
            for record in self.records.values():
                if record.get('status') not in ('error', 'done'):
                    record['status'] = 'error'
                    record['reason'] = record.get('reason') or reason

    def get(self, resource_id):
        with self._lock:
            return dict(self.records.get(resource_id, {}))

    def snapshot(self):
        with self._lock:
            return {key: dict(value) for key, value in self.records.items()}


def summarize_extra_info(report):
    """The operation log's extra_info from a report's records.

    Per resource: its status, progress and the plugin's figures; at the
    top, the sum of every numeric figure over the resources (bytes, files,
    chunks...), so a log answers "how much" at a glance.
    """
    resources = {}
    totals = {}
    for resource_id, record in sorted(report.snapshot().items()):
        entry = {'type': record.get('type'), 'name': record.get('name'),
                 'status': record.get('status')}
        for key in ('progress',):
            if record.get(key) is not None:
                entry[key] = record[key]
        figures = record.get('extra_info') or {}
        entry.update(figures)
        resources[resource_id] = entry
        for key, value in figures.items():
            if isinstance(value, numbers.Number) and not isinstance(
                    value, bool):
                totals[key] = totals.get(key, 0) + value
    return dict(totals, resources=resources)
