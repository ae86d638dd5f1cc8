"""Request bodies of /triggers.

The properties' meaning (patterns, times, intervals) is checked by
karbor.services.operationengine.timetrigger once the shape is right.
"""

_name = {'type': 'string', 'minLength': 1, 'maxLength': 255}
_time = {'type': ['string', 'null'], 'maxLength': 64}
_formats = ['crontab', 'calendar']

_property_schemas = {
    'format': {'type': 'string', 'enum': _formats},
    'pattern': {'type': 'string', 'minLength': 1, 'maxLength': 4096},
    'start_time': _time,
    'end_time': _time,
    # python-karborclient sends an integer; other clients a string.
    'window': {'type': ['integer', 'string', 'null']},
}

create = {
    'type': 'object',
    'properties': {
        'trigger_info': {
            'type': 'object',
            'properties': {
                'name': _name,
                'type': {'type': 'string', 'enum': ['time']},
                'properties': {
                    'type': 'object',
                    'properties': _property_schemas,
                    'required': ['format', 'pattern'],
                    'additionalProperties': False,
                },
            },
            'required': ['name', 'type', 'properties'],
            'additionalProperties': False,
        },
    },
    'required': ['trigger_info'],
    'additionalProperties': False,
}

# The properties given replace those stored; the others stay.
update = {
    'type': 'object',
    'properties': {
        'trigger_info': {
            'type': 'object',
            'properties': {
                'name': _name,
                'type': {'type': 'string', 'enum': ['time']},
                'properties': {
                    'type': 'object',
                    'properties': _property_schemas,
                    'additionalProperties': False,
                },
            },
            'minProperties': 1,
            'additionalProperties': False,
        },
    },
    'required': ['trigger_info'],
    'additionalProperties': False,
}
