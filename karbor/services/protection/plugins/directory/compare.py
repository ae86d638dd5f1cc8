"""Compare a protected directory with the directory as it is now.

The ``compare`` verify mode answers a question about the source, not the
bank: what changed since the checkpoint, and did anything change that
should not have? It walks the live directory (found again from the
resource id, never from a name; no symlink is ever followed) and sorts
every path into:

- added: in the directory, not in the checkpoint;
- removed: in the checkpoint, not in the directory;
- changed: in both, but of another type, mode, size or mtime, or a
  symlink with another target: an ordinary change;
- corrupt: a regular file whose size and mtime are those of the
  checkpoint but whose content is not: nothing writes a file without
  changing its mtime, so this is bit rot or tampering at the source.

The content of a file of unchanged size and mtime is checked against the
checkpoint without reading the bank when it can: a small file against
the SHA-256 the manifest recorded for it, a slice at offset 0 of a chunk
against the chunk's name. Only a slice that does not match that way is
compared with the chunk's bytes in the bank (a chunk longer than the
slice), so a corrupt bank is not taken for a corrupt source.

The plan's ``exclude`` patterns apply as they did when protecting, and
special files (fifos, sockets, devices) are not compared: the protect
skipped them too.
"""

import fnmatch
import hashlib
import os
import stat
import threading

from karbor import exception
from karbor.services.protection.plugins.directory import backup
from karbor.services.protection.plugins.directory import manifest as mf
from karbor.services.protection.plugins.directory import protectable
from karbor.services.protection.plugins.directory import workers as pool_mod

ADDED = 'added'
REMOVED = 'removed'
CHANGED = 'changed'
CORRUPT = 'corrupt'
# Files of unchanged size and mtime whose content could not be compared
# (the chunk it would be compared with is missing or unreadable).
UNCHECKED = 'unchecked'
KINDS = (ADDED, REMOVED, CHANGED, CORRUPT, UNCHECKED)

# Paths of each kind listed in the report; the counts cover them all.
REPORT_PATHS = 20
# Bytes of a file hashed at once.
READ_SIZE = 4 << 20

_DIR_FLAGS = (os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW |
              getattr(os, 'O_CLOEXEC', 0))


class SourceGone(Exception):
    """The directory is not at the source any more."""


def _identity(st):
    return st.st_dev, st.st_ino


class Comparison(object):
    """One comparison of a manifest with the live directory."""

    def __init__(self, bank, project_id, resource_id, manifest,
                 excludes=(), workers=4):
        self.bank = bank
        self.project_id = project_id
        self.resource_id = resource_id
        self.manifest = manifest
        self.excludes = list(excludes)
        self.workers = max(1, workers)
        self.found = {kind: [] for kind in KINDS}
        self.files_compared = 0
        self.bytes_read = 0
        self._lock = threading.Lock()

    # The live tree -------------------------------------------------------
    def _excluded(self, path):
        return any(fnmatch.fnmatchcase(path, pattern)
                   for pattern in self.excludes)

    def _open_dir(self, root_fd, path, expected):
        """The directory ``path``, if it is still the one listed."""
        try:
            fd = os.open(path, _DIR_FLAGS, dir_fd=root_fd)
        except OSError:
            # Gone, or replaced by a symlink or a file: its entries are
            # not there any more as far as this walk can tell.
            return None
        if _identity(os.fstat(fd)) != expected:
            os.close(fd)
            return None
        return fd

    def _walk(self, root_fd):
        """{path: {"type", "mode", "size", "mtime_ns", "target", "id"}}."""
        live = {}
        stack = [('', None)]
        while stack:
            path, expected = stack.pop()
            fd = os.dup(root_fd) if not path else \
                self._open_dir(root_fd, path, expected)
            if fd is None:
                continue
            try:
                with os.scandir(fd) as it:
                    children = list(it)
                for child in children:
                    rel = '%s/%s' % (path, child.name) if path else \
                        child.name
                    if self._excluded(rel):
                        continue
                    info = self._describe(fd, child)
                    if info is None:
                        continue
                    live[rel] = info
                    if info['type'] == mf.DIR:
                        stack.append((rel, info['id']))
            except OSError as exc:
                raise exception.DirectoryReadError(path=path or '.',
                                                   reason=str(exc))
            finally:
                os.close(fd)
        return live

    def _describe(self, dir_fd, child):
        try:
            st = child.stat(follow_symlinks=False)
        except FileNotFoundError:
            return None
        mode = st.st_mode
        info = {'mode': mode, 'mtime_ns': st.st_mtime_ns,
                'id': _identity(st)}
        if stat.S_ISDIR(mode):
            info['type'] = mf.DIR
        elif stat.S_ISREG(mode):
            info.update(type=mf.FILE, size=st.st_size)
        elif stat.S_ISLNK(mode):
            try:
                info.update(type=mf.SYMLINK,
                            target=os.readlink(child.name, dir_fd=dir_fd))
            except FileNotFoundError:
                return None
        else:
            return None
        return info

    # Sorting the differences ----------------------------------------------
    def _note(self, kind, path):
        with self._lock:
            self.found[kind].append(path)

    def _differs(self, entry, info):
        """Whether an entry changed in an ordinary way (metadata)."""
        if entry['type'] != info['type'] or entry['mode'] != info['mode']:
            return True
        if entry['type'] == mf.FILE:
            return (entry['size'] != info['size'] or
                    entry['mtime_ns'] != info['mtime_ns'])
        if entry['type'] == mf.SYMLINK:
            return entry.get('target') != info['target']
        # A directory's mtime changes with its entries: those are compared
        # one by one.
        return False

    def _same_metadata(self, entry, info):
        return (entry['type'] == info['type'] == mf.FILE and
                entry['size'] == info['size'] and
                entry['mtime_ns'] == info['mtime_ns'])

    # Comparing content ----------------------------------------------------
    def _read(self, fd, path, offset, length):
        data = backup.read_at(fd, path, offset, length)
        with self._lock:
            self.bytes_read += len(data)
        return data

    def _slice_matches(self, fd, path, position, ref):
        """Whether the file's bytes at ``position`` are the slice ``ref``
        of the checkpoint; None if the chunk cannot be read to tell."""
        digest, offset, length = ref
        data = self._read(fd, path, position, length)
        if len(data) != length:
            return False
        if offset == 0 and hashlib.sha256(data).hexdigest() == digest:
            return True
        try:
            chunk = self.bank.get_object(mf.chunk_key(self.project_id,
                                                      digest))
        except (exception.BankObjectNotFound, OSError):
            return None
        if hashlib.sha256(chunk).hexdigest() != digest:
            # The bank's copy is damaged: it cannot tell either.
            return None
        return chunk[offset:offset + length] == data

    def _whole_matches(self, fd, path, size, recorded):
        digest = hashlib.sha256()
        position = 0
        while position < size:
            data = self._read(fd, path, position,
                              min(READ_SIZE, size - position))
            if not data:
                return False
            digest.update(data)
            position += len(data)
        # Longer than it was while its size looked the same: it changed.
        if backup.read_at(fd, path, position, 1):
            return False
        return digest.hexdigest() == recorded

    def _compare_content(self, root_fd, entry, info):
        path = entry['path']
        try:
            fd, st = backup.open_file(root_fd, path, info['id'])
        except backup._Vanished:
            self._note(REMOVED, path)
            return
        try:
            if (st.st_size, st.st_mtime_ns) != (entry['size'],
                                                entry['mtime_ns']):
                # Written to since the walk saw it: an ordinary change.
                self._note(CHANGED, path)
                return
            if isinstance(entry.get('sha256'), str):
                same = self._whole_matches(fd, path, entry['size'],
                                           entry['sha256'])
            else:
                same = True
                position = 0
                for ref in entry['chunks']:
                    same = self._slice_matches(fd, path, position, ref)
                    if not same:
                        break
                    position += ref[2]
            if same is None:
                self._note(UNCHECKED, path)
            elif not same:
                self._note(CORRUPT, path)
            with self._lock:
                self.files_compared += 1
        finally:
            os.close(fd)

    def run(self):
        """Walk and compare; returns ``self.found``.

        Raises SourceGone if the directory is not at the source any more.
        """
        try:
            _name, path = protectable.resolve(self.project_id,
                                              self.resource_id)
        except exception.ProtectableResourceNotFound:
            raise SourceGone('the directory is no longer at the source')
        try:
            root_fd = os.open(path, _DIR_FLAGS)
        except OSError as exc:
            raise SourceGone('the directory cannot be opened at the '
                             'source: %s' % exc)
        try:
            live = self._walk(root_fd)
            recorded = {e['path']: e for e in self.manifest['entries']}
            to_read = []
            for path in sorted(set(live) | set(recorded)):
                entry, info = recorded.get(path), live.get(path)
                if entry is None:
                    self._note(ADDED, path)
                elif info is None:
                    self._note(REMOVED, path)
                elif self._differs(entry, info):
                    self._note(CHANGED, path)
                elif self._same_metadata(entry, info):
                    to_read.append((entry, info))
            with pool_mod.BoundedPool(self.workers,
                                      name='karbor-compare') as pool:
                try:
                    for entry, info in to_read:
                        pool.submit(self._compare_content, root_fd, entry,
                                    info)
                    pool.wait()
                finally:
                    pool.close()
        finally:
            os.close(root_fd)
        for paths in self.found.values():
            paths.sort()
        return self.found

    # The report -----------------------------------------------------------
    def extra_info(self):
        info = {'source_%s' % kind: len(paths)
                for kind, paths in self.found.items()}
        info.update(source_files_compared=self.files_compared,
                    source_bytes_read=self.bytes_read,
                    source_report={kind: [_shown(p) for p in
                                          paths[:REPORT_PATHS]]
                                   for kind, paths in self.found.items()
                                   if paths})
        return info


def _shown(path):
    """A path as text safe to show (undecodable bytes escaped)."""
    try:
        return os.fsencode(path).decode('utf-8', 'backslashreplace')
    except (UnicodeError, TypeError):
        return repr(path)
