"""os-services: the registered protection and operation-engine processes."""

from karbor.api import listing
from karbor.api import middleware
from karbor.api.schemas import services as schemas
from karbor.api import validation
from karbor import exception
from karbor import objects
from karbor.policies import services as service_policies
from karbor import policy

SORT_KEYS = ('id', 'host', 'binary', 'updated_at')
FILTERS = {'host': listing.exact,
           'binary': listing.one_of('karbor-protection',
                                    'karbor-operationengine')}


def _view(service):
    return {
        'id': service.id,
        'binary': service.binary,
        'host': service.host,
        'status': 'disabled' if service.disabled else 'enabled',
        'state': 'up' if service.is_up else 'down',
        'updated_at': service.updated_at,
        'last_seen_at': service.last_seen_at,
        'disabled_reason': service.disabled_reason,
    }


def index(req):
    """GET /v1/{project_id}/os-services (admin) -> 200; 403; 400."""
    ctx = req.environ[middleware.CONTEXT_KEY]
    policy.authorize(ctx, service_policies.GET_ALL)
    query = listing.parse(req, SORT_KEYS, [('id', 'asc')], FILTERS,
                          project_scoped=False, marker_type='int')
    rows = [_view(s) for s in objects.Service.list(ctx, query)]
    return dict({'services': rows},
                **listing.links(req, 'services', rows, query))


def update(req):
    """PUT /v1/{project_id}/os-services/{service_id} (admin).

    Body ``{"status": "enabled" | "disabled", "disabled_reason": ...}``.
    200 with the service; 400 bad body; 403; 404 unknown service.
    """
    ctx = req.environ[middleware.CONTEXT_KEY]
    policy.authorize(ctx, service_policies.UPDATE)
    service_id = req.urlvars['service_id']
    if not listing.is_int_id(service_id):
        raise exception.ServiceNotFound(service_id=service_id)
    body = validation.body(req, schemas.update)
    service = objects.Service.get_by_id(ctx, int(service_id))
    service.disabled = body['status'] == 'disabled'
    service.disabled_reason = (body.get('disabled_reason')
                               if service.disabled else None)
    service.save()
    return {'service': _view(service)}
