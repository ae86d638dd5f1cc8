"""WSGI middlewares of the API pipeline (see etc/karbor/api-paste.ini)."""

import copy
import time

from oslo_log import log as logging
import webob.dec
import webob.exc

from karbor.api import faults
from karbor.conf import CONF
from karbor import context
from karbor import exception

LOG = logging.getLogger(__name__)

CONTEXT_KEY = 'karbor.context'


class Middleware(object):
    """Base class: holds the next application of the pipeline."""

    def __init__(self, application):
        self.application = application

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls


class RequestLog(Middleware):
    """One INFO line per request, so controllers need not log."""

    @webob.dec.wsgify
    def __call__(self, req):
        start = time.monotonic()
        res = req.get_response(self.application)
        if LOG.isEnabledFor(logging.INFO):
            LOG.info('%s %s status: %s len: %s time: %.4f', req.method,
                     req.path_qs, res.status_code, res.content_length,
                     time.monotonic() - start)
        return res


class FaultWrapper(Middleware):
    """Answer every exception with a JSON error; never leak a traceback."""

    @webob.dec.wsgify
    def __call__(self, req):
        try:
            return req.get_response(self.application)
        except exception.KarborException as exc:
            status = faults.status_of(exc)
            if status is None:
                LOG.exception('Unexpected error handling %s %s',
                              req.method, req.path)
                return faults.error_response(
                    500, 'The server could not complete the request.')
            return faults.error_response(status, exc.message)
        except webob.exc.HTTPException as exc:
            return faults.from_webob(exc)
        except Exception:
            LOG.exception('Unexpected error handling %s %s',
                          req.method, req.path)
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

    @webob.dec.wsgify
    def __call__(self, req):
        limit = CONF.osapi_max_request_body_size
        if req.content_length is not None and req.content_length > limit:
            raise exception.RequestBodyTooLarge(limit=limit)
        if req.content_length is None and req.is_body_readable:
            req.body_file_raw = _LimitedReader(req.body_file_raw, limit)
        return req.get_response(self.application)


class NoAuth(Middleware):
    """Trust ``X-Auth-Token: USER:PROJECT``; only user ``admin`` is admin.

    For development and the embedded all-in-one service, where it lets
    tenant isolation be exercised without a Keystone.
    """

    @webob.dec.wsgify
    def __call__(self, req):
        token = req.headers.get('X-Auth-Token', '')
        user_id, sep, project_id = token.partition(':')
        if not sep or not user_id or not project_id:
            raise exception.NotAuthenticated(
                'noauth expects an X-Auth-Token header of the form '
                'USER:PROJECT.')
        roles = ['reader', 'member']
        if user_id == 'admin':
            roles.append('admin')
        req.environ[CONTEXT_KEY] = context.RequestContext(
            user_id=user_id, project_id=project_id, roles=roles,
            request_id=req.environ.get('openstack.request_id'))
        return req.get_response(self.application)


class KeystoneContext(Middleware):
    """Build the context from the headers keystonemiddleware has set."""

    @webob.dec.wsgify
    def __call__(self, req):
        if req.headers.get('X-Identity-Status', 'Confirmed') != 'Confirmed':
            raise exception.NotAuthenticated()
        ctx = context.RequestContext.from_environ(
            req.environ,
            request_id=req.environ.get('openstack.request_id'))
        if ctx.project_id is None and ctx.system_scope is None:
            raise exception.NotAuthenticated(
                'The token is not scoped to a project.')
        req.environ[CONTEXT_KEY] = ctx
        return req.get_response(self.application)


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
