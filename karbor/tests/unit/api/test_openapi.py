"""The OpenAPI document matches the route table and the controllers."""

import json
import re

import jsonschema
import pytest

from karbor.api import app
from karbor.api import listing
from karbor.api import openapi
from karbor.api.schemas import checkpoints as checkpoint_schemas
from karbor.api.schemas import plans as plan_schemas
from karbor.api.schemas import quotas as quota_schemas
from karbor.api.schemas import restores as restore_schemas
from karbor.api.schemas import scheduled_operations as operation_schemas
from karbor.api.schemas import services as service_schemas
from karbor.api.schemas import triggers as trigger_schemas
from karbor.api.schemas import verifications as verification_schemas
from karbor.api.v1 import checkpoints
from karbor.api.v1 import operation_logs
from karbor.api.v1 import plans
from karbor.api.v1 import services

METHODS = {'get', 'put', 'post', 'delete', 'patch', 'head', 'options'}


@pytest.fixture(scope='module')
def doc():
    return openapi.build(app.V1_ROUTES)


def _operations(doc):
    for path, item in doc['paths'].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method.upper(), operation


def test_every_route_is_documented_and_nothing_else(doc):
    routed = {(path, method) for path, methods in app.V1_ROUTES.items()
              for method in methods}
    documented = {(path, method) for path, method, _ in _operations(doc)}
    assert documented == routed


def test_path_parameters_match_the_path(doc):
    for path, item in doc['paths'].items():
        names = re.findall(r'{([^}]+)}', path)
        assert [p['name'] for p in item.get('parameters', [])] == names


def test_operation_ids_are_unique(doc):
    ids = [op['operationId'] for _, _, op in _operations(doc)]
    assert len(ids) == len(set(ids))


def _body_schema(doc, operation):
    ref = operation['requestBody']['content']['application/json'][
        'schema']['$ref']
    return doc['components']['schemas'][ref.rsplit('/', 1)[-1]]


def test_request_bodies_are_the_controllers_schema_objects(doc):
    expected = {
        ('/{project_id}/plans', 'POST'): plan_schemas.create,
        ('/{project_id}/plans/{plan_id}', 'PUT'): plan_schemas.update,
        ('/{project_id}/providers/{provider_id}/checkpoints', 'POST'):
            checkpoint_schemas.create,
        ('/{project_id}/providers/{provider_id}/checkpoints/'
         '{checkpoint_id}', 'PUT'): checkpoint_schemas.reset_state,
        ('/{project_id}/restores', 'POST'): restore_schemas.create,
        ('/{project_id}/verifications', 'POST'):
            verification_schemas.create,
        ('/{project_id}/triggers', 'POST'): trigger_schemas.create,
        ('/{project_id}/triggers/{trigger_id}', 'PUT'):
            trigger_schemas.update,
        ('/{project_id}/scheduled_operations', 'POST'):
            operation_schemas.create,
        ('/{project_id}/scheduled_operations/{scheduled_operation_id}',
         'PUT'): operation_schemas.update,
        ('/{project_id}/os-services/{service_id}', 'PUT'):
            service_schemas.update,
        ('/{project_id}/quotas/{target_project_id}', 'PUT'):
            quota_schemas.update,
        ('/{project_id}/quota_classes/{class_name}', 'PUT'):
            quota_schemas.class_update,
    }
    with_body = {(path, method): _body_schema(doc, op)
                 for path, method, op in _operations(doc)
                 if 'requestBody' in op}
    assert set(with_body) == set(expected)
    for key, schema in expected.items():
        assert with_body[key] is schema, key


def test_every_write_takes_a_body_except_delete(doc):
    for path, method, operation in _operations(doc):
        if method in ('POST', 'PUT'):
            assert 'requestBody' in operation, (method, path)
        else:
            assert 'requestBody' not in operation, (method, path)


def _query_names(operation):
    return {p['name'] for p in operation.get('parameters', [])}


def test_list_parameters_come_from_the_controllers(doc):
    plans_index = doc['paths']['/{project_id}/plans']['get']
    assert _query_names(plans_index) == (
        set(plans.FILTERS) | {'limit', 'marker', 'sort', 'sort_key',
                              'sort_dir', 'all_tenants', 'project_id'})
    (sort_key,) = [p for p in plans_index['parameters']
                   if p['name'] == 'sort_key']
    assert sort_key['schema']['enum'] == list(plans.SORT_KEYS)

    logs = doc['paths']['/{project_id}/operation_logs']['get']
    assert set(operation_logs.FILTERS) <= _query_names(logs)
    (status,) = [p for p in logs['parameters'] if p['name'] == 'status']
    assert set(status['schema']['enum']) == set(
        operation_logs.FILTERS['status'].__closure__[0].cell_contents)

    cps = doc['paths']['/{project_id}/providers/{provider_id}/'
                       'checkpoints']['get']
    (plan_id,) = [p for p in cps['parameters'] if p['name'] == 'plan_id']
    assert plan_id['schema']['format'] == 'uuid'
    assert set(checkpoints.FILTERS) <= _query_names(cps)

    # Not project-scoped: no all_tenants; an integer marker.
    svcs = doc['paths']['/{project_id}/os-services']['get']
    assert _query_names(svcs) == (set(services.FILTERS) | {
        'limit', 'marker', 'sort', 'sort_key', 'sort_dir'})
    (marker,) = [p for p in svcs['parameters'] if p['name'] == 'marker']
    assert marker['schema']['pattern'] == '^[0-9]+$'


def test_sort_pattern_accepts_what_listing_accepts(doc):
    plans_index = doc['paths']['/{project_id}/plans']['get']
    (sort,) = [p for p in plans_index['parameters'] if p['name'] == 'sort']
    pattern = re.compile(sort['schema']['pattern'])
    assert pattern.match('name:desc,id')
    assert pattern.match('created_at')
    assert not pattern.match('bogus')
    assert not pattern.match('name:sideways')


def test_statuses_come_from_the_docstrings(doc):
    delete = doc['paths']['/{project_id}/triggers/{trigger_id}']['delete']
    assert {'202', '404', '409', '401', '403'} <= set(delete['responses'])
    create = doc['paths']['/{project_id}/providers/{provider_id}/'
                          'checkpoints']['post']
    assert '202' in create['responses'] and '413' in create['responses']
    assert create['responses']['400']['content']['application/json'][
        'schema'] == {'$ref': '#/components/schemas/Error'}


def test_filter_schemas():
    assert openapi._filter_schema(listing.uuid)['format'] == 'uuid'
    assert openapi._filter_schema(listing.one_of('x', 'y'))['enum'] == [
        'x', 'y']
    assert openapi._filter_schema(listing.exact) == {'type': 'string'}


def test_document_is_json_and_its_schemas_are_valid(doc):
    json.loads(json.dumps(doc))
    assert doc['openapi'].startswith('3.1')
    for schema in doc['components']['schemas'].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    assert doc['components']['securitySchemes']['token']['name'] == (
        'X-Auth-Token')
    jsonschema.validate({'badRequest': {'code': 400, 'message': 'no'}},
                        openapi.ERROR_SCHEMA)


@pytest.mark.parametrize('module', [plans, services, operation_logs])
def test_view_schemas_list_the_keys_view_returns(module):
    from unittest import mock
    view = getattr(module, 'view', None) or getattr(module, '_view')
    schema = openapi.view_schema(module)
    assert sorted(schema['required']) == sorted(view(mock.MagicMock()))
    assert schema['additionalProperties'] is False


def test_success_responses_come_from_the_returns(doc):
    show = doc['paths']['/{project_id}/plans/{plan_id}']['get']
    body = show['responses']['200']['content']['application/json'][
        'schema']
    assert body['properties'] == {
        'plan': {'$ref': '#/components/schemas/plans.view'}}
    index = doc['paths']['/{project_id}/scheduled_operations']['get']
    body = index['responses']['200']['content']['application/json'][
        'schema']
    assert body['properties']['operations']['items'] == {
        '$ref': '#/components/schemas/scheduled_operations.view'}
    assert 'operations_links' in body['properties']
    delete = doc['paths']['/{project_id}/plans/{plan_id}']['delete']
    assert delete['responses']['202']['content']['application/json'][
        'schema'] == {'type': 'null'}
    assert '200' not in delete['responses']
