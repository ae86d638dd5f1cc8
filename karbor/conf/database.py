"""The [database] options come from oslo.db; we only set their defaults."""

from oslo_config import cfg
from oslo_db import options as db_options

_DEFAULT_CONNECTION = 'sqlite:///$state_path/karbor.sqlite'
_DEFAULT_POOL_SIZE = 10


def register_opts(conf):
    db_options.set_defaults(conf)
    # Change the option's own default (not just this CONF's), so that the
    # sample generator shows it too.
    # max_pool_size: at least the threads of an API worker
    # (osapi_karbor_threads, 8) that may each hold a connection. A
    # connection opened beyond the pool is closed when it is returned,
    # so with oslo.db's 5 every burst past five requests made PostgreSQL
    # start a backend for one query; under load that doubled the API's
    # tail latency.
    cfg.set_defaults(db_options.database_opts,
                     connection=_DEFAULT_CONNECTION,
                     max_pool_size=_DEFAULT_POOL_SIZE)


def list_opts():
    # oslo.db publishes its own namespace for the sample generator.
    return []
