"""karbor-protection: the service that runs protection flows."""

from karbor.cmd import common
from karbor.cmd import runner
from karbor import service
from karbor.services.protection import manager


def build_service():
    return service.Service(manager.BINARY, manager.TOPIC,
                           manager.ProtectionManager(common.CONF.host))


def main():
    common.init()
    svc = build_service()
    runner.run_until_signalled(svc.start, svc.stop)
