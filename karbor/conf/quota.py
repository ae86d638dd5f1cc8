"""Per-project quotas: the default limits on a project's plans and
checkpoints (karbor.objects.quota resolves the overrides)."""

from oslo_config import cfg

quota_group = cfg.OptGroup(
    'quota',
    help='Default limits on what each project may create. -1 means '
         'unlimited. An administrator may override them for every '
         'project (PUT /v1/{project_id}/quota_classes/default) or for one '
         '(PUT /v1/{project_id}/quotas/{project}); a create beyond its '
         'project\'s limit is refused with 403, and a scheduled protect '
         'beyond it ends its run failed, with the same message.')

quota_opts = [
    cfg.IntOpt('plans',
               default=100,
               min=-1,
               help='Plans a project may have (deleted plans do not '
                    'count).'),
    cfg.IntOpt('checkpoints',
               default=1000,
               min=-1,
               help='Checkpoints a project may have. Those protecting, '
                    'available or in error-deleting (their delete failed, '
                    'their data is still in the bank) count; failed '
                    'protects (error) and checkpoints being deleted do '
                    'not.'),
]


def register_opts(conf):
    conf.register_group(quota_group)
    conf.register_opts(quota_opts, group=quota_group)


def list_opts():
    return [(quota_group, quota_opts)]
