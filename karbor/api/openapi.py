"""The OpenAPI 3.1 description of the v1 API, built from the code.

Nothing here is kept apart from the controllers: the paths and methods
come from ``karbor.api.app.V1_ROUTES``; each controller's source is read
(``ast``) for the request schema it hands to ``validation.body`` and for
the ``SORT_KEYS``/``FILTERS`` it hands to ``listing.parse``, and for what
it returns (the keys of its dict literals, and of its module's ``view()``
dict literal); the status codes are those its docstring names. The request
schemas in the document are the very objects the controllers validate
with. karbor/tests/functional/test_fuzz.py checks the responses against
it.
"""

import ast
import inspect
import re
import textwrap

from karbor.api import listing

OPENAPI_VERSION = '3.1.0'
_STATUS_RE = re.compile(r'\b([1-5]\d\d)\b')
_PATH_PARAM_RE = re.compile(r'{([^}]+)}')

_REASONS = {
    200: 'OK', 202: 'Accepted', 400: 'Bad request', 401: 'Not authenticated',
    403: 'Forbidden: by policy, for another project, or over a quota',
    404: 'Not found',
    405: 'Method not allowed', 409: 'Conflict with the current status',
    413: 'Request body too large', 500: 'Internal error',
    503: 'The message broker is unreachable: the operation ended in error',
}

_ANY_REQUEST = {400, 401, 403, 404}

# {"<fault name>": {"code": N, "message": "..."}} (karbor.api.faults).
ERROR_SCHEMA = {
    'type': 'object',
    'minProperties': 1,
    'maxProperties': 1,
    'additionalProperties': {
        'type': 'object',
        'properties': {
            'code': {'type': 'integer'},
            'message': {'type': 'string'},
        },
        'required': ['code', 'message'],
    },
}


def _dotted(node):
    """'a.b.c' for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return '.'.join(reversed(parts))
    return None


def _resolve(module, dotted):
    value = module
    for part in dotted.split('.'):
        value = getattr(value, part)
    return value


def _calls(controller):
    tree = ast.parse(textwrap.dedent(inspect.getsource(controller)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield _dotted(node.func), node


def inspect_controller(controller):
    """What a controller reads: its request body schema and list params.

    Returns ``{'body': schema or None, 'list': None or {'sort_keys',
    'filters', 'project_scoped', 'marker_type'}}``.
    """
    module = inspect.getmodule(controller)
    found = {'body': None, 'list': None}
    for name, call in _calls(controller):
        if name == 'validation.body':
            found['body'] = _resolve(module, _dotted(call.args[1]))
        elif name == 'listing.parse':
            args = [_resolve(module, _dotted(a)) if _dotted(a) else
                    ast.literal_eval(a) for a in call.args[1:4]]
            kwargs = {k.arg: ast.literal_eval(k.value)
                      for k in call.keywords}
            found['list'] = {
                'sort_keys': tuple(args[0]),
                'filters': dict(args[2] if len(args) > 2 and args[2]
                                else {}),
                'project_scoped': kwargs.get('project_scoped', True),
                'marker_type': kwargs.get('marker_type', 'uuid'),
            }
    return found


def _view_name(module):
    for name in ('view', '_view'):
        if callable(getattr(module, name, None)):
            return name
    return None


def view_schema(module):
    """The shape ``view()`` returns: the keys of its dict literal."""
    name = _view_name(module)
    tree = ast.parse(textwrap.dedent(inspect.getsource(getattr(module,
                                                               name))))
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Dict):
            keys = [k.value for k in node.value.keys]
            return {'type': 'object',
                    'properties': {k: {} for k in keys},
                    'required': keys, 'additionalProperties': False}
    return {'type': 'object'}


def _returned(controller):
    """The (status or None, body node) of each return of ``controller``."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(controller)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if isinstance(value, ast.Tuple):
                yield value.elts[0].value, value.elts[1]
            else:
                yield None, value


def _body_schema(module, node, view_ref):
    """The schema of a returned body expression (a dict literal naming its
    key, maybe wrapped in ``dict(..., **links)``)."""
    if isinstance(node, ast.Constant) and node.value is None:
        return {'type': 'null'}
    links = False
    if (isinstance(node, ast.Call) and _dotted(node.func) == 'dict' and
            node.args and isinstance(node.args[0], ast.Dict)):
        node, links = node.args[0], True
    if not isinstance(node, ast.Dict):
        return {'type': 'object'}
    properties = {}
    for key, value in zip(node.keys, node.values):
        key = (key.value if isinstance(key, ast.Constant)
               else _resolve(module, _dotted(key)))
        called = (_dotted(value.func) if isinstance(value, ast.Call)
                  else None)
        if view_ref and called == _view_name(module):
            properties[key] = {'$ref': view_ref}
        elif view_ref and isinstance(value, (ast.Name, ast.List)):
            properties[key] = {'type': 'array', 'items': {'$ref': view_ref}}
        else:
            properties[key] = {}
        if links:
            properties[key + '_links'] = {'type': 'array', 'items': {
                'type': 'object', 'properties': {'rel': {'type': 'string'},
                                                 'href': {'type': 'string'}},
                'required': ['rel', 'href']}}
    return {'type': 'object', 'properties': properties,
            'required': [k for k in properties if not k.endswith('_links')],
            'additionalProperties': False}


def responses_of(controller, view_ref):
    """{status: schema} of what ``controller`` returns on success."""
    module = inspect.getmodule(controller)
    found = {}
    for status, node in _returned(controller):
        schema = _body_schema(module, node, view_ref)
        status = status or 200
        if schema not in found.setdefault(status, []):
            found[status].append(schema)
    return {status: (schemas[0] if len(schemas) == 1
                     else {'anyOf': schemas})
            for status, schemas in found.items()}


def statuses(controller):
    """The status codes the controller's docstring names (200 if none)."""
    codes = {int(c) for c in _STATUS_RE.findall(controller.__doc__ or '')}
    return sorted(codes) or [200]


def _filter_schema(convert):
    if convert is listing.uuid:
        return {'type': 'string', 'format': 'uuid'}
    if convert is listing.boolean:
        return {'type': 'string', 'enum': ['true', 'false', '1', '0',
                                           'yes', 'no']}
    if convert.__qualname__ == 'one_of.<locals>.convert':
        choices = inspect.getclosurevars(convert).nonlocals['choices']
        return {'type': 'string', 'enum': list(choices)}
    return {'type': 'string'}


def _query(name, schema, description):
    return {'name': name, 'in': 'query', 'required': False,
            'schema': schema, 'description': description}


def list_parameters(spec):
    """The query parameters ``listing.parse`` accepts for ``spec``."""
    keys = list(spec['sort_keys'])
    key_re = '(%s)' % '|'.join(re.escape(k) for k in keys)
    marker = ({'type': 'string', 'pattern': '^[0-9]+$'}
              if spec['marker_type'] == 'int'
              else {'type': 'string', 'format': 'uuid'})
    params = [
        _query('limit', {'type': 'integer', 'minimum': 0},
               'Page size, at most [DEFAULT] osapi_max_limit.'),
        _query('marker', marker, 'The last id of the previous page.'),
        _query('sort', {'type': 'string', 'pattern': '^%s(:(asc|desc))?'
                        '(,%s(:(asc|desc))?)*$' % (key_re, key_re)},
               'key[:asc|desc][,key[:asc|desc]...]; keys: %s.'
               % ', '.join(keys)),
        _query('sort_key', {'type': 'string', 'enum': keys},
               'Deprecated; use sort.'),
        _query('sort_dir', {'type': 'string', 'enum': ['asc', 'desc']},
               'Deprecated; use sort.'),
    ]
    for name, convert in sorted(spec['filters'].items()):
        params.append(_query(name, _filter_schema(convert),
                             'Filter: %s.' % (
                                 'accepted and ignored'
                                 if convert is listing.ignore
                                 else 'equal to this value')))
    if spec['project_scoped']:
        params.append(_query('all_tenants', {'type': 'string', 'enum': [
            'true', 'false', '1', '0', 'yes', 'no']},
            'Every project\'s rows (admin).'))
        params.append(_query('project_id', {'type': 'string'},
                             'Another project\'s rows (admin).'))
    return params


def _schema_name(controller, body):
    module = inspect.getmodule(controller)
    schemas = getattr(module, 'schemas')
    for name, value in vars(schemas).items():
        if value is body:
            return '%s.%s' % (schemas.__name__.rsplit('.', 1)[-1], name)
    return '%s.%s' % (module.__name__.rsplit('.', 1)[-1],
                      controller.__name__)


def _response(code, schema=None):
    if code >= 400:
        schema = {'$ref': '#/components/schemas/Error'}
    elif schema is None:
        schema = {'type': ['object', 'null']}
    return {'description': _REASONS.get(code, 'Status %d' % code),
            'content': {'application/json': {'schema': schema}}}


def build(routes):
    """The OpenAPI document of ``routes`` ({path: {method: controller}})."""
    paths = {}
    components = {'Error': ERROR_SCHEMA}
    used_ids = set()
    for path, methods in routes.items():
        item = {}
        path_params = [{'name': name, 'in': 'path', 'required': True,
                        'schema': {'type': 'string'}}
                       for name in _PATH_PARAM_RE.findall(path)]
        if path_params:
            item['parameters'] = path_params
        for method, controller in sorted(methods.items()):
            found = inspect_controller(controller)
            # Any request: 400 for a URL that is not UTF-8, 401, 403 and
            # 404 for a URL no route or row matches (router, middleware).
            codes = set(statuses(controller)) | _ANY_REQUEST
            module = inspect.getmodule(controller).__name__.rsplit('.', 1)[-1]
            op_id = '%s.%s' % (module, controller.__name__)
            if op_id in used_ids:
                op_id = '%s.%s_at_%s' % (module, controller.__name__,
                                         '_'.join(_PATH_PARAM_RE.findall(
                                             path)))
            used_ids.add(op_id)
            doc = inspect.cleandoc(controller.__doc__ or '')
            operation = {
                'operationId': op_id,
                'summary': doc.split('\n')[0],
                'description': doc,
                'tags': [module],
            }
            if found['list'] is not None:
                operation['parameters'] = list_parameters(found['list'])
                codes.add(400)
            if found['body'] is not None:
                name = _schema_name(controller, found['body'])
                components[name] = found['body']
                operation['requestBody'] = {
                    'required': True,
                    'content': {'application/json': {'schema': {
                        '$ref': '#/components/schemas/%s' % name}}}}
                codes |= {400, 413}
            view_ref = None
            module_obj = inspect.getmodule(controller)
            if _view_name(module_obj):
                view_ref = '#/components/schemas/%s.view' % module
                components['%s.view' % module] = view_schema(module_obj)
            success = responses_of(controller, view_ref)
            codes |= set(success)
            operation['responses'] = {str(c): _response(c, success.get(c))
                                      for c in sorted(codes)}
            item[method.lower()] = operation
        paths[path] = item
    return {
        'openapi': OPENAPI_VERSION,
        'info': {
            'title': 'Karbor data protection API',
            'version': '1.0',
            'description': 'Generated from karbor.api.app.V1_ROUTES and '
                           'the controllers\' request schemas.',
        },
        'servers': [{'url': '/v1'}],
        'paths': paths,
        'components': {
            'schemas': components,
            'securitySchemes': {
                'token': {
                    'type': 'apiKey', 'in': 'header',
                    'name': 'X-Auth-Token',
                    'description': 'A Keystone token (auth_strategy = '
                                   'keystone), or USER:PROJECT with '
                                   'auth_strategy = noauth, where user '
                                   '"admin" is an admin.',
                },
            },
        },
        'security': [{'token': []}],
    }


_DOCUMENT = None


def document():
    """The document of the served v1 routes (built once)."""
    global _DOCUMENT
    if _DOCUMENT is None:
        # Imported here: app's route table names serve() below.
        from karbor.api import app
        _DOCUMENT = build(app.V1_ROUTES)
    return _DOCUMENT


def serve(req):
    """GET /v1/openapi.json -> 200 with this API's OpenAPI document."""
    doc = dict(document())
    doc['servers'] = [{'url': req.application_url}]
    return doc


def main(argv=None):
    """``python -m karbor.api.openapi [FILE]``: write the document (to
    stdout without FILE); ``tox -e openapi`` writes
    api-ref/source/openapi.json."""
    import json
    import sys
    argv = sys.argv[1:] if argv is None else argv
    text = json.dumps(document(), indent=2, sort_keys=True) + '\n'
    if argv:
        with open(argv[0], 'w') as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == '__main__':
    main()
