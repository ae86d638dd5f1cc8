from oslo_policy import policy

from karbor.policies import base

CREATE = 'karbor:checkpoint:create'
GET = 'karbor:checkpoint:get'
GET_ALL = 'karbor:checkpoint:get_all'
DELETE = 'karbor:checkpoint:delete'
RESET_STATE = 'karbor:checkpoint:reset_state'

CHECKPOINTS = '/v1/{project_id}/providers/{provider_id}/checkpoints'
CHECKPOINT = CHECKPOINTS + '/{checkpoint_id}'

rules = [
    policy.DocumentedRuleDefault(
        name=CREATE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'],
        description='Protect a plan into a new checkpoint.',
        operations=[{'method': 'POST',
                     'path': CHECKPOINTS}]),
    policy.DocumentedRuleDefault(
        name=GET,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='Show a checkpoint.',
        operations=[{'method': 'GET',
                     'path': CHECKPOINT}]),
    policy.DocumentedRuleDefault(
        name=GET_ALL,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='List the checkpoints of a provider.',
        operations=[{'method': 'GET',
                     'path': CHECKPOINTS}]),
    policy.DocumentedRuleDefault(
        name=DELETE,
        check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'],
        description='Delete a checkpoint and its data.',
        operations=[{'method': 'DELETE',
                     'path': CHECKPOINT}]),
    policy.DocumentedRuleDefault(
        name=RESET_STATE,
        check_str=base.ADMIN,
        scope_types=['project'],
        description="Reset a checkpoint's status (os-resetState).",
        operations=[{'method': 'PUT',
                     'path': CHECKPOINT}]),
]


def list_rules():
    return rules
