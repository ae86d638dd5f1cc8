"""The Checkpoint object: the database index of a checkpoint in a bank."""

import datetime

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from karbor.db import models
from karbor import exception
from karbor.objects import base

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
    """

    VERSION = '1.0'
    model = models.Checkpoint
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
    })

    @classmethod
    def get_in_provider(cls, context, provider_id, checkpoint_id):
        checkpoint = cls.get_by_id(context, checkpoint_id)
        if checkpoint.provider_id != provider_id:
            raise cls._not_found(checkpoint_id)
        return checkpoint

    @classmethod
    def apply_filters(cls, stmt, filters):
        filters = dict(filters)
        start = filters.pop('start_date', None)
        end = filters.pop('end_date', None)
        if start is not None:
            stmt = stmt.where(models.Checkpoint.created_at >= start)
        if end is not None:
            # end_date is a day: include all of it.
            stmt = stmt.where(models.Checkpoint.created_at <
                              end + datetime.timedelta(days=1))
        return super().apply_filters(stmt, filters)
