"""Scheduled operations: a plan protected (or its newest checkpoint
verified) whenever a trigger fires.

The operation engine runs them (karbor.services.operationengine); this
API only records what to run and shows how the last run went.
"""

from oslo_utils import uuidutils

from karbor.api import listing
from karbor.api import middleware
from karbor.api.schemas import scheduled_operations as schemas
from karbor.api import validation
from karbor.db import models
from karbor import exception
from karbor import objects
from karbor.objects import scheduled_operation as operation_obj
from karbor.policies import scheduled_operations as operation_policies
from karbor import policy
from karbor.services.operationengine import timetrigger
from karbor.services.protection import provider as provider_registry

SORT_KEYS = ('created_at', 'id', 'name', 'operation_type', 'updated_at')
# The clients send ``operation_definition`` with --operation_definition;
# it is accepted, not filtered on.
FILTERS = {'name': listing.exact,
           'operation_type': listing.one_of(*operation_obj.OPERATION_TYPES),
           'trigger_id': listing.uuid,
           'enabled': listing.boolean,
           'operation_definition': listing.ignore}

_FIELD = 'scheduled_operation'
_DEFINITION = _FIELD + '/operation_definition'
_COUNTS = ('max_backups', 'retention_duration')


# What the API shows of a verify cycle (karbor.objects.verify_cycle).
CYCLE_KEYS = ('number', 'status', 'started_at', 'ends_at', 'chunks',
              'chunks_read', 'chunks_left', 'chunks_damaged', 'runs',
              'expected_completion', 'completed_at', 'reason')


def _cycle_view(cycle):
    if cycle is None:
        return None
    return {key: cycle[key] for key in CYCLE_KEYS}


def view(ctx, operation):
    """``verify_cycle``: the newest cycle of a verify operation with
    cycle_days, once a run of it ended; null otherwise."""
    cycle = None
    if (operation.operation_definition or {}).get('cycle_days'):
        cycle = objects.VerifyCycle.latest_of(ctx, operation.id)
    return {
        'id': operation.id,
        'project_id': operation.project_id,
        'name': operation.name,
        'description': operation.description,
        'operation_type': operation.operation_type,
        'trigger_id': operation.trigger_id,
        'operation_definition': operation.operation_definition,
        'enabled': operation.enabled,
        'user_id': operation.user_id,
        'next_run_at': operation.next_run_at,
        'last_run_at': operation.last_run_at,
        'last_run_result': operation.last_run_result,
        'last_run_reason': operation.last_run_reason,
        'last_run_checkpoint_id': operation.last_run_checkpoint_id,
        'verify_cycle': _cycle_view(cycle),
        'created_at': operation.created_at,
        'updated_at': operation.updated_at,
    }


def _get(req, ctx):
    operation_id = req.urlvars['scheduled_operation_id']
    if not uuidutils.is_uuid_like(operation_id):
        raise exception.ScheduledOperationNotFound(
            scheduled_operation_id=operation_id)
    return objects.ScheduledOperation.get_by_id(ctx, operation_id)


def _as_dict(definition):
    """``key=value,key=value`` (the OpenStack CLI's form) as a dict."""
    if isinstance(definition, dict):
        return definition
    parsed = {}
    for item in definition.split(','):
        key, sep, value = item.partition('=')
        if not sep or not key.strip():
            raise exception.InvalidInput(
                field=_DEFINITION,
                reason='expected an object or key=value,key=value text')
        parsed[key.strip()] = value.strip()
    return parsed


def _count(definition, name):
    value = definition[name]
    if isinstance(value, str):
        # isdigit() alone also accepts digits int() refuses ('²').
        if not (value.strip().isascii() and value.strip().isdigit()):
            raise exception.InvalidInput(
                field='%s/%s' % (_DEFINITION, name),
                reason='must be a whole number')
        value = int(value.strip())
    if value < 1:
        raise exception.InvalidInput(field='%s/%s' % (_DEFINITION, name),
                                     reason='must be at least 1')
    return value


def _checked_definition(ctx, operation_type, definition):
    """The definition as stored: counts as integers, plan and provider
    confirmed. 400 for a bad shape, a count where it has no use or a plan
    of another provider; 404 for a plan or provider not found."""
    definition = _as_dict(definition)
    validation.validate({_FIELD: {'operation_definition': definition}}, {
        'type': 'object',
        'properties': {_FIELD: {
            'type': 'object',
            'properties': {'operation_definition': schemas.definition}}}})
    checked = {'provider_id': definition['provider_id'],
               'plan_id': definition['plan_id']}
    counts = [name for name in _COUNTS if name in definition]
    if operation_type == operation_obj.RETENTION_PROTECT:
        if not counts:
            raise exception.InvalidInput(
                field='%s/max_backups' % _DEFINITION,
                reason='retention_protect needs max_backups, '
                       'retention_duration (days) or both')
        for name in counts:
            checked[name] = _count(definition, name)
    elif counts:
        raise exception.InvalidInput(
            field='%s/%s' % (_DEFINITION, counts[0]),
            reason='only retention_protect deletes old checkpoints')
    for name in ('parameters', 'cycle_days'):
        if name in definition and operation_type != operation_obj.VERIFY:
            raise exception.InvalidInput(
                field='%s/%s' % (_DEFINITION, name),
                reason='only verify takes %s' % name)
    if 'cycle_days' in definition:
        checked['cycle_days'] = _count(definition, 'cycle_days')
        if definition.get('parameters'):
            raise exception.InvalidInput(
                field='%s/parameters' % _DEFINITION,
                reason='with cycle_days, each run reads its part of the '
                       'chunks in full: there are no parameters to give')

    try:
        provider = provider_registry.get_registry().get(
            checked['provider_id'])
    except exception.ProviderNotFound:
        raise exception.ProviderNotFound(
            'Provider %s (%s/provider_id) could not be found.' % (
                checked['provider_id'], _DEFINITION))
    try:
        plan = objects.Plan.get_by_id(ctx, checked['plan_id'])
        if plan.project_id != ctx.project_id:
            raise exception.PlanNotFound(plan_id=plan.id)
    except exception.PlanNotFound:
        raise exception.PlanNotFound(
            'Plan %s (%s/plan_id) could not be found.' % (
                checked['plan_id'], _DEFINITION))
    if plan.provider_id != checked['provider_id']:
        raise exception.InvalidInput(
            field='%s/provider_id' % _DEFINITION,
            reason='plan %s belongs to provider %s' % (plan.id,
                                                       plan.provider_id))
    if operation_type == operation_obj.VERIFY:
        # Checked as a verification's are, against the plan's resources:
        # each run verifies a checkpoint of the plan.
        parameters = definition.get('parameters') or {}
        validation.plugin_parameters(provider, parameters,
                                     'get_verify_schema',
                                     '%s/parameters' % _DEFINITION,
                                     plan.resources)
        checked['parameters'] = parameters
    return checked


def _trigger(ctx, trigger_id):
    try:
        trigger = objects.Trigger.get_by_id(ctx, trigger_id)
        if trigger.project_id != ctx.project_id:
            raise exception.TriggerNotFound(trigger_id=trigger_id)
    except exception.TriggerNotFound:
        raise exception.TriggerNotFound(
            'Trigger %s (%s/trigger_id) could not be found.' % (trigger_id,
                                                                _FIELD))
    return trigger


def _next_run(trigger):
    """409 (TriggerRefused) if the trigger, stored by an earlier version,
    has properties this one refuses."""
    return timetrigger.of_stored(trigger).next_after(models.utcnow())


def create(req):
    """POST /v1/{project_id}/scheduled_operations -> 200.

    400 bad body or definition; 404 trigger, plan or provider not found
    (the message names the field); 409 a trigger whose stored properties
    this version refuses.
    """
    ctx = middleware.project_context(req)
    policy.authorize(ctx, operation_policies.CREATE)
    body = validation.body(req, schemas.create)[_FIELD]
    definition = _checked_definition(ctx, body['operation_type'],
                                     body['operation_definition'])
    trigger = _trigger(ctx, body['trigger_id'])
    next_run = _next_run(trigger)
    if 'cycle_days' in definition:
        timetrigger.check_runs_every(
            trigger.properties, definition['cycle_days'], models.utcnow(),
            '%s/cycle_days' % _DEFINITION, 'trigger %s' % trigger.id)
    enabled = body.get('enabled', True)
    operation = objects.ScheduledOperation(
        ctx, id=uuidutils.generate_uuid(), project_id=ctx.project_id,
        user_id=ctx.user_id, name=body['name'],
        description=body.get('description'),
        operation_type=body['operation_type'], trigger_id=trigger.id,
        operation_definition=definition, enabled=enabled,
        next_run_at=next_run if enabled else None,
        claimed_by=None, last_run_at=None, last_run_result=None,
        last_run_reason=None, last_run_checkpoint_id=None)
    operation.create()
    # A trigger deleted meanwhile saw no user of it (its delete checks in
    # one statement); this operation must then not stay.
    try:
        _trigger(ctx, trigger.id)
    except exception.TriggerNotFound:
        operation.destroy()
        raise
    return {_FIELD: view(ctx, operation)}


def index(req):
    """GET /v1/{project_id}/scheduled_operations -> 200; 400 bad list
    parameters. The collection key is ``operations``."""
    ctx = middleware.context_of(req)
    policy.authorize(ctx, operation_policies.GET_ALL)
    query = listing.parse(req, SORT_KEYS, [('created_at', 'desc')], FILTERS)
    rows = [view(ctx, o)
            for o in objects.ScheduledOperation.list(ctx, query)]
    return dict({'operations': rows},
                **listing.links(req, 'operations', rows, query))


def show(req):
    """GET /v1/{project_id}/scheduled_operations/{id} -> 200; 404."""
    ctx = middleware.context_of(req)
    policy.authorize(ctx, operation_policies.GET)
    return {_FIELD: view(ctx, _get(req, ctx))}


def update(req):
    """PUT /v1/{project_id}/scheduled_operations/{id} -> 200; 400; 404;
    409 enabling it while its trigger's stored properties are refused.

    Renames, enables or disables. An operation enabled again runs from
    its trigger's next run on; the runs it missed while disabled are not
    made up.
    """
    ctx = middleware.project_context(req)
    policy.authorize(ctx, operation_policies.UPDATE)
    body = validation.body(req, schemas.update)[_FIELD]
    operation = _get(req, ctx)
    for key in ('name', 'description'):
        if key in body:
            setattr(operation, key, body[key])
    if 'enabled' in body and body['enabled'] != operation.enabled:
        operation.enabled = body['enabled']
        operation.next_run_at = (
            _next_run(_trigger(ctx, operation.trigger_id))
            if body['enabled'] else None)
    operation.save()
    return {_FIELD: view(ctx, operation)}


def delete(req):
    """DELETE /v1/{project_id}/scheduled_operations/{id} -> 202; 404.

    No run starts after this; a run already started finishes.
    """
    ctx = middleware.context_of(req)
    policy.authorize(ctx, operation_policies.DELETE)
    _get(req, ctx).destroy()
    return 202, None
