"""Triggers: the times at which scheduled operations run."""

from oslo_utils import uuidutils

from karbor.api import listing
from karbor.api import middleware
from karbor.api.schemas import triggers as schemas
from karbor.api import validation
from karbor.db import models
from karbor import exception
from karbor import objects
from karbor.objects import trigger as trigger_obj
from karbor.policies import triggers as trigger_policies
from karbor import policy
from karbor.services.operationengine import timetrigger

SORT_KEYS = ('created_at', 'id', 'name', 'type', 'updated_at')
# The clients send ``properties`` with --properties; it is accepted, not
# filtered on.
FILTERS = {'name': listing.exact,
           'type': listing.one_of(*trigger_obj.TYPES),
           'properties': listing.ignore}


def view(trigger):
    return {
        'id': trigger.id,
        'project_id': trigger.project_id,
        'name': trigger.name,
        'type': trigger.type,
        'properties': trigger.properties,
        'created_at': trigger.created_at,
        'updated_at': trigger.updated_at,
    }


def _get(req, ctx):
    trigger_id = req.urlvars['trigger_id']
    if not uuidutils.is_uuid_like(trigger_id):
        raise exception.TriggerNotFound(trigger_id=trigger_id)
    return objects.Trigger.get_by_id(ctx, trigger_id)


def create(req):
    """POST /v1/{project_id}/triggers -> 200; 400 bad body or properties
    (the message names the field)."""
    ctx = middleware.project_context(req)
    policy.authorize(ctx, trigger_policies.CREATE)
    body = validation.body(req, schemas.create)['trigger_info']
    properties = timetrigger.check_properties(body['properties'],
                                              models.utcnow())
    trigger = objects.Trigger(
        ctx, id=uuidutils.generate_uuid(), project_id=ctx.project_id,
        name=body['name'], type=body['type'], properties=properties)
    trigger.create()
    return {'trigger_info': view(trigger)}


def index(req):
    """GET /v1/{project_id}/triggers -> 200; 400 bad list parameters."""
    ctx = middleware.context_of(req)
    policy.authorize(ctx, trigger_policies.GET_ALL)
    query = listing.parse(req, SORT_KEYS, [('created_at', 'desc')], FILTERS)
    rows = [view(t) for t in objects.Trigger.list(ctx, query)]
    return dict({'triggers': rows},
                **listing.links(req, 'triggers', rows, query))


def show(req):
    """GET /v1/{project_id}/triggers/{trigger_id} -> 200; 404."""
    ctx = middleware.context_of(req)
    policy.authorize(ctx, trigger_policies.GET)
    return {'trigger_info': view(_get(req, ctx))}


def update(req):
    """PUT /v1/{project_id}/triggers/{trigger_id} -> 200; 400; 404.

    The properties given replace the stored ones of the same name; the
    whole is checked again, and refused (400) if a verify operation using
    the trigger could no longer read its cycle in time. Operations using
    the trigger are rescheduled to its new next run.
    """
    ctx = middleware.project_context(req)
    policy.authorize(ctx, trigger_policies.UPDATE)
    body = validation.body(req, schemas.update)['trigger_info']
    trigger = _get(req, ctx)
    if 'name' in body:
        trigger.name = body['name']
    if 'properties' not in body:
        trigger.save()
        return {'trigger_info': view(trigger)}
    now = models.utcnow()
    trigger.properties = timetrigger.check_properties(
        dict(trigger.properties, **body['properties']), now)
    for operation in trigger.users():
        days = operation.operation_definition.get('cycle_days')
        if days:
            timetrigger.check_runs_every(
                trigger.properties, days, now, 'trigger_info/properties',
                'scheduled operation %s verifies in cycles of %d day(s)' %
                (operation.id, days))
    trigger.save_and_reschedule(
        timetrigger.TimeTrigger(trigger.properties).next_after(now))
    return {'trigger_info': view(trigger)}


def delete(req):
    """DELETE /v1/{project_id}/triggers/{trigger_id} -> 202; 404; 409
    while a scheduled operation uses it."""
    ctx = middleware.context_of(req)
    policy.authorize(ctx, trigger_policies.DELETE)
    _get(req, ctx).destroy_unused()
    return 202, None
