"""Per-project quotas on plans and checkpoints: their limits and their
enforcement when a row is created.

A project's limit on a resource is, first found:

1. its own override (``PUT /v1/{project_id}/quotas/{project}``);
2. the override of the ``default`` quota class
   (``PUT /v1/{project_id}/quota_classes/default``);
3. the ``[quota]`` option of the resource's name.

-1 is unlimited. Overrides are rows of ``quota_limits``.

Plans and checkpoints check their quota in the writer transaction that
inserts the new row, reading the limit in that same transaction, so the
API and the operation engine (which makes a scheduled run's checkpoint
through the same object) are held to it alike. Nothing is reserved ahead
of an insert: the count is of rows that exist.

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

import functools
import hashlib

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_versionedobjects import fields
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import true
from sqlalchemy import update

from karbor.conf import CONF
from karbor.db import models
from karbor.db import session as db
from karbor import exception
from karbor.objects import base

RESOURCES = ('plans', 'checkpoints')
PROJECT = 'project'
CLASS = 'class'
# The one quota class: it applies to every project without an override.
DEFAULT_CLASS = 'default'

# What counts against the checkpoints quota: checkpoints that hold, or are
# about to hold, data in the bank. A failed protect ('error') is left for
# its owner to look at and must not lock the project out of protecting
# again; one being deleted is on its way out (and counts again if its
# delete fails: 'error-deleting').
COUNTED_CHECKPOINT_STATUSES = ('protecting', 'available', 'error-deleting')


def _counted(resource):
    """(table, WHERE clause) of the rows that count against ``resource``,
    besides being the project's and not deleted."""
    if resource == 'plans':
        return models.Plan.__table__, true()
    table = models.Checkpoint.__table__
    return table, table.c.status.in_(COUNTED_CHECKPOINT_STATUSES)


def _advisory_key(resource, project_id):
    """A signed 64-bit key (what pg_advisory_xact_lock takes)."""
    digest = hashlib.blake2b(('karbor-quota:%s:%s' % (
        resource, project_id)).encode('utf-8'), digest_size=8).digest()
    return int.from_bytes(digest, 'big', signed=True)


@functools.cache
def _count_select(resource, for_update=False):
    """The rows of ``:project_id`` that count against ``resource``: how
    many, or (``for_update``) their ids, locked."""
    table, counted = _counted(resource)
    where = (table.c.project_id == bindparam('project_id'),
             table.c.deleted.is_(False), counted)
    if for_update:
        return select(table.c.id).where(*where).with_for_update()
    return select(func.count()).select_from(table).where(*where)


@functools.cache
def _limits_select(resource):
    """(owner_type, hard_limit) of the overrides of ``resource`` that may
    apply to ``:project_id``: its own and the default class's."""
    ql = models.QuotaLimit.__table__
    return select(ql.c.owner_type, ql.c.hard_limit).where(
        ql.c.resource == resource,
        or_(and_(ql.c.owner_type == CLASS, ql.c.owner == DEFAULT_CLASS),
            and_(ql.c.owner_type == PROJECT,
                 ql.c.owner == bindparam('project_id'))))


@functools.cache
def _lock_statement(resource, dialect):
    """What takes the quota's lock on ``dialect`` (see the module
    docstring); None where the count locks the rows instead."""
    if dialect == 'postgresql':
        return text('SELECT pg_advisory_xact_lock(:key)')
    if dialect == 'sqlite':
        table = _counted(resource)[0]
        return update(table).where(false()).values(id=table.c.id)
    return None


def _count(connection, resource, project_id):
    """How many ``resource`` rows of ``project_id`` count (no lock)."""
    return connection.execute(_count_select(resource),
                              {'project_id': project_id}).scalar_one()


def _source(owner_type, owner, resource):
    """Where a limit comes from, as error messages name it."""
    if owner_type == PROJECT:
        return 'quota of project %s' % owner
    if owner_type == CLASS:
        return 'quota class %s' % owner
    return '[quota] %s' % resource


def _resolve(session, project_id):
    """{resource: (limit, source)} of ``project_id`` (None: a class's)."""
    ql = models.QuotaLimit
    owners = [and_(ql.owner_type == CLASS, ql.owner == DEFAULT_CLASS)]
    if project_id is not None:
        owners.append(and_(ql.owner_type == PROJECT, ql.owner == project_id))
    found = {(row.owner_type, row.resource): row.hard_limit
             for row in session.execute(
                 select(ql.owner_type, ql.resource, ql.hard_limit)
                 .where(or_(*owners)))}
    return {resource: _first_limit(
        {owner_type: limit for (owner_type, of), limit in found.items()
         if of == resource}, project_id, resource)
        for resource in RESOURCES}


def _first_limit(overrides, project_id, resource):
    """(limit, source) of ``resource`` for ``project_id``: the first of
    its own override and the default class's in ``overrides`` ({owner
    type: hard limit}), else ``[quota]``."""
    for owner_type, owner in ((PROJECT, project_id), (CLASS, DEFAULT_CLASS)):
        if owner_type in overrides:
            return overrides[owner_type], _source(owner_type, owner,
                                                  resource)
    return getattr(CONF.quota, resource), _source(None, None, resource)


def enforce(session, resource, project_id):
    """Refuse one more ``resource`` row for ``project_id`` over its quota.

    :param session: the writer session that will insert the row.
    :param resource: 'plans' or 'checkpoints'.
    :raises QuotaExceeded: the project already has its limit.
    """
    # The statements are built once (functools.cache): constructing them
    # anew took more of a plan create's CPU than running them.
    connection = session.connection()
    lock = _lock_statement(resource, connection.dialect.name)
    if lock is not None:
        connection.execute(lock, {'key': _advisory_key(resource,
                                                       project_id)})
    found = dict(connection.execute(_limits_select(resource),
                                    {'project_id': project_id}).all())
    limit, source = _first_limit(found, project_id, resource)
    if limit < 0:
        return
    if lock is not None:
        in_use = _count(connection, resource, project_id)
    else:
        in_use = len(connection.execute(
            _count_select(resource, for_update=True),
            {'project_id': project_id}).all())
    if in_use >= limit:
        raise exception.QuotaExceeded(resource=resource,
                                      project_id=project_id,
                                      in_use=in_use, limit=limit,
                                      source=source)


def _is_duplicate(exc):
    return isinstance(exc, db_exc.DBDuplicateEntry)


@base.KarborObjectRegistry.register
class QuotaSet(base.KarborObject):
    """The limits that apply to one project, or that one quota class sets.

    Version history:
      1.0 - initial version
    """

    VERSION = '1.0'
    model = models.QuotaLimit

    fields = {
        'owner_type': fields.StringField(),
        # A project id, or a quota class name.
        'owner': fields.StringField(),
        # {resource: limit} that applies, -1 unlimited.
        'limits': fields.DictOfIntegersField(),
        # {resource: rows counted now}; only from get_project(usage=True).
        'in_use': fields.DictOfIntegersField(nullable=True),
    }

    @classmethod
    def _make(cls, context, owner_type, owner, resolved, in_use=None):
        quota_set = cls(owner_type=owner_type, owner=owner,
                        limits={r: resolved[r][0] for r in RESOURCES},
                        in_use=in_use)
        quota_set._context = context
        quota_set.obj_reset_changes()
        return quota_set

    @classmethod
    def get_project(cls, context, project_id, usage=False):
        """The limits of ``project_id``; with ``usage``, what it uses."""
        with db.reader.using(context) as session:
            in_use = ({r: _count(session, r, project_id) for r in RESOURCES}
                      if usage else None)
            return cls._make(context, PROJECT, project_id,
                             _resolve(session, project_id), in_use)

    @classmethod
    def get_class(cls, context, class_name):
        """The limits the quota class gives projects without their own."""
        if class_name != DEFAULT_CLASS:
            raise exception.QuotaClassNotFound(class_name=class_name)
        with db.reader.using(context) as session:
            return cls._make(context, CLASS, class_name,
                             _resolve(session, None))

    @classmethod
    def set_limits(cls, context, owner_type, owner, limits):
        """Override limits of a project or of the quota class.

        :param limits: {resource: limit}; a limit of None removes the
            override, so the next in the resolution order applies again.
        """
        if owner_type == CLASS and owner != DEFAULT_CLASS:
            raise exception.QuotaClassNotFound(class_name=owner)
        cls._write(context, owner_type, owner, limits)

    @classmethod
    @oslo_db_api.wrap_db_retry(max_retries=3, retry_interval=0.05,
                               exception_checker=_is_duplicate)
    def _write(cls, context, owner_type, owner, limits):
        # Two first overrides of one owner at once both find no row to
        # update; the loser's insert breaks the unique constraint, and its
        # retry updates the winner's row instead.
        ql = models.QuotaLimit
        now = models.utcnow()
        with db.writer.using(context) as session:
            for resource, limit in sorted(limits.items()):
                mine = (ql.owner_type == owner_type, ql.owner == owner,
                        ql.resource == resource)
                if limit is None:
                    session.execute(delete(ql).where(*mine))
                    continue
                changed = session.execute(
                    update(ql).where(*mine).values(hard_limit=limit,
                                                   updated_at=now))
                if changed.rowcount == 0:
                    session.execute(insert(ql).values(
                        owner_type=owner_type, owner=owner,
                        resource=resource, hard_limit=limit,
                        created_at=now, deleted=False))

    @classmethod
    def reset_project(cls, context, project_id):
        """Remove every override of ``project_id``."""
        ql = models.QuotaLimit
        with db.writer.using(context) as session:
            session.execute(delete(ql).where(ql.owner_type == PROJECT,
                                             ql.owner == project_id))
