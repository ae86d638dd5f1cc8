"""A long-running Karbor service: RPC server, manager and heartbeat.

karbor-protection and karbor-operationengine are each one ``Service``;
karbor-all runs both in one process. The service registers itself in the
services table and heartbeats every ``report_interval`` seconds;
``GET /os-services`` reports it down once the heartbeat is older than
``service_down_time``.
"""

import threading

from oslo_log import log as logging

from karbor.conf import CONF
from karbor import context
from karbor import exception
from karbor import objects
from karbor import rpc

LOG = logging.getLogger(__name__)


class Service(object):

    def __init__(self, binary, topic, manager, host=None):
        self.binary = binary
        self.topic = topic
        self.manager = manager
        self.host = host or CONF.host
        self.record = None
        self._rpc_server = None
        self._stopping = threading.Event()
        self._heartbeat_thread = None

    def _register(self):
        ctx = context.get_admin_context()
        try:
            record = objects.Service.get_by_host_and_binary(
                ctx, self.host, self.binary)
        except exception.ServiceNotFound:
            record = objects.Service(ctx, host=self.host, binary=self.binary,
                                     topic=self.topic, report_count=0,
                                     disabled=False)
            record.create()
        record.heartbeat()
        return record

    def _heartbeat_loop(self):
        while not self._stopping.wait(CONF.report_interval):
            try:
                self.record.heartbeat()
            except Exception:
                # A database blip must not kill the service: the next beat
                # tries again, and until then the API may show it down.
                LOG.exception('%s on %s failed to report its heartbeat',
                              self.binary, self.host)

    def start(self):
        self.record = self._register()
        self.manager.init_host(self.record)
        self._rpc_server = rpc.get_server(self.topic, self.host,
                                          [self.manager])
        self._rpc_server.start()
        self._heartbeat_thread = threading.Thread(
            target=self._heartbeat_loop, name='%s-heartbeat' % self.binary,
            daemon=True)
        self._heartbeat_thread.start()
        LOG.info('%s started on host %s (service id %s)', self.binary,
                 self.host, self.record.id)

    def stop(self):
        self._stopping.set()
        if self._rpc_server is not None:
            self._rpc_server.stop()
            self._rpc_server.wait()
        self.manager.cleanup_host()
        if self._heartbeat_thread is not None:
            self._heartbeat_thread.join()
        LOG.info('%s on %s stopped', self.binary, self.host)
