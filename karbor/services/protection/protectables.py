"""The protectable plugins installed (entry points karbor.protectables)
and the resource graph built from them."""

import threading

import stevedore

from karbor import exception
from karbor.services.protection import resource as resource_mod

NAMESPACE = 'karbor.protectables'

_plugins = None
_lock = threading.Lock()


def _plugin_classes():
    global _plugins
    with _lock:
        if _plugins is None:
            manager = stevedore.ExtensionManager(NAMESPACE,
                                                 invoke_on_load=False)
            _plugins = {ext.name: ext.plugin for ext in manager}
        return _plugins


def types():
    """Every protectable resource type, sorted."""
    return sorted(_plugin_classes())


def get(resource_type, context=None):
    """A plugin instance for ``resource_type``; 404 if unsupported."""
    try:
        return _plugin_classes()[resource_type](context)
    except KeyError:
        raise exception.ProtectableTypeNotFound(type=resource_type)


def dependent_types(resource_type):
    """Types whose plugins declare ``resource_type`` as a parent."""
    get(resource_type)
    return sorted(name for name, cls in _plugin_classes().items()
                  if resource_type in cls(None).get_parent_resource_types())


def dependencies(context, resource):
    """The resources ``resource`` depends on, from every plugin."""
    found = []
    for name in dependent_types(resource.type):
        found.extend(get(name, context).get_dependent_resources(context,
                                                                resource))
    return found


def build_graph(context, resources):
    """The resource graph (root ResourceNodes) of ``resources``.

    Each resource appears once however many parents it has; a cycle in
    the plugins' dependencies is an error, not an endless loop.
    """
    nodes = {}

    def node_of(res, path):
        key = (res.type, res.id)
        if key in path:
            raise exception.Invalid('Resource dependencies form a cycle '
                                    'through %s %s' % key)
        if key not in nodes:
            children = tuple(node_of(child, path | {key})
                             for child in dependencies(context, res))
            nodes[key] = resource_mod.ResourceNode(res, children)
        return nodes[key]

    roots = [node_of(res, frozenset()) for res in resources]
    # A plan resource that another plan resource depends on is not a root.
    children = {(c.value.type, c.value.id) for n in nodes.values()
                for c in n.child_nodes}
    return [root for root in roots
            if (root.value.type, root.value.id) not in children]
