"""How a project's limit is resolved: its own override, then the default
quota class, then [quota]; and what enforce() counts against it."""

import pytest

from karbor.api.v1 import quotas as quota_api
from karbor.db import models
from karbor.db import session as db_session
from karbor import exception
from karbor.objects import quota
from karbor.objects.quota import QuotaSet


@pytest.fixture
def limits_of(db, admin_context):
    def limits(project='p1'):
        return QuotaSet.get_project(admin_context, project).limits
    return limits


def test_config_applies_without_overrides(limits_of, override):
    override('plans', 7, group='quota')
    override('checkpoints', -1, group='quota')
    assert limits_of() == {'plans': 7, 'checkpoints': -1}


def test_project_override_wins_over_class_and_config(
        limits_of, admin_context, override):
    override('plans', 7, group='quota')
    QuotaSet.set_limits(admin_context, quota.CLASS, 'default',
                        {'plans': 5, 'checkpoints': 50})
    assert limits_of('p1') == {'plans': 5, 'checkpoints': 50}
    QuotaSet.set_limits(admin_context, quota.PROJECT, 'p1', {'plans': 9})
    # Per resource: p1's checkpoints still come from the class; other
    # projects keep the class's plans.
    assert limits_of('p1') == {'plans': 9, 'checkpoints': 50}
    assert limits_of('p2') == {'plans': 5, 'checkpoints': 50}
    assert QuotaSet.get_class(admin_context, 'default').limits == {
        'plans': 5, 'checkpoints': 50}


def test_none_removes_an_override_and_reset_removes_all(
        limits_of, admin_context, override):
    override('plans', 7, group='quota')
    override('checkpoints', 70, group='quota')
    QuotaSet.set_limits(admin_context, quota.CLASS, 'default', {'plans': 5})
    QuotaSet.set_limits(admin_context, quota.PROJECT, 'p1',
                        {'plans': 1, 'checkpoints': 2})
    QuotaSet.set_limits(admin_context, quota.PROJECT, 'p1', {'plans': None})
    assert limits_of('p1') == {'plans': 5, 'checkpoints': 2}
    QuotaSet.reset_project(admin_context, 'p1')
    assert limits_of('p1') == {'plans': 5, 'checkpoints': 70}
    QuotaSet.set_limits(admin_context, quota.CLASS, 'default', {'plans': None})
    assert limits_of('p1') == {'plans': 7, 'checkpoints': 70}


def test_an_update_rewrites_the_row_rather_than_adding_one(
        db, admin_context):
    for limit in (1, 2, 3):
        QuotaSet.set_limits(admin_context, quota.PROJECT, 'p1',
                            {'plans': limit})
    with db_session.get_engine().connect() as connection:
        rows = connection.execute(models.QuotaLimit.__table__.select()).all()
    assert [(r.owner, r.resource, r.hard_limit) for r in rows] == [
        ('p1', 'plans', 3)]


def test_only_the_default_class_exists(db, admin_context):
    with pytest.raises(exception.QuotaClassNotFound):
        QuotaSet.get_class(admin_context, 'gold')
    with pytest.raises(exception.QuotaClassNotFound):
        QuotaSet.set_limits(admin_context, quota.CLASS, 'gold', {'plans': 1})


@pytest.mark.parametrize('owner_type,owner,source', [
    (None, None, '[quota] plans'),
    (quota.CLASS, 'default', 'quota class default'),
    (quota.PROJECT, 'p1', 'quota of project p1'),
])
def test_enforce_names_where_the_limit_comes_from(
        db, admin_context, override, owner_type, owner, source):
    override('plans', 0, group='quota')
    if owner_type:
        QuotaSet.set_limits(admin_context, owner_type, owner, {'plans': 0})
    with db_session.writer.using(admin_context) as session:
        with pytest.raises(exception.QuotaExceeded) as caught:
            quota.enforce(session, 'plans', 'p1')
    assert caught.value.message == (
        'Quota exceeded for plans of project p1: 0 in use, limit 0 (%s). '
        'Delete some, or ask an administrator to raise the limit.' % source)


def test_unlimited_needs_no_count(db, admin_context):
    QuotaSet.set_limits(admin_context, quota.PROJECT, 'p1',
                        {'checkpoints': -1})
    with db_session.writer.using(admin_context) as session:
        quota.enforce(session, 'checkpoints', 'p1')


def test_the_view_shows_every_resource(db, admin_context):
    shown = quota_api.view(QuotaSet.get_project(admin_context, 'p1',
                                                usage=True), detail=True)
    assert set(shown) == {'id'} | set(quota.RESOURCES)
    assert shown['plans'] == {'limit': 100, 'in_use': 0, 'reserved': 0}
