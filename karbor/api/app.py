"""The route table and the paste.deploy factories of the API.

etc/karbor/api-paste.ini composes these into the served pipeline;
``load_app()`` loads it for karbor-api, karbor-all and the WSGI module.
"""

import os

from oslo_log import log as logging
from paste import deploy
import webob.exc

from karbor.api import faults
from karbor.api import openapi
from karbor.api import router
from karbor.api.v1 import checkpoints
from karbor.api.v1 import operation_logs
from karbor.api.v1 import plans
from karbor.api.v1 import protectables
from karbor.api.v1 import providers
from karbor.api.v1 import quotas
from karbor.api.v1 import restores
from karbor.api.v1 import scheduled_operations
from karbor.api.v1 import services
from karbor.api.v1 import triggers
from karbor.api.v1 import verifications
from karbor.api import versions
from karbor.conf import CONF
from karbor.conf import paths
from karbor.db import session as db_session
from karbor import exception
from karbor import objects
from karbor.services.protection import provider

LOG = logging.getLogger(__name__)

# Paths are relative to /v1; ``project_id`` is checked against the token.
V1_ROUTES = {
    '/': {'GET': versions.v1},
    '/openapi.json': {'GET': openapi.serve},
    '/{project_id}/providers': {'GET': providers.index},
    '/{project_id}/providers/{provider_id}': {'GET': providers.show},
    '/{project_id}/providers/{provider_id}/checkpoints': {
        'GET': checkpoints.index, 'POST': checkpoints.create},
    '/{project_id}/providers/{provider_id}/checkpoints/{checkpoint_id}': {
        'GET': checkpoints.show, 'PUT': checkpoints.update,
        'DELETE': checkpoints.delete},
    '/{project_id}/providers/{provider_id}/operation_logs': {
        'GET': operation_logs.index},
    '/{project_id}/providers/{provider_id}/operation_logs/{operation_log_id}':
        {'GET': operation_logs.show},
    '/{project_id}/operation_logs': {'GET': operation_logs.index},
    '/{project_id}/operation_logs/{operation_log_id}': {
        'GET': operation_logs.show},
    '/{project_id}/plans': {'GET': plans.index, 'POST': plans.create},
    '/{project_id}/plans/{plan_id}': {
        'GET': plans.show, 'PUT': plans.update, 'DELETE': plans.delete},
    '/{project_id}/protectables': {'GET': protectables.index},
    '/{project_id}/protectables/{protectable_type}': {
        'GET': protectables.show},
    '/{project_id}/protectables/{protectable_type}/instances': {
        'GET': protectables.instances_index},
    '/{project_id}/protectables/{protectable_type}/instances/{resource_id}': {
        'GET': protectables.instances_show},
    '/{project_id}/quotas/{target_project_id}': {
        'GET': quotas.show, 'PUT': quotas.update, 'DELETE': quotas.delete},
    '/{project_id}/quotas/{target_project_id}/detail': {
        'GET': quotas.detail},
    '/{project_id}/quotas/{target_project_id}/defaults': {
        'GET': quotas.defaults},
    '/{project_id}/quota_classes/{class_name}': {
        'GET': quotas.class_show, 'PUT': quotas.class_update},
    '/{project_id}/restores': {'GET': restores.index,
                               'POST': restores.create},
    '/{project_id}/restores/{restore_id}': {'GET': restores.show},
    '/{project_id}/verifications': {'GET': verifications.index,
                                    'POST': verifications.create},
    '/{project_id}/verifications/{verification_id}': {
        'GET': verifications.show},
    '/{project_id}/triggers': {'GET': triggers.index,
                               'POST': triggers.create},
    '/{project_id}/triggers/{trigger_id}': {
        'GET': triggers.show, 'PUT': triggers.update,
        'DELETE': triggers.delete},
    '/{project_id}/scheduled_operations': {
        'GET': scheduled_operations.index,
        'POST': scheduled_operations.create},
    '/{project_id}/scheduled_operations/{scheduled_operation_id}': {
        'GET': scheduled_operations.show,
        'PUT': scheduled_operations.update,
        'DELETE': scheduled_operations.delete},
    '/{project_id}/os-services': {'GET': services.index},
    '/{project_id}/os-services/{service_id}': {'PUT': services.update},
}


def v1_factory(global_conf, **local_conf):
    """The v1 router; everything it needs is made ready here, at load."""
    objects.register_all()
    db_session.configure(CONF)
    provider.get_registry()
    return router.Router(V1_ROUTES)


def versions_factory(global_conf, **local_conf):
    return router.Router({'/': {'GET': versions.root}})


class VersionedRoot(object):
    """Send ``/`` to the version document and ``/v1...`` to the v1 app."""

    def __init__(self, root_app, v1_app):
        self.root_app = root_app
        self.v1_app = v1_app

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '')
        if path in ('', '/'):
            return self.root_app(environ, start_response)
        if path == '/v1' or path.startswith('/v1/'):
            environ['SCRIPT_NAME'] = environ.get('SCRIPT_NAME', '') + '/v1'
            environ['PATH_INFO'] = path[3:]
            return self.v1_app(environ, start_response)
        return faults.from_webob(webob.exc.HTTPNotFound(
            explanation='No resource at %s.' % path))(environ,
                                                      start_response)


def root_factory(loader, global_conf, **local_conf):
    return VersionedRoot(loader.get_app(local_conf['/']),
                         loader.get_app(local_conf['/v1']))


def pipeline_factory(loader, global_conf, **local_conf):
    """Pick the pipeline named after ``[DEFAULT] auth_strategy``."""
    names = local_conf[CONF.auth_strategy].split()
    app = loader.get_app(names[-1])
    for name in reversed(names[:-1]):
        app = loader.get_filter(name)(app)
    return app


def find_paste_config():
    """Absolute path of api_paste_config, searched as its help says."""
    name = CONF.api_paste_config
    if os.path.isabs(name):
        candidates = [name]
    else:
        dirs = [os.path.dirname(f) for f in CONF.config_file or []]
        candidates = [os.path.join(d, name)
                      for d in dirs + paths.etc_dirs()]
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise exception.KarborException(
        'API paste configuration %s not found (looked at %s).' % (
            name, ', '.join(candidates)))


def load_app(name='osapi_karbor'):
    path = find_paste_config()
    LOG.info('Loading API pipeline %s from %s', name, path)
    return deploy.loadapp('config:%s' % path, name=name)
