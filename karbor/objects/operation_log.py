"""The OperationLog object: the audit trail of every operation."""

from oslo_utils import uuidutils
from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields
from sqlalchemy import bindparam
from sqlalchemy import select

from karbor.db import models
from karbor.db import session as db
from karbor import exception
from karbor.objects import base

PROTECT = 'protect'
DELETE = 'delete'
RESTORE = 'restore'
VERIFY = 'verify'
OPERATION_TYPES = (PROTECT, DELETE, RESTORE, VERIFY)

# operation type -> (running status, success status, failure status)
STATUS_OF = {
    PROTECT: ('protecting', 'available', 'error'),
    DELETE: ('deleting', 'deleted', 'error-deleting'),
    RESTORE: ('restoring', 'restored', 'error-restoring'),
    VERIFY: ('verifying', 'success', 'error'),
}
RUNNING_STATUSES = tuple(sorted({s[0] for s in STATUS_OF.values()}))
STATUSES = tuple(sorted({s for triple in STATUS_OF.values()
                         for s in triple}))

_RANGE_FILTERS = {
    'started_after': (models.OperationLog.started_at, '>='),
    'started_before': (models.OperationLog.started_at, '<'),
    'ended_after': (models.OperationLog.ended_at, '>='),
    'ended_before': (models.OperationLog.ended_at, '<'),
}


@base.KarborObjectRegistry.register
class OperationLog(base.ProjectObject, base.TimestampedObject,
                   ovo_base.VersionedObjectDictCompat):
    """One operation's log entry.

    Version history:
      1.0 - initial version
    """

    VERSION = '1.0'
    model = models.OperationLog
    listed_as_json_text = ('extra_info',)
    not_found = exception.OperationLogNotFound

    fields = dict(base.TimestampedObject.fields, **{
        'id': fields.StringField(),
        'project_id': fields.StringField(),
        'operation_type': fields.StringField(),
        'checkpoint_id': fields.StringField(nullable=True),
        'plan_id': fields.StringField(nullable=True),
        'provider_id': fields.StringField(nullable=True),
        'restore_id': fields.StringField(nullable=True),
        'verification_id': fields.StringField(nullable=True),
        'scheduled_operation_id': fields.StringField(nullable=True),
        'status': fields.StringField(nullable=True),
        'started_at': fields.DateTimeField(),
        'ended_at': fields.DateTimeField(nullable=True),
        'error_info': fields.StringField(nullable=True),
        'extra_info': base.JsonField(nullable=True),
    })

    @classmethod
    def _not_found(cls, object_id):
        return exception.OperationLogNotFound(operation_log_id=object_id)

    @classmethod
    def start(cls, context, operation_type, project_id, **ids):
        """Create the log of an operation that starts now."""
        log = cls(context, id=uuidutils.generate_uuid(),
                  project_id=project_id, operation_type=operation_type,
                  status=STATUS_OF[operation_type][0],
                  started_at=models.utcnow(), extra_info={}, **ids)
        log.create()
        return log

    def finish(self, succeeded, error_info=None, extra_info=None):
        """End the log: ended_at, final status, the failure's reason.

        Only a log still in its running status is ended, so a late or
        repeated call cannot overwrite an outcome already recorded.
        """
        running, success, failure = STATUS_OF[self.operation_type]
        values = {'status': success if succeeded else failure,
                  'ended_at': models.utcnow()}
        if error_info is not None:
            values['error_info'] = error_info
        if extra_info is not None:
            values['extra_info'] = extra_info
        return self.conditional_update(values, {'status': running})

    def record_progress(self, extra_info):
        """Replace extra_info while the operation runs."""
        running = STATUS_OF[self.operation_type][0]
        return self.conditional_update({'extra_info': extra_info},
                                       {'status': running})

    @classmethod
    def list_of_operation(cls, context, operation_type, **ids):
        """The logs of ``operation_type`` whose columns equal ``ids``."""
        stmt = select(models.OperationLog).where(
            models.OperationLog.operation_type == operation_type,
            models.OperationLog.deleted.is_(False))
        for key, value in ids.items():
            stmt = stmt.where(getattr(models.OperationLog, key) == value)
        with db.reader.using(context) as session:
            return [cls.from_db(context, row)
                    for row in session.execute(stmt).scalars()]

    @classmethod
    def filter_clause(cls, name):
        if name in _RANGE_FILTERS:
            column, op = _RANGE_FILTERS[name]
            value = bindparam('f_' + name)
            return column >= value if op == '>=' else column < value
        return super().filter_clause(name)

    @classmethod
    def purge(cls, context, before, project_id=None, batch_size=1000):
        """Delete finished logs that started before ``before``.

        In short batches (see base.purge_in_batches); returns the number
        of rows removed.
        """
        model = models.OperationLog
        conditions = [model.started_at < before,
                      model.status.not_in(RUNNING_STATUSES)]
        if project_id is not None:
            conditions.append(model.project_id == project_id)
        return base.purge_in_batches(context, model, conditions, batch_size)
