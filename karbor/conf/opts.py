"""Entry point of the oslo-config-generator 'karbor' namespace."""

import itertools

from karbor.conf import api
from karbor.conf import bank
from karbor.conf import default
from karbor.conf import operationengine
from karbor.conf import protection
from karbor.conf import quota
from karbor.conf import service


def list_opts():
    grouped = {}
    for module in (default, api, service, bank, protection,
                   operationengine, quota):
        for group, opts in module.list_opts():
            grouped.setdefault(group, []).append(opts)
    return [(group, list(itertools.chain(*lists)))
            for group, lists in grouped.items()]


def set_lib_defaults():
    """Show Karbor's defaults of library options in the sample config."""
    from oslo_config import cfg

    from oslo_messaging._drivers import amqp

    from karbor.conf import database
    database.register_opts(cfg.CONF)
    # oslo.messaging lists copies of its options, made from these.
    cfg.set_defaults(amqp.amqp_opts, **service.RABBIT_DEFAULTS)
