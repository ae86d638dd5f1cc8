"""karbor-all: API, protection service and operation engine in one process.

For a first look and for development: in-process messaging (``fake://``),
SQLite and the file-system bank under a per-user state directory, noauth,
and the schema created or upgraded at start. ``--config-file`` overrides
any of it; the services still share this one process.
"""

import os
import threading

from cheroot import wsgi as cheroot_wsgi
from oslo_log import log as logging

from karbor.api import app as api_app
from karbor.cmd import common
from karbor.cmd import operationengine
from karbor.cmd import protection
from karbor.cmd import runner
from karbor.db import migration

LOG = logging.getLogger(__name__)


class AllInOne(object):
    """The three services of one process, started and stopped together."""

    def __init__(self):
        self.services = [protection.build_service(),
                         operationengine.build_service()]
        self.app = api_app.load_app()
        conf = common.CONF
        self.server = cheroot_wsgi.Server(
            (conf.osapi_karbor_listen, conf.osapi_karbor_listen_port),
            self.app, numthreads=conf.osapi_karbor_threads)
        self._thread = None

    @property
    def url(self):
        host, port = self.server.bind_addr[:2]
        return 'http://%s:%d' % (host, port)

    def start(self):
        for svc in self.services:
            svc.start()
        self.server.prepare()
        self._thread = threading.Thread(target=self.server.serve,
                                        name='karbor-api', daemon=True)
        self._thread.start()

    def stop(self):
        self.server.stop()
        for svc in reversed(self.services):
            svc.stop()


def main(argv=None):
    conf = common.CONF
    conf.set_default('transport_url', 'fake://')
    common.init(argv)
    os.makedirs(conf.state_path, exist_ok=True)
    migration.upgrade()
    print('karbor-all: state in %s' % conf.state_path, flush=True)
    everything = AllInOne()

    def start():
        everything.start()
        print('karbor-all: API on %s (auth_strategy=%s); Ctrl-C stops' % (
            everything.url, conf.auth_strategy), flush=True)

    runner.run_until_signalled(start, everything.stop)
