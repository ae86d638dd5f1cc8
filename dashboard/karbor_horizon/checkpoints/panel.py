from django.utils.translation import gettext_lazy as _
import horizon

from karbor_horizon import common


class Panel(horizon.Panel):
    name = _('Checkpoints')
    slug = 'karbor_checkpoints'
    permissions = common.PERMISSIONS
    policy_rules = common.rules('checkpoint:get_all')
