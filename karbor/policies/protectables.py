from oslo_policy import policy

from karbor.policies import base

GET_ALL = 'karbor:protectable:get_all'
GET = 'karbor:protectable:get'
INSTANCES_GET_ALL = 'karbor:protectable:instances_get_all'
INSTANCES_GET = 'karbor:protectable:instances_get'

TYPE = '/v1/{project_id}/protectables/{protectable_type}'
INSTANCES = TYPE + '/instances'

rules = [
    policy.DocumentedRuleDefault(
        name=GET_ALL,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='List protectable resource types.',
        operations=[{'method': 'GET',
                     'path': '/v1/{project_id}/protectables'}]),
    policy.DocumentedRuleDefault(
        name=GET,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='Show a protectable resource type.',
        operations=[{'method': 'GET',
                     'path': TYPE}]),
    policy.DocumentedRuleDefault(
        name=INSTANCES_GET_ALL,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description="List the project's instances of a protectable type.",
        operations=[{'method': 'GET',
                     'path': INSTANCES}]),
    policy.DocumentedRuleDefault(
        name=INSTANCES_GET,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='Show an instance of a protectable type.',
        operations=[{'method': 'GET',
                     'path': INSTANCES + '/{resource_id}'}]),
]


def list_rules():
    return rules
