"""Write Karbor's policy defaults where the Horizon plugin reads them.

The plugin (dashboard/) must not import karbor, so it ships a copy of the
defaults in the format of Horizon's DEFAULT_POLICY_FILES. Run this after a
policy change; karbor/tests/unit/test_dashboard_policies.py fails while
the copy is stale::

    python tools/write-dashboard-policies.py
"""

import pathlib
import sys

import yaml

from karbor import policies

TARGET = (pathlib.Path(__file__).resolve().parents[1] / 'dashboard' /
          'karbor_horizon' / 'conf' / 'karbor_default_policies.yaml')
HEADER = ('# Karbor\'s policy defaults for the Horizon plugin, written by\n'
          '# tools/write-dashboard-policies.py: do not edit by hand.\n')


def render():
    rules = [{'name': rule.name, 'check_str': rule.check_str,
              'description': rule.description,
              'scope_types': rule.scope_types}
             for rule in policies.list_rules()]
    return HEADER + yaml.safe_dump(rules, sort_keys=False, width=79)


if __name__ == '__main__':
    TARGET.write_text(render())
    sys.stdout.write('wrote %s\n' % TARGET)
