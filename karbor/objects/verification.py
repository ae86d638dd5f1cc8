"""The Verification object: a checkpoint checked without a restore."""

from oslo_utils import versionutils
from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from karbor.db import models
from karbor import exception
from karbor.objects import base

VERIFYING = 'verifying'
SUCCESS = 'success'
ERROR = 'error'
STATUSES = (VERIFYING, SUCCESS, ERROR)


@base.KarborObjectRegistry.register
class Verification(base.ProjectObject, base.TimestampedObject,
                   ovo_base.VersionedObjectDictCompat):
    """A verification and its per-resource outcome.

    Version history:
      1.0 - initial version
      1.1 - scope: what a run of a verify cycle reads, and what it read
    """

    VERSION = '1.1'
    model = models.Verification
    not_found = exception.VerificationNotFound

    fields = dict(base.TimestampedObject.fields, **{
        'id': fields.StringField(),
        'project_id': fields.StringField(),
        'provider_id': fields.StringField(),
        'checkpoint_id': fields.StringField(),
        'status': fields.StringField(nullable=True),
        'host': fields.StringField(nullable=True),
        'parameters': base.JsonField(nullable=True),
        'resources_status': base.JsonField(nullable=True),
        'resources_reason': base.JsonField(nullable=True),
        # Runs of a verify cycle only (karbor.objects.verify_cycle):
        # {"checkpoints", "anchor", "days", "after", "to", "parts",
        #  "result" once read}.
        'scope': base.JsonField(nullable=True),
    })

    def obj_make_compatible(self, primitive, target_version):
        super().obj_make_compatible(primitive, target_version)
        if versionutils.convert_version_to_tuple(target_version) < (1, 1):
            primitive.pop('scope', None)
