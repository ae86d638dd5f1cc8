from django.utils.translation import gettext_lazy as _
import horizon

from karbor_horizon import common


class Panel(horizon.Panel):
    name = _('Verifications')
    slug = 'karbor_verifications'
    permissions = common.PERMISSIONS
    policy_rules = common.rules('verification:get_all')
