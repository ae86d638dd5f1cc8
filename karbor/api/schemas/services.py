"""Request bodies of /os-services.

python-karborclient sends the fields at the top level of the body (no
``service`` wrapper).
"""

update = {
    'type': 'object',
    'properties': {
        'status': {'type': 'string', 'enum': ['enabled', 'disabled']},
        'disabled_reason': {'type': ['string', 'null'], 'maxLength': 255},
    },
    'required': ['status'],
    'additionalProperties': False,
}
