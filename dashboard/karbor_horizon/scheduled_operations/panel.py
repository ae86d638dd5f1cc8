from django.utils.translation import gettext_lazy as _
import horizon

from karbor_horizon import common


class Panel(horizon.Panel):
    name = _('Scheduled Operations')
    slug = 'karbor_scheduled_operations'
    permissions = common.PERMISSIONS
    policy_rules = common.rules('scheduled_operation:get_all')
