"""What every service manager offers the Service that runs it."""


class Manager(object):
    """Base of the protection and operation-engine managers.

    A manager is the RPC endpoint of its service; its public methods are
    the server side of the service's RPC API.
    """

    def __init__(self, host):
        self.host = host
        self.service = None

    def init_host(self, service):
        """Called once the service row exists, before RPC starts."""
        self.service = service

    def cleanup_host(self):
        """Called after RPC stopped, before the process exits."""
