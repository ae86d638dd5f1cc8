"""The protection RPC client: each cast at the version that has it."""

from karbor.services.protection import manager
from karbor.services.protection import rpcapi


class FakeClient(object):

    def __init__(self):
        self.casts = []

    def prepare(self, version):
        client = self

        class Prepared(object):
            def cast(self, context, method, **kwargs):
                client.casts.append((version, method, kwargs))
        return Prepared()


def api(monkeypatch):
    client = FakeClient()
    monkeypatch.setattr(rpcapi.rpc, 'get_client',
                        lambda topic, version: client)
    return rpcapi.ProtectionAPI(), client


def test_verify_casts_at_the_version_that_has_its_arguments(monkeypatch):
    protection, client = api(monkeypatch)
    protection.verify('ctx', 'v-1')
    protection.verify('ctx', 'v-2', scheduled_operation_id='op-1')
    assert client.casts == [
        ('1.1', 'verify', {'verification_id': 'v-1'}),
        ('1.2', 'verify', {'verification_id': 'v-2',
                           'scheduled_operation_id': 'op-1'})]


def test_the_server_serves_the_client_version():
    assert manager.ProtectionManager.target.version == \
        rpcapi.ProtectionAPI.RPC_API_VERSION == '1.2'
