"""Checkpoints: a plan protected into a provider's bank."""

import datetime

import orjson
from oslo_utils import uuidutils

from karbor.api import listing
from karbor.api import middleware
from karbor.api.schemas import checkpoints as schemas
from karbor.api import validation
from karbor import exception
from karbor import objects
from karbor.objects import checkpoint as checkpoint_obj
from karbor.policies import checkpoints as checkpoint_policies
from karbor import policy
from karbor.services.protection import checkpoint as bank_checkpoint
from karbor.services.protection import provider as provider_registry
from karbor.services.protection import rpcapi

SORT_KEYS = ('created_at', 'id', 'status', 'updated_at')


def _date(name, value):
    try:
        return datetime.datetime.strptime(value, '%Y-%m-%d')
    except ValueError:
        raise exception.InvalidInput(field=name,
                                     reason='must be a date YYYY-MM-DD')


FILTERS = {'plan_id': listing.uuid, 'start_date': _date, 'end_date': _date,
           'status': listing.one_of(*checkpoint_obj.STATUSES)}


def _scopes(ctx, checkpoints):
    """The scopes of the checkpoints' last verifications, for view()."""
    return objects.Verification.scopes_of(
        ctx, [c.last_verification_id for c in checkpoints])


def view(checkpoint, scopes):
    plan = checkpoint.protection_plan or {}
    return {
        'id': checkpoint.id,
        'project_id': checkpoint.project_id,
        'provider_id': checkpoint.provider_id,
        'status': checkpoint.status,
        'protection_plan': {
            'id': plan.get('id'),
            'name': plan.get('name'),
            'provider_id': plan.get('provider_id'),
            'resources': plan.get('resources', []),
        },
        # A JSON string: the released clients json.loads() it.
        'resource_graph': orjson.dumps(
            checkpoint.resource_graph or []).decode(),
        'extra_info': checkpoint.extra_info or {},
        'resources_status': checkpoint.resources_status or {},
        'error_reason': checkpoint.error_reason,
        # The latest verification that ended (None: never verified).
        'last_verified_at': checkpoint.last_verified_at,
        'last_verification_id': checkpoint.last_verification_id,
        'last_verification_status': checkpoint.last_verification_status,
        # What it read of the checkpoint: "cycle" (a completed verify
        # cycle read all its chunks) or the verification's modes.
        'last_verification_scope': scopes.get(
            checkpoint.last_verification_id),
        'created_at': checkpoint.created_at,
        'updated_at': checkpoint.updated_at,
    }


def _provider(req):
    provider_id = req.urlvars['provider_id']
    if not uuidutils.is_uuid_like(provider_id):
        raise exception.ProviderNotFound(provider_id=provider_id)
    return provider_registry.get_registry().get(provider_id)


def _get(req, ctx):
    provider = _provider(req)
    checkpoint_id = req.urlvars['checkpoint_id']
    if not uuidutils.is_uuid_like(checkpoint_id):
        raise exception.CheckpointNotFound(checkpoint_id=checkpoint_id)
    return objects.Checkpoint.get_in_provider(ctx, provider.id,
                                              checkpoint_id)


def available_for(ctx, body, schema_getter, field):
    """The provider, checkpoint and checked parameters a restore or a
    verification of ``body`` acts on.

    404 if the provider or the checkpoint (in this project and provider)
    is unknown; 400 if the checkpoint is not available or the parameters
    do not fit the plugins' ``schema_getter`` schemas for its resources.
    """
    provider = provider_registry.get_registry().get(body['provider_id'])
    checkpoint = objects.Checkpoint.get_in_provider(
        ctx, provider.id, body['checkpoint_id'])
    if checkpoint.status != checkpoint_obj.AVAILABLE:
        raise exception.InvalidInput(
            field='%s/checkpoint_id' % field,
            reason='checkpoint %s is %s, not available' % (
                checkpoint.id, checkpoint.status))
    parameters = body.get('parameters') or {}
    validation.plugin_parameters(provider, parameters, schema_getter,
                                 '%s/parameters' % field,
                                 checkpoint.protection_plan['resources'])
    return provider, checkpoint, parameters


def create(req):
    """POST .../providers/{provider_id}/checkpoints -> 202, protecting.

    400 bad body or a plan of another provider; 403 the project has its
    [quota] checkpoints; 404 provider or plan; 503 if the protect could
    not be sent (the checkpoint is then error).
    """
    ctx = middleware.project_context(req)
    policy.authorize(ctx, checkpoint_policies.CREATE)
    provider = _provider(req)
    body = validation.body(req, schemas.create)['checkpoint']
    plan = objects.Plan.get_by_id(ctx, body['plan_id'])
    if plan.provider_id != provider.id:
        raise exception.InvalidInput(
            field='checkpoint/plan_id',
            reason='plan %s belongs to provider %s' % (plan.id,
                                                       plan.provider_id))
    extra_info = body.get('extra-info') or body.get('extra_info') or {}
    checkpoint = objects.Checkpoint.for_plan(ctx, plan, extra_info)
    rpcapi.ProtectionAPI().protect(ctx, checkpoint.id)
    return 202, {'checkpoint': view(checkpoint, {})}


def index(req):
    """GET .../providers/{provider_id}/checkpoints -> 200; 400; 404."""
    ctx = middleware.context_of(req)
    policy.authorize(ctx, checkpoint_policies.GET_ALL)
    provider = _provider(req)
    query = listing.parse(req, SORT_KEYS, [('created_at', 'desc')], FILTERS)
    query.filters['provider_id'] = provider.id
    found = objects.Checkpoint.list(ctx, query)
    scopes = _scopes(ctx, found)
    rows = [view(c, scopes) for c in found]
    return dict({'checkpoints': rows},
                **listing.links(req, 'checkpoints', rows, query))


def show(req):
    """GET .../checkpoints/{checkpoint_id} -> 200; 404."""
    ctx = middleware.context_of(req)
    policy.authorize(ctx, checkpoint_policies.GET)
    checkpoint = _get(req, ctx)
    return {'checkpoint': view(checkpoint, _scopes(ctx, [checkpoint]))}


def delete(req):
    """DELETE .../checkpoints/{checkpoint_id} -> 202, deleting; 404;
    409 while it is being protected or deleted; 503 if the delete could
    not be sent (the checkpoint is then error-deleting)."""
    ctx = middleware.context_of(req)
    policy.authorize(ctx, checkpoint_policies.DELETE)
    checkpoint = _get(req, ctx)
    deletable = (checkpoint_obj.AVAILABLE, checkpoint_obj.ERROR,
                 checkpoint_obj.ERROR_DELETING)
    if not checkpoint.conditional_update(
            {'status': checkpoint_obj.DELETING, 'host': None},
            {'status': deletable}):
        raise exception.InvalidState(
            what='Checkpoint %s' % checkpoint.id,
            status=objects.Checkpoint.get_by_id(ctx, checkpoint.id).status,
            action='delete', needed=' or '.join(deletable))
    rpcapi.ProtectionAPI().delete(ctx, checkpoint.id)
    return 202, None


def update(req):
    """PUT .../checkpoints/{checkpoint_id} with os-resetState (admin).

    200 with the checkpoint; 400 bad body; 403; 404.
    """
    ctx = middleware.context_of(req)
    policy.authorize(ctx, checkpoint_policies.RESET_STATE)
    body = validation.body(req, schemas.reset_state)
    provider = _provider(req)
    checkpoint = _get(req, ctx)
    checkpoint.status = body['os-resetState']['state']
    checkpoint.host = None
    checkpoint.save()
    # The bank's metadata is the truth a reindex rebuilds from: reset it
    # too, when it is there (a protect that failed early wrote none).
    try:
        bank_checkpoint.Checkpoint.load(provider.bank_class(),
                                        checkpoint.id).update(
            status=checkpoint.status)
    except exception.CheckpointNotFound:
        pass
    return {'checkpoint': view(checkpoint, _scopes(ctx, [checkpoint]))}
