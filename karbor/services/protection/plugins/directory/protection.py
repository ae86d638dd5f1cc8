"""The protection plugin of OS::Karbor::Directory.

Protect stores a directory's files as SHA-256-named chunks shared by the
checkpoints of a project plus one manifest per checkpoint (see
``manifest``); restore rebuilds the tree next to the original under a new
name; delete removes the manifest and collects the project's chunks no
manifest refers to any more (see ``gc``); verify checks that the manifest
and every chunk it refers to are present and intact (see ``verify``).
"""

import copy
import logging
import uuid

from karbor.conf import CONF
from karbor.services.protection.plugins import base
from karbor.services.protection.plugins.directory import backup
from karbor.services.protection.plugins.directory import gc
from karbor.services.protection.plugins.directory import manifest as mf
from karbor.services.protection.plugins.directory import protectable
from karbor.services.protection.plugins.directory import restore as rst
from karbor.services.protection.plugins.directory import verify as vfy

LOG = logging.getLogger(__name__)

RESOURCE_TYPE = protectable.RESOURCE_TYPE

_COUNT = {'type': 'integer', 'minimum': 0}

OPTIONS_SCHEMA = {
    'title': 'Directory protection options',
    'type': 'object',
    'properties': {
        'exclude': {
            'title': 'Exclude',
            'description': 'Shell-style patterns (fnmatch) matched against '
                           'the path of every entry relative to the '
                           'directory, e.g. "*.tmp" or "cache": a matching '
                           'entry, and everything below a matching '
                           'directory, is not protected. "*" also matches '
                           "'/'; a leading './' or trailing '/' is "
                           'ignored. A list of patterns, or one string of '
                           'patterns separated by commas.',
            'anyOf': [
                {'type': 'string'},
                {'type': 'array', 'items': {'type': 'string'}},
            ],
        },
    },
    'additionalProperties': False,
}

RESTORE_SCHEMA = {
    'title': 'Directory restore options',
    'type': 'object',
    'properties': {
        'restore_name': {
            'title': 'Restore name',
            'description': 'Name of the new directory the checkpoint is '
                           'restored into, next to the project\'s other '
                           'directories; it must not exist. Defaults to '
                           '<name>-restore-<first 8 characters of the '
                           'restore id>.',
            'type': 'string',
            'minLength': 1,
            'maxLength': 255,
            'pattern': r'^[^/\\\x00]+$',
            'not': {'enum': ['.', '..']},
        },
    },
    'additionalProperties': False,
}

VERIFY_SCHEMA = {
    'title': 'Directory verification options',
    'type': 'object',
    'properties': {
        'mode': {
            'title': 'Mode',
            'description': 'full reads every chunk once and checks its '
                           'SHA-256 (and that of the small files recorded '
                           'with one); quick only checks that every chunk '
                           'exists and is long enough for what the '
                           'manifest reads from it; subset checks as full '
                           'does, but only the chunks of the subset given; '
                           'compare reads the directory as it is now and '
                           'reports the files added, removed and changed '
                           'since the checkpoint, and fails if a file of '
                           'unchanged size and mtime no longer has the '
                           'content of the checkpoint (bit rot or '
                           'tampering at the source). All check the '
                           'checkpoint metadata and the manifest.',
            'type': 'string',
            'enum': ['full', 'quick', 'subset', 'compare'],
            'default': 'full',
        },
        'subset': {
            'title': 'Subset',
            'description': 'With mode subset only: "n/t" (1 <= n <= t) '
                           'reads the chunks of partition n of t, chosen '
                           'by chunk id, so that the runs 1/t to t/t '
                           'together read every chunk exactly once; "p%" '
                           '(0 < p <= 100) reads about p percent of the '
                           'chunks, always the same ones.',
            'type': 'string',
            'pattern': r'^\s*([0-9]+/[0-9]+|[0-9]+(\.[0-9]+)?%)\s*$',
            'format': 'karbor-verify-subset',
        },
    },
    'allOf': [{
        'if': {'properties': {'mode': {'const': 'subset'}},
               'required': ['mode']},
        'then': {'required': ['subset']},
        'else': {'not': {'required': ['subset']}},
    }],
    'additionalProperties': False,
}

SAVED_INFO_SCHEMA = {
    'title': 'Directory saved info',
    'type': 'object',
    'properties': {
        'manifest': {
            'title': 'Manifest',
            'description': 'Bank key of the manifest listing every entry '
                           'and the chunks of every file.',
            'type': 'string',
        },
        'manifest_sha256': {
            'title': 'Manifest SHA-256',
            'description': 'SHA-256 of the manifest as stored, checked by '
                           'verifications.',
            'type': 'string',
            'pattern': '^[0-9a-f]{64}$',
        },
        'files': dict(_COUNT, title='Regular files protected'),
        'directories': dict(_COUNT, title='Directories protected (the '
                                          'protected directory excluded)'),
        'symlinks': dict(_COUNT, title='Symbolic links protected'),
        'skipped': dict(_COUNT, title='Entries skipped: special files, '
                                      'entries gone while protecting'),
        'bytes': dict(_COUNT, title='Total size of the files'),
        'chunks': dict(_COUNT, title='Distinct chunks the files use'),
    },
    'required': ['manifest'],
    'additionalProperties': False,
}


def _copy(schema):
    # Callers may change what they get; keep ours intact.
    return copy.deepcopy(schema)


def _restore_id(restore):
    if restore is None:
        return None
    if isinstance(restore, dict):
        return restore.get('id')
    return getattr(restore, 'id', None)


def _report_failure(report, resource, exc):
    if report is not None:
        report.update(resource, status='error', reason=str(exc))


class ProtectOperation(base.Operation):

    def __init__(self, plugin):
        self.plugin = plugin

    def on_main(self, checkpoint, resource, context, parameters,
                report=None, **kwargs):
        try:
            backup.protect(self.plugin.bank, checkpoint, resource,
                           parameters, report,
                           workers=CONF.directory.workers)
        except Exception as exc:
            _report_failure(report, resource, exc)
            raise


class RestoreOperation(base.Operation):

    def __init__(self, plugin):
        self.plugin = plugin

    def on_main(self, checkpoint, resource, context, parameters,
                report=None, restore=None, **kwargs):
        restore_id = _restore_id(restore) or str(uuid.uuid4())
        try:
            rst.restore(self.plugin.bank, checkpoint, resource, parameters,
                        report, restore_id,
                        workers=CONF.directory.workers,
                        fsync=CONF.directory.restore_fsync)
        except Exception as exc:
            _report_failure(report, resource, exc)
            raise


class DeleteOperation(base.Operation):

    def __init__(self, plugin):
        self.plugin = plugin

    def on_main(self, checkpoint, resource, context, parameters,
                report=None, **kwargs):
        bank = self.plugin.bank
        prefix = checkpoint.resource_key(resource.id)
        deleted = 0
        for key in bank.list_objects(prefix):
            bank.delete_object(key)
            deleted += 1
        bank.sync([mf.manifest_key(checkpoint, resource.id)])
        backup.forget_latest(bank, checkpoint, resource.id)
        extra_info = {'objects_deleted': deleted}
        values = {}
        try:
            result = gc.collect_garbage(bank, checkpoint.project_id)
        except Exception as exc:
            # The checkpoint's data is gone; unreferenced chunks stay
            # until a later collection.
            LOG.exception('Garbage collection of project %s failed',
                          checkpoint.project_id)
            extra_info['gc'] = 'failed'
            values['reason'] = 'Garbage collection failed: %s' % exc
        else:
            extra_info.update(gc=result['status'],
                              chunks_deleted=result['chunks_deleted'],
                              bytes_freed=result['bytes_freed'])
        if report is not None:
            report.update(resource, extra_info=extra_info, **values)


class VerifyOperation(base.Operation):
    """Damage is reported (status ``error`` and a reason naming it), not
    raised, so the checkpoint's other resources are verified too."""

    def __init__(self, plugin):
        self.plugin = plugin

    def on_main(self, checkpoint, resource, context, parameters,
                report=None, **kwargs):
        try:
            vfy.verify(self.plugin.bank, checkpoint, resource, parameters,
                       report,
                       workers=vfy.default_workers(CONF.directory.workers),
                       scope=getattr(kwargs.get('verification'), 'scope',
                                     None),
                       quarantine=CONF.directory.quarantine_damaged_chunks)
        except Exception as exc:
            _report_failure(report, resource, exc)
            raise


class DirectoryProtectionPlugin(base.ProtectionPlugin):

    @classmethod
    def get_supported_resources_types(cls):
        return (RESOURCE_TYPE,)

    @classmethod
    def get_options_schema(cls, resource_type):
        return _copy(OPTIONS_SCHEMA)

    @classmethod
    def get_restore_schema(cls, resource_type):
        return _copy(RESTORE_SCHEMA)

    @classmethod
    def get_saved_info_schema(cls, resource_type):
        return _copy(SAVED_INFO_SCHEMA)

    @classmethod
    def get_verify_schema(cls, resource_type):
        return _copy(VERIFY_SCHEMA)

    def get_protect_operation(self, resource):
        return ProtectOperation(self)

    def get_restore_operation(self, resource):
        return RestoreOperation(self)

    def get_delete_operation(self, resource):
        return DeleteOperation(self)

    def get_verify_operation(self, resource):
        return VerifyOperation(self)
