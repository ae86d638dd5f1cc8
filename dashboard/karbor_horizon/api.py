"""Calls to the Karbor v1 API as the logged-in user.

Plain REST through a keystoneauth1 session: the endpoint is the
``data-protect`` entry of the user's catalog (it already ends in
``/v1/<project id>``), the token is the one Horizon holds for the user.
Every failure, HTTP or network, becomes a ``KarborError`` carrying the
API's own message, so views can show it as a Horizon message. It is a
Horizon RecoverableError, so what Horizon handles itself (row updates,
batch actions) shows it as a message too instead of an error page.
"""

from django.conf import settings
from horizon import exceptions as horizon_exceptions
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from openstack_dashboard.api import base

SERVICE_TYPE = 'data-protect'
TIMEOUT = 30


class KarborError(horizon_exceptions.RecoverableError):
    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        self.status = status


class Item(dict):
    """An API object whose keys also read as attributes (for tables)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name)


def _session(request):
    endpoint = base.url_for(request, SERVICE_TYPE)
    verify = (False if getattr(settings, 'OPENSTACK_SSL_NO_VERIFY', False)
              else getattr(settings, 'OPENSTACK_SSL_CACERT', None) or True)
    auth = token_endpoint.Token(endpoint, request.user.token.id)
    return ks_session.Session(auth=auth, verify=verify), endpoint


def _message(response):
    """The message of Karbor's JSON error body, else the status line."""
    try:
        body = response.json()
        return next(iter(body.values()))['message']
    except (ValueError, TypeError, KeyError, AttributeError, StopIteration):
        return '%s %s' % (response.status_code, response.reason)


def call(request, method, path, body=None, params=None):
    """``method`` ``<endpoint><path>``; the decoded JSON answer or None."""
    try:
        session, endpoint = _session(request)
        response = session.request(
            endpoint + path, method, json=body, params=params,
            raise_exc=False, timeout=TIMEOUT,
            headers={'Accept': 'application/json'})
    except horizon_exceptions.ServiceCatalogException:
        raise KarborError('The catalog has no %s service.' % SERVICE_TYPE)
    except ks_exceptions.ClientException as exc:
        raise KarborError('The Karbor API could not be reached: %s' % exc)
    if response.status_code >= 400:
        raise KarborError(_message(response), response.status_code)
    if not response.content:
        return None
    return response.json()


def get(request, path, key, **params):
    """One object: ``get(request, '/plans/ID', 'plan')``."""
    return Item(call(request, 'GET', path, params=params or None)[key])


def listing(request, path, key, **params):
    """A list of Items; ``params`` are the API's filters and paging."""
    params = {name: value for name, value in params.items()
              if value not in (None, '')}
    answer = call(request, 'GET', path, params=params or None)
    return [Item(row) for row in answer[key]]


def create(request, path, key, body):
    return Item(call(request, 'POST', path, body={key: body})[key])


def delete(request, path):
    call(request, 'DELETE', path)
