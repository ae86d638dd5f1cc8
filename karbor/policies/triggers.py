from oslo_policy import policy

from karbor.policies import base

CREATE = 'karbor:trigger:create'
GET = 'karbor:trigger:get'
GET_ALL = 'karbor:trigger:get_all'
UPDATE = 'karbor:trigger:update'
DELETE = 'karbor:trigger:delete'

TRIGGERS = '/v1/{project_id}/triggers'
TRIGGER = TRIGGERS + '/{trigger_id}'

rules = [
    policy.DocumentedRuleDefault(
        name=CREATE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'],
        description='Create a trigger.',
        operations=[{'method': 'POST', 'path': TRIGGERS}]),
    policy.DocumentedRuleDefault(
        name=GET,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='Show a trigger.',
        operations=[{'method': 'GET', 'path': TRIGGER}]),
    policy.DocumentedRuleDefault(
        name=GET_ALL,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='List triggers.',
        operations=[{'method': 'GET', 'path': TRIGGERS}]),
    policy.DocumentedRuleDefault(
        name=UPDATE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'],
        description='Update a trigger.',
        operations=[{'method': 'PUT', 'path': TRIGGER}]),
    policy.DocumentedRuleDefault(
        name=DELETE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'],
        description='Delete a trigger no scheduled operation uses.',
        operations=[{'method': 'DELETE', 'path': TRIGGER}]),
]


def list_rules():
    return rules
