from django.utils.translation import gettext_lazy as _
import horizon

from karbor_horizon import common


class Panel(horizon.Panel):
    name = _('Restores')
    slug = 'karbor_restores'
    permissions = common.PERMISSIONS
    policy_rules = common.rules('restore:get_all')
