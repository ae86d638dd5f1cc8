"""Client side of the protection service's RPC API.

API version history:
  1.0 - Initial version.
"""

from karbor import rpc
from karbor.services.protection import manager


class ProtectionAPI(object):
    RPC_API_VERSION = '1.0'

    def __init__(self):
        self.client = rpc.get_client(manager.TOPIC, self.RPC_API_VERSION)
