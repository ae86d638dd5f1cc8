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
                    'many seconds is reported as down, and the operations '
                    'a protection service was running are then ended in '
                    'error as interrupted by a live protection service. '
                    'Keep it at least three times report_interval, and the '
                    'clocks of the hosts in sync.'),
    cfg.IntOpt('interrupted_check_interval',
               default=20,
               min=1,
               help='Seconds between two checks, by every protection '
                    'service and operation engine, for operations that '
                    'will never finish: those of protection services that '
                    'stopped reporting and those no protection service '
                    'took. They end in error with the reason.'),
    cfg.IntOpt('operation_claim_timeout',
               default=300,
               min=1,
               help='Seconds a protect, delete, restore or verification '
                    'may wait for a protection service to take it (the '
                    'message lost, no protection service running or all '
                    'disabled). Then it ends in error: "no protection '
                    'service took this operation within N seconds".'),
    cfg.IntOpt('rpc_cast_retries',
               default=3,
               min=0,
               help='Times the API and the operation engine retry sending '
                    'an operation to the protection services while the '
                    'message broker cannot be reached. Once they are '
                    'spent, the operation ends in error at once and the '
                    'API answers 503, rather than the request hanging '
                    'until the broker returns.'),
]


# Durable queues (and with them persistent messages) keep the casts queued
# for the protection services across a RabbitMQ restart; the library's
# default loses them with the broker's memory. The rabbit driver
# reconnects by itself (rabbit_retry_interval, rabbit_retry_backoff) and
# the RPC servers go on consuming after.
RABBIT_DEFAULTS = {'amqp_durable_queues': True}


def register_opts(conf):
    conf.register_opts(opts)
    # Register transport_url and friends now, not at the first
    # get_transport(), so that karbor-all can default them before parsing.
    oslo_messaging.set_transport_defaults(control_exchange='karbor')
    for group, lib_opts in messaging_opts.list_opts():
        if group is None:
            conf.register_opts(lib_opts)
        elif group == 'oslo_messaging_rabbit':
            conf.register_opts(lib_opts, group=group)
    for name, value in RABBIT_DEFAULTS.items():
        conf.set_default(name, value, group='oslo_messaging_rabbit')


def list_opts():
    return [('DEFAULT', opts)]
