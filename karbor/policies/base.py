"""Rules every resource's policies are written in terms of.

Karbor follows the Keystone default roles: ``reader`` may look, ``member``
may change its project's resources, ``admin`` may do anything anywhere.
Keystone's role implication (admin > member > reader) gives an admin the
lesser roles too.
"""

from oslo_policy import policy

ADMIN = 'rule:admin_api'
PROJECT_READER = 'rule:project_reader'
PROJECT_MEMBER = 'rule:project_member'
ADMIN_OR_PROJECT_READER = 'rule:admin_or_project_reader'
ADMIN_OR_PROJECT_MEMBER = 'rule:admin_or_project_member'

ALL_TENANTS = 'karbor:all_tenants'

rules = [
    policy.RuleDefault('admin_api', 'role:admin',
                       description='An administrator of the cloud.'),
    policy.RuleDefault('project_reader',
                       'role:reader and project_id:%(project_id)s',
                       description='A reader of the resource\'s project.'),
    policy.RuleDefault('project_member',
                       'role:member and project_id:%(project_id)s',
                       description='A member of the resource\'s project.'),
    policy.RuleDefault('admin_or_project_reader',
                       'rule:admin_api or rule:project_reader',
                       description='An administrator, or a reader of the '
                                   'resource\'s project.'),
    policy.RuleDefault('admin_or_project_member',
                       'rule:admin_api or rule:project_member',
                       description='An administrator, or a member of the '
                                   'resource\'s project.'),
    policy.DocumentedRuleDefault(
        name=ALL_TENANTS,
        check_str=ADMIN,
        scope_types=['project'],
        description='List resources of every project (all_tenants=1), or '
                    'of another project (project_id=X), in any list.',
        operations=[{'method': 'GET', 'path': '/v1/{project_id}/*'}]),
]


def list_rules():
    return rules
