"""Plans: which of a project's resources a provider protects, and how."""

import copy

from oslo_utils import uuidutils

from karbor.api import listing
from karbor.api import middleware
from karbor.api.schemas import plans as schemas
from karbor.api import validation
from karbor import exception
from karbor import objects
from karbor.policies import plans as plan_policies
from karbor import policy
from karbor.services.protection import protectables
from karbor.services.protection import provider as provider_registry
from karbor.services.protection import resource as resource_mod

SORT_KEYS = ('created_at', 'id', 'name', 'status', 'updated_at')
FILTERS = {'name': listing.exact, 'description': listing.exact,
           'status': listing.one_of('suspended', 'started'),
           'provider_id': listing.uuid}


def view(plan):
    return {
        'id': plan.id,
        'project_id': plan.project_id,
        'name': plan.name,
        'description': plan.description,
        'provider_id': plan.provider_id,
        'status': plan.status,
        'resources': plan.resources,
        'parameters': plan.parameters,
        'created_at': plan.created_at,
        'updated_at': plan.updated_at,
    }


def _get(req, ctx):
    plan_id = req.urlvars['plan_id']
    if not uuidutils.is_uuid_like(plan_id):
        raise exception.PlanNotFound(plan_id=plan_id)
    return objects.Plan.get_by_id(ctx, plan_id)


def _checked_resources(ctx, provider, resources):
    """The plan's resources, each confirmed by its protectable plugin.

    Names come from the plugin, not the request, so a plan always shows
    what will really be protected.
    """
    checked, seen = [], set()
    for index, item in enumerate(resources):
        field = 'plan/resources/%d' % index
        if item['type'] not in provider.plugin_classes:
            raise exception.InvalidInput(
                field=field + '/type',
                reason='provider %s cannot protect %s' % (provider.name,
                                                          item['type']))
        if (item['type'], item['id']) in seen:
            raise exception.InvalidInput(field=field,
                                         reason='listed twice')
        seen.add((item['type'], item['id']))
        found = protectables.get(item['type'], ctx).show_resource(
            ctx, item['id'])
        entry = resource_mod.resource_to_dict(found)
        if item.get('extra_info'):
            entry['extra_info'] = item['extra_info']
        checked.append(entry)
    return checked


def create(req):
    """POST /v1/{project_id}/plans -> 200; 400 bad body; 403 the project
    has its [quota] plans; 404 provider or resource not found."""
    ctx = middleware.project_context(req)
    policy.authorize(ctx, plan_policies.CREATE)
    body = validation.body(req, schemas.create)['plan']
    provider = provider_registry.get_registry().get(body['provider_id'])
    resources = _checked_resources(ctx, provider, body['resources'])
    parameters = body.get('parameters') or {}
    validation.plugin_parameters(
        provider, parameters, 'get_options_schema', 'plan/parameters',
        resources)
    plan = objects.Plan(
        ctx, id=uuidutils.generate_uuid(), project_id=ctx.project_id,
        provider_id=provider.id, name=body['name'],
        description=body.get('description'), status='suspended',
        resources=resources, parameters=parameters)
    plan.create()
    return {'plan': view(plan)}


def index(req):
    """GET /v1/{project_id}/plans -> 200; 400 bad list parameters."""
    ctx = middleware.context_of(req)
    policy.authorize(ctx, plan_policies.GET_ALL)
    query = listing.parse(req, SORT_KEYS, [('created_at', 'desc')], FILTERS)
    rows = [view(p) for p in objects.Plan.list(ctx, query)]
    return dict({'plans': rows}, **listing.links(req, 'plans', rows, query))


def show(req):
    """GET /v1/{project_id}/plans/{plan_id} -> 200; 404."""
    ctx = middleware.context_of(req)
    policy.authorize(ctx, plan_policies.GET)
    return {'plan': view(_get(req, ctx))}


def update(req):
    """PUT /v1/{project_id}/plans/{plan_id} -> 200; 400; 404."""
    ctx = middleware.project_context(req)
    policy.authorize(ctx, plan_policies.UPDATE)
    body = validation.body(req, schemas.update)['plan']
    plan = _get(req, ctx)
    if plan.project_id != ctx.project_id:
        # An admin, through another project's URL: the resources must be
        # the plan's project's, not the URL's (nor the token's).
        ctx = copy.copy(ctx)
        ctx.project_id = plan.project_id
    provider = provider_registry.get_registry().get(plan.provider_id)
    if 'resources' in body:
        plan.resources = _checked_resources(ctx, provider, body['resources'])
    if 'parameters' in body or 'resources' in body:
        parameters = body.get('parameters', plan.parameters) or {}
        validation.plugin_parameters(
            provider, parameters, 'get_options_schema', 'plan/parameters',
            plan.resources)
        plan.parameters = parameters
    for key in ('name', 'description', 'status'):
        if key in body:
            setattr(plan, key, body[key])
    plan.save()
    return {'plan': view(plan)}


def delete(req):
    """DELETE /v1/{project_id}/plans/{plan_id} -> 202; 404.

    Checkpoints of the plan stay: each keeps its own copy of the plan.
    """
    ctx = middleware.context_of(req)
    policy.authorize(ctx, plan_policies.DELETE)
    _get(req, ctx).destroy()
    return 202, None
