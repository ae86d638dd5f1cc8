"""Operation logs: the audit trail of protects, deletes, restores and
verifies, also under /providers/{provider_id}/operation_logs."""

from oslo_utils import timeutils
from oslo_utils import uuidutils

from karbor.api import listing
from karbor.api import middleware
from karbor import exception
from karbor import objects
from karbor.objects import operation_log
from karbor.policies import operation_logs as log_policies
from karbor import policy
from karbor.services.protection import provider as provider_registry

SORT_KEYS = ('started_at', 'ended_at', 'created_at', 'id', 'status',
             'operation_type')


def _time(name, value):
    """ISO 8601 timestamp or date, as a naive UTC datetime."""
    try:
        parsed = timeutils.parse_isotime(value)
    except ValueError:
        raise exception.InvalidInput(
            field=name, reason='must be an ISO 8601 date or timestamp')
    return timeutils.normalize_time(parsed)


FILTERS = {
    'operation_type': listing.one_of(*operation_log.OPERATION_TYPES),
    'status': listing.one_of(*operation_log.STATUSES),
    'checkpoint_id': listing.uuid,
    'plan_id': listing.uuid,
    'restore_id': listing.uuid,
    'verification_id': listing.uuid,
    'scheduled_operation_id': listing.uuid,
    'provider_id': listing.uuid,
    'started_after': _time,
    'started_before': _time,
    'ended_after': _time,
    'ended_before': _time,
}


def view(log):
    return {
        'id': log.id,
        'project_id': log.project_id,
        'operation_type': log.operation_type,
        'checkpoint_id': log.checkpoint_id,
        'plan_id': log.plan_id,
        'provider_id': log.provider_id,
        'restore_id': log.restore_id,
        'verification_id': log.verification_id,
        'scheduled_operation_id': log.scheduled_operation_id,
        'status': log.status,
        'started_at': log.started_at,
        'ended_at': log.ended_at,
        'error_info': log.error_info,
        'extra_info': log.extra_info or {},
    }


def _provider_id(req):
    """The provider of a provider-scoped URL (404 if unknown), or None."""
    provider_id = req.urlvars.get('provider_id')
    if provider_id is None:
        return None
    if not uuidutils.is_uuid_like(provider_id):
        raise exception.ProviderNotFound(provider_id=provider_id)
    return provider_registry.get_registry().get(provider_id).id


def index(req):
    """GET /v1/{project_id}[/providers/{provider_id}]/operation_logs.

    200; 400 on unknown filters or sort keys; 404 unknown provider.
    """
    ctx = middleware.context_of(req)
    policy.authorize(ctx, log_policies.GET_ALL)
    provider_id = _provider_id(req)
    query = listing.parse(req, SORT_KEYS, [('started_at', 'desc')], FILTERS)
    if provider_id is not None:
        if query.filters.get('provider_id', provider_id) != provider_id:
            return {'operation_logs': []}
        query.filters['provider_id'] = provider_id
    rows = [view(log) for log in objects.OperationLog.list(ctx, query)]
    return dict({'operation_logs': rows},
                **listing.links(req, 'operation_logs', rows, query))


def show(req):
    """GET .../operation_logs/{operation_log_id} -> 200; 404."""
    ctx = middleware.context_of(req)
    policy.authorize(ctx, log_policies.GET)
    provider_id = _provider_id(req)
    log_id = req.urlvars['operation_log_id']
    if not uuidutils.is_uuid_like(log_id):
        raise exception.OperationLogNotFound(operation_log_id=log_id)
    log = objects.OperationLog.get_by_id(ctx, log_id)
    if provider_id is not None and log.provider_id != provider_id:
        raise exception.OperationLogNotFound(operation_log_id=log_id)
    return {'operation_log': view(log)}
