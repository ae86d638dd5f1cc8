# Karbor's policy for Horizon: the defaults shipped with the plugin, and
# an operator's overrides (the API's policy.yaml) if there is one next to
# Horizon's other policy files. Copy into openstack_dashboard/local/
# local_settings.d/ (it is exec'd inside Horizon's settings).
import os as _os

import karbor_horizon as _karbor_horizon

_conf = _os.path.join(_os.path.dirname(_karbor_horizon.__file__), 'conf')
DEFAULT_POLICY_FILES['data-protect'] = _os.path.join(  # noqa: F821
    _conf, 'karbor_default_policies.yaml')
if _os.path.exists(_os.path.join(POLICY_FILES_PATH,  # noqa: F821
                                 'karbor_policy.yaml')):
    POLICY_FILES['data-protect'] = 'karbor_policy.yaml'  # noqa: F821
else:
    POLICY_FILES['data-protect'] = _os.path.join(  # noqa: F821
        _conf, 'karbor_policy_overrides.yaml')
