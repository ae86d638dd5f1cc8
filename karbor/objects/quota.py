"""Enforce the per-project quotas of ``[quota]`` when a row is created.

Plans and checkpoints check their quota in the writer transaction that
inserts the new row, so the API and the operation engine (which makes a
scheduled run's checkpoint through the same object) are held to it alike.

Counting then inserting is only safe if two creators of one project
cannot both count before either inserts; each takes a lock first, held
until its transaction ends:

- PostgreSQL: a transaction-scoped advisory lock on a key made of the
  quota and the project. Under READ COMMITTED each statement reads what
  was committed before it started, so the count that follows the lock
  sees the row of the previous holder.
- SQLite: the database has one write lock; a write that changes nothing,
  issued before the count, takes it (the pysqlite driver begins the
  transaction at the first write, and the count must not precede it).
- Other databases (not tested): the counted rows are read FOR UPDATE.
"""

import hashlib

from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update

from karbor.conf import CONF
from karbor import exception


def _advisory_key(resource, project_id):
    """A signed 64-bit key (what pg_advisory_xact_lock takes)."""
    digest = hashlib.blake2b(('karbor-quota:%s:%s' % (
        resource, project_id)).encode('utf-8'), digest_size=8).digest()
    return int.from_bytes(digest, 'big', signed=True)


def _lock(session, model, resource, project_id):
    dialect = session.get_bind().dialect.name
    if dialect == 'postgresql':
        session.execute(text('SELECT pg_advisory_xact_lock(:key)'),
                        {'key': _advisory_key(resource, project_id)})
    elif dialect == 'sqlite':
        session.execute(update(model).where(false()).values(id=model.id))


def enforce(session, model, resource, project_id, counted):
    """Refuse one more ``resource`` row for ``project_id`` over its quota.

    :param session: the writer session that will insert the row.
    :param model: the table of the rows.
    :param resource: the quota's name, an option of ``[quota]``.
    :param counted: a WHERE clause picking the rows that count, besides
        being the project's and not deleted.
    :raises QuotaExceeded: the project already has its limit.
    """
    limit = getattr(CONF.quota, resource)
    if limit < 0:
        return
    _lock(session, model, resource, project_id)
    where = (model.project_id == project_id, model.deleted.is_(False),
             counted)
    if session.get_bind().dialect.name in ('postgresql', 'sqlite'):
        in_use = session.execute(
            select(func.count()).select_from(model).where(*where)
        ).scalar_one()
    else:
        in_use = len(session.execute(
            select(model.id).where(*where).with_for_update()).all())
    if in_use >= limit:
        raise exception.QuotaExceeded(resource=resource,
                                      project_id=project_id,
                                      in_use=in_use, limit=limit)
