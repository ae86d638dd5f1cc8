from oslo_policy import policy

from karbor.policies import base

CREATE = 'karbor:plan:create'
GET = 'karbor:plan:get'
GET_ALL = 'karbor:plan:get_all'
UPDATE = 'karbor:plan:update'
DELETE = 'karbor:plan:delete'

rules = [
    policy.DocumentedRuleDefault(
        name=CREATE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'],
        description='Create a protection plan.',
        operations=[{'method': 'POST',
                     'path': '/v1/{project_id}/plans'}]),
    policy.DocumentedRuleDefault(
        name=GET,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='Show a protection plan.',
        operations=[{'method': 'GET',
                     'path': '/v1/{project_id}/plans/{plan_id}'}]),
    policy.DocumentedRuleDefault(
        name=GET_ALL,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='List protection plans.',
        operations=[{'method': 'GET',
                     'path': '/v1/{project_id}/plans'}]),
    policy.DocumentedRuleDefault(
        name=UPDATE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'],
        description='Update a protection plan.',
        operations=[{'method': 'PUT',
                     'path': '/v1/{project_id}/plans/{plan_id}'}]),
    policy.DocumentedRuleDefault(
        name=DELETE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'],
        description='Delete a protection plan.',
        operations=[{'method': 'DELETE',
                     'path': '/v1/{project_id}/plans/{plan_id}'}]),
]


def list_rules():
    return rules
