from django.utils.translation import gettext_lazy as _
import horizon

from karbor_horizon import common


class Panel(horizon.Panel):
    name = _('Triggers')
    slug = 'karbor_triggers'
    permissions = common.PERMISSIONS
    policy_rules = common.rules('trigger:get_all')
