"""Client side of the protection service's RPC API.

Every method is a cast: the API has already written the row the operation
reports on (checkpoint or restore), and the protection service that picks
the message claims that row before it starts.

API version history:
  1.0 - Initial version: protect, delete, restore.
  1.1 - verify; delete takes scheduled_operation_id.
  1.2 - verify takes scheduled_operation_id.
"""

from karbor import rpc
from karbor.services.protection import manager


class ProtectionAPI(object):
    RPC_API_VERSION = '1.2'

    def __init__(self):
        self.client = rpc.get_client(manager.TOPIC, self.RPC_API_VERSION)

    def protect(self, context, checkpoint_id):
        self.client.prepare(version='1.0').cast(
            context, 'protect', checkpoint_id=checkpoint_id)

    def delete(self, context, checkpoint_id, scheduled_operation_id=None):
        if scheduled_operation_id is None:
            self.client.prepare(version='1.0').cast(
                context, 'delete', checkpoint_id=checkpoint_id)
        else:
            self.client.prepare(version='1.1').cast(
                context, 'delete', checkpoint_id=checkpoint_id,
                scheduled_operation_id=scheduled_operation_id)

    def restore(self, context, restore_id, restore_auth=None):
        self.client.prepare(version='1.0').cast(
            context, 'restore', restore_id=restore_id,
            restore_auth=restore_auth)

    def verify(self, context, verification_id, scheduled_operation_id=None):
        if scheduled_operation_id is None:
            self.client.prepare(version='1.1').cast(
                context, 'verify', verification_id=verification_id)
        else:
            self.client.prepare(version='1.2').cast(
                context, 'verify', verification_id=verification_id,
                scheduled_operation_id=scheduled_operation_id)
