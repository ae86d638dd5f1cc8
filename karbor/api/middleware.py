"""WSGI middlewares of the API pipeline (see etc/karbor/api-paste.ini).

They are plain WSGI callables rather than webob-decorated ones: each
webob layer builds a Request and a Response per request, and on a cheap
GET those copies cost more than the work itself. Only the router (and an
error answer) builds webob objects.
"""

import copy
import time

from keystoneauth1 import exceptions as ksa_exceptions
from keystonemiddleware import auth_token
from oslo_log import log as logging
from oslo_utils import uuidutils
import webob.exc

from karbor.api import faults
from karbor.conf import CONF
from karbor import context
from karbor import exception

LOG = logging.getLogger(__name__)

CONTEXT_KEY = 'karbor.context'
REQUEST_ID_KEY = 'openstack.request_id'
REQUEST_ID_HEADER = 'x-openstack-request-id'


class Middleware(object):
    """Base class: holds the next application of the pipeline."""

    def __init__(self, application):
        self.application = application

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls


def _path(environ):
    return environ.get('SCRIPT_NAME', '') + environ.get('PATH_INFO', '')


class RequestId(Middleware):
    """Give each request an id, in the environ and the response headers."""

    def __call__(self, environ, start_response):
        request_id = 'req-' + uuidutils.generate_uuid()
        environ[REQUEST_ID_KEY] = request_id

        def with_id(status, headers, exc_info=None):
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(status, headers, exc_info)

        return self.application(environ, with_id)


class RequestLog(Middleware):
    """One INFO line per request, so controllers need not log."""

    def __call__(self, environ, start_response):
        if not LOG.isEnabledFor(logging.INFO):
            return self.application(environ, start_response)
        start = time.monotonic()
        seen = {}

        def recording(status, headers, exc_info=None):
            seen['status'] = status.split(' ', 1)[0]
            return start_response(status, headers, exc_info)

        body = self.application(environ, recording)
        query = environ.get('QUERY_STRING')
        LOG.info('%s %s%s status: %s time: %.4f',
                 environ.get('REQUEST_METHOD'), _path(environ),
                 '?' + query if query else '', seen.get('status'),
                 time.monotonic() - start)
        return body


class FaultWrapper(Middleware):
    """Answer every exception with a JSON error; never leak a traceback."""

    def __call__(self, environ, start_response):
        try:
            return self.application(environ, start_response)
        except exception.KarborException as exc:
            status = faults.status_of(exc)
            if status is None:
                response = self._internal_error(environ)
            else:
                response = faults.error_response(status, exc.message)
        except webob.exc.HTTPException as exc:
            response = faults.from_webob(exc)
        except Exception:
            response = self._internal_error(environ)
        return response(environ, start_response)

    @staticmethod
    def _internal_error(environ):
        LOG.exception('Unexpected error handling %s %s',
                      environ.get('REQUEST_METHOD'), _path(environ))
        return faults.error_response(
            500, 'The server could not complete the request.')


class _LimitedReader(object):
    """A wsgi.input that raises once more than ``limit`` bytes are read.

    Bodies without a Content-Length (chunked) are cut off the same way.
    """

    def __init__(self, stream, limit):
        self.stream = stream
        self.left = limit
        self.limit = limit

    def _count(self, data):
        self.left -= len(data)
        if self.left < 0:
            raise exception.RequestBodyTooLarge(limit=self.limit)
        return data

    def read(self, size=-1):
        if size is None or size < 0 or size > self.left + 1:
            size = self.left + 1
        return self._count(self.stream.read(size))

    def readline(self, size=-1):
        if size is None or size < 0 or size > self.left + 1:
            size = self.left + 1
        return self._count(self.stream.readline(size))


class RequestBodySizeLimit(Middleware):
    """Refuse request bodies over osapi_max_request_body_size with 413."""

    def __call__(self, environ, start_response):
        limit = CONF.osapi_max_request_body_size
        length = environ.get('CONTENT_LENGTH')
        if length:
            try:
                too_large = int(length) > limit
            except ValueError:
                raise exception.InvalidInput(field='Content-Length',
                                             reason='not a number')
            if too_large:
                raise exception.RequestBodyTooLarge(limit=limit)
        elif 'wsgi.input' in environ and (
                environ.get('HTTP_TRANSFER_ENCODING', '').lower() ==
                'chunked' or environ.get('wsgi.input_terminated')):
            environ['wsgi.input'] = _LimitedReader(environ['wsgi.input'],
                                                   limit)
        return self.application(environ, start_response)


class NoAuth(Middleware):
    """Trust ``X-Auth-Token: USER:PROJECT``; only user ``admin`` is admin.

    For development and the embedded all-in-one service, where it lets
    tenant isolation be exercised without a Keystone.
    """

    def __call__(self, environ, start_response):
        token = environ.get('HTTP_X_AUTH_TOKEN', '')
        user_id, sep, project_id = token.partition(':')
        if not sep or not user_id or not project_id:
            raise exception.NotAuthenticated(
                'noauth expects an X-Auth-Token header of the form '
                'USER:PROJECT.')
        roles = ['reader', 'member']
        if user_id == 'admin':
            roles.append('admin')
        environ[CONTEXT_KEY] = context.RequestContext(
            user_id=user_id, project_id=project_id, roles=roles,
            request_id=environ.get(REQUEST_ID_KEY))
        return self.application(environ, start_response)


class AuthToken(auth_token.AuthProtocol):
    """keystonemiddleware's auth_token, answering 401 in Karbor's shape.

    Without ``[keystone_authtoken] www_authenticate_uri`` the upstream
    middleware looks the identity endpoint up in the catalog to fill the
    401's WWW-Authenticate header, and when it cannot (no service
    credentials, Keystone down) it raises out of the 401: the client got
    a 500 for a request that merely lacked a token.
    """

    @property
    def www_authenticate_uri(self):
        try:
            return super().www_authenticate_uri
        except ksa_exceptions.ClientException as exc:
            # Not cached: the next 401 asks again once Keystone answers.
            LOG.warning('Cannot find the identity endpoint for the '
                        'WWW-Authenticate header (%s); set '
                        '[keystone_authtoken] www_authenticate_uri.', exc)
            # The header then names no URI, which is still a valid 401.
            return ''

    def process_request(self, request):
        try:
            return super().process_request(request)
        except webob.exc.HTTPUnauthorized as exc:
            return faults.error_response(
                401, 'Authentication required: the request has no valid '
                     'X-Auth-Token.',
                [(k, v) for k, v in exc.headers.items()
                 if k.lower() == 'www-authenticate'])
        except webob.exc.HTTPException as exc:
            # Such as the 503 when Keystone cannot be reached; its detail
            # says so, where webob's explanation is generic.
            return faults.error_response(exc.code, exc.detail or
                                         exc.explanation or exc.title)


def auth_token_factory(global_conf, **local_conf):
    """paste.deploy filter factory of ``AuthToken``."""
    conf = dict(global_conf, **local_conf)
    return lambda app: AuthToken(app, conf)


class KeystoneContext(Middleware):
    """Build the context from the headers keystonemiddleware has set."""

    def __call__(self, environ, start_response):
        if environ.get('HTTP_X_IDENTITY_STATUS',
                       'Confirmed') != 'Confirmed':
            raise exception.NotAuthenticated()
        ctx = context.RequestContext.from_environ(
            environ, request_id=environ.get(REQUEST_ID_KEY))
        if ctx.project_id is None and ctx.system_scope is None:
            raise exception.NotAuthenticated(
                'The token is not scoped to a project.')
        environ[CONTEXT_KEY] = ctx
        return self.application(environ, start_response)


def context_of(req):
    """The RequestContext the auth middleware attached to ``req``."""
    return req.environ[CONTEXT_KEY]


def project_context(req):
    """The context, acting in the URL's project.

    The router has already refused a URL project other than the token's
    unless the caller is an admin; an admin working in another project's
    URL creates and sees that project's resources.
    """
    ctx = req.environ[CONTEXT_KEY]
    project_id = req.urlvars.get('project_id')
    if project_id is None or project_id == ctx.project_id:
        return ctx
    scoped = copy.copy(ctx)
    scoped.project_id = project_id
    return scoped
