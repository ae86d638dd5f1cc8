"""Request bodies and URL variables of /quotas and /quota_classes.

python-karborclient 2.1.0 sends ``{"quota": {"plans": N}}`` and
``{"quota_class": {"plans": N}}`` (N is 50 when ``--plans`` is not
given); ``checkpoints`` can be set through the API only.
"""

from karbor.objects import quota

# -1 is unlimited; null removes the override. The maximum is what the
# hard_limit column holds everywhere.
_limit = {'type': ['integer', 'null'], 'minimum': -1,
          'maximum': 2 ** 31 - 1}

_limits = {
    'type': 'object',
    'properties': {resource: _limit for resource in quota.RESOURCES},
    'minProperties': 1,
    'additionalProperties': False,
}

update = {
    'type': 'object',
    'properties': {'quota': _limits},
    'required': ['quota'],
    'additionalProperties': False,
}

class_update = {
    'type': 'object',
    'properties': {'quota_class': _limits},
    'required': ['quota_class'],
    'additionalProperties': False,
}

# The project a quota URL names: a Keystone project id, or a noauth
# project name; as long as the project_id columns hold.
target = {
    'type': 'object',
    'properties': {
        'target_project_id': {'type': 'string',
                              'pattern': '^[A-Za-z0-9_.-]{1,255}$'},
    },
}
