"""Keyset pagination of SQLAlchemy selects, shared by every list.

The API's list helper (karbor.api.listing) turns a request into a
``ListQuery``; objects apply it to their select with ``paginate``.
"""

from oslo_db.sqlalchemy import utils as sa_utils
from sqlalchemy import select

from karbor import exception


def paginate(session, stmt, model, query):
    """Apply sort, marker and limit of ``query`` to ``stmt``; run it.

    The id column always ends the sort so the order is total and a marker
    (the id of the last row of the previous page) is unambiguous. The marker
    row is looked up within ``stmt``'s own filters, so a marker from another
    project is as unknown as a random one.
    """
    sort_keys = [key for key, _ in query.sort]
    sort_dirs = [direction for _, direction in query.sort]
    if 'id' not in sort_keys:
        sort_keys.append('id')
        sort_dirs.append(sort_dirs[0] if sort_dirs else 'asc')

    marker_row = None
    if query.marker is not None:
        marker_row = session.execute(
            stmt.where(model.id == query.marker)).scalars().first()
        if marker_row is None:
            raise exception.Invalid(
                'Invalid marker: %s was not found.' % query.marker)

    stmt = sa_utils.paginate_query(stmt, model, query.limit, sort_keys,
                                   marker=marker_row, sort_dirs=sort_dirs)
    return session.execute(stmt).scalars().all()


def base_select(model, query, project_column='project_id'):
    """select(model) of live rows, limited to the query's project.

    ``query.project_id`` is None only for an admin's all_tenants list.
    """
    stmt = select(model).where(model.deleted.is_(False))
    if project_column is not None and query.project_id is not None:
        stmt = stmt.where(getattr(model, project_column) == query.project_id)
    return stmt
