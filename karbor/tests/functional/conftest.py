"""The real API pipeline (paste, middlewares, router, policy, DB) in-process,
and the real services on the in-process transport."""

from oslo_serialization import jsonutils
import pytest
import webob

from karbor.api import app as api_app
from karbor.cmd import operationengine
from karbor.cmd import protection as protection_cmd
from karbor.tests.functional import helpers


class ApiClient(object):
    """Send requests through the WSGI app as ``USER:PROJECT``."""

    def __init__(self, app, user='alice', project='demo'):
        self.app = app
        self.user = user
        self.project = project

    def as_user(self, user, project=None):
        return ApiClient(self.app, user, project or self.project)

    def request(self, method, path, body=None, raw=None, headers=None,
                project_prefix=True):
        if project_prefix and not path.startswith('/'):
            path = '/v1/%s/%s' % (self.project, path)
        all_headers = {'X-Auth-Token': '%s:%s' % (self.user, self.project)}
        all_headers.update(headers or {})
        req = webob.Request.blank(path, method=method, headers=all_headers)
        if body is not None:
            req.body = jsonutils.dump_as_bytes(body)
            req.content_type = 'application/json'
        elif raw is not None:
            req.body = raw
            req.content_type = 'application/json'
        res = req.get_response(self.app)
        assert res.content_type == 'application/json', (
            res.status, res.content_type, res.body[:200])
        res.json_body = jsonutils.loads(res.body) if res.body else None
        return res

    def get(self, path, **kwargs):
        return self.request('GET', path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request('POST', path, body=body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self.request('PUT', path, body=body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request('DELETE', path, **kwargs)


@pytest.fixture(scope='session')
def wsgi_app(karbor_config):
    return api_app.load_app()


@pytest.fixture
def api(wsgi_app, db):
    return ApiClient(wsgi_app)


@pytest.fixture
def admin_api(api):
    return api.as_user('admin')


@pytest.fixture
def running_services(db):
    """karbor-protection and karbor-operationengine, started in-process."""
    services = [protection_cmd.build_service(),
                operationengine.build_service()]
    for svc in services:
        svc.start()
    yield services
    for svc in services:
        svc.stop()


@pytest.fixture
def data_root(tmp_path, override):
    override('root_path', str(tmp_path / 'data'), group='directory')
    override('file_system_bank_path', str(tmp_path / 'bank'),
             group='file_system_bank_plugin')
    return tmp_path


@pytest.fixture
def docs(api, data_root):
    """The directory ``docs`` of project demo."""
    helpers.make_tree('demo', 'docs', {'a.txt': b'alpha\n'})
    return 'docs'


@pytest.fixture
def protection(data_root, running_services):
    return running_services
