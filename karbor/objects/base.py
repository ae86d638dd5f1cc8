"""Base classes, registry and RPC serializer of Karbor's versioned objects."""

import functools

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from karbor.db import models
from karbor.db import pagination
from karbor.db import session as db
from karbor import exception


class KarborObjectRegistry(ovo_base.VersionedObjectRegistry):
    def registration_hook(self, cls, index):
        # Make every registered class reachable as karbor.objects.<Name>.
        import karbor.objects
        setattr(karbor.objects, cls.obj_name(), cls)


class KarborObject(ovo_base.VersionedObject):
    """Base of every Karbor object.

    Each subclass keeps a version history in its docstring; a change to
    its fields or remotable methods needs a version bump, which the
    fingerprint test in tests/unit/objects enforces.
    """

    OBJ_PROJECT_NAMESPACE = 'karbor'
    OBJ_SERIAL_NAMESPACE = 'karbor_object'

    # The DB model backing the object; set by subclasses.
    model = None

    @classmethod
    def _row_readers(cls):
        """(field name, attribute, field to coerce with or None) per field.

        Going through each field's setter coerces every value and records
        it as changed, which cost more than reading the row.
        A string, integer, boolean or JSON column already gives its field's
        type, so its value is stored as read; other fields (datetimes, made
        timezone-aware) are still coerced. Computed once per class.
        """
        readers = cls.__dict__.get('_readers')
        if readers is None:
            readers = tuple(
                (name, ovo_base._get_attrname(name),
                 None if type(field) in _STORED_AS_READ else field)
                for name, field in cls.fields.items())
            cls._readers = readers
        return readers

    @classmethod
    def _from_db_object(cls, context, obj, db_row):
        for name, attribute, field in cls._row_readers():
            value = getattr(db_row, name)
            if value is None:
                if not cls.fields[name].nullable:
                    # Let the setter raise what it raises for a NULL.
                    setattr(obj, name, value)
            elif field is not None:
                value = field.coerce(obj, name, value)
            setattr(obj, attribute, value)
        obj._context = context
        obj.obj_reset_changes()
        return obj

    @classmethod
    def from_db(cls, context, db_row):
        return cls._from_db_object(context, cls(), db_row)


class ProjectObject(KarborObject):
    """An object whose row belongs to a project, stored in ``model``.

    Reads are limited to the caller's project unless the caller is an
    admin; a row of another project is as absent as a missing one.
    Subclasses set ``model``, ``not_found`` (an exception class taking
    ``<name>_id``) and ``filterable`` (filter name -> column).
    """

    not_found = exception.NotFound
    filterable = {}
    # JSON columns the list view passes through unchanged: list() gives
    # them as unparsed JSON text (see pagination.base_select).
    listed_as_json_text = ()

    @classmethod
    def _not_found(cls, object_id):
        return cls.not_found(**{'%s_id' % cls.obj_name().lower():
                                object_id})

    @classmethod
    def _select_one(cls, context):
        """The select of one live row by ``:object_id`` (and, but for an
        admin, ``:project_id``).

        Built once per class with bound parameters: constructing the
        statement anew took a quarter of a show's database time.
        """
        selects = cls.__dict__.get('_selects_one')
        if selects is None:
            table = cls.model.__table__
            any_project = select(table).where(
                table.c.id == bindparam('object_id'),
                table.c.deleted.is_(False))
            selects = (any_project, any_project.where(
                table.c.project_id == bindparam('project_id')))
            cls._selects_one = selects
        return selects[0] if context.is_admin else selects[1]

    # The API's reads (get_by_id, list) run Core selects on a plain
    # connection (db.read): no ORM session to build and close, no
    # identity map.

    @classmethod
    def get_by_id(cls, context, object_id):
        row = db.read(context, lambda connection: connection.execute(
            cls._select_one(context),
            {'object_id': object_id,
             'project_id': context.project_id}).first())
        if row is None:
            raise cls._not_found(object_id)
        return cls.from_db(context, row)

    @classmethod
    def list(cls, context, query):
        """The rows matching ``query`` (a karbor.api.listing.ListQuery).

        Read-only database rows with the object's fields as attributes
        (datetimes naive UTC), not objects: lists feed the API's views,
        which only read fields, and a versioned object per row of a
        50-row page cost more CPU than the query. The JSON columns in
        ``listed_as_json_text`` are orjson.Fragments of their text.
        """
        stmt, first = cls._list_selects(query.project_id is None,
                                        tuple(sorted(query.filters)),
                                        tuple(query.sort))
        params = cls.filter_values(query.filters)
        params['project_id'] = query.project_id
        return db.read(context, lambda connection: pagination.paginate(
            connection, stmt, cls.model, query, params, first))

    @classmethod
    @functools.lru_cache(maxsize=256)
    def _list_selects(cls, all_projects, filter_names, sort):
        """The select of a list and of its first page (see
        pagination.first_page), values left to bound parameters.

        Built once per shape of list: SQLAlchemy spent more CPU on a new
        statement object (building it, its cache key, adapting the cached
        compiled form to it) than on running a 50-row page.
        """
        stmt = pagination.base_select(
            cls.model, project_column=None if all_projects else 'project_id',
            json_text=cls.listed_as_json_text)
        for name in filter_names:
            stmt = stmt.where(cls.filter_clause(name))
        return stmt, pagination.first_page(stmt, cls.model, sort)

    @classmethod
    def filter_clause(cls, name):
        """The condition of list filter ``name`` on the bound parameter
        ``f_<name>`` (filter_values gives the values): equality here,
        subclasses add ranges and the like."""
        return getattr(cls.model, name) == bindparam('f_' + name)

    @classmethod
    def filter_values(cls, filters):
        """The bound parameters of filter_clause for ``filters``."""
        return {'f_' + name: value for name, value in filters.items()}

    @classmethod
    def list_owned(cls, context, host, statuses):
        """Rows in ``statuses`` whose operation the service ``host`` runs.

        For a service that restarts: what it owned and did not finish.
        """
        with db.reader.using(context) as session:
            rows = session.execute(
                select(cls.model).where(
                    cls.model.host == host,
                    cls.model.status.in_(statuses),
                    cls.model.deleted.is_(False))).scalars().all()
            return [cls.from_db(context, row) for row in rows]

    @classmethod
    def list_unclaimed(cls, context, statuses, before):
        """Rows in ``statuses`` that no service took, last changed before
        ``before``: operations whose cast nobody received."""
        with db.reader.using(context) as session:
            rows = session.execute(
                select(cls.model).where(
                    cls.model.host.is_(None),
                    cls.model.status.in_(statuses),
                    func.coalesce(cls.model.updated_at,
                                  cls.model.created_at) < before,
                    cls.model.deleted.is_(False))).scalars().all()
            return [cls.from_db(context, row) for row in rows]

    @classmethod
    def hosts_running(cls, context, statuses):
        """The hosts of the services that took rows in ``statuses``."""
        with db.reader.using(context) as session:
            return set(session.execute(
                select(cls.model.host).distinct().where(
                    cls.model.host.is_not(None),
                    cls.model.status.in_(statuses),
                    cls.model.deleted.is_(False))).scalars())

    def create(self):
        """Insert the row; a Core INSERT, with no ORM unit of work, since
        every operation writes several rows (its log among them)."""
        values = self.obj_get_changes()
        values.setdefault('created_at', models.utcnow())
        values.setdefault('deleted', False)
        with db.writer.using(self._context) as session:
            # The values as parameters, not in the statement: SQLAlchemy
            # would otherwise key its statement cache on each JSON value's
            # type, a slow walk, on every insert.
            session.execute(insert(self.model.__table__), values)
        for name in self.fields:
            if name in values:
                setattr(self, name, values[name])
            elif not self.obj_attr_is_set(name):
                setattr(self, name, None)
        self.obj_reset_changes()

    def save(self):
        values = self.obj_get_changes()
        if not values:
            return
        now = models.utcnow()
        with db.writer.using(self._context) as session:
            result = session.execute(
                update(self.model.__table__)
                .where(self.model.id == self.id,
                       self.model.deleted.is_(False)),
                dict(values, updated_at=now))
            if result.rowcount != 1:
                raise self._not_found(self.id)
        self.updated_at = now
        self.obj_reset_changes()

    def conditional_update(self, values, expected):
        """Set ``values`` only if the row's columns equal ``expected``.

        The compare-and-swap the status machines rely on when two services
        or requests race: returns False (and changes nothing) if another
        writer got there first.
        """
        # Table updates with the values as parameters (they make the SET
        # clause), as in create(): an ORM update evaluates itself against
        # the session, and values inside the statement make SQLAlchemy
        # key its cache on each JSON value's type; both cost more CPU than
        # the update, and a protect makes a dozen.
        with db.writer.using(self._context) as session:
            stmt = update(self.model.__table__).where(
                self.model.id == self.id, self.model.deleted.is_(False))
            for key, value in expected.items():
                column = getattr(self.model, key)
                if isinstance(value, (list, tuple, set)):
                    stmt = stmt.where(column.in_(value))
                else:
                    stmt = stmt.where(column == value)
            now = models.utcnow()
            result = session.execute(stmt, dict(values, updated_at=now))
            if result.rowcount != 1:
                return False
        for key, value in dict(values, updated_at=now).items():
            setattr(self, key, value)
        self.obj_reset_changes(list(values) + ['updated_at'])
        return True

    def destroy(self):
        """Soft-delete the row."""
        with db.writer.using(self._context) as session:
            session.execute(
                update(self.model.__table__).where(self.model.id == self.id),
                soft_delete_values())


class TimestampedObject(object):
    """Timestamp fields every table carries."""

    fields = {
        'created_at': fields.DateTimeField(nullable=True),
        'updated_at': fields.DateTimeField(nullable=True),
    }


class _Json(fields.FieldType):
    """Any JSON-serializable value (the JSON columns' contents)."""

    def coerce(self, obj, attr, value):
        return value


class JsonField(fields.AutoTypedField):
    AUTO_TYPE = _Json()


# Fields whose column values need no coercion (see _row_readers).
_STORED_AS_READ = (fields.StringField, fields.IntegerField,
                   fields.BooleanField, JsonField)


class KarborObjectSerializer(ovo_base.VersionedObjectSerializer):
    OBJ_BASE_CLASS = KarborObject


def soft_delete_values():
    return {'deleted': True, 'deleted_at': models.utcnow()}


def purge_in_batches(context, model, conditions, batch_size):
    """Delete the rows of ``model`` matching ``conditions``, in batches.

    Each batch of ``batch_size`` rows is its own short transaction, so the
    API's reads and the services' writes go on while millions of rows are
    purged. Returns the number of rows removed.
    """
    total = 0
    while True:
        with db.writer.using(context) as session:
            batch = session.execute(
                select(model.id).where(*conditions).limit(batch_size)
            ).scalars().all()
            if batch:
                session.execute(delete(model).where(model.id.in_(batch)))
        total += len(batch)
        if len(batch) < batch_size:
            return total
