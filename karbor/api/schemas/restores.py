"""Request bodies of /restores."""

create = {
    'type': 'object',
    'properties': {
        'restore': {
            'type': 'object',
            'properties': {
                'provider_id': {'type': 'string', 'format': 'uuid'},
                'checkpoint_id': {'type': 'string', 'format': 'uuid'},
                'restore_target': {'type': ['string', 'null'],
                                   'maxLength': 255},
                'restore_auth': {'type': ['object', 'null']},
                'parameters': {'type': ['object', 'null'],
                               'additionalProperties': {'type': 'object'}},
            },
            'required': ['provider_id', 'checkpoint_id'],
            'additionalProperties': False,
        },
    },
    'required': ['restore'],
    'additionalProperties': False,
}
