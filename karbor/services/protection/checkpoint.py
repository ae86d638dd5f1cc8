"""A checkpoint as kept in the bank: the source of truth about it.

The metadata object ``checkpoints/<id>/metadata`` holds the plan as it was
protected, the resource graph, the status, timestamps, the extra info and
per resource its status, reason and the plugin's saved info. Plugins keep
their own data under ``checkpoints/<id>/resources/<resource id>/``. The
database's checkpoint rows are an index of these objects for fast lists
(``karbor-manage checkpoint reindex`` rebuilds it from a bank).
"""

import threading

from oslo_serialization import jsonutils

from karbor import exception
from karbor.services.protection.banks import base as bank_base
from karbor.services.protection import resource as resource_mod

PREFIX = 'checkpoints/'
_METADATA = 'metadata'


def metadata_key(checkpoint_id):
    return '%s%s/%s' % (PREFIX, checkpoint_id, _METADATA)


class Checkpoint(object):

    def __init__(self, bank, metadata):
        self.bank = bank
        self.metadata = metadata
        self._lock = threading.Lock()

    # Identity and content --------------------------------------------
    id = property(lambda self: self.metadata['id'])
    project_id = property(lambda self: self.metadata['project_id'])
    provider_id = property(lambda self: self.metadata['provider_id'])
    status = property(lambda self: self.metadata['status'])
    plan = property(lambda self: self.metadata['protection_plan'])
    created_at = property(lambda self: self.metadata['created_at'])
    extra_info = property(lambda self: self.metadata.get('extra_info') or {})
    resources = property(lambda self: self.metadata.get('resources') or {})

    @property
    def resource_graph(self):
        """The root ResourceNodes of the protected graph."""
        return resource_mod.graph_from_list(self.metadata['resource_graph'])

    def resource_key(self, resource_id, *parts):
        """A bank key under this checkpoint's area for one resource."""
        return '%s%s/resources/%s/%s' % (PREFIX, self.id, resource_id,
                                         '/'.join(parts))

    def saved_info(self, resource_id):
        return (self.resources.get(resource_id) or {}).get('saved_info') or {}

    # Persistence -----------------------------------------------------
    @classmethod
    def create(cls, bank, checkpoint_id, project_id, provider_id, plan,
               resource_graph, created_at, extra_info=None):
        checkpoint = cls(bank, {
            'id': checkpoint_id,
            'project_id': project_id,
            'provider_id': provider_id,
            'status': 'protecting',
            'protection_plan': plan,
            'resource_graph': resource_mod.graph_to_list(resource_graph),
            'created_at': created_at,
            'extra_info': extra_info or {},
            'resources': {},
        })
        checkpoint.save()
        return checkpoint

    @classmethod
    def load(cls, bank, checkpoint_id):
        try:
            raw = bank.get_object(metadata_key(checkpoint_id))
        except exception.BankObjectNotFound:
            raise exception.CheckpointNotFound(checkpoint_id=checkpoint_id)
        return cls(bank, jsonutils.loads(raw))

    @classmethod
    def list_ids(cls, bank):
        """Ids of every checkpoint whose metadata is in ``bank``."""
        ids = []
        for key in bank.list_objects(PREFIX):
            parts = key[len(PREFIX):].split('/')
            if len(parts) == 2 and parts[1] == _METADATA:
                ids.append(parts[0])
        return ids

    def save(self):
        with self._lock:
            data = jsonutils.dump_as_bytes(self.metadata)
        self.bank.put_object(metadata_key(self.id), data)

    def update(self, **values):
        """Change top-level metadata fields and save."""
        with self._lock:
            self.metadata.update(values)
        self.save()

    def delete_metadata(self):
        self.bank.delete_object(metadata_key(self.id))


def validate_id(checkpoint_id):
    bank_base.validate_key(checkpoint_id)
    return checkpoint_id


def reindex(context, provider_id, bank):
    """Rebuild the database index of the checkpoints found in ``bank``.

    For a new deployment attached to an old bank, or a database restored
    from an older backup. Returns (added, updated) counts.
    """
    from karbor.db import models
    from karbor import objects

    added = updated = 0
    for checkpoint_id in Checkpoint.list_ids(bank):
        meta = Checkpoint.load(bank, checkpoint_id).metadata
        if meta.get('provider_id') != provider_id:
            continue
        values = {
            'project_id': meta['project_id'],
            'provider_id': provider_id,
            'plan_id': (meta.get('protection_plan') or {}).get('id'),
            'status': meta['status'],
            'protection_plan': meta.get('protection_plan') or {},
            'resource_graph': meta.get('resource_graph'),
            'extra_info': meta.get('extra_info') or {},
            'resources_status': {
                rid: {k: r.get(k) for k in ('type', 'name', 'status',
                                            'reason')}
                for rid, r in (meta.get('resources') or {}).items()},
            'error_reason': meta.get('error_reason'),
        }
        try:
            row = objects.Checkpoint.get_by_id(context, checkpoint_id)
        except exception.CheckpointNotFound:
            row = objects.Checkpoint(
                context, id=checkpoint_id, host=None,
                created_at=models.parse_time(meta['created_at']),
                **values)
            row.create()
            added += 1
            continue
        for key, value in values.items():
            setattr(row, key, value)
        row.save()
        updated += 1
    return added, updated
