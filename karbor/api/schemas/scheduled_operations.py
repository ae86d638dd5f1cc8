"""Request bodies of /scheduled_operations.

``operation_definition`` is an object; the OpenStack CLI sends it as its
``key=value,key=value`` text, which the controller turns into one and
checks against ``definition``. The karbor CLI sends every value as a
string, so the counts may be digit strings too.
"""

_name = {'type': 'string', 'minLength': 1, 'maxLength': 255}
_description = {'type': ['string', 'null'], 'maxLength': 255}
# Whole numbers of at least 1, checked by the controller.
_count = {'type': ['integer', 'string']}

definition = {
    'type': 'object',
    'properties': {
        'provider_id': {'type': 'string', 'format': 'uuid'},
        'plan_id': {'type': 'string', 'format': 'uuid'},
        'max_backups': _count,
        'retention_duration': _count,
        # verify only: read every chunk of the plan's checkpoints once
        # every cycle_days days, a part at each run.
        'cycle_days': _count,
        # verify only: the verification's parameters, as the
        # verifications API takes them.
        'parameters': {'type': 'object'},
    },
    'required': ['provider_id', 'plan_id'],
    'additionalProperties': False,
}

create = {
    'type': 'object',
    'properties': {
        'scheduled_operation': {
            'type': 'object',
            'properties': {
                'name': _name,
                'description': _description,
                'operation_type': {'type': 'string',
                                   'enum': ['protect', 'retention_protect',
                                            'verify']},
                'trigger_id': {'type': 'string', 'format': 'uuid'},
                'operation_definition': {'type': ['object', 'string'],
                                         'maxLength': 4096},
                'enabled': {'type': 'boolean'},
            },
            'required': ['name', 'operation_type', 'trigger_id',
                         'operation_definition'],
            'additionalProperties': False,
        },
    },
    'required': ['scheduled_operation'],
    'additionalProperties': False,
}

update = {
    'type': 'object',
    'properties': {
        'scheduled_operation': {
            'type': 'object',
            'properties': {
                'name': _name,
                'description': _description,
                'enabled': {'type': 'boolean'},
            },
            'minProperties': 1,
            'additionalProperties': False,
        },
    },
    'required': ['scheduled_operation'],
    'additionalProperties': False,
}
