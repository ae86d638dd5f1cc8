"""Protection providers: a bank plus protection plugins, defined in files.

Every ``*.conf`` file in ``[provider] config_dir`` defines one provider::

    [provider]
    name = Local Directory
    description = ...
    id = b766f37c-d011-4026-8228-28730d734a3f
    bank = file-system
    plugin = directory
    enabled = true

``bank`` names an entry point in ``karbor.banks``; each ``plugin`` line
one in ``karbor.protections``. Providers are configuration, read once per
process, so the API serves them without a round trip to the protection
service.
"""

import glob
import os
import threading

from oslo_config import cfg
from oslo_utils import uuidutils
import stevedore.driver

from karbor.conf import CONF
from karbor import exception

BANK_NAMESPACE = 'karbor.banks'
PROTECTION_NAMESPACE = 'karbor.protections'

_SCHEMA_KINDS = {
    'options_schema': 'get_options_schema',
    'restore_schema': 'get_restore_schema',
    'saved_info_schema': 'get_saved_info_schema',
    'verify_schema': 'get_verify_schema',
}

_provider_opts = [
    cfg.StrOpt('name', required=True),
    cfg.StrOpt('description', default=''),
    cfg.StrOpt('id', required=True),
    cfg.StrOpt('bank', required=True),
    cfg.MultiStrOpt('plugin', default=[]),
    cfg.BoolOpt('enabled', default=True),
]


def _load_class(namespace, name, path):
    try:
        return stevedore.driver.DriverManager(
            namespace, name, invoke_on_load=False).driver
    except (stevedore.exception.NoMatches, RuntimeError):
        raise exception.ProviderConfigError(
            path=path, reason='no %s plugin named %r is installed' % (
                namespace, name))


class Provider(object):
    """One provider: its definition and its plugin classes.

    Plugin classes are loaded here; instances (which may open connections
    or files) are only made by the protection service, when it needs them.
    """

    def __init__(self, path, id, name, description, bank, plugins):
        self.path = path
        self.id = id
        self.name = name
        self.description = description
        self.bank_name = bank
        self._view = None
        self.bank_class = _load_class(BANK_NAMESPACE, bank, path)
        # resource type -> protection plugin class
        self.plugin_classes = {}
        for plugin_name in plugins:
            plugin = _load_class(PROTECTION_NAMESPACE, plugin_name, path)
            for resource_type in plugin.get_supported_resources_types():
                self.plugin_classes[resource_type] = plugin

    def plugin(self, resource_type, bank, cache):
        """A protection plugin instance for ``resource_type``.

        ``cache`` (a dict) keeps one instance per plugin class for the
        duration of one operation.
        """
        try:
            plugin_cls = self.plugin_classes[resource_type]
        except KeyError:
            raise exception.Invalid(
                'Provider %s has no protection plugin for resource type '
                '%s.' % (self.name, resource_type))
        if plugin_cls not in cache:
            cache[plugin_cls] = plugin_cls(bank=bank)
        return cache[plugin_cls]

    def extended_info_schema(self):
        schemas = {kind: {} for kind in _SCHEMA_KINDS}
        for resource_type, plugin in sorted(self.plugin_classes.items()):
            for kind, getter in _SCHEMA_KINDS.items():
                schemas[kind][resource_type] = getattr(plugin, getter)(
                    resource_type)
        return schemas

    def to_dict(self):
        """The API view; built once, since plugins' schemas are static."""
        if self._view is None:
            self._view = {'id': self.id, 'name': self.name,
                          'description': self.description,
                          'extended_info_schema':
                              self.extended_info_schema()}
        return self._view


def _read_definition(path):
    conf = cfg.ConfigOpts()
    conf.register_opts(_provider_opts, group='provider')
    try:
        conf(args=[], project='karbor-provider', default_config_files=[path],
             default_config_dirs=[], validate_default_values=True)
        section = conf.provider
        values = {opt.name: section[opt.name] for opt in _provider_opts}
    except cfg.Error as exc:
        raise exception.ProviderConfigError(path=path, reason=str(exc))
    if not uuidutils.is_uuid_like(values['id']):
        raise exception.ProviderConfigError(path=path,
                                            reason='id must be a UUID')
    return values


class ProviderRegistry(object):
    """The enabled providers of ``config_dir``, by id."""

    def __init__(self, config_dir):
        self.providers = {}
        for path in sorted(glob.glob(os.path.join(config_dir, '*.conf'))):
            values = _read_definition(path)
            if not values.pop('enabled'):
                continue
            if values['id'] in self.providers:
                raise exception.ProviderConfigError(
                    path=path, reason='provider id %s is already defined '
                                      'in %s' % (values['id'], self.providers[
                                          values['id']].path))
            self.providers[values['id']] = Provider(
                path, plugins=values.pop('plugin'), **values)

    def list(self):
        return list(self.providers.values())

    def get(self, provider_id):
        try:
            return self.providers[provider_id]
        except KeyError:
            raise exception.ProviderNotFound(provider_id=provider_id)


_registry = None
_registry_lock = threading.Lock()


def get_registry():
    """The process's registry, read from [provider] config_dir once."""
    global _registry
    if _registry is not None:
        return _registry
    with _registry_lock:
        if _registry is None:
            _registry = ProviderRegistry(CONF.provider.config_dir)
        return _registry


def reset_registry():
    global _registry
    with _registry_lock:
        _registry = None
