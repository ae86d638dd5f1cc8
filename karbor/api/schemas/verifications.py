"""Request bodies of /verifications.

The released clients send ``{"verification": {...}}``; the spec's sample
wraps the same object in a one-element list. Both are accepted.
"""

_verification = {
    'type': 'object',
    'properties': {
        'provider_id': {'type': 'string', 'format': 'uuid'},
        'checkpoint_id': {'type': 'string', 'format': 'uuid'},
        'parameters': {'type': ['object', 'null'],
                       'additionalProperties': {'type': 'object'}},
    },
    'required': ['provider_id', 'checkpoint_id'],
    'additionalProperties': False,
}

create = {
    'type': 'object',
    'properties': {
        'verification': {
            'oneOf': [
                _verification,
                {'type': 'array', 'items': _verification,
                 'minItems': 1, 'maxItems': 1},
            ],
        },
    },
    'required': ['verification'],
    'additionalProperties': False,
}
