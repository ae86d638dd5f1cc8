"""Every bad request answers 4xx with a JSON error body; nothing 5xx."""

import io

import pytest
import webob

from karbor.api import middleware

PROVIDER_ID = 'b766f37c-d011-4026-8228-28730d734a3f'


def _fault(res):
    (name, fault), = res.json_body.items()
    assert fault['code'] == res.status_code
    assert fault['message']
    return name, fault['message']


def test_version_documents(api):
    res = api.get('/', project_prefix=False)
    assert res.status_code == 200
    (version,) = res.json_body['versions']
    assert version['id'] == 'v1.0'
    assert version['links'][0]['href'].endswith('/v1/')
    res = api.get('/v1/', project_prefix=False)
    assert res.status_code == 200
    assert res.json_body['version']['status'] == 'CURRENT'


def test_version_document_needs_no_token(wsgi_app):
    res = webob.Request.blank('/').get_response(wsgi_app)
    assert res.status_code == 200


@pytest.mark.parametrize('path,status,fault', [
    ('providers?limit=abc', 400, 'badRequest'),
    ('providers?limit=-1', 400, 'badRequest'),
    ('providers?sort=nosuchkey:asc', 400, 'badRequest'),
    ('providers?sort=name:sideways', 400, 'badRequest'),
    ('providers?sort_key=nosuchkey', 400, 'badRequest'),
    ('providers?nosuchfilter=1', 400, 'badRequest'),
    ('providers?marker=not-a-uuid', 400, 'badRequest'),
    ('providers?marker=8c2f4b43-6c4b-4e59-8f0b-9d1d2f5a0000', 400,
     'badRequest'),
    ('providers/not-a-uuid', 404, 'itemNotFound'),
    ('providers/8c2f4b43-6c4b-4e59-8f0b-9d1d2f5a0000', 404, 'itemNotFound'),
    ('nosuchresource', 404, 'itemNotFound'),
    ('providers/%s/nosuchthing' % PROVIDER_ID, 404, 'itemNotFound'),
])
def test_bad_requests(api, path, status, fault):
    res = api.get(path)
    assert res.status_code == status
    assert _fault(res)[0] == fault


def test_bad_query_names_the_field(api):
    res = api.get('providers?limit=abc')
    assert 'limit' in _fault(res)[1]
    res = api.get('providers?sort=nosuchkey:asc')
    assert 'sort' in _fault(res)[1] and 'nosuchkey' in _fault(res)[1]


def test_unknown_top_level_path(api):
    res = api.get('/v2/demo/providers', project_prefix=False)
    assert res.status_code == 404
    assert _fault(res)[0] == 'itemNotFound'


def test_method_not_allowed(api):
    res = api.delete('providers')
    assert res.status_code == 405
    assert res.headers['Allow'] == 'GET'
    assert _fault(res)[0] == 'methodNotAllowed'


def test_missing_token_is_401(wsgi_app):
    res = webob.Request.blank('/v1/demo/providers').get_response(wsgi_app)
    assert res.status_code == 401
    assert res.content_type == 'application/json'
    assert 'unauthorized' in res.json_body


def test_malformed_token_is_401(api):
    res = api.get('providers', headers={'X-Auth-Token': 'no-colon'})
    assert res.status_code == 401


def test_other_projects_url_is_refused(api):
    res = api.get('/v1/someone-else/providers', project_prefix=False)
    assert res.status_code == 403
    assert _fault(res)[0] == 'forbidden'


def test_admin_may_use_other_projects_url(admin_api):
    res = admin_api.get('/v1/someone-else/providers', project_prefix=False)
    assert res.status_code == 200


def test_malformed_json(admin_api):
    res = admin_api.put('os-services/1', raw=b'{"status": ')
    assert res.status_code == 400
    assert 'malformed JSON' in _fault(res)[1]


def test_empty_body(admin_api):
    res = admin_api.put('os-services/1', raw=b'')
    assert res.status_code == 400


def test_schema_violation_names_the_field(admin_api):
    res = admin_api.put('os-services/1', body={'status': 'sideways'})
    assert res.status_code == 400
    assert 'status' in _fault(res)[1]
    res = admin_api.put('os-services/1',
                        body={'status': 'enabled', 'colour': 'blue'})
    assert res.status_code == 400
    assert 'colour' in _fault(res)[1]
    res = admin_api.put('os-services/1', body={'disabled_reason': 'x'})
    assert res.status_code == 400
    assert 'status' in _fault(res)[1]
    res = admin_api.put('os-services/1', body=['status'])
    assert res.status_code == 400


def test_body_over_the_size_limit(admin_api, override):
    override('osapi_max_request_body_size', 1024)
    res = admin_api.put('os-services/1', raw=b'{"status": "%s"}' % (
        b'x' * 2048))
    assert res.status_code == 413
    assert _fault(res)[0] == 'requestEntityTooLarge'


def test_chunked_body_over_the_size_limit(wsgi_app, db, override):
    override('osapi_max_request_body_size', 1024)
    req = webob.Request.blank('/v1/demo/os-services/1', method='PUT',
                              headers={'X-Auth-Token': 'admin:demo',
                                       'Transfer-Encoding': 'chunked'})
    # A chunked body has no Content-Length; the server marks the input
    # terminated and the limiter must count what is read.
    req.environ['wsgi.input'] = io.BytesIO(b'{"status": "%s"}' % (
        b'x' * 4096))
    req.environ.pop('CONTENT_LENGTH', None)
    req.environ['wsgi.input_terminated'] = True
    res = req.get_response(wsgi_app)
    assert res.status_code == 413


def test_unexpected_error_is_a_json_500_without_traceback(caplog):
    def broken_app(environ, start_response):
        raise RuntimeError('secret internals')

    app = middleware.FaultWrapper(broken_app)
    res = webob.Request.blank('/v1/demo/providers').get_response(app)
    assert res.status_code == 500
    assert res.content_type == 'application/json'
    assert b'secret internals' not in res.body
    assert b'Traceback' not in res.body
    assert 'secret internals' in caplog.text


def test_every_response_has_a_request_id(api):
    res = api.get('providers')
    assert res.headers['x-openstack-request-id'].startswith('req-')
    res = api.get('providers?limit=abc')
    assert res.headers['x-openstack-request-id'].startswith('req-')
