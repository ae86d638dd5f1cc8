"""The policy enforcer and the one ``authorize`` call controllers make."""

from oslo_policy import policy

from karbor.conf import CONF
from karbor import exception
from karbor import policies

_ENFORCER = None


def get_enforcer():
    """The process-wide enforcer; also oslo.policy's enforcer entry point."""
    global _ENFORCER
    if _ENFORCER is None:
        _ENFORCER = policy.Enforcer(CONF)
        _ENFORCER.register_defaults(policies.list_rules())
    return _ENFORCER


def reset():
    global _ENFORCER
    if _ENFORCER is not None:
        _ENFORCER.clear()
    _ENFORCER = None


def authorize(context, action, target=None):
    """Raise PolicyNotAuthorized (403) unless ``context`` may do ``action``.

    ``target`` defaults to the caller's own project; pass the resource's
    project when acting on a row.
    """
    if target is None:
        target = {'project_id': context.project_id}
    try:
        return get_enforcer().authorize(
            action, target, context, do_raise=True,
            exc=exception.PolicyNotAuthorized, action=action)
    except policy.InvalidScope:
        # A token of the wrong scope is refused like any other caller.
        raise exception.PolicyNotAuthorized(action=action)


def check(context, action, target=None):
    """Like authorize, but answer True/False."""
    try:
        authorize(context, action, target)
    except exception.PolicyNotAuthorized:
        return False
    return True
