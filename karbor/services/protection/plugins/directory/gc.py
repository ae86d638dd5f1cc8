"""Garbage collection of a project's chunks, safe against running protects.

Chunks are shared by every checkpoint of a project, so deleting a
checkpoint only removes its manifests; the chunks no manifest refers to
any more are removed here. A protect deduplicates against chunks that
exist, so it must never trust a chunk a collection is about to delete.
Both sides announce themselves with small objects under
``locks/<project_id>/`` holding the time they were last refreshed; one not
refreshed for LEASE_TIMEOUT seconds belongs to a dead process and is
ignored (and removed by the next collection)::

    protect-<checkpoint id>-<resource id>   a protect's lease
    gc-<uuid>                               a running collection's marker
    gc-pending                              a deferred collection

The protocol (the bank only needs read-after-write consistency):

Protect
    1. write its lease (refreshed every LEASE_REFRESH seconds);
    2. wait while any fresh ``gc-<uuid>`` marker exists;
    3. look chunks up, write chunks and the manifest;
    4. remove its lease, then collect if it failed (its chunks may be
       referenced by nothing) or if ``gc-pending`` exists.

Collection
    a. write its marker (refreshed likewise);
    b. if any fresh protect lease exists: write ``gc-pending``, and if a
       fresh lease still exists, remove the marker and stop (deferred);
    c. remove ``gc-pending``;
    d. read every manifest of the project's checkpoints;
    e. delete the project's chunks none of them refers to, and what
       puts killed midway left behind (the file-system bank's temporary
       files) older than LEASE_TIMEOUT, then remove the marker.

Why no chunk a protect relies on is deleted: a protect P relies on chunks
between its steps 2 and 4. If P's lease was written before the
collection's check b, the collection defers. Otherwise P's step 1 came
after b, hence after a, so P's step 2 saw the marker and P waited until
the collection finished. And since no protect runs between b and e, the
manifests read at d include every manifest written before the chunks are
listed at e. (Reading the manifests before checking the leases would not
be safe: a protect could write its manifest and remove its lease in
between.) A deferred collection is not lost: ``gc-pending`` was written
before the second check of b saw the lease of some protect, so that
protect finds it at its step 4; and c removes it before d, so a deferral
written later is kept for a later collection.
"""

import json
import logging
import os
import socket
import threading
import time
import uuid

from karbor import exception
from karbor.services.protection import checkpoint as checkpoint_mod
from karbor.services.protection.plugins.directory import manifest as mf

LOG = logging.getLogger(__name__)

LEASE_REFRESH = 60
LEASE_TIMEOUT = 600
POLL_INTERVAL = 1.0

PROTECT = 'protect-'
GC = 'gc-'
PENDING = 'gc-pending'


def locks_prefix(project_id):
    return 'locks/%s/' % project_id


def protect_lease_key(project_id, checkpoint_id, resource_id):
    return '%s%s%s-%s' % (locks_prefix(project_id), PROTECT, checkpoint_id,
                          resource_id)


def pending_key(project_id):
    return locks_prefix(project_id) + PENDING


class Lease(object):
    """A lock object under ``key``, rewritten every LEASE_REFRESH seconds
    by a thread until released."""

    def __init__(self, bank, key, **info):
        self.bank = bank
        self.key = key
        self.info = dict(info, host=socket.gethostname(), pid=os.getpid())
        self._stop = threading.Event()
        self._thread = None

    def _write(self):
        body = dict(self.info, updated_at=time.time())
        self.bank.put_object(self.key, json.dumps(body).encode())

    def _refresh(self):
        while not self._stop.wait(LEASE_REFRESH):
            try:
                self._write()
            except Exception:
                LOG.exception('Cannot refresh %s', self.key)

    def acquire(self):
        self._write()
        self._thread = threading.Thread(target=self._refresh, daemon=True,
                                        name='karbor-lease')
        self._thread.start()
        return self

    def release(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.bank.delete_object(self.key)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()


def _age(bank, key, now):
    """Seconds since ``key`` was refreshed; None if it is gone.

    An unreadable lock is taken as fresh: mistaking a live protect's
    lease for a dead one could lose data, the reverse only delays.
    """
    try:
        body = json.loads(bank.get_object(key))
        return max(0.0, now - float(body['updated_at']))
    except exception.BankObjectNotFound:
        return None
    except (ValueError, TypeError, KeyError):
        LOG.warning('Unreadable lock object %s taken as fresh', key)
        return 0.0


def _locks(bank, project_id, kind, now):
    """[(key, age)] of the project's lock objects of ``kind``."""
    prefix = locks_prefix(project_id)
    found = []
    for key in bank.list_objects(prefix):
        name = key[len(prefix):]
        if kind == GC and name == PENDING:
            continue
        if not name.startswith(kind):
            continue
        age = _age(bank, key, now)
        if age is not None:
            found.append((key, age))
    return found


def fresh_locks(bank, project_id, kind):
    now = time.time()
    return [key for key, age in _locks(bank, project_id, kind, now)
            if age < LEASE_TIMEOUT]


def wait_for_collections(bank, project_id):
    """Protect step 2: return once no fresh collection marker exists."""
    waited = False
    while fresh_locks(bank, project_id, GC):
        if not waited:
            LOG.info('Waiting for the garbage collection of project %s',
                     project_id)
            waited = True
        time.sleep(POLL_INTERVAL)


def referenced_chunks(bank, project_id):
    """Digests referred to by any manifest of the project's checkpoints.

    A manifest is the project's if its checkpoint's metadata says so or,
    without metadata, if the manifest itself does. A manifest that cannot
    be read stops the collection rather than risk deleting what it
    refers to.
    """
    projects = {}
    referenced = set()
    for key in bank.list_objects(checkpoint_mod.PREFIX):
        if not mf.is_manifest_key(key):
            continue
        checkpoint_id = key.split('/')[1]
        if checkpoint_id not in projects:
            try:
                projects[checkpoint_id] = checkpoint_mod.Checkpoint.load(
                    bank, checkpoint_id).project_id
            except exception.CheckpointNotFound:
                projects[checkpoint_id] = None
        owner = projects[checkpoint_id]
        if owner is not None and owner != project_id:
            continue
        try:
            manifest = mf.loads(bank.get_object(key), key)
        except exception.BankObjectNotFound:
            continue        # deleted meanwhile: refers to nothing any more
        if owner is None and manifest.get('project_id') != project_id:
            continue
        referenced.update(mf.chunk_digests(manifest))
    return referenced


def collect_garbage(bank, project_id):
    """Delete the project's chunks no manifest refers to, unless protects
    of the project run (then defer to the last of them).

    Returns {'status': 'done' or 'deferred', 'chunks_deleted': n,
    'bytes_freed': n, 'chunks_kept': n, 'partials_removed': n}.
    """
    result = {'status': 'deferred', 'chunks_deleted': 0, 'bytes_freed': 0,
              'chunks_kept': 0, 'partials_removed': 0}
    marker = Lease(bank, '%s%s%s' % (locks_prefix(project_id), GC,
                                     uuid.uuid4().hex), kind='gc')
    with marker:
        if fresh_locks(bank, project_id, PROTECT):
            bank.put_object(pending_key(project_id), json.dumps(
                {'updated_at': time.time()}).encode())
            if fresh_locks(bank, project_id, PROTECT):
                LOG.info('Garbage collection of project %s deferred: '
                         'protects are running', project_id)
                return result
        bank.delete_object(pending_key(project_id))
        referenced = referenced_chunks(bank, project_id)
        for key in bank.list_objects(mf.chunk_prefix(project_id)):
            digest = mf.digest_of_key(key)
            if digest is None or digest in referenced:
                result['chunks_kept'] += 1
                continue
            try:
                size = bank.object_size(key)
            except exception.BankObjectNotFound:
                continue
            bank.delete_object(key)
            result['chunks_deleted'] += 1
            result['bytes_freed'] += size
        # What killed protects were writing: no put still running owns
        # a temporary file it last wrote that long ago.
        for prefix in (mf.chunk_prefix(project_id), checkpoint_mod.PREFIX,
                       locks_prefix(project_id)):
            result['partials_removed'] += bank.remove_stale_partials(
                prefix, LEASE_TIMEOUT)
        # Locks of dead processes.
        now = time.time()
        for kind in (PROTECT, GC):
            for key, age in _locks(bank, project_id, kind, now):
                if age >= LEASE_TIMEOUT and key != marker.key:
                    bank.delete_object(key)
    result['status'] = 'done'
    LOG.info('Garbage collection of project %s: %d chunks (%d bytes) '
             'deleted, %d kept, %d partial writes removed', project_id,
             result['chunks_deleted'], result['bytes_freed'],
             result['chunks_kept'], result['partials_removed'])
    return result


def projects_with_chunks(bank):
    """Ids of the projects that have chunks in ``bank``."""
    projects = set()
    for key in bank.list_objects('chunks/'):
        parts = key.split('/')
        if len(parts) == 4:
            projects.add(parts[1])
    return sorted(projects)
