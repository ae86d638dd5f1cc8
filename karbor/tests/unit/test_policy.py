import os

from oslo_config import cfg
from oslo_policy import generator
import pytest

from karbor.api import app
from karbor import context
from karbor import exception
from karbor import policies
from karbor.policies import providers
from karbor.policies import services
from karbor import policy


def _ctx(roles, project='demo'):
    return context.RequestContext(user_id='u', project_id=project,
                                  roles=roles)


READER = ['reader']
MEMBER = ['reader', 'member']
ADMIN = ['reader', 'member', 'admin']


@pytest.mark.parametrize('rule,roles,allowed', [
    (providers.GET_ALL, READER, True),
    (providers.GET, READER, True),
    (providers.GET_ALL, [], False),
    (services.GET_ALL, MEMBER, False),
    (services.GET_ALL, ADMIN, True),
    (services.UPDATE, MEMBER, False),
    (services.UPDATE, ADMIN, True),
])
def test_defaults(rule, roles, allowed):
    assert policy.check(_ctx(roles), rule) is allowed


def test_reader_of_another_project_is_refused():
    with pytest.raises(exception.PolicyNotAuthorized):
        policy.authorize(_ctx(READER, 'other'), providers.GET,
                         {'project_id': 'demo'})


def test_system_scoped_token_is_refused_not_crashed():
    ctx = context.RequestContext(user_id='u', system_scope='all',
                                 roles=ADMIN)
    with pytest.raises(exception.PolicyNotAuthorized):
        policy.authorize(ctx, services.GET_ALL, {'project_id': None})


def test_every_api_rule_is_documented():
    for rule in policies.list_rules():
        if rule.name.startswith('karbor:'):
            assert rule.description and rule.operations and rule.scope_types


def _v1_operations():
    return {(method, '/v1' + path) for path, methods in
            app.V1_ROUTES.items() for method in methods
            if path not in ('/', '/openapi.json')}


def test_documented_operations_are_the_routes():
    """Each v1 route is documented by exactly one rule, and no rule
    documents a route that does not exist (the sample and the
    documentation generated from the rules then name real paths)."""
    documented = []
    for rule in policies.list_rules():
        for op in getattr(rule, 'operations', None) or []:
            if op['path'] != '/v1/{project_id}/*':
                documented.append((op['method'], op['path']))
    assert sorted(documented) == sorted(_v1_operations())


def test_policy_sample_is_up_to_date(tmp_path):
    """etc/karbor/policy.yaml.sample is what `tox -e genpolicy` writes."""
    out = tmp_path / 'policy.yaml.sample'
    generator.generate_sample(
        args=['--namespace', 'karbor', '--output-file', str(out)],
        conf=cfg.ConfigOpts())
    sample = os.path.join(os.path.dirname(__file__), '..', '..', '..',
                          'etc', 'karbor', 'policy.yaml.sample')
    with open(sample) as committed:
        assert out.read_text() == committed.read(), (
            'run tox -e genpolicy')
