"""The Verification object: a checkpoint checked without a restore."""

from oslo_utils import versionutils
from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from sqlalchemy import select

from karbor.db import models
from karbor.db import session as db
from karbor import exception
from karbor.objects import base

VERIFYING = 'verifying'
SUCCESS = 'success'
ERROR = 'error'
STATUSES = (VERIFYING, SUCCESS, ERROR)

# The scope of a checkpoint's last verification when it is a completed
# verify cycle (karbor.objects.verify_cycle), not one verification of it.
CYCLE = 'cycle'


def described_scope(parameters, scope):
    """What a verification read of its checkpoint, as its checkpoint's
    ``last_verification_scope`` says it: ``cycle``, or the modes its
    parameters asked for (``full``, ``quick``, ``compare``, ``subset
    1/4``), comma-separated when they differ from one resource to the
    next. Parameters that name single resources only (``TYPE#ID``) leave
    the others in the default mode, ``full``.
    """
    if scope:
        return CYCLE
    modes, whole_type = set(), False
    for key, given in (parameters or {}).items():
        given = given if isinstance(given, dict) else {}
        mode = given.get('mode') or 'full'
        if mode == 'subset' and given.get('subset'):
            mode = 'subset %s' % given['subset']
        modes.add(mode)
        whole_type = whole_type or '#' not in key
    if not whole_type:
        modes.add('full')
    return ', '.join(sorted(modes))


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

    @classmethod
    def scopes_of(cls, context, ids):
        """{id: described_scope} of these verifications, in one query
        (those gone are left out)."""
        ids = sorted(set(ids) - {None})
        if not ids:
            return {}
        model = models.Verification
        found = db.read(context, lambda connection: connection.execute(
            select(model.id, model.parameters, model.scope)
            .where(model.id.in_(ids))).all())
        return {row.id: described_scope(row.parameters, row.scope)
                for row in found}
