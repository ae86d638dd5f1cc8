"""A long-running Karbor service: RPC server, manager and heartbeat.

karbor-protection and karbor-operationengine are each one ``Service``;
karbor-all runs both in one process. The service registers itself in the
services table and heartbeats every ``report_interval`` seconds;
``GET /os-services`` reports it down once the heartbeat is older than
``service_down_time``. A service an administrator disabled
(``PUT /os-services/{id}``) stops consuming its RPC topic at its next
heartbeat, and consumes again once enabled.
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
        # Guards _rpc_server, which the heartbeat stops and starts again as
        # an administrator disables and enables the service.
        self._rpc_lock = threading.Lock()

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
                continue
            with self._rpc_lock:
                if not self._stopping.is_set():
                    self._follow_disabled()

    def _follow_disabled(self):
        """Consume from the topic only while enabled.

        A disabled service takes no new work: its messages go to the
        other services of the topic (or wait for one), while what it
        already took runs to its end. Called with _rpc_lock held.
        """
        if self.record.disabled and self._rpc_server is not None:
            self._stop_rpc()
            LOG.warning('%s on %s is disabled (%s): it takes no new work',
                        self.binary, self.host,
                        self.record.disabled_reason or 'no reason given')
        elif not self.record.disabled and self._rpc_server is None:
            LOG.info('%s on %s is enabled: it takes new work', self.binary,
                     self.host)
            self._rpc_server = rpc.get_server(self.topic, self.host,
                                              [self.manager])
            self._rpc_server.start()

    def _stop_rpc(self):
        if self._rpc_server is not None:
            self._rpc_server.stop()
            self._rpc_server.wait()
            self._rpc_server = None

    def start(self):
        self.record = self._register()
        self.manager.init_host(self.record)
        with self._rpc_lock:
            self._follow_disabled()
        self._heartbeat_thread = threading.Thread(
            target=self._heartbeat_loop, name='%s-heartbeat' % self.binary,
            daemon=True)
        self._heartbeat_thread.start()
        LOG.info('%s started on host %s (service id %s)', self.binary,
                 self.host, self.record.id)

    def stop(self):
        self._stopping.set()
        with self._rpc_lock:
            self._stop_rpc()
        self.manager.cleanup_host()
        if self._heartbeat_thread is not None:
            self._heartbeat_thread.join()
        LOG.info('%s on %s stopped', self.binary, self.host)
