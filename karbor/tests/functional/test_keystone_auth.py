"""The keystone pipeline: auth_token in front, roles mapped to policy."""

from keystoneauth1 import loading
from keystonemiddleware import fixture as ksm_fixture
from keystonemiddleware import opts as ksm_opts
from oslo_serialization import jsonutils
import pytest
import webob

from karbor.api import app as api_app
from karbor.conf import CONF


@pytest.fixture
def keystone_app(override, db):
    override('auth_strategy', 'keystone')
    tokens = ksm_fixture.AuthTokenFixture()
    tokens.setUp()
    tokens.add_token_data(token_id='admin-token', user_id='u-admin',
                          project_id='p1', role_list=['admin', 'member',
                                                      'reader'])
    tokens.add_token_data(token_id='member-token', user_id='u-member',
                          project_id='p1', role_list=['member', 'reader'])
    tokens.add_token_data(token_id='reader-token', user_id='u-reader',
                          project_id='p1', role_list=['reader'])
    for group, opts in ksm_opts.list_auth_token_opts():
        CONF.register_opts(opts, group=group)
    # Where the 401 tells clients to authenticate; without it the
    # middleware would ask a catalog the tests do not have.
    override('www_authenticate_uri', 'http://keystone.example/identity',
             group='keystone_authtoken')
    yield api_app.load_app()
    tokens.cleanUp()


def _get(app, path, token=None):
    headers = {'X-Auth-Token': token} if token else {}
    res = webob.Request.blank(path, headers=headers).get_response(app)
    assert res.content_type == 'application/json', res.body[:200]
    return res.status_code, jsonutils.loads(res.body)


@pytest.fixture
def keystone_app_without_uri(override, db):
    """The keystone pipeline with no www_authenticate_uri and no service
    credentials: the middleware cannot find the identity endpoint."""
    override('auth_strategy', 'keystone')
    tokens = ksm_fixture.AuthTokenFixture()
    tokens.setUp()
    yield api_app.load_app()
    tokens.cleanUp()


def _unauthorized(app, token=None):
    headers = {'X-Auth-Token': token} if token else {}
    res = webob.Request.blank('/v1/p1/providers',
                              headers=headers).get_response(app)
    assert res.status_code == 401, res.body[:300]
    assert res.content_type == 'application/json'
    # Karbor's one error shape, not the middleware's own.
    assert jsonutils.loads(res.body) == {'unauthorized': {
        'code': 401, 'message': 'Authentication required: the request has '
                                'no valid X-Auth-Token.'}}
    return res


@pytest.mark.parametrize('token', [None, 'no-such-token'],
                         ids=['no-token', 'bad-token'])
def test_401_names_where_to_authenticate(keystone_app, token):
    res = _unauthorized(keystone_app, token)
    assert res.headers['WWW-Authenticate'] == (
        'Keystone uri="http://keystone.example/identity"')


@pytest.mark.parametrize('token', [None, 'no-such-token'],
                         ids=['no-token', 'bad-token'])
def test_401_without_www_authenticate_uri_is_not_a_500(
        keystone_app_without_uri, token, caplog):
    res = _unauthorized(keystone_app_without_uri, token)
    assert res.headers['WWW-Authenticate'] == 'Keystone uri=""'
    assert 'set [keystone_authtoken] www_authenticate_uri' in caplog.text


def test_version_document_needs_no_token(keystone_app):
    assert _get(keystone_app, '/')[0] == 200


def test_roles_map_to_policy(keystone_app):
    assert _get(keystone_app, '/v1/p1/providers', 'reader-token')[0] == 200
    assert _get(keystone_app, '/v1/p1/os-services', 'member-token')[0] == 403
    assert _get(keystone_app, '/v1/p1/os-services', 'admin-token')[0] == 200
    # The URL's project must be the token's.
    assert _get(keystone_app, '/v1/p2/providers', 'member-token')[0] == 403


def test_keystone_unreachable_is_a_json_503(override, db):
    """The token cannot be checked: the middleware's own 503, in JSON."""
    override('auth_strategy', 'keystone')
    group = 'keystone_authtoken'
    for group_name, opts in ksm_opts.list_auth_token_opts():
        CONF.register_opts(opts, group=group_name)
    loading.register_auth_conf_options(CONF, group)
    CONF.register_opts(loading.get_auth_plugin_conf_options('password'),
                       group=group)
    override('auth_type', 'password', group=group)
    # Nothing listens on port 9 (discard) of the loopback.
    override('auth_url', 'http://127.0.0.1:9/identity', group=group)
    override('username', 'karbor', group=group)
    override('password', 'secret', group=group)
    override('http_request_max_retries', 0, group=group)
    res = webob.Request.blank('/v1/p1/providers', headers={
        'X-Auth-Token': 'some-token'}).get_response(api_app.load_app())
    assert res.status_code == 503, res.body[:300]
    assert jsonutils.loads(res.body) == {'serviceUnavailable': {
        'code': 503,
        'message': 'The Keystone service is temporarily unavailable.'}}
