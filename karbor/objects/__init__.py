"""Versioned objects: the only layer that talks to the database.

``register_all()`` imports every object module so that the registry (and
the RPC serializer) knows every class before the first message arrives.
"""


def register_all():
    __import__('karbor.objects.checkpoint')
    __import__('karbor.objects.operation_log')
    __import__('karbor.objects.plan')
    __import__('karbor.objects.quota')
    __import__('karbor.objects.restore')
    __import__('karbor.objects.scheduled_operation')
    __import__('karbor.objects.service')
    __import__('karbor.objects.trigger')
    __import__('karbor.objects.verification')
    __import__('karbor.objects.verify_cycle')
