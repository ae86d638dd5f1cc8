from oslo_policy import policy

from karbor.policies import base

GET_ALL = 'karbor:service:get_all'
UPDATE = 'karbor:service:update'

rules = [
    policy.DocumentedRuleDefault(
        name=GET_ALL,
        check_str=base.ADMIN,
        scope_types=['project'],
        description='List the protection and operation-engine services '
                    'with their up/down state.',
        operations=[{'method': 'GET',
                     'path': '/v1/{project_id}/os-services'}]),
    policy.DocumentedRuleDefault(
        name=UPDATE,
        check_str=base.ADMIN,
        scope_types=['project'],
        description='Enable or disable a service.',
        operations=[{'method': 'PUT',
                     'path': '/v1/{project_id}/os-services/{service_id}'}]),
]


def list_rules():
    return rules
