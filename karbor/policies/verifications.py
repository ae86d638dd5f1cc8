from oslo_policy import policy

from karbor.policies import base

CREATE = 'karbor:verification:create'
GET = 'karbor:verification:get'
GET_ALL = 'karbor:verification:get_all'

VERIFICATIONS = '/v1/{project_id}/verifications'

rules = [
    policy.DocumentedRuleDefault(
        name=CREATE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'],
        description='Verify a checkpoint.',
        operations=[{'method': 'POST', 'path': VERIFICATIONS}]),
    policy.DocumentedRuleDefault(
        name=GET,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='Show a verification.',
        operations=[{'method': 'GET',
                     'path': VERIFICATIONS + '/{verification_id}'}]),
    policy.DocumentedRuleDefault(
        name=GET_ALL,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='List verifications.',
        operations=[{'method': 'GET', 'path': VERIFICATIONS}]),
]


def list_rules():
    return rules
