# The "Data Protection" group of the Project dashboard; the panels are
# added by the _60x0 files after it.
from django.utils.translation import gettext_lazy as _

PANEL_GROUP = 'data_protection'
PANEL_GROUP_NAME = _('Data Protection')
PANEL_GROUP_DASHBOARD = 'project'
ADD_INSTALLED_APPS = ['karbor_horizon']
