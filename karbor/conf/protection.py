"""Options of providers and the protection plugins they load."""

from oslo_config import cfg

from karbor.conf import paths


def default_provider_dir():
    """The first providers.d of /etc/karbor, the install, the checkout.

    So that a fresh machine finds the shipped local-directory provider
    without any configuration.
    """
    return (paths.find_shipped('providers.d', isdir=True) or
            '/etc/karbor/providers.d')


provider_group = cfg.OptGroup(
    'provider', help='Where protection providers are defined.')

provider_opts = [
    cfg.StrOpt('config_dir',
               default=default_provider_dir(),
               sample_default='/etc/karbor/providers.d',
               help='Directory of provider definitions: every *.conf file '
                    'in it holds one [provider] section with name, '
                    'description, id, bank, enabled and one plugin= line '
                    'per protection plugin.'),
]

directory_group = cfg.OptGroup(
    'directory',
    help='The OS::Karbor::Directory resource type: directories below a '
         'root, one sub-directory per project.')

directory_opts = [
    cfg.StrOpt('root_path',
               default='$state_path/data',
               help='Root of the protectable directories. A project\'s '
                    'directories are <root_path>/<project_id>/<name>.'),
]


def register_opts(conf):
    conf.register_group(provider_group)
    conf.register_opts(provider_opts, group=provider_group)
    conf.register_group(directory_group)
    conf.register_opts(directory_opts, group=directory_group)


def list_opts():
    return [(provider_group, provider_opts),
            (directory_group, directory_opts)]
