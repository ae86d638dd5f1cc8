"""karbor_horizon.api against a small HTTP server playing the Karbor API.

The server answers what the real API answers in these cases (its JSON
error body, a bare 500 from a proxy, an object); the point is how the
plugin turns each into a result or a KarborError.
"""

import http.server
import json
import socket
import threading
import types

import pytest

from karbor_horizon import api

ANSWERS = {
    '/v1/p1/plans/missing': (404, 'application/json', json.dumps(
        {'itemNotFound': {'code': 404,
                          'message': 'Plan missing could not be found.'}})),
    '/v1/p1/plans/proxy': (502, 'text/html', '<h1>Bad Gateway</h1>'),
    '/v1/p1/plans/p-1': (200, 'application/json', json.dumps(
        {'plan': {'id': 'p-1', 'name': 'docs', 'status': 'suspended'}})),
}


class Handler(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):
        Handler.seen.append((self.path, self.headers.get('X-Auth-Token')))
        status, kind, body = ANSWERS[self.path.split('?')[0]]
        self.send_response(status)
        self.send_header('Content-Type', kind)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope='module')
def endpoint():
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d/v1/p1' % server.server_port
    server.shutdown()


def request_for(url):
    """What api reads of a Django request: the token and the catalog."""
    catalog = [{'type': 'data-protect', 'name': 'karbor', 'endpoints': [
        {'interface': 'public', 'region': 'RegionOne', 'region_id':
         'RegionOne', 'url': url}]}]
    user = types.SimpleNamespace(token=types.SimpleNamespace(id='tok-1'),
                                 service_catalog=catalog,
                                 services_region='RegionOne')
    return types.SimpleNamespace(user=user)


def test_an_object_reads_by_key_and_attribute(endpoint):
    plan = api.get(request_for(endpoint), '/plans/p-1', 'plan')
    assert plan.name == plan['name'] == 'docs'
    assert Handler.seen[-1] == ('/v1/p1/plans/p-1', 'tok-1')


def test_the_apis_error_message_is_kept(endpoint):
    with pytest.raises(api.KarborError) as caught:
        api.get(request_for(endpoint), '/plans/missing', 'plan')
    assert caught.value.status == 404
    assert caught.value.message == 'Plan missing could not be found.'


def test_a_non_json_error_gives_its_status_line(endpoint):
    with pytest.raises(api.KarborError) as caught:
        api.get(request_for(endpoint), '/plans/proxy', 'plan')
    assert caught.value.status == 502
    assert caught.value.message == '502 Bad Gateway'


def test_an_unreachable_api_is_an_error_not_a_crash():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    with pytest.raises(api.KarborError) as caught:
        api.get(request_for('http://127.0.0.1:%d/v1/p1' % port),
                '/plans/p-1', 'plan')
    assert 'could not be reached' in caught.value.message
    assert caught.value.status is None


def test_no_data_protect_service_in_the_catalog():
    request = request_for('http://127.0.0.1:9/v1/p1')
    request.user.service_catalog = []
    with pytest.raises(api.KarborError) as caught:
        api.get(request, '/plans/p-1', 'plan')
    assert 'data-protect' in caught.value.message
