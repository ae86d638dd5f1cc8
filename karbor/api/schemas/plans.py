"""Request bodies of /plans (python-karborclient 2.1.0 shapes)."""

_name = {'type': 'string', 'minLength': 1, 'maxLength': 255}
_description = {'type': ['string', 'null'], 'maxLength': 255}

resource = {
    'type': 'object',
    'properties': {
        'id': {'type': 'string', 'format': 'uuid'},
        'type': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'name': {'type': ['string', 'null'], 'maxLength': 255},
        'extra_info': {'type': ['object', 'null']},
    },
    'required': ['id', 'type'],
    'additionalProperties': False,
}

resources = {'type': 'array', 'items': resource, 'minItems': 1,
             'maxItems': 256}

# {"TYPE" or "TYPE#ID": {option: value}}, checked against the plugins'
# schemas by the controller.
parameters = {'type': ['object', 'null'],
              'additionalProperties': {'type': 'object'}}

create = {
    'type': 'object',
    'properties': {
        'plan': {
            'type': 'object',
            'properties': {
                'name': _name,
                'description': _description,
                'provider_id': {'type': 'string', 'format': 'uuid'},
                'resources': resources,
                'parameters': parameters,
            },
            'required': ['name', 'provider_id', 'resources'],
            'additionalProperties': False,
        },
    },
    'required': ['plan'],
    'additionalProperties': False,
}

update = {
    'type': 'object',
    'properties': {
        'plan': {
            'type': 'object',
            'properties': {
                'name': _name,
                'description': _description,
                'status': {'type': 'string',
                           'enum': ['suspended', 'started']},
                'resources': resources,
                'parameters': parameters,
            },
            'minProperties': 1,
            'additionalProperties': False,
        },
    },
    'required': ['plan'],
    'additionalProperties': False,
}
