"""Request bodies of /providers/{id}/checkpoints."""

create = {
    'type': 'object',
    'properties': {
        'checkpoint': {
            'type': 'object',
            'properties': {
                'plan_id': {'type': 'string', 'format': 'uuid'},
                # The client sends "extra-info"; the API reference says
                # "extra_info". Both are accepted.
                'extra-info': {'type': ['object', 'null']},
                'extra_info': {'type': ['object', 'null']},
            },
            'required': ['plan_id'],
            'additionalProperties': False,
        },
    },
    'required': ['checkpoint'],
    'additionalProperties': False,
}

reset_state = {
    'type': 'object',
    'properties': {
        'os-resetState': {
            'type': 'object',
            'properties': {
                'state': {'type': 'string', 'enum': ['available', 'error']},
            },
            'required': ['state'],
            'additionalProperties': False,
        },
    },
    'required': ['os-resetState'],
    'additionalProperties': False,
}
