"""The Trigger object: when a project's scheduled operations run."""

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields
from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy import update

from karbor.db import models
from karbor.db import session as db
from karbor import exception
from karbor import objects
from karbor.objects import base

TIME = 'time'
TYPES = (TIME,)


@base.KarborObjectRegistry.register
class Trigger(base.ProjectObject, base.TimestampedObject,
              ovo_base.VersionedObjectDictCompat):
    """A trigger; ``properties`` are checked by the operation engine's
    time-trigger module before they are stored.

    Version history:
      1.0 - initial version
    """

    VERSION = '1.0'
    model = models.Trigger
    not_found = exception.TriggerNotFound

    fields = dict(base.TimestampedObject.fields, **{
        'id': fields.StringField(),
        'project_id': fields.StringField(),
        'name': fields.StringField(),
        'type': fields.StringField(),
        'properties': base.JsonField(),
    })

    def save_and_reschedule(self, next_run_at):
        """Save, and move the next run of its operations to ``next_run_at``.

        For a trigger whose times changed: the runs already claimed keep
        their due times; the next one follows the new pattern. Enabled
        operations only; a disabled one is rescheduled when it is enabled.
        """
        with db.writer.using(self._context) as session:
            self.save()
            session.execute(
                update(models.ScheduledOperation)
                .where(models.ScheduledOperation.trigger_id == self.id,
                       models.ScheduledOperation.enabled.is_(True),
                       models.ScheduledOperation.deleted.is_(False))
                .values(next_run_at=next_run_at,
                        updated_at=models.utcnow()))

    def users(self):
        """The live scheduled operations that use the trigger."""
        model = models.ScheduledOperation
        with db.reader.using(self._context) as session:
            rows = session.execute(
                select(model).where(model.trigger_id == self.id,
                                    model.deleted.is_(False))
            ).scalars().all()
            return [objects.ScheduledOperation.from_db(self._context, row)
                    for row in rows]

    def destroy_unused(self):
        """Soft-delete the trigger unless a scheduled operation uses it.

        One statement decides, so an operation created at the same moment
        either blocks the delete or finds the trigger gone (see the
        scheduled operations API). Raises TriggerInUse (409).
        """
        users = select(models.ScheduledOperation.id).where(
            models.ScheduledOperation.trigger_id == self.id,
            models.ScheduledOperation.deleted.is_(False))
        with db.writer.using(self._context) as session:
            result = session.execute(
                update(models.Trigger)
                .where(models.Trigger.id == self.id,
                       models.Trigger.deleted.is_(False),
                       ~exists(users))
                .values(**base.soft_delete_values()))
            if result.rowcount == 1:
                return
            ids = session.execute(users.limit(5)).scalars().all()
        if not ids:
            raise self._not_found(self.id)
        raise exception.TriggerInUse(trigger_id=self.id,
                                     operations=', '.join(sorted(ids)))
