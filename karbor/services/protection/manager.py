"""The protection service's RPC endpoint: runs protect/restore/delete/verify.

RPC API version history (the client is karbor.services.protection.rpcapi):
  1.0 - Initial version.
"""

import oslo_messaging as messaging

from karbor import manager

BINARY = 'karbor-protection'
TOPIC = 'karbor-protection'


class ProtectionManager(manager.Manager):

    target = messaging.Target(version='1.0')
