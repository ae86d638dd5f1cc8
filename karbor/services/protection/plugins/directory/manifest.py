"""The manifest of one protected directory, and the names of its chunks.

A protect stores file contents as chunks, objects named by the SHA-256 of
their bytes, once per project::

    chunks/<project_id>/<first 2 hex digits>/<sha256>

and, per resource of the checkpoint, one manifest at
``checkpoint.resource_key(resource_id, 'manifest')``: a JSON document ::

    {"format": "karbor-directory-manifest", "version": 1,
     "project_id": ..., "checkpoint_id": ..., "resource_id": ...,
     "name": <the directory's name when it was protected>,
     "root": {"mode": 16877, "mtime_ns": ...},
     "entries": [<entry>, ...],          # parents before their children
     "skipped": [{"path": ..., "kind": "fifo"}, ...],
     "stats": {"files": n, "directories": n, "symlinks": n,
               "skipped": n, "bytes": n, "chunks": n}}

Every entry has ``path`` (relative, '/'-separated, as the file system's
str: undecodable bytes are kept as surrogate escapes), ``type`` (``file``,
``dir`` or ``symlink``), ``mode`` (st_mode) and ``mtime_ns``. A symlink
has its ``target``. A file has ``size`` and ``chunks``: its content is the
concatenation of the ``[sha256, offset, length]`` slices listed, each one
``length`` bytes at ``offset`` of that chunk. Large files are cut into
4 MiB chunks of their own (offset 0); small files are packed into shared
chunks, each file one slice, and carry the ``sha256`` of their content so
that an unchanged small file read again is found in the previous manifest
without being packed again. ``ino`` and ``ctime_ns`` (None when the file
was changing while it was read) feed the next protect's file cache.
"""

import json
import re

from karbor import exception

FORMAT = 'karbor-directory-manifest'
VERSION = 1
NAME = 'manifest'

FILE = 'file'
DIR = 'dir'
SYMLINK = 'symlink'

_DIGEST = re.compile(r'^[0-9a-f]{64}$')


def chunk_prefix(project_id):
    return 'chunks/%s/' % project_id


def chunk_key(project_id, digest):
    return 'chunks/%s/%s/%s' % (project_id, digest[:2], digest)


def digest_of_key(key):
    """The digest a chunk key names, or None for any other key."""
    digest = key.rpartition('/')[2]
    return digest if _DIGEST.match(digest) else None


def manifest_key(checkpoint, resource_id):
    return checkpoint.resource_key(resource_id, NAME)


def quarantine_key(project_id, digest, stamp):
    """Where a verification moves a chunk it found damaged."""
    return 'quarantine/%s/%s-%s' % (project_id, digest, stamp)


def latest_key(project_id, plan_id, resource_id):
    """Where a protect notes its checkpoint, as a hint for the next one
    of the same plan and resource (see backup.find_previous_manifest)."""
    return 'latest/%s/%s/%s' % (project_id, plan_id, resource_id)


def is_manifest_key(key):
    """Whether ``key`` is checkpoints/<id>/resources/<id>/manifest."""
    parts = key.split('/')
    return (len(parts) == 5 and parts[0] == 'checkpoints' and
            parts[2] == 'resources' and parts[4] == NAME)


def dumps(manifest):
    # ensure_ascii keeps surrogate escapes of undecodable names intact.
    return json.dumps(manifest, separators=(',', ':'),
                      ensure_ascii=True).encode('ascii')


def loads(data, key):
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise exception.InvalidManifest(key=key, reason=str(exc))
    validate(manifest, key)
    return manifest


def chunk_digests(manifest):
    """Every chunk digest ``manifest`` refers to."""
    return {ref[0] for entry in manifest['entries']
            if entry['type'] == FILE for ref in entry['chunks']}


def _check_path(path):
    if not isinstance(path, str) or not path or path.startswith('/'):
        return False
    if '\0' in path:
        return False
    return all(part not in ('', '.', '..') for part in path.split('/'))


def _is_int(value, minimum=None):
    return (isinstance(value, int) and not isinstance(value, bool) and
            (minimum is None or value >= minimum))


def validate(manifest, key):
    """Reject a manifest a restore could be misled by.

    Paths must stay inside the tree, be unique and have a directory of
    the manifest (or the root) as parent: nothing is ever written through
    a symlink the manifest itself creates.
    """
    def bad(reason):
        raise exception.InvalidManifest(key=key, reason=reason)

    if not isinstance(manifest, dict) or manifest.get('format') != FORMAT:
        bad('not a directory manifest')
    if manifest.get('version') != VERSION:
        bad('unsupported version %r' % (manifest.get('version'),))
    root = manifest.get('root')
    if (not isinstance(root, dict) or not _is_int(root.get('mode')) or
            not _is_int(root.get('mtime_ns'))):
        bad('invalid root')
    entries = manifest.get('entries')
    if not isinstance(entries, list):
        bad('no entry list')
    directories = {''}
    seen = set()
    for entry in entries:
        if not isinstance(entry, dict):
            bad('invalid entry')
        path = entry.get('path')
        if not _check_path(path):
            bad('invalid path %r' % (path,))
        if path in seen:
            bad('duplicate path %r' % (path,))
        seen.add(path)
        if path.rpartition('/')[0] not in directories:
            bad('the parent of %r is not a directory listed before it' %
                (path,))
        if not _is_int(entry.get('mode')) or not _is_int(
                entry.get('mtime_ns')):
            bad('invalid mode or mtime of %r' % (path,))
        kind = entry.get('type')
        if kind == DIR:
            directories.add(path)
        elif kind == SYMLINK:
            target = entry.get('target')
            if not isinstance(target, str) or not target or \
                    '\0' in target:
                bad('invalid symlink target of %r' % (path,))
        elif kind == FILE:
            size = entry.get('size')
            chunks = entry.get('chunks')
            if not _is_int(size, 0) or not isinstance(chunks, list):
                bad('invalid size or chunks of %r' % (path,))
            total = 0
            for ref in chunks:
                if (not isinstance(ref, list) or len(ref) != 3 or
                        not isinstance(ref[0], str) or
                        not _DIGEST.match(ref[0]) or
                        not _is_int(ref[1], 0) or not _is_int(ref[2], 1)):
                    bad('invalid chunk reference of %r' % (path,))
                total += ref[2]
            if total != size:
                bad('the chunks of %r do not add up to its size' % (path,))
        else:
            bad('invalid type of %r' % (path,))
    return manifest
