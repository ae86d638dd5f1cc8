from oslo_policy import policy

from karbor.policies import base

GET = 'karbor:provider:get'
GET_ALL = 'karbor:provider:get_all'

rules = [
    policy.DocumentedRuleDefault(
        name=GET,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='Show a protection provider.',
        operations=[{'method': 'GET',
                     'path': '/v1/{project_id}/providers/{provider_id}'}]),
    policy.DocumentedRuleDefault(
        name=GET_ALL,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='List protection providers.',
        operations=[{'method': 'GET',
                     'path': '/v1/{project_id}/providers'}]),
]


def list_rules():
    return rules
