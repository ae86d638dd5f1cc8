"""The Restore object: one restore of a checkpoint."""

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from karbor.db import models
from karbor import exception
from karbor.objects import base

IN_PROGRESS = 'in_progress'
SUCCESS = 'success'
ERROR = 'error'
STATUSES = (IN_PROGRESS, SUCCESS, ERROR)


@base.KarborObjectRegistry.register
class Restore(base.ProjectObject, base.TimestampedObject,
              ovo_base.VersionedObjectDictCompat):
    """A restore and its per-resource outcome.

    ``restore_auth`` is never stored: it travels to the protection service
    with the RPC cast only.

    Version history:
      1.0 - initial version
    """

    VERSION = '1.0'
    model = models.Restore
    not_found = exception.RestoreNotFound

    fields = dict(base.TimestampedObject.fields, **{
        'id': fields.StringField(),
        'project_id': fields.StringField(),
        'provider_id': fields.StringField(),
        'checkpoint_id': fields.StringField(),
        'restore_target': fields.StringField(nullable=True),
        'parameters': base.JsonField(),
        'status': fields.StringField(),
        'host': fields.StringField(nullable=True),
        'resources_status': base.JsonField(nullable=True),
        'resources_reason': base.JsonField(nullable=True),
    })
