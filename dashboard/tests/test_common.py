"""Forms built from a provider's JSON schemas, and the policy copy."""

import pathlib

from horizon import forms
from oslo_config import cfg
from oslo_policy import policy
import yaml

from karbor_horizon import common

RESTORE_SCHEMAS = {
    'OS::Karbor::Directory': {
        'type': 'object',
        'properties': {
            'restore_name': {'type': 'string', 'title': 'Restore name',
                             'description': "The <name> of the project's "
                                            'new directory.'},
            'overwrite': {'type': 'boolean'},
            'copies': {'type': 'integer'},
            'mode': {'type': 'string', 'enum': ['fast', 'safe']},
            'exclude': {'anyOf': [{'type': 'string'},
                                  {'type': 'array'}]},
        },
    },
    'OS::Other::Thing': {'type': 'object', 'properties': {
        'restore_name': {'type': 'string'}}},
}


class Form(forms.Form):
    pass


def test_one_field_per_property_of_the_plans_types():
    form = Form()
    added = common.schema_fields(form, RESTORE_SCHEMAS,
                                 ['OS::Karbor::Directory'])
    assert sorted(added) == ['p0_copies', 'p0_exclude', 'p0_mode',
                             'p0_overwrite', 'p0_restore_name']
    assert isinstance(form.fields['p0_copies'], forms.IntegerField)
    assert isinstance(form.fields['p0_overwrite'], forms.BooleanField)
    assert [v for v, _ in form.fields['p0_mode'].choices] == [
        '', 'fast', 'safe']
    assert form.fields['p0_restore_name'].label == \
        'OS::Karbor::Directory: Restore name'
    assert not any(field.required for field in form.fields.values())
    # Horizon writes help texts into an HTML attribute as they are.
    assert form.fields['p0_restore_name'].help_text == (
        'The &lt;name&gt; of the project&#x27;s new directory.')


def test_values_only_for_what_was_filled_in():
    form = Form()
    added = common.schema_fields(form, RESTORE_SCHEMAS,
                                 ['OS::Karbor::Directory',
                                  'OS::Other::Thing'])
    values = common.schema_values(added, {
        'p0_restore_name': 'docs-back', 'p0_overwrite': False,
        'p0_copies': 2, 'p0_mode': '', 'p0_exclude': '["*.tmp"]',
        'p1_restore_name': ''})
    assert values == {'OS::Karbor::Directory': {
        'restore_name': 'docs-back', 'copies': 2, 'exclude': ['*.tmp']}}


def _enforcer():
    path = (pathlib.Path(common.__file__).parent / 'conf' /
            'karbor_default_policies.yaml')
    conf = cfg.ConfigOpts()
    conf([], project='karbor-horizon-test')
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults([
        policy.RuleDefault(rule['name'], rule['check_str'])
        for rule in yaml.safe_load(path.read_text())])
    enforcer.load_rules()
    return enforcer


def _allowed(enforcer, rule, roles, project='p1'):
    credentials = {'roles': roles, 'project_id': project}
    return enforcer.enforce(rule, {'project_id': 'p1'}, credentials)


def test_shipped_policy_gives_readers_no_changes():
    enforcer = _enforcer()
    reader, member = ['reader'], ['member', 'reader']
    for rule in ('karbor:plan:create', 'karbor:checkpoint:create',
                 'karbor:restore:create', 'karbor:verification:create',
                 'karbor:plan:delete', 'karbor:trigger:create'):
        assert not _allowed(enforcer, rule, reader), rule
        assert _allowed(enforcer, rule, member), rule
        assert not _allowed(enforcer, rule, member, project='p2'), rule
    assert _allowed(enforcer, 'karbor:operation_log:get_all', reader)
    assert not _allowed(enforcer, 'karbor:checkpoint:reset_state', member)
