"""Scheduled operations and the record of each of their runs."""

from oslo_utils import versionutils
from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields
from sqlalchemy import and_
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from karbor.db import models
from karbor.db import session as db
from karbor import exception
from karbor.objects import base

PROTECT = 'protect'
RETENTION_PROTECT = 'retention_protect'
# Verifies the plan's newest available checkpoint.
VERIFY = 'verify'
OPERATION_TYPES = (PROTECT, RETENTION_PROTECT, VERIFY)

# Run statuses, and the result each shows as the operation's last run.
STARTED = 'started'
SUCCEEDED = 'succeeded'
FAILED = 'failed'
SKIPPED = 'skipped'
RUN_STATUSES = (STARTED, SUCCEEDED, FAILED, SKIPPED)
RESULT_OF = {STARTED: 'running', SUCCEEDED: 'success', FAILED: 'error',
             SKIPPED: 'skipped'}


def _time(**kwargs):
    # Naive UTC, like the database and the trigger computations: the
    # engine compares these with its clock.
    return fields.DateTimeField(tzinfo_aware=False, **kwargs)


@base.KarborObjectRegistry.register
class ScheduledOperation(base.ProjectObject, base.TimestampedObject,
                         ovo_base.VersionedObjectDictCompat):
    """An operation run whenever its trigger fires.

    Version history:
      1.0 - initial version
    """

    VERSION = '1.0'
    model = models.ScheduledOperation

    fields = dict(base.TimestampedObject.fields, **{
        'id': fields.StringField(),
        'project_id': fields.StringField(),
        'user_id': fields.StringField(nullable=True),
        'name': fields.StringField(),
        'description': fields.StringField(nullable=True),
        'operation_type': fields.StringField(),
        'trigger_id': fields.StringField(),
        'operation_definition': base.JsonField(),
        'enabled': fields.BooleanField(),
        'next_run_at': _time(nullable=True),
        'claimed_by': fields.StringField(nullable=True),
        'last_run_at': _time(nullable=True),
        'last_run_result': fields.StringField(nullable=True),
        'last_run_reason': fields.StringField(nullable=True),
        'last_run_checkpoint_id': fields.StringField(nullable=True),
    })

    @classmethod
    def _not_found(cls, object_id):
        return exception.ScheduledOperationNotFound(
            scheduled_operation_id=object_id)

    @classmethod
    def list_due(cls, context, now, limit=1000):
        """Live, enabled operations whose next run is due at ``now``."""
        model = models.ScheduledOperation
        with db.reader.using(context) as session:
            rows = session.execute(
                select(model).where(model.deleted.is_(False),
                                    model.enabled.is_(True),
                                    model.next_run_at <= now)
                .order_by(model.next_run_at, model.id)
                .limit(limit)).scalars().all()
            return [cls.from_db(context, row) for row in rows]

    @classmethod
    def list_scheduled(cls, context):
        """Live, enabled operations that have a next run."""
        model = models.ScheduledOperation
        with db.reader.using(context) as session:
            rows = session.execute(
                select(model).where(model.deleted.is_(False),
                                    model.enabled.is_(True),
                                    model.next_run_at.is_not(None))
                .order_by(model.trigger_id, model.id)).scalars().all()
            return [cls.from_db(context, row) for row in rows]

    @classmethod
    def get_even_deleted(cls, context, operation_id):
        """The operation, deleted or not (for runs that outlive it)."""
        with db.reader.using(context) as session:
            row = session.execute(
                select(models.ScheduledOperation).where(
                    models.ScheduledOperation.id == operation_id)
            ).scalars().first()
            if row is None:
                raise cls._not_found(operation_id)
            return cls.from_db(context, row)

    @classmethod
    def claim(cls, context, operation_id, due, following, host):
        """Take the run due at ``due``: move next_run_at to ``following``.

        A compare-and-swap on next_run_at: of several engines that saw
        the same due run, exactly one changes the row and gets True. A
        deleted or disabled operation is not claimed.
        """
        model = models.ScheduledOperation
        with db.writer.using(context) as session:
            result = session.execute(
                update(model)
                .where(model.id == operation_id,
                       model.next_run_at == due,
                       model.enabled.is_(True),
                       model.deleted.is_(False))
                .values(next_run_at=following, claimed_by=host,
                        updated_at=models.utcnow()))
            return result.rowcount == 1

    @classmethod
    def record_run(cls, context, operation_id, due, status, reason=None,
                   checkpoint_id=None):
        """Show a run as the operation's last run, unless a later one is.

        Runs may end out of order; the run due last wins.
        """
        model = models.ScheduledOperation
        with db.writer.using(context) as session:
            session.execute(
                update(model)
                .where(model.id == operation_id,
                       or_(model.last_run_at.is_(None),
                           model.last_run_at <= due))
                .values(last_run_at=due, last_run_result=RESULT_OF[status],
                        last_run_reason=reason,
                        last_run_checkpoint_id=checkpoint_id))


@base.KarborObjectRegistry.register
class ScheduledOperationRun(base.ProjectObject, base.TimestampedObject,
                            ovo_base.VersionedObjectDictCompat):
    """One due time of a scheduled operation and what became of it.

    Version history:
      1.0 - initial version
      1.1 - verification_id: the verification a verify run started
    """

    VERSION = '1.1'
    model = models.ScheduledOperationRun

    fields = dict(base.TimestampedObject.fields, **{
        'id': fields.StringField(),
        'project_id': fields.StringField(),
        'scheduled_operation_id': fields.StringField(),
        'due_at': _time(),
        'status': fields.StringField(),
        'host': fields.StringField(nullable=True),
        'checkpoint_id': fields.StringField(nullable=True),
        'verification_id': fields.StringField(nullable=True),
        'reason': fields.StringField(nullable=True),
        'started_at': _time(nullable=True),
        'ended_at': _time(nullable=True),
    })

    def obj_make_compatible(self, primitive, target_version):
        super().obj_make_compatible(primitive, target_version)
        if versionutils.convert_version_to_tuple(target_version) < (1, 1):
            primitive.pop('verification_id', None)

    @classmethod
    def list_of(cls, context, operation_id):
        """Every run of an operation, in due order."""
        model = models.ScheduledOperationRun
        with db.reader.using(context) as session:
            rows = session.execute(
                select(model).where(
                    model.scheduled_operation_id == operation_id)
                .order_by(model.due_at)).scalars().all()
            return [cls.from_db(context, row) for row in rows]

    @classmethod
    def purge(cls, context, before, project_id=None, batch_size=1000):
        """Delete ended runs due before ``before``, in short batches.

        A started run is kept whatever its age: its engine still follows
        it. Removing old runs never makes one run again: a run starts only
        when the operation's next_run_at, which only moves forward, falls
        due. Returns the number of rows removed.
        """
        model = models.ScheduledOperationRun
        conditions = [model.due_at < before, model.status != STARTED]
        if project_id is not None:
            conditions.append(model.project_id == project_id)
        return base.purge_in_batches(context, model, conditions, batch_size)

    @classmethod
    def list_orphaned(cls, context, binary, silent_since, but_host):
        """Started runs of engines that stopped reporting.

        The runs whose host is a ``binary`` service (not ``but_host``)
        whose last heartbeat is older than ``silent_since``. A host with
        no service row at all is not judged: nothing says it is gone.
        """
        run = models.ScheduledOperationRun
        service = models.Service
        with db.reader.using(context) as session:
            rows = session.execute(
                select(run).join(service, and_(
                    service.host == run.host, service.binary == binary,
                    service.deleted.is_(False)))
                .where(run.status == STARTED, run.deleted.is_(False),
                       run.host != but_host,
                       or_(service.last_seen_at.is_(None),
                           service.last_seen_at < silent_since))
                .order_by(run.due_at)).scalars().all()
            return [cls.from_db(context, row) for row in rows]

    def adopt(self, host):
        """Move a started run to ``host``; False if another got it first
        or it ended meanwhile."""
        return self.conditional_update({'host': host},
                                       {'status': STARTED, 'host': self.host})

    @classmethod
    def started_of(cls, context, operation_id):
        """The operation's runs that have not ended yet."""
        model = models.ScheduledOperationRun
        with db.reader.using(context) as session:
            rows = session.execute(
                select(model).where(
                    model.scheduled_operation_id == operation_id,
                    model.status == STARTED)).scalars().all()
            return [cls.from_db(context, row) for row in rows]

    def finish(self, status, reason=None):
        """End a started run; False if it had already ended."""
        return self.conditional_update(
            {'status': status, 'reason': reason,
             'ended_at': models.utcnow()},
            {'status': STARTED})
