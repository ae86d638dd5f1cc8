"""Base classes, registry and RPC serializer of Karbor's versioned objects."""

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from karbor.db import models


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
    def _from_db_object(cls, context, obj, db_row):
        for name in obj.fields:
            setattr(obj, name, getattr(db_row, name))
        obj._context = context
        obj.obj_reset_changes()
        return obj

    @classmethod
    def from_db(cls, context, db_row):
        return cls._from_db_object(context, cls(), db_row)


class TimestampedObject(object):
    """Timestamp fields every table carries."""

    fields = {
        'created_at': fields.DateTimeField(nullable=True),
        'updated_at': fields.DateTimeField(nullable=True),
    }


class KarborObjectSerializer(ovo_base.VersionedObjectSerializer):
    OBJ_BASE_CLASS = KarborObject


def soft_delete_values():
    return {'deleted': True, 'deleted_at': models.utcnow()}
