"""oslo.messaging plumbing: one transport, clients and servers on it."""

import threading

import oslo_messaging as messaging

from karbor.conf import CONF
from karbor import context
from karbor.objects import base as objects_base

_transport = None
_lock = threading.Lock()


class RequestContextSerializer(messaging.Serializer):
    """Carry the RequestContext and versioned objects across RPC."""

    def __init__(self):
        self._objects = objects_base.KarborObjectSerializer()

    def serialize_entity(self, ctxt, entity):
        return self._objects.serialize_entity(ctxt, entity)

    def deserialize_entity(self, ctxt, entity):
        return self._objects.deserialize_entity(ctxt, entity)

    def serialize_context(self, ctxt):
        return ctxt.to_dict()

    def deserialize_context(self, ctxt):
        return context.RequestContext.from_dict(ctxt)


def get_transport():
    """The process's RPC transport (``[DEFAULT] transport_url``)."""
    global _transport
    with _lock:
        if _transport is None:
            _transport = messaging.get_rpc_transport(CONF)
        return _transport


def cleanup():
    global _transport
    with _lock:
        if _transport is not None:
            _transport.cleanup()
        _transport = None


def get_client(topic, version, version_cap=None):
    # A bounded retry: while the broker is unreachable a send raises a
    # MessagingException after rpc_cast_retries attempts, which callers
    # turn into a failed operation, instead of blocking for ever.
    target = messaging.Target(topic=topic, version=version)
    return messaging.get_rpc_client(get_transport(), target,
                                    version_cap=version_cap,
                                    serializer=RequestContextSerializer(),
                                    retry=CONF.rpc_cast_retries)


def get_server(topic, host, endpoints):
    # The executor is left unset: oslo.messaging picks threading when
    # nothing is monkey-patched.
    target = messaging.Target(topic=topic, server=host)
    return messaging.get_rpc_server(
        get_transport(), target, endpoints,
        serializer=RequestContextSerializer(),
        access_policy=messaging.DefaultRPCAccessPolicy)
