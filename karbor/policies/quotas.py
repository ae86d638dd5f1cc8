from oslo_policy import policy

from karbor.policies import base

GET = 'karbor:quota:get'
UPDATE = 'karbor:quota:update'
CLASS_GET = 'karbor:quota_class:get'
CLASS_UPDATE = 'karbor:quota_class:update'

QUOTA = '/v1/{project_id}/quotas/{target_project_id}'
QUOTA_CLASS = '/v1/{project_id}/quota_classes/{class_name}'

rules = [
    policy.DocumentedRuleDefault(
        name=GET,
        # The target is the project whose quota is asked for: a reader sees
        # their own project's, only an admin another's.
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='Show the quota of a project: its limits, with '
                    '/detail what it uses, with /defaults the limits of '
                    'a project without its own.',
        operations=[{'method': 'GET', 'path': QUOTA},
                    {'method': 'GET', 'path': QUOTA + '/detail'},
                    {'method': 'GET', 'path': QUOTA + '/defaults'}]),
    policy.DocumentedRuleDefault(
        name=UPDATE,
        check_str=base.ADMIN,
        scope_types=['project'],
        description='Set limits of a project, or reset them to the '
                    'defaults.',
        operations=[{'method': 'PUT', 'path': QUOTA},
                    {'method': 'DELETE', 'path': QUOTA}]),
    policy.DocumentedRuleDefault(
        name=CLASS_GET,
        check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'],
        description='Show the limits of the default quota class.',
        operations=[{'method': 'GET', 'path': QUOTA_CLASS}]),
    policy.DocumentedRuleDefault(
        name=CLASS_UPDATE,
        check_str=base.ADMIN,
        scope_types=['project'],
        description='Set the limits of the default quota class: those of '
                    'every project without its own.',
        operations=[{'method': 'PUT', 'path': QUOTA_CLASS}]),
]


def list_rules():
    return rules
