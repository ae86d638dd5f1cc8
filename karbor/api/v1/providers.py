"""Providers: read-only, defined by the operator in providers.d."""

from oslo_utils import uuidutils

from karbor.api import listing
from karbor.api import middleware
from karbor import exception
from karbor.policies import providers as provider_policies
from karbor import policy
from karbor.services.protection import provider as provider_registry

SORT_KEYS = ('id', 'name', 'description')
FILTERS = {'name': listing.exact, 'description': listing.exact}


def _view(provider):
    return provider.to_dict()


def index(req):
    """GET /v1/{project_id}/providers -> 200; 400 on bad list params."""
    ctx = req.environ[middleware.CONTEXT_KEY]
    policy.authorize(ctx, provider_policies.GET_ALL)
    query = listing.parse(req, SORT_KEYS, [('name', 'asc')], FILTERS,
                          project_scoped=False)
    rows = [_view(p) for p in provider_registry.get_registry().list()]
    page = listing.paginate_in_memory(rows, query)
    return dict({'providers': page},
                **listing.links(req, 'providers', page, query))


def show(req):
    """GET /v1/{project_id}/providers/{provider_id} -> 200; 404."""
    ctx = req.environ[middleware.CONTEXT_KEY]
    policy.authorize(ctx, provider_policies.GET)
    provider_id = req.urlvars['provider_id']
    if not uuidutils.is_uuid_like(provider_id):
        raise exception.ProviderNotFound(provider_id=provider_id)
    provider = provider_registry.get_registry().get(provider_id)
    return {'provider': _view(provider)}
