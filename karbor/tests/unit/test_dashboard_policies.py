"""The Horizon plugin's copy of the policy defaults matches Karbor's."""

import importlib.util
import pathlib

SCRIPT = (pathlib.Path(__file__).resolve().parents[3] / 'tools' /
          'write-dashboard-policies.py')


def test_dashboard_ships_the_current_policy_defaults():
    spec = importlib.util.spec_from_file_location('write_policies', SCRIPT)
    writer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(writer)
    assert writer.TARGET.read_text() == writer.render(), (
        '%s is stale: run python %s' % (writer.TARGET, SCRIPT))
