"""Quotas: a project's limits on plans and checkpoints, and the default
quota class (karbor.objects.quota says how a limit is resolved).

A non-admin may name only their own project as the target: another
project's quota is a 403, like any other policy refusal, whether that
project exists or not.
"""

from karbor.api import middleware
from karbor.api.schemas import quotas as schemas
from karbor.api import validation
from karbor.objects import quota
from karbor.policies import quotas as quota_policies
from karbor import policy


def view(quota_set, detail=False):
    """``{"id", "plans", "checkpoints"}``; with ``detail`` each resource is
    ``{"limit", "in_use", "reserved"}``, reserved always 0 (a quota is
    checked when the row is inserted; nothing is held in advance)."""
    def shown(resource):
        limit = quota_set.limits[resource]
        if not detail:
            return limit
        return {'limit': limit, 'in_use': quota_set.in_use[resource],
                'reserved': 0}

    return {
        'id': quota_set.owner,
        'plans': shown('plans'),
        'checkpoints': shown('checkpoints'),
    }


def _authorized_target(req, action):
    ctx = middleware.context_of(req)
    validation.validate(req.urlvars, schemas.target)
    target = req.urlvars['target_project_id']
    policy.authorize(ctx, action, {'project_id': target})
    return ctx, target


def _limits(body):
    # JSON-schema integers include 2.0; the column takes ints.
    return {resource: None if limit is None else int(limit)
            for resource, limit in body.items()}


def show(req):
    """GET /v1/{project_id}/quotas/{target_project_id} -> 200 with the
    limits that apply; 400 malformed project id; 403 another project's
    (non-admin)."""
    ctx, target = _authorized_target(req, quota_policies.GET)
    return {'quota': view(quota.QuotaSet.get_project(ctx, target))}


def detail(req):
    """GET /v1/{project_id}/quotas/{target_project_id}/detail -> 200 with
    limit, in_use and reserved per resource; 400; 403."""
    ctx, target = _authorized_target(req, quota_policies.GET)
    return {'quota': view(quota.QuotaSet.get_project(ctx, target,
                                                     usage=True),
                          detail=True)}


def defaults(req):
    """GET /v1/{project_id}/quotas/{target_project_id}/defaults -> 200
    with the limits of a project without its own (the default quota
    class, else [quota]); 400; 403."""
    ctx, target = _authorized_target(req, quota_policies.GET)
    class_set = quota.QuotaSet.get_class(ctx, quota.DEFAULT_CLASS)
    class_set.owner = target
    return {'quota': view(class_set)}


def update(req):
    """PUT /v1/{project_id}/quotas/{target_project_id} (admin).

    Body ``{"quota": {"plans": N, "checkpoints": N}}``: -1 unlimited, null
    removes the project's own limit. 200 with the limits that now apply;
    400 bad body or project id; 403. Rows already over a lowered limit
    stay; only new ones are refused.
    """
    ctx, target = _authorized_target(req, quota_policies.UPDATE)
    body = validation.body(req, schemas.update)['quota']
    quota.QuotaSet.set_limits(ctx, quota.PROJECT, target, _limits(body))
    return {'quota': view(quota.QuotaSet.get_project(ctx, target))}


def delete(req):
    """DELETE /v1/{project_id}/quotas/{target_project_id} (admin) -> 200
    with the default limits, which now apply to the project; 400; 403."""
    ctx, target = _authorized_target(req, quota_policies.UPDATE)
    quota.QuotaSet.reset_project(ctx, target)
    return {'quota': view(quota.QuotaSet.get_project(ctx, target))}


def class_show(req):
    """GET /v1/{project_id}/quota_classes/{class_name} -> 200; 403; 404
    any class but "default"."""
    ctx = middleware.context_of(req)
    policy.authorize(ctx, quota_policies.CLASS_GET)
    return {'quota_class': view(quota.QuotaSet.get_class(
        ctx, req.urlvars['class_name']))}


def class_update(req):
    """PUT /v1/{project_id}/quota_classes/{class_name} (admin).

    Body ``{"quota_class": {"plans": N, "checkpoints": N}}``: the limits
    of every project without its own; -1 unlimited, null falls back to
    [quota]. 200; 400 bad body; 403; 404 any class but "default".
    """
    ctx = middleware.context_of(req)
    policy.authorize(ctx, quota_policies.CLASS_UPDATE)
    class_name = req.urlvars['class_name']
    body = validation.body(req, schemas.class_update)['quota_class']
    quota.QuotaSet.set_limits(ctx, quota.CLASS, class_name, _limits(body))
    return {'quota_class': view(quota.QuotaSet.get_class(ctx, class_name))}
