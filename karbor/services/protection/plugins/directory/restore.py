"""Restore one protected directory from its manifest and chunks.

The tree is rebuilt in a hidden temporary directory next to the target,
then renamed into place (refusing to replace anything), so the target
name never shows a partial tree; on any failure the temporary directory
is removed. Chunks are fetched and checked against their SHA-256 by a
bounded pool of threads, each chunk once even when many small files
share it; every file is written with positional writes, so the chunks of
a large file are written in parallel.

Durability: file data is written back to disk as it is produced and its
pages dropped from the cache (so memory stays bounded and is recycled);
every file and directory is fsynced (``[directory] restore_fsync``)
before the rename, so a crash never leaves a tree with lost data under
the final name.

Nothing is written through a symlink: the manifest's paths are checked
to have listed directories as parents, files are created with O_NOFOLLOW
and the manifest's symlinks are created last.
"""

import collections
import errno
import hashlib
import logging
import os
import shutil
import stat
import tempfile
import threading
import time

from karbor import exception
from karbor.services.protection.plugins.directory import fsutil
from karbor.services.protection.plugins.directory import manifest as mf
from karbor.services.protection.plugins.directory import protectable
from karbor.services.protection.plugins.directory import workers

LOG = logging.getLogger(__name__)

NAME_MAX = 255

# Slices this large are written back (and their pages dropped) as soon as
# written; the files of smaller ones by groups of up to SYNC_GROUP.
BULK_SLICE = 1 << 20
SYNC_GROUP = 64

_CREATE_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW |
                 getattr(os, 'O_CLOEXEC', 0))
_DIR_FLAGS = (os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW |
              getattr(os, 'O_CLOEXEC', 0))


def validate_restore_name(name):
    """A name for one new entry of the project's directory."""
    def bad(reason):
        raise exception.InvalidRestoreName(name=name, reason=reason)

    if not isinstance(name, str) or not name:
        bad('it must be a non-empty string')
    if len(name) > NAME_MAX or len(os.fsencode(name)) > NAME_MAX:
        bad('it is longer than %d bytes' % NAME_MAX)
    if name in ('.', '..'):
        bad('it must not be . or ..')
    for char, label in (('/', 'a slash'), ('\\', 'a backslash'),
                        ('\0', 'a NUL character')):
        if char in name:
            bad('it must not contain %s' % label)
    if name.startswith(protectable.TEMP_PREFIX):
        bad('names starting with %s are reserved' % protectable.TEMP_PREFIX)
    return name


def default_restore_name(name, restore_id):
    suffix = '-restore-%s' % (restore_id or '')[:8]
    base = name or 'directory'
    while len(os.fsencode(base + suffix)) > NAME_MAX:
        base = base[:-1]
    return base + suffix


def _file_mode(mode):
    return mode & 0o7777


def remove_tree(path):
    """rmtree, even through directories restored without write access."""
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames:
            sub = os.path.join(dirpath, name)
            try:
                if stat.S_ISDIR(os.lstat(sub).st_mode):
                    os.chmod(sub, 0o700)
            except OSError:
                pass
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    shutil.rmtree(path, ignore_errors=True)


class _File(object):
    """A file being written by the threads handling its chunks."""

    def __init__(self, entry, slices):
        self.entry = entry
        self._left = slices
        self._lock = threading.Lock()

    def slice_done(self):
        with self._lock:
            self._left -= 1
            return self._left == 0


class Restorer(object):

    def __init__(self, bank, project_id, manifest, workers=4, fsync=True):
        self.bank = bank
        self.project_id = project_id
        self.manifest = manifest
        self.workers = workers
        self.fsync = fsync
        self._lock = threading.Lock()
        self.bytes_written = 0
        self.chunks_read = 0

    def _chunk(self, digest):
        key = mf.chunk_key(self.project_id, digest)
        try:
            data = self.bank.get_object(key)
        except exception.BankObjectNotFound:
            raise exception.ChunkCorrupted(key=key, reason='it is missing')
        if hashlib.sha256(data).hexdigest() != digest:
            raise exception.ChunkCorrupted(
                key=key, reason='its SHA-256 does not match its name')
        return data

    def _finish_files(self, finished):
        """Set the modes and mtimes of complete files, wait for their
        data (whose writeback started as it was written), fsync them and
        drop their pages from the cache.

        By groups: the first fsync of a group commits the metadata of
        all, the others find little left to do.
        """
        try:
            for fd, entry in finished:
                os.fchmod(fd, _file_mode(entry['mode']))
                os.utime(fd, ns=(entry['mtime_ns'], entry['mtime_ns']))
            for fd, entry in finished:
                fsutil.write_back(fd)
            if self.fsync:
                for fd, entry in finished:
                    os.fsync(fd)
        finally:
            for fd, entry in finished:
                os.close(fd)

    def _write_chunk(self, top, digest, slices):
        data = self._chunk(digest)
        view = memoryview(data)
        written = 0
        finished = []
        try:
            for target, file_offset, offset, length in slices:
                if offset + length > len(data):
                    raise exception.ChunkCorrupted(
                        key=mf.chunk_key(self.project_id, digest),
                        reason='it is shorter than the manifest says')
                path = os.path.join(top, target.entry['path'])
                fd = os.open(path, _CREATE_FLAGS, 0o600)
                keep = False
                try:
                    piece = view[offset:offset + length]
                    done = 0
                    while done < length:
                        done += os.pwrite(fd, piece[done:],
                                          file_offset + done)
                    written += length
                    if length >= BULK_SLICE:
                        fsutil.write_back(fd, file_offset, length)
                    else:
                        fsutil.start_write_back(fd, file_offset, length)
                    if target.slice_done():
                        finished.append((fd, target.entry))
                        keep = True
                finally:
                    if not keep:
                        os.close(fd)
                if len(finished) >= SYNC_GROUP:
                    batch, finished = finished, []
                    self._finish_files(batch)
            batch, finished = finished, []
            self._finish_files(batch)
        finally:
            for fd, entry in finished:
                os.close(fd)
        with self._lock:
            self.bytes_written += written
            self.chunks_read += 1

    def _create_empty(self, top, entries):
        finished = []
        try:
            for entry in entries:
                fd = os.open(os.path.join(top, entry['path']),
                             _CREATE_FLAGS | os.O_EXCL, 0o600)
                finished.append((fd, entry))
        except BaseException:
            for fd, entry in finished:
                os.close(fd)
            raise
        self._finish_files(finished)

    def _finish_dir(self, path, entry):
        fd = os.open(path, _DIR_FLAGS)
        try:
            os.fchmod(fd, _file_mode(entry['mode']))
            os.utime(fd, ns=(entry['mtime_ns'], entry['mtime_ns']))
            if self.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)

    def build(self, top):
        """Rebuild the tree inside the existing, empty directory ``top``."""
        entries = self.manifest['entries']
        by_chunk = collections.OrderedDict()
        empty = []
        for entry in entries:
            if entry['type'] == mf.DIR:
                os.mkdir(os.path.join(top, entry['path']), 0o700)
            elif entry['type'] == mf.FILE:
                if not entry['chunks']:
                    empty.append(entry)
                    continue
                target = _File(entry, len(entry['chunks']))
                file_offset = 0
                for digest, offset, length in entry['chunks']:
                    by_chunk.setdefault(digest, []).append(
                        (target, file_offset, offset, length))
                    file_offset += length
        with workers.BoundedPool(self.workers,
                                 name='karbor-restore') as pool:
            try:
                for index in range(0, len(empty), SYNC_GROUP):
                    pool.submit(self._create_empty, top,
                                empty[index:index + SYNC_GROUP])
                while by_chunk:
                    digest, slices = by_chunk.popitem(last=False)
                    pool.submit(self._write_chunk, top, digest, slices)
                pool.wait()
                # Symlinks last: nothing is ever written through one.
                for entry in entries:
                    if entry['type'] == mf.SYMLINK:
                        path = os.path.join(top, entry['path'])
                        os.symlink(entry['target'], path)
                        os.utime(path, ns=(entry['mtime_ns'],
                                           entry['mtime_ns']),
                                 follow_symlinks=False)
                # Directories once their content is complete.
                for entry in entries:
                    if entry['type'] == mf.DIR:
                        pool.submit(self._finish_dir,
                                    os.path.join(top, entry['path']), entry)
                pool.wait()
            finally:
                pool.close()
        self._finish_dir(top, self.manifest['root'])


def restore(bank, checkpoint, resource, parameters, report, restore_id,
            workers=4, fsync=True):
    """The restore hook's work; returns the restored directory's path."""
    started = time.monotonic()
    project_id = checkpoint.project_id
    key = mf.manifest_key(checkpoint, resource.id)
    try:
        manifest = mf.loads(bank.get_object(key), key)
    except exception.BankObjectNotFound:
        raise exception.InvalidManifest(key=key, reason='it is missing')
    name = (parameters or {}).get('restore_name')
    if name is None:
        name = default_restore_name(manifest.get('name') or resource.name,
                                    restore_id)
    validate_restore_name(name)
    parent = protectable.project_dir(project_id)
    os.makedirs(parent, exist_ok=True)
    target = os.path.join(parent, name)
    if os.path.lexists(target):
        raise exception.RestoreTargetExists(target=name)
    temp = tempfile.mkdtemp(prefix=protectable.TEMP_PREFIX + 'restore-',
                            dir=parent)
    try:
        restorer = Restorer(bank, project_id, manifest, workers=workers,
                            fsync=fsync)
        restorer.build(temp)
        try:
            fsutil.rename_noreplace(temp, target)
        except FileExistsError:
            raise exception.RestoreTargetExists(target=name)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                raise exception.RestoreTargetExists(target=name)
            raise
    except BaseException:
        remove_tree(temp)
        raise
    if fsync:
        fsutil.fsync_path(parent, directory=True)
    stats = manifest['stats']
    extra_info = {
        'restore_name': name,
        'files': stats['files'],
        'directories': stats['directories'],
        'symlinks': stats['symlinks'],
        'bytes_written': restorer.bytes_written,
        'chunks_read': restorer.chunks_read,
        'duration_seconds': round(time.monotonic() - started, 3),
    }
    if report is not None:
        report.update(resource, extra_info=extra_info)
    return target
