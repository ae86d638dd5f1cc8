from oslo_policy import policy

from karbor.policies import base

CREATE = 'karbor:scheduled_operation:create'
GET = 'karbor:scheduled_operation:get'
GET_ALL = 'karbor:scheduled_operation:get_all'
UPDATE = 'karbor:scheduled_operation:update'
DELETE = 'karbor:scheduled_operation:delete'

OPERATIONS = '/v1/{project_id}/scheduled_operations'
OPERATION = OPERATIONS + '/{scheduled_operation_id}'

rules = [
    policy.DocumentedRuleDefault(
        name=CREATE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'],
        description='Create a scheduled operation.',
        operations=[{'method': 'POST', 'path': OPERATIONS}]),
    policy.DocumentedRuleDefault(
        name=GET,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='Show a scheduled operation.',
        operations=[{'method': 'GET', 'path': OPERATION}]),
    policy.DocumentedRuleDefault(
        name=GET_ALL,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='List scheduled operations.',
        operations=[{'method': 'GET', 'path': OPERATIONS}]),
    policy.DocumentedRuleDefault(
        name=UPDATE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'],
        description='Rename, enable or disable a scheduled operation.',
        operations=[{'method': 'PUT', 'path': OPERATION}]),
    policy.DocumentedRuleDefault(
        name=DELETE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'],
        description='Delete a scheduled operation; it runs no more.',
        operations=[{'method': 'DELETE', 'path': OPERATION}]),
]


def list_rules():
    return rules
