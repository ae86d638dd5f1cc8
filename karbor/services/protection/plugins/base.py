"""The protection-plugin contract.

A protection plugin protects, restores, deletes and verifies resources of
the types it supports. Each of those four operations is an ``Operation``
with four hooks the flows call in order for every resource of a graph:
``on_prepare_begin`` (before any dependency is handled), ``on_prepare_finish``
(after the dependencies' prepare), ``on_main`` and ``on_complete`` (after
the dependencies completed). A hook reports failure by raising.

The plugin publishes a JSON schema per resource type for each of the
options it takes at protect time, at restore time and at verify time, and
for the information it saves in the checkpoint; providers show them in
their ``extended_info_schema``.
"""

import abc

_EMPTY_SCHEMA = {'type': 'object', 'properties': {},
                 'additionalProperties': False}


class Operation(object):
    """One operation on one resource; override the hooks you need."""

    def on_prepare_begin(self, checkpoint, resource, context, parameters,
                         **kwargs):
        pass

    def on_prepare_finish(self, checkpoint, resource, context, parameters,
                          **kwargs):
        pass

    def on_main(self, checkpoint, resource, context, parameters, **kwargs):
        pass

    def on_complete(self, checkpoint, resource, context, parameters,
                    **kwargs):
        pass


class ProtectionPlugin(metaclass=abc.ABCMeta):
    """Base of every protection plugin (entry points ``karbor.protections``).

    :param bank: the provider's bank plugin instance, where the plugin
        keeps its data.
    """

    def __init__(self, bank=None):
        self.bank = bank

    @classmethod
    @abc.abstractmethod
    def get_supported_resources_types(cls):
        """The resource types (e.g. 'OS::Karbor::Directory') handled."""

    @classmethod
    def get_options_schema(cls, resource_type):
        """Schema of the plan parameters for ``resource_type``."""
        return dict(_EMPTY_SCHEMA)

    @classmethod
    def get_restore_schema(cls, resource_type):
        """Schema of the restore parameters for ``resource_type``."""
        return dict(_EMPTY_SCHEMA)

    @classmethod
    def get_saved_info_schema(cls, resource_type):
        """Schema of what protect saves in the checkpoint per resource."""
        return dict(_EMPTY_SCHEMA)

    @classmethod
    def get_verify_schema(cls, resource_type):
        """Schema of the verification parameters for ``resource_type``."""
        return dict(_EMPTY_SCHEMA)

    @abc.abstractmethod
    def get_protect_operation(self, resource):
        """The Operation that protects ``resource`` into a checkpoint."""

    @abc.abstractmethod
    def get_restore_operation(self, resource):
        """The Operation that restores ``resource`` from a checkpoint."""

    @abc.abstractmethod
    def get_delete_operation(self, resource):
        """The Operation that removes ``resource``'s data from the bank."""

    def get_verify_operation(self, resource):
        """The Operation that verifies ``resource``'s data in the bank.

        None means the plugin cannot verify; verification then reports
        the resource as skipped, never as a success.
        """
        return None
