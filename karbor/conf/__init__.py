"""All of Karbor's configuration options, registered on one CONF object.

Each module in this package owns the options of one area and exposes
``register_opts(conf)`` and ``list_opts()``; ``karbor.conf.opts`` feeds the
sample-config generator from the same lists.
"""

from oslo_config import cfg

from karbor.conf import api
from karbor.conf import bank
from karbor.conf import database
from karbor.conf import default
from karbor.conf import operationengine
from karbor.conf import protection
from karbor.conf import quota
from karbor.conf import service

CONF = cfg.CONF

_MODULES = (default, api, database, service, bank, protection,
            operationengine, quota)

for _module in _MODULES:
    _module.register_opts(CONF)
