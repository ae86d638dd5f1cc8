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


protection_opts = [
    cfg.IntOpt('protection_max_parallel_tasks',
               default=8,
               min=1,
               help='Plugin hook tasks one protect, restore, delete or '
                    'verify flow runs at the same time.'),
    cfg.IntOpt('protection_max_operations',
               default=4,
               min=1,
               help='Operations (flows) one protection service runs at '
                    'the same time; more wait in its queue.'),
]

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
    cfg.IntOpt('workers',
               default=4,
               min=1,
               max=64,
               help='Threads each directory protect or restore uses to '
                    'read, hash, write and fsync data in parallel. Memory '
                    'stays bounded: at most two chunks (4 MiB each) per '
                    'thread are in flight. A verification uses at least '
                    'one thread per CPU (hashing is CPU bound) and holds '
                    'at most 64 MiB of chunk data at once.'),
    cfg.BoolOpt('restore_fsync',
                default=True,
                help='fsync every restored file and directory before the '
                     'restored tree is renamed into place, so that a crash '
                     'never leaves a tree with lost data under its final '
                     'name. The data is written back as it is restored, so '
                     'this mostly costs one disk-cache flush per file. '
                     'Disable only to trade that guarantee for speed.'),
    cfg.BoolOpt('quarantine_damaged_chunks',
                default=True,
                help='When a verification reads a chunk whose content no '
                     'longer matches its SHA-256, move it from chunks/ to '
                     'quarantine/<project>/ in the bank. Protects '
                     'deduplicate by the presence of a chunk, so a damaged '
                     'chunk left in place would be reused by every later '
                     'checkpoint; once it is moved, the next protect of a '
                     'source that still holds those bytes writes them '
                     'again, which also repairs the older checkpoints '
                     'sharing the chunk. The quarantined copy is kept for '
                     'inspection until an operator removes it.'),
]


def register_opts(conf):
    conf.register_opts(protection_opts)
    conf.register_group(provider_group)
    conf.register_opts(provider_opts, group=provider_group)
    conf.register_group(directory_group)
    conf.register_opts(directory_opts, group=directory_group)


def list_opts():
    return [('DEFAULT', protection_opts),
            (provider_group, provider_opts),
            (directory_group, directory_opts)]
