"""Verifications: prove a checkpoint could be restored, without restoring."""

from oslo_utils import uuidutils

from karbor.api import listing
from karbor.api import middleware
from karbor.api.schemas import verifications as schemas
from karbor.api.v1 import checkpoints
from karbor.api import validation
from karbor import exception
from karbor import objects
from karbor.objects import verification as verification_obj
from karbor.policies import verifications as verification_policies
from karbor import policy
from karbor.services.protection import rpcapi

SORT_KEYS = ('created_at', 'id', 'status', 'updated_at')
FILTERS = {'status': listing.one_of(*verification_obj.STATUSES),
           'checkpoint_id': listing.uuid, 'provider_id': listing.uuid}


def view(verification):
    statuses = verification.resources_status or {}
    reasons = verification.resources_reason or {}
    return {
        'id': verification.id,
        'project_id': verification.project_id,
        'provider_id': verification.provider_id,
        'checkpoint_id': verification.checkpoint_id,
        'parameters': verification.parameters or {},
        'status': verification.status,
        # The released clients read resources_*; the spec's samples say
        # resource_*. Both are served.
        'resources_status': statuses,
        'resources_reason': reasons,
        'resource_status': statuses,
        'resource_reason': reasons,
        # Runs of a verify cycle: the checkpoints and the part of their
        # chunks read, and what was read; null otherwise.
        'scope': verification.scope,
        'created_at': verification.created_at,
        'updated_at': verification.updated_at,
    }


def create(req):
    """POST /v1/{project_id}/verifications -> 202, verifying.

    400 bad body, bad parameters or a checkpoint that is not available;
    404 unknown provider, or a checkpoint not in this project and
    provider. Nothing is written unless the request is valid. 503 if
    the verification could not be sent (it is then error).
    """
    ctx = middleware.project_context(req)
    policy.authorize(ctx, verification_policies.CREATE)
    body = validation.body(req, schemas.create)['verification']
    if isinstance(body, list):
        body = body[0]
    provider, checkpoint, parameters = checkpoints.available_for(
        ctx, body, 'get_verify_schema', 'verification')
    verification = objects.Verification(
        ctx, id=uuidutils.generate_uuid(), project_id=checkpoint.project_id,
        provider_id=provider.id, checkpoint_id=checkpoint.id,
        status=verification_obj.VERIFYING, host=None,
        parameters=parameters, resources_status={}, resources_reason={})
    verification.create()
    rpcapi.ProtectionAPI().verify(ctx, verification.id)
    return 202, {'verification': view(verification)}


def index(req):
    """GET /v1/{project_id}/verifications -> 200; 400 bad parameters."""
    ctx = middleware.context_of(req)
    policy.authorize(ctx, verification_policies.GET_ALL)
    query = listing.parse(req, SORT_KEYS, [('created_at', 'desc')], FILTERS)
    rows = [view(v) for v in objects.Verification.list(ctx, query)]
    return dict({'verifications': rows},
                **listing.links(req, 'verifications', rows, query))


def show(req):
    """GET /v1/{project_id}/verifications/{verification_id} -> 200; 404."""
    ctx = middleware.context_of(req)
    policy.authorize(ctx, verification_policies.GET)
    verification_id = req.urlvars['verification_id']
    if not uuidutils.is_uuid_like(verification_id):
        raise exception.VerificationNotFound(
            verification_id=verification_id)
    return {'verification': view(
        objects.Verification.get_by_id(ctx, verification_id))}
