"""The Service object: a registered karbor-protection / operationengine."""

import datetime

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields
from sqlalchemy import select
from sqlalchemy import update

from karbor.conf import CONF
from karbor.db import models
from karbor.db import pagination
from karbor.db import session as db
from karbor import exception
from karbor.objects import base


@base.KarborObjectRegistry.register
class Service(base.KarborObject, base.TimestampedObject,
              ovo_base.VersionedObjectDictCompat):
    """A service process and its heartbeat.

    Version history:
      1.0 - initial version
    """

    VERSION = '1.0'
    model = models.Service

    fields = dict(base.TimestampedObject.fields, **{
        'id': fields.IntegerField(read_only=True),
        'host': fields.StringField(),
        'binary': fields.StringField(),
        'topic': fields.StringField(),
        'report_count': fields.IntegerField(default=0),
        'disabled': fields.BooleanField(default=False),
        'disabled_reason': fields.StringField(nullable=True),
        'last_seen_at': fields.DateTimeField(nullable=True),
    })

    @property
    def is_up(self):
        """True if the last heartbeat is younger than service_down_time."""
        if self.last_seen_at is None:
            return False
        last = self.last_seen_at.replace(tzinfo=None)
        age = models.utcnow() - last
        return age <= datetime.timedelta(seconds=CONF.service_down_time)

    @classmethod
    def get_by_id(cls, context, service_id):
        with db.reader.using(context) as session:
            row = session.execute(
                select(models.Service).where(
                    models.Service.id == service_id,
                    models.Service.deleted.is_(False))).scalars().first()
            if row is None:
                raise exception.ServiceNotFound(service_id=service_id)
            return cls.from_db(context, row)

    @classmethod
    def get_by_host_and_binary(cls, context, host, binary):
        with db.reader.using(context) as session:
            row = session.execute(
                select(models.Service).where(
                    models.Service.host == host,
                    models.Service.binary == binary,
                    models.Service.deleted.is_(False))).scalars().first()
            if row is None:
                raise exception.ServiceNotFound(
                    service_id='%s on %s' % (binary, host))
            return cls.from_db(context, row)

    @classmethod
    def list(cls, context, query):
        """Services matching ``query`` (a karbor.api.listing.ListQuery)."""
        with db.reader.using(context) as session:
            stmt = pagination.base_select(models.Service,
                                          project_column=None)
            for key, value in query.filters.items():
                stmt = stmt.where(getattr(models.Service, key) == value)
            rows = pagination.paginate(session, stmt, models.Service, query,
                                       {})
            return [cls.from_db(context, row) for row in rows]

    @classmethod
    def list_by_binary(cls, context, binary):
        with db.reader.using(context) as session:
            rows = session.execute(
                select(models.Service).where(
                    models.Service.binary == binary,
                    models.Service.deleted.is_(False))).scalars().all()
            return [cls.from_db(context, row) for row in rows]

    def create(self):
        values = self.obj_get_changes()
        with db.writer.using(self._context) as session:
            row = models.Service(**values)
            session.add(row)
            session.flush()
            self._from_db_object(self._context, self, row)

    def heartbeat(self):
        """Record that the service is alive, in one UPDATE statement, and
        read back whether an administrator disabled it meanwhile."""
        now = models.utcnow()
        with db.writer.using(self._context) as session:
            session.execute(
                update(models.Service)
                .where(models.Service.id == self.id)
                .values(report_count=models.Service.report_count + 1,
                        last_seen_at=now))
            self.disabled, self.disabled_reason = session.execute(
                select(models.Service.disabled,
                       models.Service.disabled_reason)
                .where(models.Service.id == self.id)).one()
        self.last_seen_at = now
        self.obj_reset_changes(['last_seen_at', 'disabled',
                                'disabled_reason'])

    def save(self):
        values = self.obj_get_changes()
        if not values:
            return
        table = models.Service.__table__
        with db.writer.using(self._context) as session:
            # Write first, then read back (as heartbeat does): on SQLite a
            # transaction that reads before it writes cannot take the
            # write lock once another writer committed after its read,
            # and fails at once ("database is locked") instead of waiting.
            result = session.execute(
                update(table).where(table.c.id == self.id,
                                    table.c.deleted.is_(False)),
                values)
            if result.rowcount != 1:
                raise exception.ServiceNotFound(service_id=self.id)
            row = session.execute(
                select(table).where(table.c.id == self.id)).one()
        self._from_db_object(self._context, self, row)
