"""The protection service's RPC endpoint: runs protect/restore/delete flows.

RPC API version history (the client is karbor.services.protection.rpcapi):
  1.0 - Initial version: protect, delete, restore.
  1.1 - verify; delete takes scheduled_operation_id.
  1.2 - verify takes scheduled_operation_id.
"""

from concurrent import futures
import threading

from oslo_log import log as logging
import oslo_messaging as messaging

from karbor.conf import CONF
from karbor import context as karbor_context
from karbor.db import models
from karbor import exception
from karbor import manager
from karbor import objects
from karbor.objects import checkpoint as checkpoint_obj
from karbor.objects import restore as restore_obj
from karbor.objects import verification as verification_obj
from karbor.services.protection.flows import delete as delete_flow
from karbor.services.protection.flows import protect as protect_flow
from karbor.services.protection.flows import restore as restore_flow
from karbor.services.protection.flows import verify as verify_flow
from karbor.services.protection import provider as provider_registry
from karbor.services.protection import recovery

LOG = logging.getLogger(__name__)

BINARY = recovery.PROTECTION_BINARY
TOPIC = 'karbor-protection'


class ProtectionManager(manager.Manager):

    target = messaging.Target(version='1.2')

    def __init__(self, host):
        super().__init__(host)
        self._executor = None
        self._watcher = None
        self._banks = {}
        self._banks_lock = threading.Lock()

    # Service life ------------------------------------------------------
    def init_host(self, service):
        super().init_host(service)
        self._executor = futures.ThreadPoolExecutor(
            max_workers=CONF.protection_max_operations,
            thread_name_prefix='karbor-operation')
        ctx = karbor_context.get_admin_context()
        # What this host took before it stopped will never finish: its
        # flows and its queue died with the process.
        recovery.fail_host(
            ctx, self.host, 'interrupted: protection service %s stopped '
            'while running it (restarted at %s)' % (
                self.host, models.utcnow().isoformat(timespec='seconds')))
        self._watcher = recovery.Watcher(own_host=self.host)
        try:
            self._watcher.check()
        except Exception:
            LOG.exception('Could not check for interrupted operations')
        self._watcher.start()

    def cleanup_host(self):
        if self._watcher is not None:
            self._watcher.stop()
        if self._executor is not None:
            # Running and queued flows finish; on a hard kill, this host
            # at its next start or a live peer ends them interrupted.
            self._executor.shutdown(wait=True)

    def _bank(self, provider):
        with self._banks_lock:
            if provider.id not in self._banks:
                self._banks[provider.id] = provider.bank_class()
            return self._banks[provider.id]

    def _claim(self, cls, row_id, status):
        """Take the row waiting in ``status`` for a service; None if it is
        not waiting (another service took it, or it was ended as never
        taken)."""
        ctx = karbor_context.get_admin_context()
        try:
            row = cls.get_by_id(ctx, row_id)
        except exception.NotFound:
            LOG.warning('%s %s no longer exists', cls.obj_name(), row_id)
            return None
        if not row.conditional_update({'host': self.host},
                                      {'status': status, 'host': None}):
            LOG.warning('%s %s is not waiting for a protection service '
                        '(it is %s on %s)', cls.obj_name(), row_id,
                        row.status, row.host)
            return None
        return row

    def _submit(self, fn, *args):
        self._executor.submit(self._guarded, fn, *args)

    @staticmethod
    def _guarded(fn, *args):
        try:
            fn(*args)
        except Exception:
            LOG.exception('Operation %s failed unexpectedly', fn.__name__)

    # RPC methods -------------------------------------------------------
    # Each takes its row when the cast arrives, before the flow waits for
    # a free worker: a row with no host is one no service received, and
    # the rows of a dead host include what was still queued in it.
    def protect(self, context, checkpoint_id):
        """Protect the plan copied into checkpoint ``checkpoint_id``."""
        row = self._claim(objects.Checkpoint, checkpoint_id,
                          checkpoint_obj.PROTECTING)
        if row is not None:
            self._submit(self._protect, context, row)

    def _protect(self, context, row):
        provider = provider_registry.get_registry().get(row.provider_id)
        protect_flow.run(context, row, provider, self._bank(provider))

    def delete(self, context, checkpoint_id, scheduled_operation_id=None):
        """Delete checkpoint ``checkpoint_id`` (already ``deleting``)."""
        row = self._claim(objects.Checkpoint, checkpoint_id,
                          checkpoint_obj.DELETING)
        if row is not None:
            self._submit(self._delete, context, row, scheduled_operation_id)

    def _delete(self, context, row, scheduled_operation_id):
        provider = provider_registry.get_registry().get(row.provider_id)
        delete_flow.run(context, row, provider, self._bank(provider),
                        scheduled_operation_id)

    def restore(self, context, restore_id, restore_auth=None):
        """Run restore ``restore_id``; ``restore_auth`` is never stored."""
        row = self._claim(objects.Restore, restore_id,
                          restore_obj.IN_PROGRESS)
        if row is not None:
            self._submit(self._restore, context, row, restore_auth)

    def _restore(self, context, row, restore_auth):
        provider = provider_registry.get_registry().get(row.provider_id)
        restore_flow.run(context, row, restore_auth, provider,
                         self._bank(provider))

    def verify(self, context, verification_id, scheduled_operation_id=None):
        """Run verification ``verification_id`` (already ``verifying``);
        ``scheduled_operation_id`` names the scheduled operation that
        started it, for its log."""
        row = self._claim(objects.Verification, verification_id,
                          verification_obj.VERIFYING)
        if row is not None:
            self._submit(self._verify, context, row, scheduled_operation_id)

    def _verify(self, context, row, scheduled_operation_id):
        provider = provider_registry.get_registry().get(row.provider_id)
        verify_flow.run(context, row, provider, self._bank(provider),
                        scheduled_operation_id=scheduled_operation_id)
