"""The [database] options come from oslo.db; we only set their defaults."""

from oslo_config import cfg
from oslo_db import options as db_options

_DEFAULT_CONNECTION = 'sqlite:///$state_path/karbor.sqlite'


def register_opts(conf):
    db_options.set_defaults(conf)
    # Change the option's own default (not just this CONF's), so that the
    # sample generator shows it too.
    cfg.set_defaults(db_options.database_opts,
                     connection=_DEFAULT_CONNECTION)


def list_opts():
    # oslo.db publishes its own namespace for the sample generator.
    return []
