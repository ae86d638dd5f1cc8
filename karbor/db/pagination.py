"""Keyset pagination of SQLAlchemy selects, shared by every list.

The API's list helper (karbor.api.listing) turns a request into a
``ListQuery``; objects apply it to their select with ``paginate``.
"""

import orjson
from oslo_db.sqlalchemy import utils as sa_utils
from sqlalchemy import bindparam
from sqlalchemy import cast
from sqlalchemy import select
from sqlalchemy import tuple_
from sqlalchemy import type_coerce
from sqlalchemy import types

from karbor import exception


def _sort_of(sort):
    """``sort`` completed by id, so that the order is total."""
    sort = list(sort)
    if 'id' not in [key for key, _ in sort]:
        sort.append(('id', sort[0][1] if sort else 'asc'))
    return sort


def first_page(stmt, model, sort):
    """``stmt`` ordered by ``sort`` (completed by id) and cut to
    ``:page_limit`` rows, a bound parameter: a page. Of a list's own
    select it is the first page, which callers may build once and run for
    every request; paginate builds later pages from the select with their
    keyset condition. None where the sort needs paginate's general form
    (a nullable key or mixed directions)."""
    sort = _sort_of(sort)
    columns = [getattr(model, key) for key, _ in sort]
    if not _is_simple(sort, columns):
        return None
    descending = sort[0][1] == 'desc'
    return stmt.order_by(*[c.desc() if descending else c.asc()
                           for c in columns]).limit(bindparam('page_limit'))


def _is_simple(sort, columns):
    return len({direction for _, direction in sort}) == 1 and not any(
        column.nullable for column in columns)


def paginate(connection, stmt, model, query, params, first=None):
    """Apply sort, marker and limit of ``query`` to ``stmt``; run it.

    ``params`` binds the parameters of ``stmt``. ``first`` is
    ``first_page()`` of ``stmt``, run as it is for a first page.

    The marker (the id of the last row of the previous page) is looked up
    within ``stmt``'s own filters, so a marker from another project is as
    unknown as a random one. The next page starts after the marker by a
    keyset condition, never an OFFSET, so deep pages cost what the first
    does: a row-value comparison ``(k1, k2, id) < (v1, v2, vid)`` where
    every key sorts the same way and is never NULL (indexes serve it), and
    oslo.db's expanded form otherwise.
    """
    params = dict(params, page_limit=query.limit)
    if query.marker is None and first is not None:
        return connection.execute(first, params).all()
    sort = _sort_of(query.sort)
    marker_row = None
    if query.marker is not None:
        marker_row = connection.execute(
            stmt.where(model.id == query.marker), params).first()
        if marker_row is None:
            raise exception.InvalidInput(
                field='marker', reason='%s was not found' % query.marker)

    columns = [getattr(model, key) for key, _ in sort]
    if not _is_simple(sort, columns):
        stmt = sa_utils.paginate_query(
            stmt, model, query.limit, [k for k, _ in sort],
            marker=marker_row, sort_dirs=[d for _, d in sort])
        return connection.execute(stmt, params).all()

    if marker_row is not None:
        values = tuple_(*[getattr(marker_row, key) for key, _ in sort])
        keys = tuple_(*columns)
        stmt = stmt.where(keys < values if sort[0][1] == 'desc'
                          else keys > values)
    return connection.execute(first_page(stmt, model, sort), params).all()


class _JsonText(types.TypeDecorator):
    """A JSON column read as its text and handed on unparsed, as an
    orjson.Fragment the response encoder copies as it is (None for SQL
    NULL and JSON null, so that views' ``or {}`` defaults still apply)."""

    impl = types.Text
    cache_ok = True

    def process_result_value(self, value, dialect):
        if value is None or value == 'null':
            return None
        return orjson.Fragment(value)


def base_select(model, project_column='project_id', json_text=()):
    """Select the columns of live rows, of the project ``:project_id``.

    Rows, not ORM instances: lists only read, and the ORM's identity map
    and instance state cost more than the rows themselves. Objects are
    built from rows as from instances (by column name). With
    ``project_column`` None (an admin's all_tenants list, services) rows
    of every project are selected.

    The JSON columns named in ``json_text`` come as their text (see
    _JsonText): a view that passes them through unchanged saves parsing
    them into Python and encoding them back, most of what a page of
    checkpoints cost beyond the query.
    """
    table = model.__table__
    columns = [type_coerce(cast(column, types.Text), _JsonText).label(
        column.name) if column.name in json_text else column
        for column in table.columns]
    stmt = select(*columns).where(model.deleted.is_(False))
    if project_column is not None:
        stmt = stmt.where(getattr(model, project_column) ==
                          bindparam('project_id'))
    return stmt
