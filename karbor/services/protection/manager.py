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
from karbor import manager
from karbor import objects
from karbor.objects import checkpoint as checkpoint_obj
from karbor.objects import operation_log
from karbor.objects import restore as restore_obj
from karbor.objects import verification as verification_obj
from karbor.services.protection import checkpoint as bank_checkpoint
from karbor.services.protection.flows import delete as delete_flow
from karbor.services.protection.flows import protect as protect_flow
from karbor.services.protection.flows import restore as restore_flow
from karbor.services.protection.flows import verify as verify_flow
from karbor.services.protection import provider as provider_registry

LOG = logging.getLogger(__name__)

BINARY = 'karbor-protection'
TOPIC = 'karbor-protection'

INTERRUPTED = 'interrupted: the protection service running it stopped'


class ProtectionManager(manager.Manager):

    target = messaging.Target(version='1.2')

    def __init__(self, host):
        super().__init__(host)
        self._executor = None
        self._banks = {}
        self._banks_lock = threading.Lock()

    # Service life ------------------------------------------------------
    def init_host(self, service):
        super().init_host(service)
        self._executor = futures.ThreadPoolExecutor(
            max_workers=CONF.protection_max_operations,
            thread_name_prefix='karbor-operation')
        self._fail_interrupted()

    def cleanup_host(self):
        if self._executor is not None:
            # Running flows finish; on a hard kill the next start marks
            # them interrupted.
            self._executor.shutdown(wait=True)

    def _fail_interrupted(self):
        """End in error what this host was running when it stopped."""
        ctx = karbor_context.get_admin_context()
        for row in objects.Checkpoint.list_owned(
                ctx, self.host, [checkpoint_obj.PROTECTING,
                                 checkpoint_obj.DELETING]):
            failed = (checkpoint_obj.ERROR
                      if row.status == checkpoint_obj.PROTECTING
                      else checkpoint_obj.ERROR_DELETING)
            if row.conditional_update(
                    {'status': failed, 'error_reason': INTERRUPTED},
                    {'status': row.status, 'host': self.host}):
                self._mark_bank_failed(row, failed)
                objects.OperationLog.fail_running(
                    ctx, (operation_log.PROTECT
                          if failed == checkpoint_obj.ERROR
                          else operation_log.DELETE),
                    INTERRUPTED, checkpoint_id=row.id)
                LOG.warning('Checkpoint %s was %s when %s stopped: now %s',
                            row.id, row.status, self.host, failed)
        for row in objects.Restore.list_owned(ctx, self.host,
                                              [restore_obj.IN_PROGRESS]):
            if row.conditional_update(
                    {'status': restore_obj.ERROR,
                     'resources_reason': {'': INTERRUPTED}},
                    {'status': restore_obj.IN_PROGRESS,
                     'host': self.host}):
                objects.OperationLog.fail_running(
                    ctx, operation_log.RESTORE, INTERRUPTED,
                    restore_id=row.id)
                LOG.warning('Restore %s was interrupted', row.id)
        for row in objects.Verification.list_owned(
                ctx, self.host, [verification_obj.VERIFYING]):
            if row.conditional_update(
                    {'status': verification_obj.ERROR,
                     'resources_reason': {'': INTERRUPTED}},
                    {'status': verification_obj.VERIFYING,
                     'host': self.host}):
                objects.OperationLog.fail_running(
                    ctx, operation_log.VERIFY, INTERRUPTED,
                    verification_id=row.id)
                LOG.warning('Verification %s was interrupted', row.id)

    def _mark_bank_failed(self, row, status):
        try:
            provider = provider_registry.get_registry().get(row.provider_id)
            checkpoint = bank_checkpoint.Checkpoint.load(
                self._bank(provider), row.id)
            checkpoint.update(status=status, error_reason=INTERRUPTED)
        except Exception:
            LOG.exception('Could not mark checkpoint %s failed in its bank',
                          row.id)

    def _bank(self, provider):
        with self._banks_lock:
            if provider.id not in self._banks:
                self._banks[provider.id] = provider.bank_class()
            return self._banks[provider.id]

    def _submit(self, fn, *args):
        self._executor.submit(self._guarded, fn, *args)

    @staticmethod
    def _guarded(fn, *args):
        try:
            fn(*args)
        except Exception:
            LOG.exception('Operation %s failed unexpectedly', fn.__name__)

    # RPC methods -------------------------------------------------------
    def protect(self, context, checkpoint_id):
        """Protect the plan copied into checkpoint ``checkpoint_id``."""
        self._submit(self._protect, context, checkpoint_id)

    def _protect(self, context, checkpoint_id):
        row = objects.Checkpoint.get_by_id(
            karbor_context.get_admin_context(), checkpoint_id)
        if not row.conditional_update(
                {'host': self.host},
                {'status': checkpoint_obj.PROTECTING, 'host': None}):
            LOG.warning('Checkpoint %s is not waiting to be protected',
                        checkpoint_id)
            return
        provider = provider_registry.get_registry().get(row.provider_id)
        protect_flow.run(context, row, provider, self._bank(provider))

    def delete(self, context, checkpoint_id, scheduled_operation_id=None):
        """Delete checkpoint ``checkpoint_id`` (already ``deleting``)."""
        self._submit(self._delete, context, checkpoint_id,
                     scheduled_operation_id)

    def _delete(self, context, checkpoint_id, scheduled_operation_id):
        row = objects.Checkpoint.get_by_id(
            karbor_context.get_admin_context(), checkpoint_id)
        if not row.conditional_update(
                {'host': self.host}, {'status': checkpoint_obj.DELETING}):
            return
        provider = provider_registry.get_registry().get(row.provider_id)
        delete_flow.run(context, row, provider, self._bank(provider),
                        scheduled_operation_id)

    def restore(self, context, restore_id, restore_auth=None):
        """Run restore ``restore_id``; ``restore_auth`` is never stored."""
        self._submit(self._restore, context, restore_id, restore_auth)

    def _restore(self, context, restore_id, restore_auth):
        row = objects.Restore.get_by_id(
            karbor_context.get_admin_context(), restore_id)
        if not row.conditional_update(
                {'host': self.host},
                {'status': restore_obj.IN_PROGRESS, 'host': None}):
            return
        provider = provider_registry.get_registry().get(row.provider_id)
        restore_flow.run(context, row, restore_auth, provider,
                         self._bank(provider))

    def verify(self, context, verification_id, scheduled_operation_id=None):
        """Run verification ``verification_id`` (already ``verifying``);
        ``scheduled_operation_id`` names the scheduled operation that
        started it, for its log."""
        self._submit(self._verify, context, verification_id,
                     scheduled_operation_id)

    def _verify(self, context, verification_id, scheduled_operation_id):
        row = objects.Verification.get_by_id(
            karbor_context.get_admin_context(), verification_id)
        if not row.conditional_update(
                {'host': self.host},
                {'status': verification_obj.VERIFYING, 'host': None}):
            return
        provider = provider_registry.get_registry().get(row.provider_id)
        verify_flow.run(context, row, provider, self._bank(provider),
                        scheduled_operation_id=scheduled_operation_id)
