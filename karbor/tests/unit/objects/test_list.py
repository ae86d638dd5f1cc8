"""ProjectObject.list: one statement per shape of list, run with each
request's own values."""

import datetime

from karbor.api import listing
from karbor.db import models
from karbor.db import session
from karbor import objects


def _checkpoint(checkpoint_id, project_id, created_at):
    return models.Checkpoint(
        id=checkpoint_id, project_id=project_id, provider_id='prov',
        plan_id='plan', status='available', protection_plan={},
        created_at=created_at, deleted=False)


def _ids(admin_context, project_id, limit=50, marker=None, **filters):
    query = listing.ListQuery(limit=limit, marker=marker,
                              sort=[('created_at', 'desc')],
                              filters=filters, project_id=project_id)
    return [row.id for row in objects.Checkpoint.list(admin_context, query)]


def test_a_list_of_the_same_shape_binds_its_own_values(db, admin_context):
    day = datetime.datetime(2026, 11, 1)
    with session.writer.using(admin_context) as writer:
        for number in range(4):
            for project in ('a', 'b'):
                writer.add(_checkpoint('%s%d' % (project, number), project,
                                       day + datetime.timedelta(days=number)))
    assert _ids(admin_context, 'a') == ['a3', 'a2', 'a1', 'a0']
    # The statement the first list built, with another project's value.
    assert _ids(admin_context, 'b') == ['b3', 'b2', 'b1', 'b0']
    assert _ids(admin_context, 'b', limit=2) == ['b3', 'b2']
    assert _ids(admin_context, 'b', limit=2, marker='b2') == ['b1', 'b0']
    assert _ids(admin_context, None, limit=3) == ['b3', 'a3', 'b2']
    # Ranges: end_date takes in all of its day.
    assert _ids(admin_context, 'a', start_date=day + datetime.timedelta(1),
                end_date=day + datetime.timedelta(2)) == ['a2', 'a1']
    assert _ids(admin_context, 'b', start_date=day,
                end_date=day) == ['b0']
