"""The policy enforcer and the one ``authorize`` call controllers make.

oslo.policy evaluates a rule tree on every call and re-checks the policy
files for changes each time; on a cheap GET that costs more than the
request itself. Decisions are therefore memoised per (rule, credentials,
target), and the files are re-checked at most once per
``_RELOAD_INTERVAL`` seconds; a changed policy empties the memo.
"""

import threading
import time

from oslo_policy import policy

from karbor.conf import CONF
from karbor import exception
from karbor import policies

_RELOAD_INTERVAL = 1.0
_MEMO_LIMIT = 10000

_ENFORCER = None
_lock = threading.Lock()
_memo = {}
_state = {'checked_at': 0.0, 'rules': None}


def get_enforcer():
    """The process-wide enforcer; also oslo.policy's enforcer entry point."""
    global _ENFORCER
    if _ENFORCER is not None:
        # The hot path takes no lock: a contended lock per request makes
        # API threads queue on each other.
        return _ENFORCER
    with _lock:
        if _ENFORCER is None:
            enforcer = policy.Enforcer(CONF)
            enforcer.register_defaults(policies.list_rules())
            _ENFORCER = enforcer
        return _ENFORCER


def reset():
    global _ENFORCER
    with _lock:
        if _ENFORCER is not None:
            _ENFORCER.clear()
        _ENFORCER = None
        _memo.clear()
        _state.update(checked_at=0.0, rules=None)


def _freeze(values):
    return tuple(sorted(
        (key, tuple(value) if isinstance(value, list) else value)
        for key, value in values.items()))


def _current_enforcer():
    enforcer = get_enforcer()
    now = time.monotonic()
    if now - _state['checked_at'] >= _RELOAD_INTERVAL:
        enforcer.load_rules()
        _state['checked_at'] = now
        if enforcer.rules is not _state['rules']:
            _memo.clear()
            _state['rules'] = enforcer.rules
    return enforcer


def _decide(context, action, target):
    enforcer = _current_enforcer()
    creds = context.to_policy_values()
    key = (action, _freeze(creds), _freeze(target))
    allowed = _memo.get(key)
    if allowed is None:
        try:
            enforcer.authorize(action, target, context, do_raise=True,
                               exc=exception.PolicyNotAuthorized,
                               action=action)
            allowed = True
        except (exception.PolicyNotAuthorized, policy.InvalidScope):
            # A token of the wrong scope is refused like any other caller.
            allowed = False
        if len(_memo) >= _MEMO_LIMIT:
            _memo.clear()
        _memo[key] = allowed
    return allowed


def authorize(context, action, target=None):
    """Raise PolicyNotAuthorized (403) unless ``context`` may do ``action``.

    ``target`` defaults to the caller's own project; pass the resource's
    project when acting on a row.
    """
    if target is None:
        target = {'project_id': context.project_id}
    if not _decide(context, action, target):
        raise exception.PolicyNotAuthorized(action=action)


def check(context, action, target=None):
    """Like authorize, but answer True/False."""
    try:
        authorize(context, action, target)
    except exception.PolicyNotAuthorized:
        return False
    return True
