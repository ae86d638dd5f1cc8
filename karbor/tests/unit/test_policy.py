import pytest

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
