"""Property-based fuzzing of every v1 operation, from the OpenAPI document.

Two tenants own real rows (a plan, a checkpoint, a restore, a
verification, a trigger, a scheduled operation and their operation logs,
made through the API with the real protection service). For every
operation of ``karbor.api.openapi``, hypothesis sends valid bodies (drawn
from the controllers' own JSON schemas) and invalid ones, known and
unknown query parameters with good and bad values, and ids of either
tenant or of nothing, as either tenant (sometimes as an admin). Every
response must be below 500 and JSON, a 4xx must have the error shape, and
no tenant's response may carry an id of a row of the other tenant that
its request did not name itself.

Deterministic (derandomize) and bounded: EXAMPLES requests per operation.
"""

import collections
import os
import re
import urllib.parse

from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
import jsonschema
from oslo_serialization import jsonutils
import pytest
import sqlalchemy as sa
import webob

from karbor.api import app as api_app
from karbor.api import openapi
from karbor.db import models
from karbor.db import session as db_session
from karbor.tests.functional.conftest import ApiClient
from karbor.tests.functional.helpers import create_plan
from karbor.tests.functional.helpers import instance_of
from karbor.tests.functional.helpers import make_tree
from karbor.tests.functional.helpers import protect
from karbor.tests.functional.helpers import PROVIDER
from karbor.tests.functional.helpers import restore
from karbor.tests.functional.helpers import wait_for

# 140 per operation: over 5,000 requests over the whole API (issue 8).
EXAMPLES = int(os.environ.get("KARBOR_FUZZ_EXAMPLES", "140"))
TENANTS = {'tenant-a': 'alice', 'tenant-b': 'bob'}
UUID_RE = re.compile(rb'[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?'
                     rb'[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}')
# Path parameter -> the kind of row it names.
KINDS = {
    'plan_id': 'plan', 'checkpoint_id': 'checkpoint',
    'restore_id': 'restore', 'verification_id': 'verification',
    'trigger_id': 'trigger', 'scheduled_operation_id': 'scheduled_operation',
    'operation_log_id': 'operation_log', 'resource_id': 'instance',
}
METHODS = ('get', 'post', 'put', 'delete')
FIXED = '8c2f4b43-6c4b-4e59-8f0b-9d1d2f5a0000'
# Strings str.isdigit() or int() treat specially, and numbers no column
# holds.
NUMBERISH = ['\u00b2', '\u0663', '9' * 30, '-1', '1e3', ' 1', '0x10', '',
             str(2 ** 63), str(2 ** 63 - 1)]
_hostile = st.one_of(st.sampled_from(NUMBERISH),
                     st.binary(min_size=1, max_size=6))


def _norm(value):
    return value.replace('-', '').lower()


def _create(client, path, body, key):
    res = client.post(path, body)
    assert res.status_code in (200, 202), res.json_body
    return res.json_body[key]


def _own_rows(client, project):
    """A full set of rows of ``project``; returns {kind: [ids]}."""
    make_tree(project, 'docs')
    instance = instance_of(client, 'docs')
    plan = create_plan(client, ['docs'])
    checkpoint = protect(client, plan['id'])
    assert checkpoint['status'] == 'available', checkpoint
    restored = restore(client, checkpoint['id'])
    verification = _create(client, 'verifications', {'verification': {
        'provider_id': PROVIDER, 'checkpoint_id': checkpoint['id']}},
        'verification')
    wait_for(lambda: client.get('verifications/%s' % verification[
        'id']).json_body['verification'],
        lambda v: v['status'] != 'verifying', timeout=60)
    trigger = _create(client, 'triggers', {'trigger_info': {
        'name': 'hourly', 'type': 'time',
        'properties': {'format': 'crontab', 'pattern': '0 * * * *'}}},
        'trigger_info')
    definition = {'provider_id': PROVIDER, 'plan_id': plan['id']}
    operation = _create(client, 'scheduled_operations', {
        'scheduled_operation': {
            'name': 'nightly', 'operation_type': 'protect',
            'trigger_id': trigger['id'],
            'operation_definition': definition}}, 'scheduled_operation')
    logs = client.get('operation_logs').json_body['operation_logs']
    assert logs
    return {'plan': [plan['id']], 'checkpoint': [checkpoint['id']],
            'restore': [restored['id']],
            'verification': [verification['id']],
            'trigger': [trigger['id']],
            'scheduled_operation': [operation['id']],
            'operation_log': [log['id'] for log in logs],
            'instance': [instance['id']]}


def owned_ids():
    """{project: {normalised id}} of every row in the database."""
    owned = {}
    with db_session.get_engine().connect() as connection:
        for table in models.Base.metadata.sorted_tables:
            if 'project_id' not in table.c or 'id' not in table.c:
                continue
            for row_id, project in connection.execute(
                    sa.select(table.c.id, table.c.project_id)):
                owned.setdefault(project, set()).add(_norm(str(row_id)))
    return owned


@pytest.fixture
def world(wsgi_app, protection):
    clients = {project: ApiClient(wsgi_app, user, project)
               for project, user in TENANTS.items()}
    rows = {project: _own_rows(client, project)
            for project, client in clients.items()}
    return rows


# Strategies --------------------------------------------------------------

def from_schema(schema, formats):
    """Values valid against ``schema``, for the JSON-schema subset the
    request schemas use (type, enum, properties, required,
    additionalProperties, items, min/max length, items, properties, oneOf,
    format)."""
    if 'oneOf' in schema:
        return st.one_of(*[from_schema(s, formats) for s in schema['oneOf']])
    if 'enum' in schema:
        return st.sampled_from(schema['enum'])
    types = schema.get('type', ['object', 'string', 'integer', 'boolean',
                                'null', 'array'])
    if isinstance(types, str):
        types = [types]
    return st.one_of(*[_typed(t, schema, formats) for t in types])


def _typed(kind, schema, formats):
    if kind == 'null':
        return st.none()
    if kind == 'boolean':
        return st.booleans()
    if kind == 'integer':
        return st.integers(schema.get('minimum'), schema.get('maximum'))
    if kind == 'string':
        if schema.get('format') in formats:
            return formats[schema['format']]
        if 'pattern' in schema:
            return st.from_regex(schema['pattern'], fullmatch=True)
        return st.text(min_size=schema.get('minLength', 0),
                       max_size=min(schema.get('maxLength', 40), 40))
    if kind == 'array':
        return st.lists(from_schema(schema.get('items', {}), formats),
                        min_size=schema.get('minItems', 0),
                        max_size=min(schema.get('maxItems', 3), 3))
    properties = schema.get('properties', {})
    required = set(schema.get('required', []))
    extra = schema.get('additionalProperties', True)
    objects = st.fixed_dictionaries(
        {name: from_schema(sub, formats)
         for name, sub in properties.items() if name in required},
        optional={name: from_schema(sub, formats)
                  for name, sub in properties.items()
                  if name not in required})
    if isinstance(extra, dict):
        objects = st.tuples(objects, st.dictionaries(
            st.text(min_size=1, max_size=10).filter(
                lambda k: k not in properties),
            from_schema(extra, formats), max_size=2)).map(
                lambda pair: dict(pair[1], **pair[0]))
    least = schema.get('minProperties', 0)
    return objects.filter(lambda value: len(value) >= least)


_text = st.text(max_size=40)
_junk_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        _text, inner, max_size=4),
    max_leaves=10)


def _id_strategy(rows, kind=None):
    """Ids of either tenant's rows (of ``kind`` if given) or of nothing."""
    known = sorted({i for tenant in rows.values()
                    for k, ids in tenant.items()
                    if kind is None or k == kind for i in ids})
    choices = [st.uuids().map(str), st.just(FIXED),
               st.text(min_size=1, max_size=40)]
    if known:
        choices.insert(0, st.sampled_from(known))
    return st.one_of(*choices)


def _path_value(name, project, rows):
    if name == 'project_id':
        return st.one_of(st.just(project), st.just(project),
                         st.sampled_from(sorted(TENANTS)),
                         st.text(min_size=1, max_size=20))
    if name == 'provider_id':
        return st.one_of(st.just(PROVIDER), st.just(PROVIDER),
                         _id_strategy(rows, 'none'))
    if name == 'protectable_type':
        return st.one_of(st.just('OS::Karbor::Directory'),
                         st.text(min_size=1, max_size=30))
    if name == 'target_project_id':
        return st.one_of(st.just(project), st.sampled_from(sorted(TENANTS)),
                         st.text(min_size=1, max_size=20), _hostile)
    if name == 'class_name':
        return st.one_of(st.just('default'), st.text(min_size=1,
                                                     max_size=20))
    if name == 'service_id':
        return st.one_of(st.integers(0, 5).map(str),
                         st.text(min_size=1, max_size=10), _hostile)
    return st.one_of(_id_strategy(rows, KINDS.get(name)), _hostile)


def _formats(rows):
    return {'uuid': _id_strategy(rows).filter(
        lambda v: UUID_RE.fullmatch(v.encode()) is not None)
        | st.uuids().map(str)}


def _query_value(param, rows):
    schema = param['schema']
    good = from_schema(schema, _formats(rows)).map(str)
    return st.one_of(good, st.text(max_size=20), _id_strategy(rows),
                     _hostile)


def _query_strategy(operation, rows):
    params = operation.get('parameters', [])
    known = st.fixed_dictionaries({}, optional={
        p['name']: _query_value(p, rows) for p in params})
    unknown = st.dictionaries(
        st.one_of(st.text(min_size=1, max_size=12),
                  st.binary(min_size=1, max_size=4)),
        st.one_of(st.text(max_size=12), _hostile), max_size=2)
    return st.one_of(known, known, unknown,
                     st.tuples(known, unknown).map(
                         lambda kv: dict(kv[1], **kv[0])))


def _templates(rows, tenant):
    """{request schema name: strategy of bodies that can succeed}, with
    ids of either tenant's rows (those of the other must get a 404)."""
    def ids(kind):
        own = st.sampled_from(rows[tenant][kind])
        other = st.sampled_from(sorted(
            {i for project in rows for i in rows[project][kind]}))
        return st.one_of(own, own, other, st.just(FIXED))

    def obj(**fields):
        return st.fixed_dictionaries(fields)

    pattern = st.sampled_from(['0 * * * *', '*/30 * * * *', '0 3 * * 1',
                               'bogus', '* * * * * * *'])
    window = st.one_of(st.none(), st.integers(-5, 7200),
                       st.sampled_from(['60', 'x', '', 10 ** 30, 2 ** 63]),
                       st.sampled_from(NUMBERISH))
    times = st.sampled_from([None, '2030-01-01T00:00:00Z',
                             '9999-12-31T23:59:59', '0001-01-01T00:00:00',
                             '0001-01-01T00:00:00+14:00', '1899-12-31',
                             '9000-12-31T23:59:59-14:00', 'soon'])
    quota_limit = st.sampled_from([None, -1, 1000, 2 ** 31 - 1])
    return {
        'plans.create': obj(plan=obj(
            name=st.just('p'), provider_id=st.just(PROVIDER),
            resources=st.lists(obj(
                id=ids('instance'),
                type=st.just('OS::Karbor::Directory')), min_size=1,
                max_size=2),
            parameters=st.just({}))),
        'plans.update': obj(plan=obj(
            status=st.sampled_from(['suspended', 'started']),
            resources=st.lists(obj(
                id=ids('instance'),
                type=st.just('OS::Karbor::Directory')), min_size=1,
                max_size=1))),
        'checkpoints.create': obj(checkpoint=obj(plan_id=ids('plan'))),
        'checkpoints.reset_state': obj(**{'os-resetState': obj(
            state=st.sampled_from(['available', 'error']))}),
        'restores.create': obj(restore=obj(
            provider_id=st.just(PROVIDER), checkpoint_id=ids('checkpoint'),
            parameters=st.just({}))),
        'verifications.create': obj(verification=obj(
            provider_id=st.just(PROVIDER),
            checkpoint_id=ids('checkpoint'))),
        'triggers.create': obj(trigger_info=obj(
            name=st.just('t'), type=st.just('time'),
            properties=obj(format=st.just('crontab'), pattern=pattern,
                           window=window, start_time=times,
                           end_time=times))),
        'triggers.update': obj(trigger_info=obj(properties=obj(
            pattern=pattern, window=window, start_time=times))),
        'scheduled_operations.create': st.tuples(
            st.sampled_from(['protect', 'retention_protect']),
            ids('trigger'), ids('plan'),
            st.sampled_from([None, 1, '2', 0, 'x', 10 ** 30, 2 ** 64]
                            + NUMBERISH),
            st.sampled_from(['object', 'text', 'junk'])).map(_operation),
        'scheduled_operations.update': obj(scheduled_operation=obj(
            enabled=st.booleans())),
        'services.update': obj(status=st.sampled_from(['enabled',
                                                       'disabled'])),
        # Limits large enough for the operations fuzzed after these.
        'quotas.update': obj(quota=obj(plans=quota_limit,
                                       checkpoints=quota_limit)),
        'quotas.class_update': obj(quota_class=obj(
            plans=quota_limit, checkpoints=quota_limit)),
    }


def _operation(args):
    operation_type, trigger_id, plan_id, max_backups, form = args
    definition = {'provider_id': PROVIDER, 'plan_id': plan_id}
    if max_backups is not None:
        definition['max_backups'] = max_backups
    if form == 'text':
        definition = ','.join('%s=%s' % kv for kv in definition.items())
    elif form == 'junk':
        definition = 'plan_id'
    return {'scheduled_operation': {
        'name': 's', 'operation_type': operation_type,
        'trigger_id': trigger_id, 'operation_definition': definition}}


def _body_strategy(doc, operation, rows, tenant):
    junk = st.one_of(
        _junk_json.map(jsonutils.dump_as_bytes),
        st.binary(max_size=64),
        st.just(b''), st.just(b'{'), st.just(b'null'))
    if 'requestBody' not in operation:
        return st.one_of(st.none(), st.none(), st.none(), junk)
    ref = operation['requestBody']['content']['application/json'][
        'schema']['$ref']
    schema = doc['components']['schemas'][ref.rsplit('/', 1)[-1]]
    name = ref.rsplit('/', 1)[-1]
    valid = from_schema(schema, _formats(rows)).map(
        jsonutils.dump_as_bytes)
    likely = _templates(rows, tenant)[name].map(jsonutils.dump_as_bytes)
    return st.one_of(likely, valid, likely, likely, junk, likely)


def _request_strategy(doc, path, method, operation, rows):
    names = re.findall(r'{([^}]+)}', path)

    def for_tenant(tenant):
        return st.fixed_dictionaries({
            'tenant': st.just(tenant),
            'admin': st.sampled_from([False] * 7 + [True]),
            'path': st.fixed_dictionaries({
                name: _path_value(name, tenant, rows) for name in names}),
            'query': _query_strategy(operation, rows),
            'body': _body_strategy(doc, operation, rows, tenant),
        })

    return st.sampled_from(sorted(TENANTS)).flatmap(for_tenant)


# The check ---------------------------------------------------------------

def _send(app, method, path, values, req):
    url = '/v1' + path
    for name, value in values.items():
        url = url.replace('{%s}' % name,
                          urllib.parse.quote(value, safe=''))
    if req['query']:
        url += '?' + urllib.parse.urlencode(sorted(
            req['query'].items(), key=repr))
    user = 'admin' if req['admin'] else TENANTS[req['tenant']]
    request = webob.Request.blank(url, method=method, headers={
        'X-Auth-Token': '%s:%s' % (user, req['tenant'])})
    if req['body'] is not None:
        request.body = req['body']
        request.content_type = 'application/json'
    return url, request.get_response(app)


def check_response(method, url, req, res, operation=None, doc=None):
    where = '%s %s body=%r -> %s %r' % (
        method, url, req['body'], res.status, res.body[:300])
    assert res.status_code < 500, where
    if res.body:
        assert res.content_type == 'application/json', where
        data = jsonutils.loads(res.body)
    else:
        assert res.status_code in (202, 204), where
        data = None
    documented = (operation or {}).get('responses', {})
    if operation is not None:
        assert str(res.status_code) in documented, where
        schema = documented[str(res.status_code)]['content'][
            'application/json']['schema']
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(dict(
                schema, components=doc['components'])).iter_errors(data))
        assert error is None, '%s: %s' % (where, error)
    if res.status_code >= 400:
        assert isinstance(data, dict) and len(data) == 1, where
        (fault,) = data.values()
        assert fault['code'] == res.status_code, where
        assert isinstance(fault['message'], str), where
    return where


def leaks(tenant, sent, body, owned):
    """Ids in ``body`` owned by a tenant other than ``tenant`` and not
    named in the request ``sent`` itself."""
    named = {_norm(m.decode()) for m in UUID_RE.findall(sent)}
    found = {_norm(m.decode()) for m in UUID_RE.findall(body)}
    others = set().union(*[ids for project, ids in owned.items()
                           if project != tenant])
    return (found & others) - named


def _operations(doc):
    ops = [(path, method.upper(), item[method])
           for path, item in doc['paths'].items()
           for method in METHODS if method in item]
    # Deletes and service updates last, so the rows stay for the others.
    return sorted(ops, key=lambda op: (
        op[1] == 'DELETE', 'os-services' in op[0], op[0], op[1]))


def test_fuzz_every_operation(wsgi_app, world):
    doc = openapi.build(api_app.V1_ROUTES)
    # Every request's (tenant, admin, bytes sent, response body).
    seen = []
    count = 0
    statuses = {}

    for path, method, operation in _operations(doc):
        strategy = _request_strategy(doc, path, method, operation, world)

        @settings(max_examples=EXAMPLES, derandomize=True, database=None,
                  deadline=None, print_blob=False,
                  suppress_health_check=list(HealthCheck))
        @given(req=strategy)
        def run(req):
            nonlocal count
            url, res = _send(wsgi_app, method, path, req['path'], req)
            count += 1
            key = '%s %s' % (method, path)
            statuses.setdefault(key, collections.Counter())[
                res.status_code] += 1
            # An empty value or one with a slash makes another URL, maybe
            # of another operation: check it as any response.
            routed = all(value and '/' not in (
                value if isinstance(value, str) else value.decode('latin-1'))
                for value in req['path'].values())
            check_response(method, url, req, res,
                           operation if routed else None, doc)
            if not req['admin']:
                sent = url.encode() + (req['body'] or b'')
                seen.append((req['tenant'], sent, res.body,
                             '%s %s' % (method, url)))

        run()

    for key, counter in sorted(statuses.items()):
        print(key, dict(sorted(counter.items())))
    # Rows made during the run count too: compare with the database.
    owned = owned_ids()
    for project in TENANTS:
        for kind_ids in world[project].values():
            owned.setdefault(project, set()).update(
                _norm(i) for i in kind_ids)
    found = []
    for tenant, sent, body, where in seen:
        leaked = leaks(tenant, sent, body, owned)
        if leaked:
            found.append((where, sorted(leaked), body[:300]))
    assert not found, found
    assert count >= EXAMPLES * len(_operations(doc)) * 0.9, count
    print('%d requests over %d operations' % (count, len(_operations(doc))))


def test_leak_check_sees_other_tenants_ids():
    owned = {'tenant-a': {_norm(FIXED)},
             'tenant-b': {'0123456789abcdef0123456789abcdef'}}
    body = b'{"id": "01234567-89ab-cdef-0123-456789abcdef"}'
    assert leaks('tenant-a', b'/v1/tenant-a/plans', body, owned)
    # Named by the request itself (echoed in an error): not a leak.
    assert not leaks('tenant-a', b'/v1/tenant-a/plans/'
                     b'01234567-89ab-cdef-0123-456789abcdef', body, owned)
    assert not leaks('tenant-b', b'/v1/tenant-b/plans', body, owned)


# Regressions of what the fuzzing found ------------------------------------

def _raw(app, method, path, query='', token='alice:tenant-a', body=None):
    """A request whose PATH_INFO/QUERY_STRING are given undecoded."""
    request = webob.Request.blank('/', method=method, headers={
        'X-Auth-Token': token})
    request.environ['PATH_INFO'] = path
    request.environ['QUERY_STRING'] = query
    if body is not None:
        request.body = jsonutils.dump_as_bytes(body)
        request.content_type = 'application/json'
    return request.get_response(app)


@pytest.mark.parametrize('path,query', [
    ('/v1/tenant-a/plans', 'name=%FF'),
    ('/v1/tenant-a/plans', '%FF=1'),
    # PATH_INFO is the percent-decoded path as latin-1 (PEP 3333).
    ('/v1/tenant-a/pl\xffans', ''),
    ('/v1/tenant-a/plans/\xff', ''),
    ('/v1/\xff/plans', ''),
])
def test_url_not_utf8_is_400(wsgi_app, db, path, query):
    res = _raw(wsgi_app, 'GET', path, query)
    assert res.status_code == 400, res.body
    assert 'UTF-8' in jsonutils.loads(res.body)['badRequest']['message']


@pytest.mark.parametrize('marker', ['\u00b2', '9' * 30, str(2 ** 63)])
def test_service_marker_out_of_range_is_400(admin_api, marker):
    res = admin_api.get('os-services?' + urllib.parse.urlencode(
        {'marker': marker}))
    assert res.status_code == 400, res.json_body
    assert 'marker' in res.json_body['badRequest']['message']


@pytest.mark.parametrize('service_id', ['\u00b2', '9' * 30, str(2 ** 63)])
def test_unknown_service_id_forms_are_404(admin_api, service_id):
    res = admin_api.put('os-services/' + urllib.parse.quote(service_id),
                        {'status': 'disabled'})
    assert res.status_code == 404, res.json_body


@pytest.mark.parametrize('window', ['\u00b2', '\u0663\u0660', 10 ** 30,
                                    '9' * 30, 366 * 24 * 3600 + 1])
def test_trigger_window_out_of_form_or_range_is_400(api, window):
    res = api.post('triggers', {'trigger_info': {
        'name': 't', 'type': 'time', 'properties': {
            'format': 'crontab', 'pattern': '0 * * * *',
            'window': window}}})
    assert res.status_code == 400, res.json_body
    assert 'window' in res.json_body['badRequest']['message']


@pytest.mark.parametrize('times', [
    {'start_time': '9999-12-31T23:59:59'},
    {'start_time': '0001-01-01T00:00:00'},
    {'start_time': '0001-01-01T00:00:00+14:00'},
    {'start_time': '9999-12-31T23:59:59-14:00'},
    {'end_time': '9999-12-31T23:59:59'},
    {'start_time': '2020-01-01', 'end_time': '9001-01-01'}])
@pytest.mark.parametrize('fmt,pattern', [('crontab', '* * * * *'),
                                         ('calendar', 'FREQ=YEARLY')])
def test_trigger_times_near_datetime_limits_are_400(api, times, fmt,
                                                    pattern):
    res = api.post('triggers', {'trigger_info': {
        'name': 't', 'type': 'time',
        'properties': dict(format=fmt, pattern=pattern, **times)}})
    assert res.status_code == 400, res.json_body
    assert '_time' in res.json_body['badRequest']['message']


def test_admin_plan_update_takes_resources_of_the_plans_project(
        wsgi_app, db, data_root):
    alice = ApiClient(wsgi_app, 'alice', 'tenant-a')
    bob = ApiClient(wsgi_app, 'bob', 'tenant-b')
    admin = ApiClient(wsgi_app, 'admin', 'tenant-b')
    make_tree('tenant-a', 'docs')
    make_tree('tenant-b', 'secret')
    plan = create_plan(alice, ['docs'])
    theirs = instance_of(bob, 'secret')
    ours = instance_of(alice, 'docs')
    # Through tenant-b's URL, as tenant-b's admin: tenant-b's directory
    # must not become part of tenant-a's plan.
    res = admin.put('/v1/tenant-b/plans/%s' % plan['id'], {'plan': {
        'resources': [{'id': theirs['id'], 'type': theirs['type']}]}},
        project_prefix=False)
    assert res.status_code == 404, res.json_body
    res = admin.put('/v1/tenant-b/plans/%s' % plan['id'], {'plan': {
        'resources': [{'id': ours['id'], 'type': ours['type']}]}},
        project_prefix=False)
    assert res.status_code == 200, res.json_body
    shown = alice.get('plans/%s' % plan['id']).json_body['plan']
    assert [r['id'] for r in shown['resources']] == [ours['id']]


def test_openapi_is_served_to_authenticated_callers(wsgi_app, api):
    res = api.get('/v1/openapi.json', project_prefix=False)
    assert res.status_code == 200
    doc = res.json_body
    assert doc['openapi'] == openapi.OPENAPI_VERSION
    assert doc['servers'] == [{'url': 'http://localhost/v1'}]
    assert '/{project_id}/plans' in doc['paths']
    assert doc['paths'] == jsonutils.loads(jsonutils.dump_as_bytes(
        openapi.document()))['paths']
    res = _raw(wsgi_app, 'GET', '/v1/openapi.json', token='')
    assert res.status_code == 401
