"""Read a JSON request body and validate it against a JSON schema."""

import jsonschema
from oslo_serialization import jsonutils
from oslo_utils import uuidutils

from karbor import exception

_FORMAT_CHECKER = jsonschema.FormatChecker()


@_FORMAT_CHECKER.checks('uuid')
def _is_uuid(value):
    return not isinstance(value, str) or uuidutils.is_uuid_like(value)


@_FORMAT_CHECKER.checks('karbor-verify-subset')
def _is_verify_subset(value):
    # The directory plugin's subset ("n/t" with n <= t, or "p%"): a
    # pattern cannot compare the two numbers.
    from karbor.services.protection.plugins.directory import verify
    return not isinstance(value, str) or verify.is_subset(value)


def _field_of(error):
    path = list(error.absolute_path)
    if error.validator == 'required':
        # The missing key is named in the message, not in the path.
        path.append(error.message.split("'")[1])
    elif error.validator == 'additionalProperties':
        extra = set(error.instance) - set(error.schema.get('properties', {}))
        path.append(sorted(extra)[0] if extra else '')
    return '/'.join(str(p) for p in path) or 'body'


def body(req, schema):
    """The decoded body of ``req``, validated against ``schema``.

    Malformed JSON and schema violations raise InvalidInput (400) naming
    the offending field.
    """
    raw = req.body
    if not raw:
        raise exception.InvalidInput(field='body',
                                     reason='a JSON request body is required')
    try:
        data = jsonutils.loads(raw)
    except ValueError as exc:
        raise exception.InvalidInput(field='body',
                                     reason='malformed JSON: %s' % exc)
    validate(data, schema)
    return data


def validate(data, schema):
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=_FORMAT_CHECKER)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise exception.InvalidInput(field=_field_of(error),
                                     reason=error.message)


def plugin_parameters(provider, parameters, schema_getter, field,
                      resources):
    """Check ``{"TYPE" or "TYPE#ID": {...}}`` against the plugins' schemas.

    :param schema_getter: name of the plugin classmethod giving the
        schema, e.g. 'get_options_schema'.
    :param resources: the resources ({"type", "id"}) the parameters may
        name: a plan's or a checkpoint's. Parameters for a type or a
        resource that is not among them would be silently unused: 400.
    """
    types = {r['type'] for r in resources}
    ids = {(r['type'], r['id']) for r in resources}
    for key, values in (parameters or {}).items():
        resource_type, _, resource_id = key.partition('#')
        where = '%s/%s' % (field, key)
        plugin = provider.plugin_classes.get(resource_type)
        if plugin is None or resource_type not in types:
            raise exception.InvalidInput(
                field=where, reason='no resource of type %s to apply '
                                    'these parameters to' % resource_type)
        if resource_id and (resource_type, resource_id) not in ids:
            raise exception.InvalidInput(
                field=where, reason='no resource %s of type %s to apply '
                                    'these parameters to' % (resource_id,
                                                             resource_type))
        schema = getattr(plugin, schema_getter)(resource_type)
        validator = jsonschema.Draft202012Validator(
            schema, format_checker=_FORMAT_CHECKER)
        error = jsonschema.exceptions.best_match(
            validator.iter_errors(values))
        if error is not None:
            raise exception.InvalidInput(
                field='%s/%s' % (where, _field_of(error)),
                reason=error.message)
