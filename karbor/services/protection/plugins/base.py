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
    """One operation on one resource; override the hooks you need.

    Every hook is called with keyword arguments:

    - ``checkpoint``: the karbor.services.protection.checkpoint.Checkpoint
      (bank, ids, plan, saved info of every resource, ``resource_key()``
      for the plugin's own bank objects);
    - ``resource``: the karbor.services.protection.resource.Resource;
    - ``context``: the RequestContext of the operation;
    - ``parameters``: this resource's parameters (plan options, restore or
      verify parameters: the ``TYPE`` entry overlaid with ``TYPE#ID``);
    - ``report``: the OperationReport to record ``saved_info`` (protect),
      ``extra_info`` (figures for the operation log), ``reason`` and
      ``progress`` for this resource;
    - restore hooks also get ``restore`` (id, target, ``restore_auth``),
      verify hooks ``verification`` (id).
    """

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


class ProtectablePlugin(metaclass=abc.ABCMeta):
    """Base of every protectable plugin (entry points
    ``karbor.protectables``): what can be protected, per resource type.
    """

    def __init__(self, context=None):
        self.context = context

    @abc.abstractmethod
    def get_resource_type(self):
        """The resource type this plugin lists, e.g. OS::Karbor::Directory."""

    def get_parent_resource_types(self):
        """Types whose instances may depend on instances of this type."""
        return ()

    @abc.abstractmethod
    def list_resources(self, context, parameters=None):
        """The context's project's instances, as Resources."""

    @abc.abstractmethod
    def show_resource(self, context, resource_id, parameters=None):
        """One instance; raises ProtectableResourceNotFound."""

    def get_dependent_resources(self, context, parent_resource):
        """Instances of this type that ``parent_resource`` depends on."""
        return []


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
