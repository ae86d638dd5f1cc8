from django.utils.translation import gettext_lazy as _
import horizon

from karbor_horizon import common


class Panel(horizon.Panel):
    name = _('Protection Plans')
    slug = 'karbor_plans'
    permissions = common.PERMISSIONS
    policy_rules = common.rules('plan:get_all')
