from django.utils.translation import gettext_lazy as _
import horizon

from karbor_horizon import common


class Panel(horizon.Panel):
    name = _('Operation Logs')
    slug = 'karbor_operation_logs'
    permissions = common.PERMISSIONS
    policy_rules = common.rules('operation_log:get_all')
