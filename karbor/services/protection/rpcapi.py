"""Client side of the protection service's RPC API.

Every method is a cast: the caller has already written the row the
operation reports on (checkpoint, restore or verification), and the
protection service that receives the message takes that row before it
starts. A cast that fails (the broker still unreachable after
``rpc_cast_retries``) ends the row and its operation log in error at once
and raises OperationNotSent, so that nothing waits for a message never
sent.

API version history:
  1.0 - Initial version: protect, delete, restore.
  1.1 - verify; delete takes scheduled_operation_id.
  1.2 - verify takes scheduled_operation_id.
"""

from oslo_log import log as logging

from karbor import context as karbor_context
from karbor import exception
from karbor import rpc
from karbor.services.protection import manager
from karbor.services.protection import recovery

LOG = logging.getLogger(__name__)

_PROTECT, _DELETE, _RESTORE, _VERIFY = recovery.KINDS


class ProtectionAPI(object):
    RPC_API_VERSION = '1.2'

    def __init__(self):
        self.client = rpc.get_client(manager.TOPIC, self.RPC_API_VERSION)

    def _cast(self, context, kind, row_id, version, method, **kwargs):
        try:
            self.client.prepare(version=version).cast(context, method,
                                                      **kwargs)
        except Exception as exc:
            # Not only MessagingException: when it cannot open a new
            # connection, the rabbit driver lets the broker client's own
            # error through. Either way the message was not sent.
            LOG.error('Could not send %s of %s: %s: %s', method, row_id,
                      exc.__class__.__name__, exc)
            reason = 'could not be sent to a protection service: %s' % (
                exc.__class__.__name__)
            admin = karbor_context.get_admin_context()
            recovery.fail(admin, kind, kind.cls.get_by_id(admin, row_id),
                          None, reason)
            raise exception.OperationNotSent(reason=exc.__class__.__name__)

    def protect(self, context, checkpoint_id):
        self._cast(context, _PROTECT, checkpoint_id, '1.0', 'protect',
                   checkpoint_id=checkpoint_id)

    def delete(self, context, checkpoint_id, scheduled_operation_id=None):
        if scheduled_operation_id is None:
            self._cast(context, _DELETE, checkpoint_id, '1.0', 'delete',
                       checkpoint_id=checkpoint_id)
        else:
            self._cast(context, _DELETE, checkpoint_id, '1.1', 'delete',
                       checkpoint_id=checkpoint_id,
                       scheduled_operation_id=scheduled_operation_id)

    def restore(self, context, restore_id, restore_auth=None):
        self._cast(context, _RESTORE, restore_id, '1.0', 'restore',
                   restore_id=restore_id, restore_auth=restore_auth)

    def verify(self, context, verification_id, scheduled_operation_id=None):
        if scheduled_operation_id is None:
            self._cast(context, _VERIFY, verification_id, '1.1', 'verify',
                       verification_id=verification_id)
        else:
            self._cast(context, _VERIFY, verification_id, '1.2', 'verify',
                       verification_id=verification_id,
                       scheduled_operation_id=scheduled_operation_id)
