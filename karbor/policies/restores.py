from oslo_policy import policy

from karbor.policies import base

CREATE = 'karbor:restore:create'
GET = 'karbor:restore:get'
GET_ALL = 'karbor:restore:get_all'

rules = [
    policy.DocumentedRuleDefault(
        name=CREATE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'],
        description='Restore a checkpoint.',
        operations=[{'method': 'POST',
                     'path': '/v1/{project_id}/restores'}]),
    policy.DocumentedRuleDefault(
        name=GET,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='Show a restore.',
        operations=[{'method': 'GET',
                     'path': '/v1/{project_id}/restores/{restore_id}'}]),
    policy.DocumentedRuleDefault(
        name=GET_ALL,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='List restores.',
        operations=[{'method': 'GET',
                     'path': '/v1/{project_id}/restores'}]),
]


def list_rules():
    return rules
