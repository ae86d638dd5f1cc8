"""Options every Karbor process shares: where state lives and who we are."""

import os
import socket

from oslo_config import cfg


def default_state_path():
    """A per-user data directory, so a fresh machine needs no root."""
    base = os.environ.get('XDG_DATA_HOME') or os.path.join(
        os.path.expanduser('~'), '.local', 'share')
    return os.path.join(base, 'karbor')


opts = [
    cfg.StrOpt('state_path',
               default=default_state_path(),
               sample_default='$XDG_DATA_HOME/karbor',
               help='Top-level directory for Karbor state: the SQLite '
                    'database, the file-system bank and the protected '
                    'directories of the embedded defaults all live below '
                    'it unless configured elsewhere.'),
    cfg.HostAddressOpt('host',
                       default=socket.gethostname(),
                       sample_default='<hostname>',
                       help='Name of this node, used in the services table '
                            'and as the RPC server name. Must be unique per '
                            'service binary.'),
]


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return [('DEFAULT', opts)]
