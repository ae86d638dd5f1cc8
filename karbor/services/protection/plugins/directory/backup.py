"""Protect one directory into a checkpoint: chunks plus a manifest.

The main thread walks the tree (through directory file descriptors, never
following a symlink) and hands the reading, hashing and writing of file
data to a bounded pool of threads, so at most a few chunks per thread are
in memory whatever the size of the tree. Large files are cut into
CHUNK_SIZE chunks; files below SMALL_FILE_LIMIT are packed together into
chunks of about PACK_SIZE so a tree of tiny files costs a few objects,
not one fsync'd object per file.

A file cache makes protecting unchanged data cheap: the manifest of the
newest available checkpoint of the same plan and resource is loaded, and
a file whose size, mtime, inode and ctime are those recorded there keeps
its chunk list without being read, provided its chunks are still in the
bank. A file whose ctime was too recent when it was read (it may have
been changing in the same clock tick) is not cached. Small files read
again are looked up by content hash, so they do not get packed again
either.
"""

import fnmatch
import hashlib
import logging
import os
import stat
import threading
import time

from oslo_serialization import jsonutils

from karbor import exception
from karbor.services.protection import checkpoint as checkpoint_mod
from karbor.services.protection.plugins.directory import gc
from karbor.services.protection.plugins.directory import manifest as mf
from karbor.services.protection.plugins.directory import protectable
from karbor.services.protection.plugins.directory import workers

LOG = logging.getLogger(__name__)

CHUNK_SIZE = 4 << 20
SMALL_FILE_LIMIT = 1 << 20
PACK_SIZE = 4 << 20
PACK_MAX_FILES = 1024

# A file whose ctime is this close to the moment it was read may change
# again without its ctime changing: it is not cached. File systems with
# whole-second timestamps get a wider window.
RACY_WINDOW_NS = 100 * 1000 * 1000
COARSE_RACY_WINDOW_NS = 2 * 1000 * 1000 * 1000

_OPEN_FLAGS = (os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY |
               getattr(os, 'O_CLOEXEC', 0))
_DIR_FLAGS = (os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW |
              getattr(os, 'O_CLOEXEC', 0))

_SPECIAL_KINDS = ((stat.S_ISFIFO, 'fifo'), (stat.S_ISSOCK, 'socket'),
                  (stat.S_ISCHR, 'character device'),
                  (stat.S_ISBLK, 'block device'))

REASON_LIST_LIMIT = 20


class _Vanished(Exception):
    """The file or directory is gone or was replaced since the walk saw
    it; it is left out of the checkpoint."""

    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind


def parse_excludes(value):
    """The exclude patterns of the plan parameters.

    A list of patterns or one string (what the command line sends),
    which may hold several patterns separated by commas.
    """
    if not value:
        return []
    if isinstance(value, str):
        value = value.split(',')
    patterns = []
    for pattern in value:
        if not isinstance(pattern, str):
            continue
        pattern = pattern.strip()
        # 'cache/' and './cache' mean the entry 'cache'.
        while pattern.startswith('./'):
            pattern = pattern[2:]
        pattern = pattern.rstrip('/')
        if pattern:
            patterns.append(pattern)
    return patterns


def special_kind(mode):
    for test, kind in _SPECIAL_KINDS:
        if test(mode):
            return kind
    return 'special file'


def _read_error(path, exc):
    return exception.DirectoryReadError(path=path, reason=str(exc))


def _identity(st):
    return st.st_dev, st.st_ino


def _open_beneath(root_fd, path):
    """Open ``path`` component by component, never following a symlink."""
    parts = path.split('/')
    fd = os.dup(root_fd)
    try:
        for part in parts[:-1]:
            next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        return os.open(parts[-1], _OPEN_FLAGS, dir_fd=fd)
    finally:
        os.close(fd)


def open_file(root_fd, path, expected):
    """(fd, stat) of the regular file ``path`` below ``root_fd``.

    The quick open follows no symlink at the last component; if what it
    opened is not the file the walk saw (a parent directory was swapped
    for a symlink, or the file replaced), the file now at ``path`` is
    opened without following any symlink, so nothing outside the tree is
    ever read. Raises _Vanished or DirectoryReadError.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS, dir_fd=root_fd)
    except FileNotFoundError:
        raise _Vanished('vanished')
    except OSError as exc:
        if exc.errno in (40, 20):      # ELOOP, ENOTDIR: changed type
            raise _Vanished('changed type')
        raise _read_error(path, exc)
    try:
        st = os.fstat(fd)
        if _identity(st) != expected:
            os.close(fd)
            fd = -1
            try:
                fd = _open_beneath(root_fd, path)
            except FileNotFoundError:
                raise _Vanished('vanished')
            except OSError as exc:
                if exc.errno in (40, 20):
                    raise _Vanished('changed type')
                raise _read_error(path, exc)
            st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _Vanished('changed type')
        return fd, st
    except BaseException:
        if fd >= 0:
            os.close(fd)
        raise


def read_at(fd, path, offset, length):
    """Up to ``length`` bytes at ``offset`` (fewer at the end of file)."""
    parts = []
    got = 0
    try:
        while got < length:
            data = os.pread(fd, length - got, offset + got)
            if not data:
                break
            parts.append(data)
            got += len(data)
    except OSError as exc:
        raise _read_error(path, exc)
    return parts[0] if len(parts) == 1 else b''.join(parts)


def cacheable(st, read_at_ns):
    window = (COARSE_RACY_WINDOW_NS if st.st_ctime_ns % 1000000000 == 0
              else RACY_WINDOW_NS)
    return st.st_ctime_ns < read_at_ns - window


def _usable_previous(bank, checkpoint, other_id, plan_id, resource_id):
    """The checkpoint ``other_id`` if its manifest of ``resource_id`` may
    serve ``checkpoint`` as file cache, else None."""
    if other_id == checkpoint.id:
        return None
    try:
        other = checkpoint_mod.Checkpoint.load(bank, other_id)
    except exception.CheckpointNotFound:
        return None
    if (other.project_id != checkpoint.project_id or
            other.status != 'available' or
            (other.plan or {}).get('id') != plan_id or
            not bank.exists(mf.manifest_key(other, resource_id))):
        return None
    return other


def _hinted_previous(bank, checkpoint, plan_id, resource_id):
    try:
        hint = jsonutils.loads(bank.get_object(
            mf.latest_key(checkpoint.project_id, plan_id, resource_id)))
        other_id = hint['checkpoint_id']
    except (exception.BankObjectNotFound, ValueError, TypeError, KeyError):
        return None
    return _usable_previous(bank, checkpoint, other_id, plan_id,
                            resource_id)


def note_latest(bank, checkpoint, resource_id):
    """Leave the hint _hinted_previous reads. Not synced: a lost hint
    costs one scan of the bank, never a wrong cache (it is checked)."""
    plan_id = (checkpoint.plan or {}).get('id')
    if plan_id:
        bank.put_object(
            mf.latest_key(checkpoint.project_id, plan_id, resource_id),
            jsonutils.dump_as_bytes({'checkpoint_id': checkpoint.id}))


def forget_latest(bank, checkpoint, resource_id):
    """Remove the hint if it names ``checkpoint`` (being deleted), so a
    bank whose checkpoints are all deleted is empty."""
    plan_id = (checkpoint.plan or {}).get('id')
    if not plan_id:
        return
    key = mf.latest_key(checkpoint.project_id, plan_id, resource_id)
    try:
        hint = jsonutils.loads(bank.get_object(key))
    except exception.BankObjectNotFound:
        return
    except ValueError:
        hint = None
    if not isinstance(hint, dict) or \
            hint.get('checkpoint_id') == checkpoint.id:
        # A protect writing a new hint meanwhile may lose it: that costs
        # its successor one scan, nothing more.
        try:
            bank.delete_object(key)
        except exception.BankObjectNotFound:
            pass


def find_previous_manifest(bank, checkpoint, resource_id):
    """The manifest of ``resource_id`` in an available checkpoint of the
    same project and plan (the newest, unless the hint the last protect
    left names another usable one), or None.

    The hint spares reading the metadata of every checkpoint in the bank;
    without a usable one, they are all read.
    """
    plan_id = (checkpoint.plan or {}).get('id')
    if not plan_id:
        return None
    best = _hinted_previous(bank, checkpoint, plan_id, resource_id)
    if best is None:
        for checkpoint_id in checkpoint_mod.Checkpoint.list_ids(bank):
            other = _usable_previous(bank, checkpoint, checkpoint_id,
                                     plan_id, resource_id)
            if other is not None and (best is None or
                                      other.created_at > best.created_at):
                best = other
    if best is None:
        return None
    key = mf.manifest_key(best, resource_id)
    try:
        manifest = mf.loads(bank.get_object(key), key)
    except (exception.BankObjectNotFound, exception.InvalidManifest) as exc:
        LOG.warning('Not using %s as file cache: %s', key, exc)
        return None
    if manifest.get('project_id') != checkpoint.project_id:
        return None
    return manifest


class _ChunkWriter(object):
    """Puts chunks of one project, each at most once."""

    def __init__(self, bank, project_id):
        self.bank = bank
        self.project_id = project_id
        self._lock = threading.Lock()
        self._present = set()
        self._claimed = set()
        self.written = set()
        self.bytes_written = 0

    def key(self, digest):
        return mf.chunk_key(self.project_id, digest)

    def has(self, digest):
        with self._lock:
            if digest in self._present:
                return True
        if self.bank.exists(self.key(digest)):
            with self._lock:
                self._present.add(digest)
            return True
        return False

    def put(self, digest, data):
        with self._lock:
            if digest in self._present or digest in self._claimed:
                return
            self._claimed.add(digest)
        key = self.key(digest)
        if not self.bank.exists(key):
            self.bank.put_object(key, data)
            with self._lock:
                self.written.add(digest)
                self.bytes_written += len(data)
        with self._lock:
            self._present.add(digest)


class _LargeFile(object):
    """A file being read as several chunks by several threads."""

    def __init__(self, entry, fd, count):
        self.entry = entry
        self.fd = fd
        self.chunks = [None] * count
        self._left = count
        self._lock = threading.Lock()

    def chunk_done(self):
        with self._lock:
            self._left -= 1
            last = self._left == 0
        if last:
            self.close()

    def close(self):
        with self._lock:
            fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)


class Protector(object):
    """One protect of one directory resource."""

    def __init__(self, bank, checkpoint, resource, parameters, workers=4):
        self.bank = bank
        self.checkpoint = checkpoint
        self.resource = resource
        self.project_id = checkpoint.project_id
        self.excludes = parse_excludes((parameters or {}).get('exclude'))
        self.workers = workers
        self.writer = _ChunkWriter(bank, self.project_id)
        self._lock = threading.Lock()
        self.bytes_read = 0
        self.files_unchanged = 0
        self.excluded = 0
        self.skipped = []
        self.entries = []
        self._large = []
        self._batch = []
        self._batch_bytes = 0
        self._previous = {}
        self._small_index = {}

    # The file cache ---------------------------------------------------
    def _load_cache(self):
        previous = find_previous_manifest(self.bank, self.checkpoint,
                                          self.resource.id)
        if previous is None:
            return
        for entry in previous['entries']:
            if entry['type'] != mf.FILE:
                continue
            self._previous[entry['path']] = entry
            if entry.get('sha256') and len(entry['chunks']) == 1:
                self._small_index.setdefault(entry['sha256'],
                                             entry['chunks'][0])

    def _cached_chunks(self, entry, st):
        prev = self._previous.get(entry['path'])
        if (prev is None or prev.get('ctime_ns') is None or
                prev['size'] != st.st_size or
                prev['mtime_ns'] != st.st_mtime_ns or
                prev.get('ino') != st.st_ino or
                prev['ctime_ns'] != st.st_ctime_ns):
            return None
        if not all(self.writer.has(ref[0]) for ref in prev['chunks']):
            return None
        if prev.get('sha256'):
            entry['sha256'] = prev['sha256']
        return [list(ref) for ref in prev['chunks']]

    def _lookup_small(self, digest):
        with self._lock:
            ref = self._small_index.get(digest)
        if ref is not None and self.writer.has(ref[0]):
            return list(ref)
        return None

    # Reading -------------------------------------------------------------
    def _add_read(self, count):
        with self._lock:
            self.bytes_read += count

    def _set_stat(self, entry, st, read_ns):
        entry.update(mode=st.st_mode, mtime_ns=st.st_mtime_ns,
                     ino=st.st_ino,
                     ctime_ns=(st.st_ctime_ns if cacheable(st, read_ns)
                               else None))

    def _read_batch(self, root_fd, batch):
        """Read small files, pack the new contents into one chunk."""
        parts = []
        offsets = {}
        packed = []
        offset = 0
        for entry, expected in batch:
            path = entry['path']
            read_ns = time.time_ns()
            try:
                fd, st = open_file(root_fd, path, expected)
            except _Vanished as exc:
                entry['vanished'] = exc.kind
                continue
            try:
                self._set_stat(entry, st, read_ns)
                if st.st_size >= SMALL_FILE_LIMIT:
                    # It grew since the walk: chunk it here.
                    self._read_whole(entry, fd, st.st_size)
                    continue
                data = read_at(fd, path, 0, st.st_size)
            finally:
                os.close(fd)
            self._add_read(len(data))
            entry['size'] = len(data)
            digest = hashlib.sha256(data).hexdigest()
            entry['sha256'] = digest
            if not data:
                entry['chunks'] = []
                continue
            ref = self._lookup_small(digest)
            if ref is not None:
                entry['chunks'] = [ref]
                continue
            if digest not in offsets:
                offsets[digest] = offset
                parts.append(data)
                offset += len(data)
            packed.append((entry, digest))
        if not parts:
            return
        pack = b''.join(parts)
        parts = None
        pack_digest = hashlib.sha256(pack).hexdigest()
        self.writer.put(pack_digest, pack)
        for entry, digest in packed:
            entry['chunks'] = [[pack_digest, offsets[digest],
                                entry['size']]]
        with self._lock:
            for entry, digest in packed:
                self._small_index.setdefault(digest, entry['chunks'][0])

    def _read_whole(self, entry, fd, size):
        chunks = []
        for offset in range(0, size, CHUNK_SIZE):
            data = read_at(fd, entry['path'], offset,
                           min(CHUNK_SIZE, size - offset))
            if not data:
                break
            self._add_read(len(data))
            digest = hashlib.sha256(data).hexdigest()
            self.writer.put(digest, data)
            chunks.append([digest, 0, len(data)])
        entry['chunks'] = chunks
        entry['size'] = sum(ref[2] for ref in chunks)

    def _read_chunk(self, large, index, offset, length):
        try:
            data = read_at(large.fd, large.entry['path'], offset, length)
            if data:
                self._add_read(len(data))
                digest = hashlib.sha256(data).hexdigest()
                self.writer.put(digest, data)
                large.chunks[index] = [digest, 0, len(data)]
        finally:
            large.chunk_done()

    def _flush_batch(self, pool, root_fd):
        if self._batch:
            pool.submit(self._read_batch, root_fd, self._batch)
            self._batch = []
            self._batch_bytes = 0

    def _schedule_file(self, pool, root_fd, entry, st):
        cached = self._cached_chunks(entry, st)
        if cached is not None:
            entry['chunks'] = cached
            self.files_unchanged += 1
            return
        if st.st_size < SMALL_FILE_LIMIT:
            self._batch.append((entry, _identity(st)))
            self._batch_bytes += st.st_size
            if (self._batch_bytes >= PACK_SIZE or
                    len(self._batch) >= PACK_MAX_FILES):
                self._flush_batch(pool, root_fd)
            return
        read_ns = time.time_ns()
        try:
            fd, st = open_file(root_fd, entry['path'], _identity(st))
        except _Vanished as exc:
            entry['vanished'] = exc.kind
            return
        self._set_stat(entry, st, read_ns)
        entry['size'] = st.st_size
        count = max(1, -(-st.st_size // CHUNK_SIZE))
        large = _LargeFile(entry, fd, count)
        self._large.append(large)
        for index in range(count):
            offset = index * CHUNK_SIZE
            try:
                pool.submit(self._read_chunk, large, index, offset,
                            min(CHUNK_SIZE, st.st_size - offset))
            except BaseException:
                large.close()
                raise

    # Walking -------------------------------------------------------------
    def _excluded(self, path):
        return any(fnmatch.fnmatchcase(path, pattern)
                   for pattern in self.excludes)

    def _skip(self, path, kind):
        self.skipped.append({'path': path, 'kind': kind})

    def _open_dir(self, root_fd, path, expected):
        try:
            fd = os.open(path, _DIR_FLAGS, dir_fd=root_fd)
        except FileNotFoundError:
            raise _Vanished('vanished')
        except OSError as exc:
            if exc.errno in (40, 20):
                raise _Vanished('changed type')
            raise _read_error(path, exc)
        if _identity(os.fstat(fd)) != expected:
            os.close(fd)
            raise _Vanished('replaced')
        return fd

    def _walk(self, pool, root_fd):
        stack = [('', None)]
        while stack:
            path, expected = stack.pop()
            if path:
                try:
                    dir_fd = self._open_dir(root_fd, path, expected)
                except _Vanished as exc:
                    self._drop_dir(path, exc.kind)
                    continue
            else:
                dir_fd = os.dup(root_fd)
            try:
                with os.scandir(dir_fd) as it:
                    children = sorted(it, key=lambda e: e.name)
                subdirs = []
                for child in children:
                    rel = '%s/%s' % (path, child.name) if path else \
                        child.name
                    if self._excluded(rel):
                        self.excluded += 1
                        continue
                    self._visit(pool, root_fd, dir_fd, child, rel, subdirs)
            except OSError as exc:
                raise _read_error(path or '.', exc)
            finally:
                os.close(dir_fd)
            stack.extend(reversed(subdirs))

    def _drop_dir(self, path, kind):
        """Forget a directory that vanished before it could be read."""
        self._skip(path, kind)
        self.entries = [e for e in self.entries if e['path'] != path]

    def _visit(self, pool, root_fd, dir_fd, child, rel, subdirs):
        try:
            st = child.stat(follow_symlinks=False)
        except FileNotFoundError:
            self._skip(rel, 'vanished')
            return
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            self.entries.append({'path': rel, 'type': mf.DIR, 'mode': mode,
                                 'mtime_ns': st.st_mtime_ns})
            subdirs.append((rel, _identity(st)))
        elif stat.S_ISREG(mode):
            entry = {'path': rel, 'type': mf.FILE, 'mode': mode,
                     'mtime_ns': st.st_mtime_ns, 'size': st.st_size,
                     'chunks': None, 'ino': st.st_ino,
                     'ctime_ns': st.st_ctime_ns}
            self.entries.append(entry)
            self._schedule_file(pool, root_fd, entry, st)
        elif stat.S_ISLNK(mode):
            try:
                target = os.readlink(child.name, dir_fd=dir_fd)
            except FileNotFoundError:
                self._skip(rel, 'vanished')
                return
            except OSError as exc:
                raise _read_error(rel, exc)
            self.entries.append({'path': rel, 'type': mf.SYMLINK,
                                 'mode': mode, 'mtime_ns': st.st_mtime_ns,
                                 'target': target})
        else:
            self._skip(rel, special_kind(mode))

    # The whole protect --------------------------------------------------
    def _finish_entries(self):
        for large in self._large:
            large.entry['chunks'] = [c for c in large.chunks if c]
            large.entry['size'] = sum(c[2] for c in large.entry['chunks'])
        kept = []
        for entry in self.entries:
            if entry.get('vanished'):
                self._skip(entry['path'], entry.pop('vanished'))
            else:
                kept.append(entry)
        self.entries = kept

    def run(self, path, name):
        """Protect the directory at ``path``; returns the manifest."""
        self._load_cache()
        try:
            root_fd = os.open(path, _DIR_FLAGS)
        except OSError as exc:
            raise _read_error('.', exc)
        try:
            root = os.fstat(root_fd)
            with workers.BoundedPool(self.workers,
                                     name='karbor-protect') as pool:
                try:
                    self._walk(pool, root_fd)
                    self._flush_batch(pool, root_fd)
                    pool.wait()
                finally:
                    pool.close()
                    for large in self._large:
                        large.close()
        finally:
            os.close(root_fd)
        self._finish_entries()
        return self._manifest(root, name)

    def _manifest(self, root, name):
        files = [e for e in self.entries if e['type'] == mf.FILE]
        digests = {ref[0] for e in files for ref in e['chunks']}
        stats = {
            'files': len(files),
            'directories': sum(1 for e in self.entries
                               if e['type'] == mf.DIR),
            'symlinks': sum(1 for e in self.entries
                            if e['type'] == mf.SYMLINK),
            'skipped': len(self.skipped),
            'bytes': sum(e['size'] for e in files),
            'chunks': len(digests),
        }
        self.chunks_reused = len(digests - self.writer.written)
        return {
            'format': mf.FORMAT,
            'version': mf.VERSION,
            'project_id': self.project_id,
            'checkpoint_id': self.checkpoint.id,
            'resource_id': self.resource.id,
            'name': name,
            'root': {'mode': root.st_mode, 'mtime_ns': root.st_mtime_ns},
            'entries': self.entries,
            'skipped': self.skipped,
            'stats': stats,
        }


def skipped_reason(skipped):
    if not skipped:
        return None
    names = ', '.join('%s (%s)' % (s['path'], s['kind'])
                      for s in skipped[:REASON_LIST_LIMIT])
    more = len(skipped) - REASON_LIST_LIMIT
    if more > 0:
        names += ' and %d more' % more
    return 'Skipped %d entr%s that cannot be protected: %s' % (
        len(skipped), 'y' if len(skipped) == 1 else 'ies', names)


def protect(bank, checkpoint, resource, parameters, report, workers=4):
    """The protect hook's work: lease, data, manifest, report, GC."""
    started = time.monotonic()
    project_id = checkpoint.project_id
    name, path = protectable.resolve(project_id, resource.id)
    lease = gc.Lease(bank, gc.protect_lease_key(project_id, checkpoint.id,
                                                resource.id),
                     kind='protect', checkpoint_id=checkpoint.id,
                     resource_id=resource.id)
    lease.acquire()
    failed = True
    try:
        gc.wait_for_collections(bank, project_id)
        protector = Protector(bank, checkpoint, resource, parameters,
                              workers=workers)
        manifest = protector.run(path, name)
        writer = protector.writer
        # Chunk names durable before the manifest that refers to them.
        bank.sync([writer.key(d) for d in writer.written])
        key = mf.manifest_key(checkpoint, resource.id)
        data = mf.dumps(manifest)
        bank.put_object(key, data)
        bank.sync([key])
        note_latest(bank, checkpoint, resource.id)
        failed = False
    finally:
        lease.release()
        try:
            if failed or bank.exists(gc.pending_key(project_id)):
                gc.collect_garbage(bank, project_id)
        except Exception:
            LOG.exception('Garbage collection of project %s after the '
                          'protect of %s failed', project_id, resource.id)
    stats = manifest['stats']
    # The manifest's digest lets a verification tell a damaged manifest
    # from an intact one, whatever byte was changed.
    saved_info = dict(stats, manifest=key,
                      manifest_sha256=hashlib.sha256(data).hexdigest())
    extra_info = {
        'files': stats['files'],
        'directories': stats['directories'],
        'symlinks': stats['symlinks'],
        'skipped': stats['skipped'],
        'excluded': protector.excluded,
        'files_unchanged': protector.files_unchanged,
        'bytes': stats['bytes'],
        'bytes_read': protector.bytes_read,
        'bytes_written': writer.bytes_written + len(data),
        'chunks_written': len(writer.written),
        'chunks_reused': protector.chunks_reused,
        'duration_seconds': round(time.monotonic() - started, 3),
    }
    if report is not None:
        values = {'saved_info': saved_info, 'extra_info': extra_info}
        reason = skipped_reason(manifest['skipped'])
        if reason:
            values['reason'] = reason
        report.update(resource, **values)
    return manifest
