"""The operation engine's service manager: runs the scheduler.

The engine needs no RPC method yet: the API writes triggers and scheduled
operations to the database, and every engine reads its schedule from
there (karbor.services.operationengine.scheduler). Several engines may
run against one database; each due run is started by exactly one.

RPC API version history:
  1.0 - Initial version.
"""

import oslo_messaging as messaging

from karbor import manager
from karbor.services.operationengine import scheduler
from karbor.services.protection import recovery

BINARY = scheduler.ENGINE_BINARY
TOPIC = 'karbor-operationengine'


class OperationEngineManager(manager.Manager):

    target = messaging.Target(version='1.0')

    def __init__(self, host, clock=None):
        super().__init__(host)
        self.clock = clock
        self.scheduler = None
        self.watcher = None

    def init_host(self, service):
        """Resume this host's unfinished runs and start polling."""
        super().init_host(service)
        self.scheduler = scheduler.Scheduler(self.host, clock=self.clock)
        self.scheduler.start()
        # Operations no protection service took end in error even while
        # no protection service runs at all.
        self.watcher = recovery.Watcher()
        self.watcher.start()

    def cleanup_host(self):
        if self.watcher is not None:
            self.watcher.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
