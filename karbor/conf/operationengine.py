"""Options of the operation engine: how it finds and runs scheduled work."""

from oslo_config import cfg

operationengine_group = cfg.OptGroup(
    'operationengine',
    help='The operation engine (karbor-operationengine, also inside '
         'karbor-all): triggers and the scheduled operations they start.')

operationengine_opts = [
    cfg.FloatOpt('poll_interval',
                 default=10.0,
                 min=0.01,
                 help='Seconds between two looks of an operation engine '
                      'for scheduled operations that are due. A run starts '
                      'at most this long after its due time.'),
    cfg.IntOpt('min_interval',
               default=60,
               min=1,
               help='Shortest time, in seconds, a trigger may leave between '
                    'two consecutive runs. A trigger whose pattern runs '
                    'more often is refused (400) when it is created or '
                    'updated.'),
    cfg.IntOpt('min_window',
               default=60,
               min=0,
               help='Smallest window, in seconds, a trigger may have. The '
                    'window is how late a run may still start (after an '
                    'engine was down, for instance); keep this at least '
                    'twice poll_interval, or runs are skipped when an '
                    'engine is merely busy.'),
    cfg.IntOpt('default_window',
               default=300,
               min=0,
               help='Window, in seconds, of a trigger created without one. '
                    'A run that could not start within its window after '
                    'its due time is skipped, and the skip is recorded.'),
    cfg.IntOpt('workers',
               default=8,
               min=1,
               help='Runs one operation engine follows at the same time '
                    '(waiting for their checkpoints, then applying '
                    'retention); more wait in its queue. Starting runs '
                    'never waits for these.'),
    cfg.IntOpt('run_timeout',
               default=3600,
               min=1,
               help='Seconds a run waits for its checkpoint to become '
                    'available. A run whose checkpoint is still being '
                    'protected after that ends failed, and retention is '
                    'not applied.'),
    cfg.FloatOpt('status_check_interval',
                 default=2.0,
                 min=0.01,
                 help='Seconds between two checks of a running run\'s '
                      'checkpoint status.'),
    cfg.StrOpt('clock_file',
               help='For tests and drills only; leave unset in production. '
                    'A file holding one ISO 8601 UTC time (for instance '
                    '2030-01-01T00:00:00) that the operation engine takes '
                    'as the current time instead of the system clock, '
                    'read again at every poll: writing a later time into '
                    'it makes the runs due by then start, so a test can '
                    'drive a schedule through many runs in seconds. Runs '
                    'still protect, verify and delete for real.'),
]


def register_opts(conf):
    conf.register_group(operationengine_group)
    conf.register_opts(operationengine_opts, group=operationengine_group)


def list_opts():
    return [(operationengine_group, operationengine_opts)]
