"""The operation engine's RPC endpoint: owns triggers and schedules.

RPC API version history:
  1.0 - Initial version.
"""

import oslo_messaging as messaging

from karbor import manager

BINARY = 'karbor-operationengine'
TOPIC = 'karbor-operationengine'


class OperationEngineManager(manager.Manager):

    target = messaging.Target(version='1.0')
