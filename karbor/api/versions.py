"""Version documents at ``/`` and ``/v1/``."""

_UPDATED = '2026-11-28T00:00:00Z'


def _v1(req):
    return {
        'id': 'v1.0',
        'status': 'CURRENT',
        'version': '',
        'min_version': '',
        'updated': _UPDATED,
        'links': [{'rel': 'self', 'href': req.host_url + '/v1/'}],
        'media-types': [{'base': 'application/json',
                         'type': 'application/vnd.openstack.karbor+json;'
                                 'version=1'}],
    }


def root(req):
    """GET / : the API versions this server offers. 200 (also 300-less)."""
    return {'versions': [_v1(req)]}


def v1(req):
    """GET /v1/ : the v1 version document."""
    return {'version': _v1(req)}
