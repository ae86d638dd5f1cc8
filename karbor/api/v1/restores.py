"""Restores: a checkpoint's resources brought back."""

from oslo_utils import uuidutils

from karbor.api import listing
from karbor.api import middleware
from karbor.api.schemas import restores as schemas
from karbor.api.v1 import checkpoints
from karbor.api import validation
from karbor import exception
from karbor import objects
from karbor.objects import restore as restore_obj
from karbor.policies import restores as restore_policies
from karbor import policy
from karbor.services.protection import rpcapi

SORT_KEYS = ('created_at', 'id', 'status', 'updated_at')
FILTERS = {'status': listing.one_of(*restore_obj.STATUSES),
           'checkpoint_id': listing.uuid, 'provider_id': listing.uuid}


def view(restore):
    # restore_auth is never stored, so it can never be echoed.
    return {
        'id': restore.id,
        'project_id': restore.project_id,
        'provider_id': restore.provider_id,
        'checkpoint_id': restore.checkpoint_id,
        'restore_target': restore.restore_target,
        'parameters': restore.parameters,
        'status': restore.status,
        'resources_status': restore.resources_status or {},
        'resources_reason': restore.resources_reason or {},
        'created_at': restore.created_at,
        'updated_at': restore.updated_at,
    }


def create(req):
    """POST /v1/{project_id}/restores -> 202, in_progress.

    400 bad body, bad parameters or a checkpoint that is not available;
    404 provider or checkpoint not found; 503 if the restore could not
    be sent (it is then error).
    """
    ctx = middleware.project_context(req)
    policy.authorize(ctx, restore_policies.CREATE)
    body = validation.body(req, schemas.create)['restore']
    provider, checkpoint, parameters = checkpoints.available_for(
        ctx, body, 'get_restore_schema', 'restore')
    restore = objects.Restore(
        ctx, id=uuidutils.generate_uuid(), project_id=checkpoint.project_id,
        provider_id=provider.id, checkpoint_id=checkpoint.id,
        restore_target=body.get('restore_target'), parameters=parameters,
        status=restore_obj.IN_PROGRESS, host=None)
    restore.create()
    rpcapi.ProtectionAPI().restore(ctx, restore.id,
                                   body.get('restore_auth'))
    return 202, {'restore': view(restore)}


def index(req):
    """GET /v1/{project_id}/restores -> 200; 400 bad list parameters."""
    ctx = middleware.context_of(req)
    policy.authorize(ctx, restore_policies.GET_ALL)
    query = listing.parse(req, SORT_KEYS, [('created_at', 'desc')], FILTERS)
    rows = [view(r) for r in objects.Restore.list(ctx, query)]
    return dict({'restores': rows},
                **listing.links(req, 'restores', rows, query))


def show(req):
    """GET /v1/{project_id}/restores/{restore_id} -> 200; 404."""
    ctx = middleware.context_of(req)
    policy.authorize(ctx, restore_policies.GET)
    restore_id = req.urlvars['restore_id']
    if not uuidutils.is_uuid_like(restore_id):
        raise exception.RestoreNotFound(restore_id=restore_id)
    return {'restore': view(objects.Restore.get_by_id(ctx, restore_id))}
