"""The Plan object: resources of one project protected by one provider."""

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from karbor.db import models
from karbor.db import session as db
from karbor import exception
from karbor.objects import base
from karbor.objects import quota

STATUSES = ('suspended', 'started')


@base.KarborObjectRegistry.register
class Plan(base.ProjectObject, base.TimestampedObject,
           ovo_base.VersionedObjectDictCompat):
    """A protection plan.

    Version history:
      1.0 - initial version
    """

    VERSION = '1.0'
    model = models.Plan
    listed_as_json_text = ('resources', 'parameters')
    not_found = exception.PlanNotFound

    fields = dict(base.TimestampedObject.fields, **{
        'id': fields.StringField(),
        'project_id': fields.StringField(),
        'provider_id': fields.StringField(),
        'name': fields.StringField(),
        'description': fields.StringField(nullable=True),
        'status': fields.StringField(),
        'resources': base.JsonField(),
        'parameters': base.JsonField(),
    })

    def create(self):
        """Insert the plan; QuotaExceeded if its project has its limit."""
        with db.writer.using(self._context) as session:
            quota.enforce(session, 'plans', self.project_id)
            super().create()
