"""The Checkpoint object: the database index of a checkpoint in a bank."""

import datetime

from oslo_utils import uuidutils
from oslo_utils import versionutils
from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields
from sqlalchemy import bindparam
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from karbor.db import models
from karbor.db import session as db
from karbor import exception
from karbor.objects import base
from karbor.objects import quota

PROTECTING = 'protecting'
AVAILABLE = 'available'
ERROR = 'error'
DELETING = 'deleting'
DELETED = 'deleted'
ERROR_DELETING = 'error-deleting'
STATUSES = (PROTECTING, AVAILABLE, ERROR, DELETING, DELETED, ERROR_DELETING)


@base.KarborObjectRegistry.register
class Checkpoint(base.ProjectObject, base.TimestampedObject,
                 ovo_base.VersionedObjectDictCompat):
    """A checkpoint's index row; the bank's metadata object is the truth.

    Version history:
      1.0 - initial version
      1.1 - last_verified_at, last_verification_id and
            last_verification_status: the latest verification that ended
    """

    VERSION = '1.1'
    model = models.Checkpoint
    # Not resource_graph: the view writes it as a string, which would
    # then be spaced as stored, unlike a show's.
    listed_as_json_text = ('extra_info', 'resources_status')
    not_found = exception.CheckpointNotFound

    fields = dict(base.TimestampedObject.fields, **{
        'id': fields.StringField(),
        'project_id': fields.StringField(),
        'provider_id': fields.StringField(),
        'plan_id': fields.StringField(nullable=True),
        'status': fields.StringField(),
        'host': fields.StringField(nullable=True),
        'protection_plan': base.JsonField(),
        'resource_graph': base.JsonField(nullable=True),
        'extra_info': base.JsonField(nullable=True),
        'resources_status': base.JsonField(nullable=True),
        'error_reason': fields.StringField(nullable=True),
        'last_verified_at': fields.DateTimeField(nullable=True),
        'last_verification_id': fields.StringField(nullable=True),
        'last_verification_status': fields.StringField(nullable=True),
    })

    _SINCE_1_1 = ('last_verified_at', 'last_verification_id',
                  'last_verification_status')

    def obj_make_compatible(self, primitive, target_version):
        super().obj_make_compatible(primitive, target_version)
        if versionutils.convert_version_to_tuple(target_version) < (1, 1):
            for name in self._SINCE_1_1:
                primitive.pop(name, None)

    @classmethod
    def record_verification(cls, context, checkpoint_id, verification_id,
                            status, at=None):
        """Note on the checkpoint's row that a verification ended.

        A verification that ended before the one recorded (two ran at
        once) does not replace it. Returns True if recorded; a checkpoint
        deleted meanwhile records nothing.
        """
        at = at or models.utcnow()
        table = models.Checkpoint
        with db.writer.using(context) as session:
            result = session.execute(
                update(table)
                .where(table.id == checkpoint_id,
                       table.deleted.is_(False),
                       or_(table.last_verified_at.is_(None),
                           table.last_verified_at <= at))
                .values(last_verified_at=at,
                        last_verification_id=verification_id,
                        last_verification_status=status))
            return result.rowcount == 1

    @classmethod
    def for_plan(cls, context, plan, extra_info=None):
        """Create the row of a new checkpoint of ``plan``, ``protecting``.

        The plan is copied into the checkpoint, so that editing or deleting
        the plan later does not change what the checkpoint holds. The row
        waits (host unset) for the protection service that the caller
        casts ``protect`` to. Raises QuotaExceeded if the project already
        has its limit of checkpoints.
        """
        checkpoint = cls(
            context, id=uuidutils.generate_uuid(),
            project_id=plan.project_id, provider_id=plan.provider_id,
            plan_id=plan.id, status=PROTECTING, host=None,
            protection_plan={'id': plan.id, 'name': plan.name,
                             'description': plan.description,
                             'provider_id': plan.provider_id,
                             'resources': plan.resources,
                             'parameters': plan.parameters},
            extra_info=extra_info or {})
        with db.writer.using(context) as session:
            quota.enforce(session, 'checkpoints', plan.project_id)
            checkpoint.create()
        return checkpoint

    @classmethod
    def list_of_scheduled_operation(cls, context, plan_id,
                                    scheduled_operation_id, statuses):
        """The plan's checkpoints in ``statuses`` that a scheduled
        operation made, newest first."""
        with db.reader.using(context) as session:
            rows = session.execute(
                select(models.Checkpoint).where(
                    models.Checkpoint.plan_id == plan_id,
                    models.Checkpoint.status.in_(statuses),
                    models.Checkpoint.deleted.is_(False))
                .order_by(models.Checkpoint.created_at.desc(),
                          models.Checkpoint.id.desc())).scalars().all()
            # extra_info is JSON; matching inside it in SQL differs from
            # one database to the next, and a plan has few checkpoints.
            return [cls.from_db(context, row) for row in rows
                    if (row.extra_info or {}).get(
                        'scheduled_operation_id') == scheduled_operation_id]

    @classmethod
    def ids_of_plan(cls, context, plan_id, status=AVAILABLE):
        """The ids of the plan's checkpoints in ``status``, newest first."""
        with db.reader.using(context) as session:
            return list(session.execute(
                select(models.Checkpoint.id).where(
                    models.Checkpoint.plan_id == plan_id,
                    models.Checkpoint.status == status,
                    models.Checkpoint.deleted.is_(False))
                .order_by(models.Checkpoint.created_at.desc(),
                          models.Checkpoint.id.desc())).scalars().all())

    @classmethod
    def newest_of_plan(cls, context, plan_id, status=AVAILABLE):
        """The plan's newest checkpoint in ``status``, or None."""
        with db.reader.using(context) as session:
            row = session.execute(
                select(models.Checkpoint).where(
                    models.Checkpoint.plan_id == plan_id,
                    models.Checkpoint.status == status,
                    models.Checkpoint.deleted.is_(False))
                .order_by(models.Checkpoint.created_at.desc(),
                          models.Checkpoint.id.desc())
                .limit(1)).scalars().first()
            return cls.from_db(context, row) if row is not None else None

    @classmethod
    def get_in_provider(cls, context, provider_id, checkpoint_id):
        checkpoint = cls.get_by_id(context, checkpoint_id)
        if checkpoint.provider_id != provider_id:
            raise cls._not_found(checkpoint_id)
        return checkpoint

    @classmethod
    def filter_clause(cls, name):
        if name == 'start_date':
            return models.Checkpoint.created_at >= bindparam('f_start_date')
        if name == 'end_date':
            return models.Checkpoint.created_at < bindparam('f_end_date')
        return super().filter_clause(name)

    @classmethod
    def filter_values(cls, filters):
        values = super().filter_values(filters)
        if 'f_end_date' in values:
            # end_date is a day: include all of it.
            values['f_end_date'] += datetime.timedelta(days=1)
        return values
