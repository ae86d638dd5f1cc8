"""Options of the long-running services: liveness and messaging."""

from oslo_config import cfg
import oslo_messaging
from oslo_messaging import opts as messaging_opts

opts = [
    cfg.IntOpt('report_interval',
               default=10,
               min=1,
               help='Seconds between two heartbeats a service writes to '
                    'the services table.'),
    cfg.IntOpt('service_down_time',
               default=40,
               min=1,
               help='A service whose last heartbeat is older than this '
                    'many seconds is reported as down. Keep it at least '
                    'three times report_interval.'),
]


def register_opts(conf):
    conf.register_opts(opts)
    # Register transport_url and friends now, not at the first
    # get_transport(), so that karbor-all can default them before parsing.
    oslo_messaging.set_transport_defaults(control_exchange='karbor')
    for group, lib_opts in messaging_opts.list_opts():
        if group is None:
            conf.register_opts(lib_opts)


def list_opts():
    return [('DEFAULT', opts)]
