from oslo_policy import policy

from karbor.policies import base

GET = 'karbor:operation_log:get'
GET_ALL = 'karbor:operation_log:get_all'

LOGS = '/v1/{project_id}/operation_logs'
PROVIDER_LOGS = '/v1/{project_id}/providers/{provider_id}/operation_logs'

rules = [
    policy.DocumentedRuleDefault(
        name=GET,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='Show an operation log.',
        operations=[{'method': 'GET', 'path': LOGS + '/{operation_log_id}'},
                    {'method': 'GET',
                     'path': PROVIDER_LOGS + '/{operation_log_id}'}]),
    policy.DocumentedRuleDefault(
        name=GET_ALL,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='List operation logs.',
        operations=[{'method': 'GET', 'path': LOGS},
                    {'method': 'GET', 'path': PROVIDER_LOGS}]),
]


def list_rules():
    return rules
