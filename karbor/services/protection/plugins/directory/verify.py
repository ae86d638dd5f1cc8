"""Verify one protected directory without restoring it.

A verification answers: would a restore of this resource find every byte
it needs, intact? It checks, in order:

1. the checkpoint metadata in the bank parses, is this checkpoint's, lists
   the resource in its graph and has the resource's saved info;
2. the manifest (the key a restore reads) is there, has the SHA-256 the
   protect recorded in the saved info (checkpoints protected before that
   was recorded skip this check), parses, passes the manifest validation a
   restore applies, names this project, checkpoint and resource, and its
   entries add up to its own stats and to the saved info's counts;
3. every chunk the manifest refers to: present, and at least as long as
   the furthest ``[offset, length]`` slice read from it (``quick`` mode
   stops there, a size lookup per chunk); in ``full`` mode also read once
   (however many files share it) and its SHA-256 compared with its name.
   When the manifest's own digest could not be checked (a checkpoint
   protected before it was recorded) or did not match, the small files
   that recorded the SHA-256 of their content are also checked against
   their slice of the chunk: that catches a manifest pointing a file at
   the wrong bytes, which an intact manifest cannot do.

A chunk read whole whose content does not match its name (or that is
shorter than its manifest needs) is moved to ``quarantine/<project>/``
when ``quarantine`` is on: protects reuse a chunk that exists, so a
damaged one left in place would spread into every later checkpoint,
while a missing one is written again by the next protect whose source
still holds its bytes, repairing every checkpoint that shares it.

Damage is reported, not raised: the resource ends ``error`` with a reason
naming the first damaged chunks (each with a few of the files using it)
and the counts, while the other resources of the checkpoint are still
verified. Every chunk is checked: the counts cover all the damage, not
only the first found.

A run of a verify cycle (``scope``, see flows.verify.CycleScope) checks
the metadata and manifest of the resource in every checkpoint of its
scope that protected it, and reads, as ``full`` does, the chunks of all
those manifests that fall into the scope's part of the cycle and that no
other resource of the verification read already.

Chunks are checked by a bounded pool of threads (hashlib releases the GIL
while hashing a large buffer, the bank's reads release it while reading).
Memory stays bounded: a chunk is held only while it is hashed, and the
bytes of the chunks held at once are capped by MAX_IN_FLIGHT.
"""

import collections
import contextlib
import hashlib
import json
import logging
import os
import threading
import time

from karbor import exception
from karbor.services.protection import checkpoint as checkpoint_mod
from karbor.services.protection.plugins.directory import backup
from karbor.services.protection.plugins.directory import compare as \
    compare_mod
from karbor.services.protection.plugins.directory import manifest as mf
from karbor.services.protection.plugins.directory import workers as pool_mod

LOG = logging.getLogger(__name__)

FULL = 'full'
QUICK = 'quick'
SUBSET = 'subset'
COMPARE = 'compare'
MODES = (FULL, QUICK, SUBSET, COMPARE)

# The part of the hash space a percentage subset is measured against.
_SPACE = 1 << 32

# Kinds of chunk damage, in the order the reason counts them.
MISSING = 'missing'
WRONG_SIZE = 'wrong-size'
CORRUPT = 'corrupt'
UNREADABLE = 'unreadable'
KINDS = (MISSING, WRONG_SIZE, CORRUPT, UNREADABLE)

# How much of the damage the reason spells out; the counts cover it all.
REASON_CHUNKS = 5
REASON_FILES = 3
REASON_PROBLEMS = 5

# Bytes of chunk data held in memory at once by the checking threads.
MAX_IN_FLIGHT = 64 << 20
# No protect writes chunks this large (they are 4 MiB, packs of small
# files under 5 MiB): a larger object is damaged and not read into memory.
MAX_CHUNK_BYTES = 64 << 20
# Chunks whose sizes one quick-mode task looks up.
SIZE_BATCH = 32
# At most this many threads, whatever the configuration and CPU count.
MAX_WORKERS = 32
# Seconds between two progress updates of the report.
PROGRESS_INTERVAL = 1.0

# The saved-info counts a manifest's entries must agree with.
COUNTS = ('files', 'directories', 'symlinks', 'skipped', 'bytes', 'chunks')


class Subset(object):
    """Which chunks one subset verification reads, by chunk id alone.

    ``"n/t"`` (1 <= n <= t) selects the chunks whose id (their SHA-256)
    falls into partition n of t: ``int(id[:8], 16) % t == n - 1``. The t
    partitions are disjoint and together hold every chunk, so the runs
    1/t .. t/t of one checkpoint read each of its chunks exactly once,
    and a chunk is always in the same partition, whatever the checkpoint.

    ``"p%"`` (0 < p <= 100) selects the chunks whose first 32 bits of id
    are below p % of their range: about p % of the chunks, always the
    same ones (a smaller percentage selects a subset of a larger one).
    """

    def __init__(self, text):
        self.text = text
        self.part = self.parts = self.percent = None
        if not isinstance(text, str):
            raise exception.Invalid('A subset is a string such as "1/4" or '
                                    '"10%%", not %r' % (text,))
        value = text.strip()
        try:
            if value.endswith('%'):
                self.percent = float(value[:-1])
                ok = 0 < self.percent <= 100
            else:
                part, slash, parts = value.partition('/')
                self.part, self.parts = int(part), int(parts)
                ok = bool(slash) and 1 <= self.part <= self.parts
        except ValueError:
            ok = False
        if not ok or not value.isascii():
            raise exception.Invalid(
                'Invalid subset %r: use "n/t" with 1 <= n <= t, or a '
                'percentage "p%%" with 0 < p <= 100' % (text,))
        if self.percent is not None:
            self._below = int(self.percent * _SPACE / 100)

    def selects(self, digest):
        head = int(digest[:8], 16)
        if self.percent is not None:
            return head < self._below
        return head % self.parts == self.part - 1

    def __str__(self):
        return self.text


def is_subset(text):
    """True if ``text`` is a subset Subset accepts (schema format)."""
    try:
        Subset(text)
    except exception.Invalid:
        return False
    return True


def default_workers(configured):
    """Threads for a verification: hashing is CPU bound, so at least one
    per CPU, and at least the ``[directory] workers`` configured."""
    return max(1, min(MAX_WORKERS, max(configured or 1,
                                       os.cpu_count() or 1)))


def shown_path(path):
    """A manifest path as text safe to show (undecodable bytes escaped)."""
    try:
        return os.fsencode(path).decode('utf-8', 'backslashreplace')
    except (UnicodeError, TypeError):
        return repr(path)


def _plural(count, singular, plural=None):
    return '%d %s' % (count, singular if count == 1 else
                      (plural or singular + 's'))


def files_phrase(paths, total):
    """'file a', 'files a, b and c', 'files a, b, c and 4 more'."""
    shown = [shown_path(p) for p in paths[:REASON_FILES]]
    if not shown:
        return 'no file'
    more = total - len(shown)
    word = 'file' if total == 1 else 'files'
    if more > 0:
        return '%s %s and %d more' % (word, ', '.join(shown), more)
    if len(shown) == 1:
        return '%s %s' % (word, shown[0])
    return '%s %s and %s' % (word, ', '.join(shown[:-1]), shown[-1])


class _Chunk(object):
    """One distinct chunk the manifest refers to."""

    __slots__ = ('digest', 'order', 'needed', 'paths', 'files', 'checks')

    def __init__(self, digest, order):
        self.digest = digest
        self.order = order
        # The end of the furthest slice read from it: its minimum size.
        self.needed = 0
        # The first few files using it (for the reason) and their count.
        self.paths = []
        self.files = 0
        # {(offset, length): (sha256, path)} of the small files whose
        # content (this one slice) has a recorded SHA-256.
        self.checks = {}

    def add_file(self, path):
        self.files += 1
        if len(self.paths) < REASON_FILES:
            self.paths.append(path)


class _ByteBudget(object):
    """A counting semaphore of bytes: the chunk data held at once."""

    def __init__(self, limit):
        self.limit = limit
        self._used = 0
        self._cond = threading.Condition()

    @contextlib.contextmanager
    def hold(self, size):
        # An object larger than the whole budget waits for all of it.
        size = max(1, min(size, self.limit))
        with self._cond:
            while self._used and self._used + size > self.limit:
                self._cond.wait()
            self._used += size
        try:
            yield
        finally:
            with self._cond:
                self._used -= size
                self._cond.notify_all()


class VerifyResult(object):
    """The outcome of one verification of one resource.

    ``notes`` tell what was found that is no damage (the ordinary changes
    at the source a comparison lists): the reason of a success.
    """

    def __init__(self, problems, extra_info, notes=None):
        self.problems = problems
        self.extra_info = extra_info
        self.notes = notes or []

    @property
    def ok(self):
        return not self.problems

    @property
    def reason(self):
        if self.problems:
            return '; '.join(self.problems + self.notes)
        return '; '.join(self.notes) if self.notes else None


class _Fatal(Exception):
    """A problem that leaves nothing further to check."""


class Verifier(object):
    """One verification of one directory resource of one checkpoint."""

    def __init__(self, bank, checkpoint, resource, mode=FULL, workers=4,
                 report=None, max_in_flight=MAX_IN_FLIGHT, subset=None,
                 excludes=(), scope=None, quarantine=False):
        if mode not in MODES:
            raise exception.Invalid('Unknown verify mode %r; use one of %s'
                                    % (mode, ', '.join(MODES)))
        # A run of a verify cycle: its part of the chunks of the scope's
        # checkpoints, whatever the parameters say.
        self.scope = scope
        if scope is not None:
            mode, subset = SUBSET, None
        elif mode == SUBSET:
            if subset is None:
                raise exception.Invalid('The subset mode needs a subset, '
                                        'e.g. "1/4" or "10%"')
            if not isinstance(subset, Subset):
                subset = Subset(subset)
        elif subset is not None:
            raise exception.Invalid('A subset is only read in the subset '
                                    'mode, not in the %s mode' % mode)
        self.subset = subset
        # The plan's exclude patterns, for comparing with the source.
        self.excludes = excludes
        self.comparison = None
        self.notes = []
        self.bank = bank
        self.checkpoint = checkpoint
        self.resource = resource
        self.project_id = checkpoint.project_id
        self.mode = mode
        self.workers = max(1, workers)
        self.report = report
        self._budget = _ByteBudget(max_in_flight)
        self._lock = threading.Lock()
        self.problems = []
        self.chunks = collections.OrderedDict()
        self.damaged = {}           # digest -> (kind, detail)
        self.quarantine = quarantine
        self.quarantined = 0
        self.mismatched = []        # (order, path, digest) of small files
        self.chunks_checked = 0
        self.chunks_read = 0
        # The chunks this run checks: all of them, or those of the subset.
        self.selected = 0
        self.bytes_read = 0
        self._progress_at = 0.0
        self.manifest_sha256_checked = False
        self._manifest_intact = False
        # Of a run of a verify cycle: the manifests of the resource it
        # checked, one per checkpoint of the scope holding it.
        self.manifests_checked = 0

    # Metadata ----------------------------------------------------------
    def _check_metadata(self):
        """The saved info of the resource, from the metadata's bytes."""
        key = checkpoint_mod.metadata_key(self.checkpoint.id)
        try:
            raw = self.bank.get_object(key)
        except exception.BankObjectNotFound:
            raise _Fatal('the checkpoint metadata %s is missing' % key)
        try:
            meta = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise _Fatal('the checkpoint metadata %s is corrupt: %s' %
                         (key, exc))
        if not isinstance(meta, dict):
            raise _Fatal('the checkpoint metadata %s is corrupt: not a '
                         'JSON object' % key)
        if meta.get('id') != self.checkpoint.id:
            raise _Fatal('the checkpoint metadata %s is corrupt: it names '
                         'checkpoint %r' % (key, meta.get('id')))
        if meta.get('project_id') != self.project_id:
            raise _Fatal('the checkpoint metadata %s is corrupt: it names '
                         'project %r' % (key, meta.get('project_id')))
        graph = meta.get('resource_graph')
        if not isinstance(graph, list) or not any(
                isinstance(node, dict) and
                node.get('type') == self.resource.type and
                node.get('id') == self.resource.id for node in graph):
            raise _Fatal('the checkpoint metadata %s does not list the '
                         'resource in its resource graph' % key)
        record = (meta.get('resources') or {})
        record = record.get(self.resource.id) if isinstance(
            record, dict) else None
        saved = record.get('saved_info') if isinstance(record, dict) \
            else None
        if not isinstance(saved, dict) or not isinstance(
                saved.get('manifest'), str):
            raise _Fatal('the checkpoint metadata %s has no saved info of '
                         'the resource: it was not protected' % key)
        return saved

    # The manifest ------------------------------------------------------
    def _load_manifest(self, saved):
        key = mf.manifest_key(self.checkpoint, self.resource.id)
        if saved['manifest'] != key:
            self.problems.append(
                'the checkpoint metadata names the manifest %s, not %s' %
                (saved['manifest'], key))
        try:
            raw = self.bank.get_object(key)
        except exception.BankObjectNotFound:
            raise _Fatal('the manifest %s is missing' % key)
        self.bytes_read += len(raw)
        expected = saved.get('manifest_sha256')
        changed = expected is not None and \
            hashlib.sha256(raw).hexdigest() != expected
        self.manifest_sha256_checked = expected is not None
        # A manifest with the digest the protect recorded is exactly what
        # it wrote: the slices of intact chunks then hold exactly the
        # content it read, and hashing small files again would only
        # double the hashing of packed data.
        self._manifest_intact = self.manifest_sha256_checked and \
            not changed
        try:
            manifest = mf.loads(raw, key)
        except exception.InvalidManifest as exc:
            raise _Fatal('the manifest %s is corrupt: %s' %
                         (key, exc.kwargs.get('reason', exc)))
        except RecursionError:
            raise _Fatal('the manifest %s is corrupt: nested too deeply' %
                         key)
        if changed:
            # It still parses: what it refers to is worth checking too.
            self.problems.append(
                'the manifest %s is corrupt: its SHA-256 is not the one '
                'recorded in the checkpoint metadata' % key)
        self._check_agreement(key, manifest, saved)
        return manifest

    def _check_agreement(self, key, manifest, saved):
        wrong = []
        for field, value in (('project_id', self.project_id),
                             ('checkpoint_id', self.checkpoint.id),
                             ('resource_id', self.resource.id)):
            if manifest.get(field) != value:
                wrong.append('%s %r, not %r' % (field, manifest.get(field),
                                                value))
        if wrong:
            self.problems.append('the manifest %s names %s' %
                                 (key, ', '.join(wrong)))
        files = [e for e in manifest['entries'] if e['type'] == mf.FILE]
        skipped = manifest.get('skipped')
        actual = {
            'files': len(files),
            'directories': sum(1 for e in manifest['entries']
                               if e['type'] == mf.DIR),
            'symlinks': sum(1 for e in manifest['entries']
                            if e['type'] == mf.SYMLINK),
            'skipped': len(skipped) if isinstance(skipped, list) else None,
            'bytes': sum(e['size'] for e in files),
            'chunks': len(mf.chunk_digests(manifest)),
        }
        stats = manifest.get('stats')
        for where, figures, every in (
                ('its stats', stats if isinstance(stats, dict) else {},
                 True),
                ('the checkpoint metadata', saved, False)):
            names = [name for name in COUNTS
                     if (every or name in figures) and
                     figures.get(name) != actual[name]]
            if names:
                self.problems.append(
                    'the manifest %s does not agree with %s: %s' % (
                        key, where, ', '.join(
                            '%s %r in the manifest, %r recorded' % (
                                name, actual[name], figures.get(name))
                            for name in names)))

    # Indexing ----------------------------------------------------------
    def _index(self, manifest):
        """Every distinct chunk, in the order of its first use."""
        chunks = self.chunks
        for entry in manifest['entries']:
            if entry['type'] != mf.FILE:
                continue
            path = entry['path']
            refs = entry['chunks']
            seen = set()
            for digest, offset, length in refs:
                chunk = chunks.get(digest)
                if chunk is None:
                    chunk = chunks[digest] = _Chunk(digest, len(chunks))
                chunk.needed = max(chunk.needed, offset + length)
                if digest not in seen:
                    seen.add(digest)
                    chunk.add_file(path)
            recorded = entry.get('sha256')
            if isinstance(recorded, str) and len(refs) == 1 and \
                    not self._manifest_intact:
                digest, offset, length = refs[0]
                chunks[digest].checks.setdefault((offset, length),
                                                 (recorded, path))
            elif isinstance(recorded, str) and not refs and \
                    recorded != hashlib.sha256(b'').hexdigest():
                self.mismatched.append((-1, path, None))

    # Checking chunks ---------------------------------------------------
    def _key(self, digest):
        return mf.chunk_key(self.project_id, digest)

    def _damage(self, chunk, kind, detail):
        with self._lock:
            self.damaged[chunk.digest] = (kind, detail)
        if self.scope is not None:
            self.scope.damaged(chunk.digest)

    def _checked(self, count=1, read=0, content=False):
        with self._lock:
            self.chunks_checked += count
            self.bytes_read += read
            if content:
                self.chunks_read += count
            checked = self.chunks_checked
            now = time.monotonic()
            if self.report is None or \
                    now - self._progress_at < PROGRESS_INTERVAL:
                return
            self._progress_at = now
        self.report.update(self.resource, progress=int(
            100 * checked / max(1, self.selected)))

    def _size(self, chunk):
        """The chunk's size if it may be intact, else None (damaged)."""
        try:
            size = self.bank.object_size(self._key(chunk.digest))
        except exception.BankObjectNotFound:
            self._damage(chunk, MISSING, None)
            return None
        except OSError as exc:
            self._damage(chunk, UNREADABLE, str(exc))
            return None
        if size < chunk.needed:
            self._damage(chunk, WRONG_SIZE, '%d bytes, the manifest needs '
                         '%d' % (size, chunk.needed))
            return None
        if size > MAX_CHUNK_BYTES:
            self._damage(chunk, WRONG_SIZE, '%d bytes, more than any chunk '
                         'has' % size)
            return None
        return size

    def _check_sizes(self, batch):
        for chunk in batch:
            self._size(chunk)
        self._checked(len(batch))

    def _check_content(self, chunk):
        size = self._size(chunk)
        if size is None:
            self._checked()
            return
        read = 0
        fetched = False
        with self._budget.hold(size):
            try:
                data = self.bank.get_object(self._key(chunk.digest))
            except exception.BankObjectNotFound:
                self._damage(chunk, MISSING, None)
                data = None
            except OSError as exc:
                self._damage(chunk, UNREADABLE, str(exc))
                data = None
            if data is not None:
                fetched = True
                read = len(data)
                self._check_data(chunk, data)
            data = None
        self._checked(read=read, content=fetched)

    def _check_data(self, chunk, data):
        if len(data) < chunk.needed:
            self._damage(chunk, WRONG_SIZE, '%d bytes, the manifest needs '
                         '%d' % (len(data), chunk.needed))
            self._quarantine(chunk, data)
            return
        if hashlib.sha256(data).hexdigest() != chunk.digest:
            self._damage(chunk, CORRUPT, 'SHA-256 mismatch')
            self._quarantine(chunk, data)
            return
        if not chunk.checks:
            return
        view = memoryview(data)
        try:
            bad = [path for (offset, length), (recorded, path)
                   in chunk.checks.items()
                   if hashlib.sha256(view[offset:offset + length])
                   .hexdigest() != recorded]
        finally:
            view.release()
        if bad:
            with self._lock:
                self.mismatched.extend((chunk.order, path, chunk.digest)
                                       for path in bad)

    def _quarantine(self, chunk, data):
        """Move a chunk proven damaged out of chunks/ (see the module
        docstring); keep it if the move fails, and say so in the log."""
        if not self.quarantine:
            return
        key = self._key(chunk.digest)
        target = mf.quarantine_key(self.project_id, chunk.digest,
                                   time.time_ns())
        try:
            # Copy first: the damaged bytes are evidence, never lost.
            self.bank.put_object(target, data)
            self.bank.delete_object(key)
        except (exception.KarborException, OSError) as exc:
            LOG.error('Could not move damaged chunk %s to %s: %s', key,
                      target, exc)
            return
        LOG.warning('Moved damaged chunk %s to %s; the next protect of a '
                    'source holding its data writes it again', key, target)
        with self._lock:
            self.quarantined += 1

    def _check_chunks(self):
        chunks = list(self.chunks.values())
        if self.subset is not None:
            chunks = [c for c in chunks if self.subset.selects(c.digest)]
        elif self.scope is not None:
            self.scope.note(self.chunks)
            chunks = [c for c in chunks if self.scope.claim(c.digest)]
        self.selected = len(chunks)
        if not chunks:
            return
        with pool_mod.BoundedPool(self.workers,
                                  name='karbor-verify') as pool:
            try:
                if self.mode == QUICK:
                    for start in range(0, len(chunks), SIZE_BATCH):
                        pool.submit(self._check_sizes,
                                    chunks[start:start + SIZE_BATCH])
                else:
                    for chunk in chunks:
                        pool.submit(self._check_content, chunk)
                pool.wait()
            finally:
                pool.close()

    # Comparing with the source ------------------------------------------
    def _compare(self, manifest):
        comparison = compare_mod.Comparison(
            self.bank, self.project_id, self.resource.id, manifest,
            excludes=self.excludes, workers=self.workers)
        self.chunks.update((d, None) for d in mf.chunk_digests(manifest))
        try:
            found = comparison.run()
        except compare_mod.SourceGone as exc:
            raise _Fatal(str(exc))
        self.comparison = comparison
        corrupt = found[compare_mod.CORRUPT]
        if corrupt:
            self.problems.append(
                '%s of unchanged size and mtime no longer match%s the '
                'checkpoint, bit rot or tampering at the source (%s)' % (
                    _plural(len(corrupt), 'file'),
                    'es' if len(corrupt) == 1 else '',
                    files_phrase(corrupt, len(corrupt))))
        changes = ['%d %s' % (len(found[kind]), kind) for kind in (
            compare_mod.ADDED, compare_mod.REMOVED, compare_mod.CHANGED)]
        self.notes.append('compared with the source: %s since the '
                          'checkpoint' % ', '.join(changes))
        for kind in (compare_mod.ADDED, compare_mod.REMOVED,
                     compare_mod.CHANGED):
            if found[kind]:
                self.notes.append('%s: %s' % (kind, files_phrase(
                    found[kind], len(found[kind]))))
        unchecked = found[compare_mod.UNCHECKED]
        if unchecked:
            self.notes.append(
                '%s of unchanged size and mtime not compared: the chunks '
                'to compare them with are damaged in the bank (%s)' % (
                    _plural(len(unchecked), 'file'),
                    files_phrase(unchecked, len(unchecked))))

    # A run of a verify cycle -------------------------------------------
    def _index_scope(self):
        """The chunks of the resource in every checkpoint of the scope;
        a damaged metadata or manifest is a problem of its checkpoint."""
        for checkpoint in self.scope.checkpoints_with(self.resource):
            self.checkpoint = checkpoint
            self.manifests_checked += 1
            try:
                saved = self._check_metadata()
                self._index(self._load_manifest(saved))
            except _Fatal as exc:
                self.problems.append(str(exc))

    # The outcome -------------------------------------------------------
    def _chunk_problem(self):
        if not self.damaged:
            return None
        counts = collections.Counter(kind for kind, _ in
                                     self.damaged.values())
        damaged = sorted((self.chunks[d] for d in self.damaged),
                         key=lambda c: c.order)
        parts = []
        for chunk in damaged[:REASON_CHUNKS]:
            kind, detail = self.damaged[chunk.digest]
            about = files_phrase(chunk.paths, chunk.files)
            if detail:
                about = '%s; %s' % (detail, about)
            parts.append('%s chunk %s (%s)' % (kind, chunk.digest, about))
        more = len(damaged) - REASON_CHUNKS
        if more > 0:
            parts.append('and %s' % _plural(more, 'more damaged chunk'))
        summary = ', '.join('%d %s' % (counts[kind], kind)
                            for kind in KINDS if counts[kind])
        among = '%d' % len(self.chunks)
        if self.subset is not None or self.scope is not None:
            among = '%d checked (subset %s of %d)' % (
                self.selected, self.subset or self.scope, len(self.chunks))
        problem = '%s of %s damaged (%s): %s' % (
            _plural(len(damaged), 'chunk'), among, summary,
            '; '.join(parts))
        if self.quarantined:
            problem += ('. %d damaged %s moved to quarantine/%s/ in the '
                        'bank; protect the plan again to write %s from '
                        'the source' % (
                            self.quarantined,
                            'chunk was' if self.quarantined == 1
                            else 'chunks were', self.project_id,
                            'it' if self.quarantined == 1 else 'them'))
        return problem

    def _file_problem(self):
        if not self.mismatched:
            return None
        found = sorted(self.mismatched, key=lambda m: (m[0], m[1]))
        return '%s do%s not match the SHA-256 recorded in the manifest ' \
            '(%s)' % (_plural(len(found), 'file'),
                      'es' if len(found) == 1 else '',
                      files_phrase([m[1] for m in found], len(found)))

    def extra_info(self, duration):
        counts = collections.Counter(kind for kind, _ in
                                     self.damaged.values())
        info = {
            'mode': self.mode,
            'chunks': len(self.chunks),
            'chunks_checked': self.chunks_checked,
            'chunks_read': self.chunks_read,
            'chunks_left': len(self.chunks) - self.chunks_checked,
            'chunks_damaged': len(self.damaged),
            'chunks_missing': counts[MISSING],
            'chunks_wrong_size': counts[WRONG_SIZE],
            'chunks_corrupt': counts[CORRUPT],
            'chunks_unreadable': counts[UNREADABLE],
            'chunks_quarantined': self.quarantined,
            'bytes_read': self.bytes_read,
            'duration_seconds': round(duration, 3),
            'throughput_mb_s': round(self.bytes_read / 1e6 /
                                     max(duration, 1e-6), 1),
            'files_mismatched': len(self.mismatched),
            'manifest_sha256_checked': self.manifest_sha256_checked,
        }
        if self.subset is not None or self.scope is not None:
            info['subset'] = str(self.subset or self.scope)
            info['chunks_selected'] = self.selected
        if self.scope is not None:
            info['manifests'] = self.manifests_checked
        if self.comparison is not None:
            info.update(self.comparison.extra_info())
            info['bytes_read'] += self.comparison.bytes_read
            info['throughput_mb_s'] = round(
                info['bytes_read'] / 1e6 / max(duration, 1e-6), 1)
        return info

    def run(self):
        started = time.monotonic()
        try:
            if self.scope is not None:
                self._index_scope()
                self._check_chunks()
            else:
                saved = self._check_metadata()
                manifest = self._load_manifest(saved)
                if self.mode == COMPARE:
                    self._compare(manifest)
                else:
                    self._index(manifest)
                    manifest = None
                    self._check_chunks()
        except _Fatal as exc:
            self.problems.append(str(exc))
        problems = self.problems[:REASON_PROBLEMS]
        if len(self.problems) > REASON_PROBLEMS:
            problems.append('and %s' % _plural(
                len(self.problems) - REASON_PROBLEMS, 'more problem'))
        for problem in (self._chunk_problem(), self._file_problem()):
            if problem:
                problems.append(problem)
        return VerifyResult(problems,
                            self.extra_info(time.monotonic() - started),
                            notes=self.notes)


def verify(bank, checkpoint, resource, parameters, report, workers=4,
           scope=None, quarantine=False):
    """The verify hook's work: check, then report (never raise) damage.

    Returns the VerifyResult.
    """
    mode = (parameters or {}).get('mode') or FULL
    if scope is not None:
        mode, parameters = SUBSET, {}
    excludes = ()
    if mode == COMPARE:
        excludes = backup.parse_excludes(_plan_parameters(
            checkpoint, resource).get('exclude'))
    verifier = Verifier(bank, checkpoint, resource, mode=mode,
                        workers=workers, report=report,
                        subset=(parameters or {}).get('subset'),
                        excludes=excludes, scope=scope,
                        quarantine=quarantine)
    result = verifier.run()
    info = result.extra_info
    if result.ok:
        LOG.info('Verified %s %s of checkpoint %s (%s): %d chunks, %d '
                 'bytes read in %.3f s', resource.type, resource.id,
                 checkpoint.id, mode, info['chunks_checked'],
                 info['bytes_read'], info['duration_seconds'])
    else:
        LOG.warning('Verification of %s %s of checkpoint %s (%s) found '
                    'damage: %s', resource.type, resource.id,
                    checkpoint.id, mode, result.reason)
    if report is not None:
        values = {'extra_info': info}
        if not result.ok:
            values.update(status='error', reason=result.reason)
        elif result.reason:
            values.update(reason=result.reason)
        report.update(resource, **values)
    return result


def _plan_parameters(checkpoint, resource):
    """The protect parameters of the resource, as the plan gave them."""
    try:
        parameters = checkpoint.plan.get('parameters') or {}
    except (AttributeError, KeyError, TypeError):
        return {}
    merged = dict(parameters.get(resource.type) or {})
    merged.update(parameters.get('%s#%s' % (resource.type, resource.id))
                  or {})
    return merged
