"""What every Karbor panel shares: policy rules, errors, statuses."""

import json

from django.utils import html
from horizon import forms
from horizon import messages
from horizon import tables

from karbor_horizon import api

POLICY_SCOPE = 'data-protect'
# The panels show only to users whose catalog lists Karbor.
PERMISSIONS = ('openstack.services.data-protect',)

# Status -> True (settled fine), False (settled badly), None (still
# moving: Horizon polls such rows until they settle). The statuses of
# plans, checkpoints, restores and verifications.
STATUS_CHOICES = (
    ('started', True), ('suspended', True),
    ('available', True), ('success', True), ('deleted', True),
    ('error', False), ('error_deleting', False),
    ('protecting', None), ('deleting', None), ('in_progress', None),
    ('verifying', None),
)


def rules(*names):
    """Horizon ``policy_rules`` for Karbor rules, e.g. rules('plan:create')."""
    return tuple((POLICY_SCOPE, 'karbor:%s' % name) for name in names)


def fetch(request, what, call, default):
    """``call()``, or ``default`` with the API's error as a message.

    Views use this so that an API failure is a red toast on the page
    rather than Horizon's error page.
    """
    try:
        return call()
    except api.KarborError as exc:
        messages.error(request, '%s: %s' % (what, exc.message))
        return default


def act(request, call):
    """Run a table action's API call; on failure show the API's reason.

    Horizon's own message for a failed action names only the object
    ("Unable to delete trigger: nightly"); the reason comes from here.
    The error goes on up so that Horizon counts the action as failed.
    """
    try:
        return call()
    except api.KarborError as exc:
        messages.error(request, exc.message)
        raise


def status_column(**kwargs):
    return tables.Column('status', status=True,
                         status_choices=STATUS_CHOICES, **kwargs)


def providers(request):
    return fetch(request, 'Unable to list providers',
                 lambda: api.listing(request, '/providers', 'providers'), [])


def fields(*pairs):
    """Label/value pairs for karbor_horizon/detail.html."""
    return [{'label': label, 'value': value, 'pre': '\n' in str(value)}
            for label, value in pairs]


def pretty(value):
    return json.dumps(value, indent=2, sort_keys=True)


def resource_rows(obj):
    """(resource, status, reason) of a checkpoint, verification or restore."""
    statuses = obj.get('resources_status') or {}
    reasons = obj.get('resources_reason') or {}
    return [{'resource': key, 'status': status,
             'reason': reasons.get(key) or ''}
            for key, status in sorted(statuses.items())]


def loads(text):
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def schema_fields(form, schemas, kinds, prefix='p'):
    """Add a form field per property of each kind's JSON schema.

    Returns {field name: (kind, property, JSON type)} for schema_values.
    Properties without a plain type (lists, objects) take JSON text.
    """
    added = {}
    for index, kind in enumerate(kinds):
        properties = (schemas.get(kind) or {}).get('properties') or {}
        for prop, schema in sorted(properties.items()):
            name = '%s%d_%s' % (prefix, index, prop)
            kind_of = schema.get('type')
            # Horizon puts help texts into a title attribute unescaped.
            options = {'label': '%s: %s' % (kind, schema.get('title', prop)),
                       'help_text': html.escape(schema.get('description',
                                                           '')),
                       'required': False}
            if 'enum' in schema:
                field = forms.ThemableChoiceField(
                    choices=[('', '-')] + [(v, v) for v in schema['enum']],
                    **options)
            elif kind_of == 'integer':
                field = forms.IntegerField(**options)
            elif kind_of == 'boolean':
                field = forms.BooleanField(**options)
            else:
                field = forms.CharField(**options)
            form.fields[name] = field
            added[name] = (kind, prop, kind_of)
    return added


def schema_values(schema_fields, data):
    """{kind: {property: value}} of the fields the user filled in."""
    parameters = {}
    for name, (kind, prop, kind_of) in schema_fields.items():
        value = data.get(name)
        if value in (None, '') or (kind_of == 'boolean' and not value):
            continue
        if kind_of not in ('string', 'integer', 'boolean'):
            value = loads(value)
        parameters.setdefault(kind, {})[prop] = value
    return parameters
