"""karbor-api: serve the API pipeline with gunicorn worker processes."""

import gc
import multiprocessing

from gunicorn.app import base as gunicorn_base

from karbor.api import app as api_app
from karbor.cmd import common


class _GunicornApp(gunicorn_base.BaseApplication):
    """gunicorn driven from oslo.config rather than its command line."""

    def __init__(self, options):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        # Each worker loads the app itself, after the fork, so that no
        # DB or RPC connection is shared between processes.
        app = api_app.load_app()
        # What loading made (modules, the route table, the policy, about
        # 150,000 objects) lives as long as the worker: out of the
        # collector's sight, a full collection no longer stops every
        # request of the worker for a tenth of a second to walk it.
        gc.freeze()
        return app


def main():
    common.init()
    conf = common.CONF
    workers = conf.osapi_karbor_workers or multiprocessing.cpu_count()
    _GunicornApp({
        'bind': '%s:%d' % (conf.osapi_karbor_listen,
                           conf.osapi_karbor_listen_port),
        'workers': workers,
        'worker_class': 'gthread',
        'threads': conf.osapi_karbor_threads,
        'preload_app': False,
        'control_socket_disable': True,
        # No gunicorn access log: RequestLog already logs every request
        # once, with its request id, through oslo.log.
        'accesslog': None,
    }).run()
