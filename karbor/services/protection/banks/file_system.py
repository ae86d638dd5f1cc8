"""A bank kept as files under ``[file_system_bank_plugin]`` path.

Each key maps to the file of the same relative path. Writes go to a
temporary file in the target directory, are fsynced and renamed into
place, so a crash never leaves a partial object under its final name;
the temporary files a killed process left are not objects, and
``remove_stale_partials`` removes them once they are old enough that no
live writer can still own them.
"""

import os
import stat
import tempfile
import time

from karbor.conf import CONF
from karbor import exception
from karbor.services.protection.banks import base


# Objects this large are bulk data (chunks of protected files), written
# once and read rarely: once written (durable) or read, their pages are
# dropped from the page cache rather than push other data out, and the
# memory freed serves the next reads and writes.
_DROP_CACHE_MIN = 1 << 20

_TEMPORARY = '.tmp-'


def _drop_cache(fd):
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except (AttributeError, OSError):
        pass


class FileSystemBank(base.BankPlugin):

    def __init__(self, root=None):
        self.root = os.path.abspath(
            root or CONF.file_system_bank_plugin.file_system_bank_path)
        os.makedirs(self.root, exist_ok=True)

    def _path(self, key):
        return os.path.join(self.root, *base.validate_key(key).split('/'))

    def put_object(self, key, data):
        path = self._path(key)
        directory = os.path.dirname(path)
        for attempt in range(5):
            try:
                os.makedirs(directory, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=directory,
                                           prefix=_TEMPORARY)
                break
            except (FileNotFoundError, FileExistsError):
                # A concurrent delete pruned the emptied directory, or one
                # of its parents while makedirs was below it, before the
                # temporary file was in: make them again. (makedirs says
                # FileExistsError when a directory another process made
                # was pruned before it could check it.)
                if attempt == 4:
                    raise
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
                if len(data) >= _DROP_CACHE_MIN:
                    _drop_cache(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def get_object(self, key):
        try:
            with open(self._path(key), 'rb') as f:
                data = f.read()
                if len(data) >= _DROP_CACHE_MIN:
                    _drop_cache(f.fileno())
                return data
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise exception.BankObjectNotFound(key=key)

    def _walk_start(self, prefix):
        """The directory ``prefix`` lies in: the only one to walk."""
        head = prefix.rpartition('/')[0]
        return os.path.join(self.root, *head.split('/')) if head else \
            self.root

    def list_objects(self, prefix='', marker=None, limit=None):
        keys = []
        for dirpath, dirnames, filenames in os.walk(self._walk_start(prefix)):
            rel = os.path.relpath(dirpath, self.root)
            rel = '' if rel == '.' else rel.replace(os.sep, '/') + '/'
            for name in filenames:
                if name.startswith(_TEMPORARY):
                    continue
                key = rel + name
                if key.startswith(prefix) and (marker is None or
                                               key > marker):
                    keys.append(key)
        keys.sort()
        return keys[:limit] if limit is not None else keys

    def delete_object(self, key):
        path = self._path(key)
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        self._prune(os.path.dirname(path))

    def remove_stale_partials(self, prefix, older_than):
        cutoff = time.time() - older_than
        removed = 0
        for dirpath, _, filenames in os.walk(self._walk_start(prefix)):
            rel = os.path.relpath(dirpath, self.root).replace(os.sep, '/')
            before = removed
            for name in filenames:
                if not (name.startswith(_TEMPORARY) and
                        ('%s/%s' % (rel, name)).startswith(prefix)):
                    continue
                path = os.path.join(dirpath, name)
                try:
                    if os.lstat(path).st_mtime <= cutoff:
                        os.unlink(path)
                        removed += 1
                except FileNotFoundError:
                    continue
            if removed > before:
                self._prune(dirpath)
        return removed

    def _prune(self, directory):
        """Remove the directories a delete emptied, up to the root.

        Otherwise every deleted checkpoint leaves its directories behind,
        and listings walk ever more of them.
        """
        while directory != self.root and directory.startswith(self.root):
            try:
                os.rmdir(directory)
            except OSError:
                return
            directory = os.path.dirname(directory)

    def exists(self, key):
        return os.path.isfile(self._path(key))

    def object_size(self, key):
        try:
            st = os.stat(self._path(key))
        except (FileNotFoundError, NotADirectoryError):
            raise exception.BankObjectNotFound(key=key)
        if not stat.S_ISREG(st.st_mode):
            raise exception.BankObjectNotFound(key=key)
        return st.st_size

    def sync(self, keys):
        """fsync the directories holding ``keys`` (each one once)."""
        directories = {os.path.dirname(self._path(key)) for key in keys}
        for directory in sorted(directories):
            try:
                fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            except FileNotFoundError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
