"""Turn exceptions into JSON error responses: the one place for statuses.

The error body is ``{"<fault name>": {"code": N, "message": "..."}}``,
which is what python-karborclient reads.
"""

from oslo_serialization import jsonutils
import webob
import webob.exc

from karbor import exception

# Domain exception families and their HTTP status; the first match wins.
_STATUS_OF = (
    (exception.NotFound, 404),
    (exception.Invalid, 400),
    (exception.NotAuthenticated, 401),
    (exception.Forbidden, 403),
    (exception.Conflict, 409),
    (exception.RequestBodyTooLarge, 413),
    (exception.OperationNotSent, 503),
)

_FAULT_NAMES = {
    400: 'badRequest',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'itemNotFound',
    405: 'methodNotAllowed',
    409: 'conflict',
    413: 'requestEntityTooLarge',
    415: 'unsupportedMediaType',
    503: 'serviceUnavailable',
}


def status_of(exc):
    """The HTTP status for a domain exception, or None if unmapped."""
    for cls, status in _STATUS_OF:
        if isinstance(exc, cls):
            return status
    return None


def error_response(status, message, headers=None):
    fault = _FAULT_NAMES.get(status, 'internalServerError'
                             if status >= 500 else 'error')
    body = {fault: {'code': status, 'message': message}}
    response = webob.Response(status=status, content_type='application/json',
                              charset=None)
    response.body = jsonutils.dump_as_bytes(body)
    for name, value in headers or []:
        response.headers[name] = value
    return response


def from_webob(exc):
    """A webob HTTPException (raised by routing) as a JSON response."""
    headers = [(k, v) for k, v in exc.headers.items()
               if k.lower() in ('allow', 'location', 'retry-after')]
    return error_response(exc.code, exc.explanation or exc.title, headers)
