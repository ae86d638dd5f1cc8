"""Protectables: the resource types and the project's instances of each."""

from karbor.api import listing
from karbor.api import middleware
from karbor.policies import protectables as protectable_policies
from karbor import policy
from karbor.services.protection import protectables
from karbor.services.protection import resource as resource_mod

SORT_KEYS = ('id', 'name')
# The karbor CLI sends "type" and "parameters" with instance lists; they
# narrow nothing for the types we ship, but must not be refused.
FILTERS = {'name': listing.exact, 'type': listing.exact,
           'parameters': listing.exact}


def index(req):
    """GET /v1/{project_id}/protectables -> 200 with every type."""
    policy.authorize(middleware.context_of(req), protectable_policies.GET_ALL)
    return {'protectable_type': protectables.types()}


def show(req):
    """GET /v1/{project_id}/protectables/{type} -> 200; 404 unknown type."""
    policy.authorize(middleware.context_of(req), protectable_policies.GET)
    resource_type = req.urlvars['protectable_type']
    return {'protectable_type': {
        'name': resource_type,
        'dependent_types': protectables.dependent_types(resource_type)}}


def _instance_view(ctx, res, with_dependencies):
    view = resource_mod.resource_to_dict(res)
    view.setdefault('extra_info', None)
    view['dependent_resources'] = [
        resource_mod.resource_to_dict(dep)
        for dep in protectables.dependencies(ctx, res)
    ] if with_dependencies else []
    return view


def instances_index(req):
    """GET .../protectables/{type}/instances -> 200; 404; 400 bad params."""
    ctx = middleware.project_context(req)
    policy.authorize(ctx, protectable_policies.INSTANCES_GET_ALL)
    plugin = protectables.get(req.urlvars['protectable_type'], ctx)
    query = listing.parse(req, SORT_KEYS, [('name', 'asc')], FILTERS,
                          project_scoped=False)
    query.filters.pop('type', None)
    query.filters.pop('parameters', None)
    rows = [_instance_view(ctx, res, True)
            for res in plugin.list_resources(ctx)]
    page = listing.paginate_in_memory(rows, query)
    return dict({'instances': page},
                **listing.links(req, 'instances', page, query))


def instances_show(req):
    """GET .../protectables/{type}/instances/{id} -> 200; 404."""
    ctx = middleware.project_context(req)
    policy.authorize(ctx, protectable_policies.INSTANCES_GET)
    plugin = protectables.get(req.urlvars['protectable_type'], ctx)
    res = plugin.show_resource(ctx, req.urlvars['resource_id'])
    return {'instance': _instance_view(ctx, res, True)}
