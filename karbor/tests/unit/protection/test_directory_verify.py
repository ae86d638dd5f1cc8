"""The verify operation of OS::Karbor::Directory."""

import collections
import hashlib
import json
import os
import random
import threading
import time
import uuid

import jsonschema
import pytest

from karbor.services.protection.banks import file_system
from karbor.services.protection import checkpoint as checkpoint_mod
from karbor.services.protection.plugins.directory import backup
from karbor.services.protection.plugins.directory import manifest as mf
from karbor.services.protection.plugins.directory import protectable
from karbor.services.protection.plugins.directory import protection
from karbor.services.protection.plugins.directory import verify as vfy
from karbor.services.protection import resource as resource_mod
from karbor.tests.unit.protection import test_directory_protection as tdp

TYPE = 'OS::Karbor::Directory'
PROJECT = 'proj-a'


# Small trees still use several chunks, packs and big files.
pytestmark = pytest.mark.usefixtures('small_chunks')


def resource_of(name):
    return resource_mod.Resource(
        type=TYPE, id=protectable.resource_id(PROJECT, name), name=name)


def protect(root, plugin, names=('docs',), make=tdp.make_tree):
    """A fresh available checkpoint of the directories ``names``, its
    metadata saved as the protect flow saves it."""
    resources = []
    for name in names:
        top = root / PROJECT / name
        if not top.exists():
            make(str(top))
        resources.append(resource_of(name))
    checkpoint = checkpoint_mod.Checkpoint.create(
        plugin.bank, str(uuid.uuid4()), PROJECT, 'provider-1',
        plan={'id': 'plan-1', 'name': 'plan'},
        resource_graph=[resource_mod.ResourceNode(r, ()) for r in resources],
        created_at='2024-01-01T00:00:00')
    report = resource_mod.OperationReport(resources)
    for resource in resources:
        plugin.get_protect_operation(resource).on_main(
            checkpoint=checkpoint, resource=resource, context=None,
            parameters={}, report=report)
        report.update(resource, status='done')
    report.finish('available')
    checkpoint.update(status='available', resources=report.snapshot())
    return checkpoint, resources


def run_verify(plugin, checkpoint, resource, mode=None):
    """The resource's record after a verify hook run as the flow runs it."""
    report = resource_mod.OperationReport([resource])
    report.update(resource, status='running')
    parameters = {} if mode is None else {'mode': mode}
    plugin.get_verify_operation(resource).on_main(
        checkpoint=checkpoint, resource=resource, context=None,
        parameters=parameters, report=report,
        verification=type('V', (), {'id': 'v-1', 'parameters': {}})())
    record = report.get(resource.id)
    if record['status'] == 'running':
        record['status'] = 'success'
    return record


def chunk_path(bank, digest):
    return os.path.join(bank.root, *mf.chunk_key(PROJECT, digest).split('/'))


def manifest_path(bank, checkpoint, resource):
    return os.path.join(bank.root, *mf.manifest_key(
        checkpoint, resource.id).split('/'))


def load_manifest(bank, checkpoint, resource):
    key = mf.manifest_key(checkpoint, resource.id)
    return mf.loads(bank.get_object(key), key)


def files_of(manifest):
    """{digest: [paths]} of a manifest, in manifest order."""
    users = collections.OrderedDict()
    for entry in manifest['entries']:
        if entry['type'] == mf.FILE:
            for digest in dict.fromkeys(ref[0] for ref in entry['chunks']):
                users.setdefault(digest, []).append(entry['path'])
    return users


def big_chunk(bank, checkpoint, resource):
    """A chunk of sub/deeper/big.bin (one file uses it)."""
    for digest, paths in files_of(load_manifest(bank, checkpoint,
                                                resource)).items():
        if paths == ['sub/deeper/big.bin']:
            return digest
    raise AssertionError('no chunk of big.bin alone')


def pack_chunk(bank, checkpoint, resource):
    """The chunk shared by the most files (a pack of small files)."""
    users = files_of(load_manifest(bank, checkpoint, resource))
    return max(users, key=lambda d: len(users[d]))


def flip(path, offset, mask=0x01):
    with open(path, 'r+b') as f:
        f.seek(offset)
        old = f.read(1)
        f.seek(offset)
        f.write(bytes([old[0] ^ mask]))
    return old


def put_back(path, offset, old):
    with open(path, 'r+b') as f:
        f.seek(offset)
        f.write(old)


def assert_error(record, *fragments):
    assert record['status'] == 'error', record
    for fragment in fragments:
        assert fragment in record['reason'], (fragment, record['reason'])


# The intact case --------------------------------------------------------

@pytest.mark.parametrize('mode', [None, 'full', 'quick'])
def test_fresh_checkpoint_verifies(root, bank, plugin, mode):
    checkpoint, (resource,) = protect(root, plugin)
    saved = checkpoint.saved_info(resource.id)
    record = run_verify(plugin, checkpoint, resource, mode)
    assert record['status'] == 'success', record
    assert record['reason'] is None
    info = record['extra_info']
    assert info['mode'] == (mode or 'full')
    assert info['chunks'] == info['chunks_checked'] == saved['chunks']
    for kind in ('damaged', 'missing', 'wrong_size', 'corrupt',
                 'unreadable'):
        assert info['chunks_' + kind] == 0
    chunk_bytes = sum(bank.object_size(key)
                      for key in bank.list_objects(mf.chunk_prefix(PROJECT)))
    manifest_bytes = bank.object_size(mf.manifest_key(checkpoint,
                                                      resource.id))
    if info['mode'] == 'full':
        assert info['bytes_read'] == chunk_bytes + manifest_bytes
    else:
        assert info['bytes_read'] == manifest_bytes
    assert info['duration_seconds'] >= 0
    assert info['throughput_mb_s'] >= 0
    assert info['manifest_sha256_checked'] is True


def test_the_schema_and_the_saved_manifest_digest(root, bank, plugin):
    schema = plugin.get_verify_schema(TYPE)
    assert schema['properties']['mode']['default'] == 'full'
    for good in ({}, {'mode': 'full'}, {'mode': 'quick'}):
        jsonschema.validate(good, schema)
    for bad in ({'mode': 'fast'}, {'mode': 1}, {'colour': 'blue'}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
    checkpoint, (resource,) = protect(root, plugin)
    saved = checkpoint.saved_info(resource.id)
    jsonschema.validate(saved, plugin.get_saved_info_schema(TYPE))
    raw = bank.get_object(saved['manifest'])
    assert saved['manifest_sha256'] == hashlib.sha256(raw).hexdigest()


def test_empty_directory_verifies(root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin, make=os.makedirs)
    for mode in ('full', 'quick'):
        record = run_verify(plugin, checkpoint, resource, mode)
        assert record['status'] == 'success', record
        assert record['extra_info']['chunks'] == 0


# One kind of damage at a time, each on a fresh checkpoint ----------------

def test_flipped_byte_in_a_chunk(root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin)
    digest = big_chunk(bank, checkpoint, resource)
    flip(chunk_path(bank, digest), 1000)
    # Presence and sizes are intact: quick cannot see it.
    assert run_verify(plugin, checkpoint, resource,
                      'quick')['status'] == 'success'
    record = run_verify(plugin, checkpoint, resource)
    assert_error(record, '1 chunk of ', 'damaged (1 corrupt)',
                 'corrupt chunk %s (SHA-256 mismatch; file '
                 'sub/deeper/big.bin)' % digest,
                 '1 damaged chunk was moved to quarantine/%s/' % PROJECT)
    assert record['extra_info']['chunks_corrupt'] == 1
    assert record['extra_info']['chunks_damaged'] == 1
    assert record['extra_info']['chunks_quarantined'] == 1
    (kept,) = bank.list_objects('quarantine/%s/' % PROJECT)
    assert kept.rpartition('/')[2].startswith(digest + '-')
    assert not os.path.exists(chunk_path(bank, digest))


def test_quarantine_can_be_turned_off(root, bank, plugin, override):
    override('quarantine_damaged_chunks', False, group='directory')
    checkpoint, (resource,) = protect(root, plugin)
    digest = big_chunk(bank, checkpoint, resource)
    flip(chunk_path(bank, digest), 1000)
    for _ in range(2):
        record = run_verify(plugin, checkpoint, resource)
        assert_error(record, 'corrupt chunk %s' % digest)
        assert record['extra_info']['chunks_quarantined'] == 0
    assert bank.list_objects('quarantine/') == []


def test_deleted_chunk(root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin)
    digest = big_chunk(bank, checkpoint, resource)
    os.unlink(chunk_path(bank, digest))
    for mode in ('full', 'quick'):
        record = run_verify(plugin, checkpoint, resource, mode)
        assert_error(record, 'damaged (1 missing)',
                     'missing chunk %s (file sub/deeper/big.bin)' % digest)
        assert record['extra_info']['chunks_missing'] == 1


@pytest.mark.parametrize('which', ['big', 'pack'])
def test_truncated_chunk(root, bank, plugin, which):
    checkpoint, (resource,) = protect(root, plugin)
    digest = (big_chunk if which == 'big' else pack_chunk)(
        bank, checkpoint, resource)
    path = chunk_path(bank, digest)
    size = os.path.getsize(path)
    os.truncate(path, size - 1)
    for mode in ('full', 'quick'):
        record = run_verify(plugin, checkpoint, resource, mode)
        assert_error(record, 'damaged (1 wrong-size)',
                     'wrong-size chunk %s (%d bytes, the manifest needs %d'
                     % (digest, size - 1, size))
        assert record['extra_info']['chunks_wrong_size'] == 1


def test_shared_chunk_names_a_few_of_its_files(root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin)
    digest = pack_chunk(bank, checkpoint, resource)
    users = files_of(load_manifest(bank, checkpoint, resource))[digest]
    assert len(users) > vfy.REASON_FILES + 1
    os.unlink(chunk_path(bank, digest))
    record = run_verify(plugin, checkpoint, resource)
    assert_error(record, 'missing chunk %s (files %s and %d more)' % (
        digest, ', '.join(users[:vfy.REASON_FILES]),
        len(users) - vfy.REASON_FILES))
    for path in users[vfy.REASON_FILES:]:
        assert path not in record['reason']


def test_corrupt_manifest_json(root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin)
    path = manifest_path(bank, checkpoint, resource)
    key = mf.manifest_key(checkpoint, resource.id)
    with open(path, 'r+b') as f:
        f.seek(0)
        f.write(b'[')
    for mode in ('full', 'quick'):
        record = run_verify(plugin, checkpoint, resource, mode)
        assert_error(record, 'the manifest %s is corrupt' % key)


def test_manifest_changed_but_still_valid(root, bank, plugin):
    # A manifest that still parses and passes validation (one digit of an
    # mtime changed): only its recorded digest tells.
    checkpoint, (resource,) = protect(root, plugin)
    path = manifest_path(bank, checkpoint, resource)
    key = mf.manifest_key(checkpoint, resource.id)
    with open(path, 'rb') as f:
        raw = f.read()
    at = raw.index(b'"mtime_ns":') + len(b'"mtime_ns":')
    digit = raw[at:at + 1]
    other = b'1' if digit != b'1' else b'2'
    with open(path, 'wb') as f:
        f.write(raw[:at] + other + raw[at + 1:])
    mf.loads(bank.get_object(key), key)
    for mode in ('full', 'quick'):
        record = run_verify(plugin, checkpoint, resource, mode)
        assert_error(record, 'the manifest %s is corrupt: its SHA-256 is '
                     'not the one recorded in the checkpoint metadata' % key)
        assert 'chunk' not in record['reason'].replace(
            'checkpoint', '').replace(key, '')


def test_missing_manifest(root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin)
    os.unlink(manifest_path(bank, checkpoint, resource))
    record = run_verify(plugin, checkpoint, resource)
    assert_error(record, 'the manifest %s is missing' % mf.manifest_key(
        checkpoint, resource.id))


def test_invalid_manifest_names_the_reason(root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin)
    key = mf.manifest_key(checkpoint, resource.id)
    manifest = load_manifest(bank, checkpoint, resource)
    manifest['entries'].append({'path': '../escape', 'type': 'dir',
                                'mode': 0o40755, 'mtime_ns': 1})
    bank.put_object(key, mf.dumps(manifest))
    record = run_verify(plugin, checkpoint, resource)
    assert_error(record, 'the manifest %s is corrupt' % key,
                 "invalid path '../escape'")


def test_corrupt_metadata(root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin)
    key = checkpoint_mod.metadata_key(checkpoint.id)
    raw = bank.get_object(key)
    bank.put_object(key, raw[:len(raw) // 2])
    record = run_verify(plugin, checkpoint, resource)
    assert_error(record, 'the checkpoint metadata %s is corrupt' % key)


@pytest.mark.parametrize('change,message', [
    (lambda meta, rid: meta.update(resource_graph=[]),
     'does not list the resource'),
    (lambda meta, rid: meta['resources'].pop(rid),
     'has no saved info of the resource'),
    (lambda meta, rid: meta.update(project_id='proj-b'),
     "it names project 'proj-b'"),
    (lambda meta, rid: meta['resources'][rid]['saved_info'].update(
        files=1000, bytes=7),
     'does not agree with the checkpoint metadata: files'),
    (lambda meta, rid: meta['resources'][rid]['saved_info'].update(
        manifest='checkpoints/x/resources/y/manifest'),
     'the checkpoint metadata names the manifest checkpoints/x/'),
])
def test_metadata_disagreeing_with_the_manifest(root, bank, plugin, change,
                                                message):
    checkpoint, (resource,) = protect(root, plugin)
    key = checkpoint_mod.metadata_key(checkpoint.id)
    meta = json.loads(bank.get_object(key))
    change(meta, resource.id)
    bank.put_object(key, json.dumps(meta).encode())
    record = run_verify(plugin, checkpoint, resource)
    assert_error(record, message)


def test_manifest_of_another_checkpoint(root, bank, plugin):
    first, (resource,) = protect(root, plugin)
    second, _ = protect(root, plugin)
    # The first checkpoint's manifest, with its digest recorded, in place
    # of the second's: everything parses, but it is not this checkpoint's.
    raw = bank.get_object(mf.manifest_key(first, resource.id))
    bank.put_object(mf.manifest_key(second, resource.id), raw)
    meta = dict(second.metadata)
    meta['resources'][resource.id]['saved_info']['manifest_sha256'] = \
        hashlib.sha256(raw).hexdigest()
    second.update(**meta)
    record = run_verify(plugin, second, resource)
    assert_error(record, 'names checkpoint_id %r, not %r' % (first.id,
                                                             second.id))


def make_twins(top):
    os.makedirs(top)
    for name, data in (('a.txt', b'alpha\n'), ('b.txt', b'bravo\n'),
                       ('c.txt', b'charlie\n')):
        with open(os.path.join(top, name), 'wb') as f:
            f.write(data)


def test_small_file_content_checked_against_its_digest(root, bank, plugin):
    # A manifest of an older protect (no digest of it recorded in the
    # saved info) whose slice of a.txt points at the bytes of b.txt, of
    # the same length: the chunk is intact, the file's content is not.
    checkpoint, (resource,) = protect(root, plugin, names=('twins',),
                                      make=make_twins)
    manifest = load_manifest(bank, checkpoint, resource)
    by_path = {e['path']: e for e in manifest['entries']}
    assert by_path['a.txt']['chunks'][0][0] == \
        by_path['b.txt']['chunks'][0][0]
    by_path['a.txt']['chunks'] = [list(by_path['b.txt']['chunks'][0])]
    key = mf.manifest_key(checkpoint, resource.id)
    bank.put_object(key, mf.dumps(manifest))
    del checkpoint.metadata['resources'][resource.id]['saved_info'][
        'manifest_sha256']
    checkpoint.save()
    record = run_verify(plugin, checkpoint, resource)
    assert_error(record, '1 file does not match the SHA-256 recorded in '
                 'the manifest (file a.txt)')
    assert record['extra_info']['files_mismatched'] == 1
    assert record['extra_info']['manifest_sha256_checked'] is False
    assert record['extra_info']['chunks_damaged'] == 0
    # Quick mode reads no content: it cannot tell.
    assert run_verify(plugin, checkpoint, resource,
                      'quick')['status'] == 'success'


# All the damage, counted -------------------------------------------------

def test_every_damaged_chunk_is_counted(root, bank, plugin):
    top = root / PROJECT / 'many'
    top.mkdir(parents=True)
    rng = random.Random(7)
    # 12 files of 2 chunks each: 24 chunks of one file each.
    for index in range(12):
        (top / ('f%02d.bin' % index)).write_bytes(
            rng.randbytes(2 * backup.CHUNK_SIZE))
    checkpoint, (resource,) = protect(root, plugin, names=('many',))
    users = files_of(load_manifest(bank, checkpoint, resource))
    digests = list(users)
    assert len(digests) == 24
    missing, short, corrupt = digests[1:4], digests[6:10], digests[12:19]
    for digest in missing:
        os.unlink(chunk_path(bank, digest))
    for digest in short:
        os.truncate(chunk_path(bank, digest), 100)
    for digest in corrupt:
        flip(chunk_path(bank, digest), 5000)
    record = run_verify(plugin, checkpoint, resource)
    info = record['extra_info']
    assert (info['chunks_missing'], info['chunks_wrong_size'],
            info['chunks_corrupt'], info['chunks_damaged']) == (3, 4, 7, 14)
    assert info['chunks_checked'] == 24
    assert_error(record, '14 chunks of 24 damaged (3 missing, 4 wrong-size, '
                 '7 corrupt): missing chunk %s (file %s)' % (
                     digests[1], users[digests[1]][0]),
                 'and 9 more damaged chunks')
    # The first REASON_CHUNKS in manifest order are named, the others not.
    damaged = missing + short + corrupt
    for digest in damaged[:vfy.REASON_CHUNKS]:
        assert digest in record['reason']
    for digest in damaged[vfy.REASON_CHUNKS:]:
        assert digest not in record['reason']
    # The corrupt chunks were read whole and moved to the quarantine: now
    # missing. The short ones were judged by their size, not read: kept.
    assert info['chunks_quarantined'] == 7
    quick = run_verify(plugin, checkpoint, resource, 'quick')['extra_info']
    assert (quick['chunks_missing'], quick['chunks_wrong_size'],
            quick['chunks_corrupt']) == (3 + 7, 4, 0)


def test_files_phrase():
    assert vfy.files_phrase(['a'], 1) == 'file a'
    assert vfy.files_phrase(['a', 'b'], 2) == 'files a and b'
    assert vfy.files_phrase(['a', 'b', 'c'], 3) == 'files a, b and c'
    assert vfy.files_phrase(['a', 'b', 'c'], 7) == 'files a, b, c and 4 more'
    assert vfy.files_phrase(['a', 'b', 'c', 'd'], 4) == \
        'files a, b, c and 1 more'
    assert vfy.files_phrase(['x\udcff'], 1) == 'file x\\xff'


# Fault injection ---------------------------------------------------------

def test_random_single_byte_corruptions_are_all_detected(root, bank, plugin,
                                                         override):
    """>= 200 seeded corruptions of one byte of a chunk or a manifest,
    one at a time, each detected by a full verification."""
    # Each damaged chunk is put back by hand after its trial.
    override('quarantine_damaged_chunks', False, group='directory')
    rng = random.Random(20240611)
    os.makedirs(str(root / PROJECT / 'other' / 'd'))
    (root / PROJECT / 'other' / 'd' / 'big.bin').write_bytes(
        rng.randbytes(150 * 1024))
    for index in range(40):
        (root / PROJECT / 'other' / ('s%02d' % index)).write_bytes(
            rng.randbytes(rng.randrange(1, 3000)))
    checkpoint, resources = protect(root, plugin, names=('docs', 'other'))
    users = {}         # bank file -> the resources whose restore needs it
    for resource in resources:
        users[manifest_path(bank, checkpoint, resource)] = {resource.id}
        for digest in mf.chunk_digests(load_manifest(bank, checkpoint,
                                                     resource)):
            users.setdefault(chunk_path(bank, digest), set()).add(
                resource.id)
    manifests = sorted(p for p in users if p.endswith('/manifest'))
    chunks = sorted(p for p in users if not p.endswith('/manifest'))
    assert len(manifests) == 2 and len(chunks) >= 8
    by_id = {r.id: r for r in resources}

    detected = 0
    trials = 240
    for trial in range(trials):
        # Half the corruptions in manifests, half in chunks.
        path = rng.choice(manifests if trial % 2 else chunks)
        size = os.path.getsize(path)
        offset = rng.randrange(size)
        old = flip(path, offset, mask=rng.randrange(1, 256))
        try:
            for resource_id in users[path]:
                record = run_verify(plugin, checkpoint, by_id[resource_id])
                assert record['status'] == 'error', (path, offset, record)
                name = os.path.basename(path)
                if name == 'manifest':
                    assert mf.manifest_key(checkpoint, resource_id) in \
                        record['reason']
                else:
                    assert 'corrupt chunk %s' % name in record['reason']
            detected += 1
        finally:
            put_back(path, offset, old)
    assert detected == trials
    for resource in resources:
        assert run_verify(plugin, checkpoint,
                          resource)['status'] == 'success'


# Reads: once per chunk, none in quick mode, bounded memory ---------------

class CountingBank(file_system.FileSystemBank):

    def __init__(self, root):
        super().__init__(root)
        self.lock = threading.Lock()
        self.gets = collections.Counter()
        self.sizes = collections.Counter()
        self.active = 0
        self.active_bytes = 0
        self.peak = 0
        self.peak_bytes = 0

    def get_object(self, key):
        if not key.startswith('chunks/'):
            return super().get_object(key)
        size = os.path.getsize(self._path(key))
        with self.lock:
            self.gets[key] += 1
            self.active += 1
            self.active_bytes += size
            self.peak = max(self.peak, self.active)
            self.peak_bytes = max(self.peak_bytes, self.active_bytes)
        try:
            time.sleep(0.002)
            return super().get_object(key)
        finally:
            with self.lock:
                self.active -= 1
                self.active_bytes -= size

    def object_size(self, key):
        with self.lock:
            self.sizes[key] += 1
        return super().object_size(key)


def test_a_chunk_shared_by_many_files_is_read_once(root, tmp_path):
    bank = CountingBank(str(tmp_path / 'bank'))
    plugin = protection.DirectoryProtectionPlugin(bank=bank)
    checkpoint, (resource,) = protect(root, plugin)
    users = files_of(load_manifest(bank, checkpoint, resource))
    # A pack of many small files; zeros.bin uses one chunk three times.
    assert max(len(paths) for paths in users.values()) > 10
    manifest = load_manifest(bank, checkpoint, resource)
    (zeros,) = [e for e in manifest['entries']
                if e['path'] == 'sub/zeros.bin']
    assert len(zeros['chunks']) == 3 and len({r[0] for r in
                                              zeros['chunks']}) == 1
    bank.gets.clear()
    record = run_verify(plugin, checkpoint, resource)
    assert record['status'] == 'success'
    assert bank.gets == {mf.chunk_key(PROJECT, d): 1 for d in users}
    bank.gets.clear()
    bank.sizes.clear()
    record = run_verify(plugin, checkpoint, resource, 'quick')
    assert record['status'] == 'success'
    assert not bank.gets
    assert bank.sizes == {mf.chunk_key(PROJECT, d): 1 for d in users}


def test_chunk_bytes_in_flight_are_bounded(root, tmp_path):
    bank = CountingBank(str(tmp_path / 'bank'))
    plugin = protection.DirectoryProtectionPlugin(bank=bank)
    top = root / PROJECT / 'big'
    top.mkdir(parents=True)
    (top / 'data.bin').write_bytes(os.urandom(24 * backup.CHUNK_SIZE))
    checkpoint, (resource,) = protect(root, plugin, names=('big',))
    for limit, most in ((backup.CHUNK_SIZE, 1), (3 * backup.CHUNK_SIZE, 3)):
        bank.peak = bank.peak_bytes = 0
        verifier = vfy.Verifier(bank, checkpoint, resource, workers=8,
                                max_in_flight=limit)
        result = verifier.run()
        assert result.ok, result.reason
        assert verifier.chunks_checked == 24
        assert 1 <= bank.peak <= most
        assert bank.peak_bytes <= limit
    # Without a tight budget, the threads do work in parallel.
    bank.peak = 0
    assert vfy.Verifier(bank, checkpoint, resource, workers=4).run().ok
    assert bank.peak > 1


def test_oversized_and_unreadable_chunks(root, bank, plugin, monkeypatch):
    checkpoint, (resource,) = protect(root, plugin)
    digest = big_chunk(bank, checkpoint, resource)
    other = pack_chunk(bank, checkpoint, resource)
    with open(chunk_path(bank, digest), 'ab') as f:
        f.write(b'x' * 100)
    monkeypatch.setattr(vfy, 'MAX_CHUNK_BYTES', backup.CHUNK_SIZE)
    real_get = bank.get_object

    def get_object(key):
        if key == mf.chunk_key(PROJECT, digest):
            raise AssertionError('an oversized chunk was read')
        if key == mf.chunk_key(PROJECT, other):
            raise OSError(5, 'Input/output error')
        return real_get(key)

    monkeypatch.setattr(bank, 'get_object', get_object)
    record = run_verify(plugin, checkpoint, resource)
    assert_error(record, 'wrong-size chunk %s (%d bytes, more than any '
                 'chunk has' % (digest, backup.CHUNK_SIZE + 100),
                 'unreadable chunk %s ([Errno 5] Input/output error; '
                 'files ' % other)
    assert record['extra_info']['chunks_unreadable'] == 1


def test_unknown_mode_is_refused(root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin)
    with pytest.raises(Exception, match='Unknown verify mode'):
        run_verify(plugin, checkpoint, resource, 'fast')


def test_default_workers():
    cpus = os.cpu_count() or 1
    assert vfy.default_workers(1) == min(vfy.MAX_WORKERS, cpus)
    assert vfy.default_workers(64) == vfy.MAX_WORKERS
    assert vfy.default_workers(None) >= 1


def test_deeply_nested_manifest(root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin)
    key = mf.manifest_key(checkpoint, resource.id)
    bank.put_object(key, b'[' * 100000)
    record = run_verify(plugin, checkpoint, resource)
    assert_error(record, 'the manifest %s is corrupt' % key)


def test_small_files_rehashed_only_without_an_intact_manifest_digest(
        root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin)
    verifier = vfy.Verifier(bank, checkpoint, resource)
    assert verifier.run().ok
    assert not any(chunk.checks for chunk in verifier.chunks.values())
    del checkpoint.metadata['resources'][resource.id]['saved_info'][
        'manifest_sha256']
    checkpoint.save()
    verifier = vfy.Verifier(bank, checkpoint, resource)
    assert verifier.run().ok
    checked = sum(len(chunk.checks) for chunk in verifier.chunks.values())
    assert checked >= 30


# Subset verification -----------------------------------------------------

def many_chunks(root, plugin, files=12):
    """A checkpoint of ``files`` random files of 2 chunks each."""
    top = root / PROJECT / 'many'
    top.mkdir(parents=True)
    rng = random.Random(11)
    for index in range(files):
        (top / ('f%02d.bin' % index)).write_bytes(
            rng.randbytes(2 * backup.CHUNK_SIZE))
    return protect(root, plugin, names=('many',))


def run_subset(plugin, checkpoint, resource, subset):
    report = resource_mod.OperationReport([resource])
    report.update(resource, status='running')
    plugin.get_verify_operation(resource).on_main(
        checkpoint=checkpoint, resource=resource, context=None,
        parameters={'mode': 'subset', 'subset': subset}, report=report)
    record = report.get(resource.id)
    if record['status'] == 'running':
        record['status'] = 'success'
    return record


@pytest.mark.parametrize('parts', [1, 3, 4, 7])
def test_subset_runs_read_every_chunk_exactly_once(root, tmp_path, parts):
    bank = CountingBank(str(tmp_path / 'bank'))
    plugin = protection.DirectoryProtectionPlugin(bank=bank)
    checkpoint, (resource,) = many_chunks(root, plugin)
    everything = {mf.chunk_key(PROJECT, d) for d in files_of(
        load_manifest(bank, checkpoint, resource))}
    assert len(everything) == 24
    bank.gets.clear()
    seen = []
    for part in range(1, parts + 1):
        before = collections.Counter(bank.gets)
        record = run_subset(plugin, checkpoint, resource,
                            '%d/%d' % (part, parts))
        assert record['status'] == 'success', record
        read = set(bank.gets - before)
        info = record['extra_info']
        assert info['mode'] == 'subset'
        assert info['subset'] == '%d/%d' % (part, parts)
        assert info['chunks'] == 24
        assert info['chunks_selected'] == info['chunks_read'] == \
            info['chunks_checked'] == len(read)
        assert info['chunks_left'] == 24 - len(read)
        # The partition is the documented one, by chunk id alone.
        for key in read:
            digest = key.rsplit('/', 1)[-1]
            assert int(digest[:8], 16) % parts == part - 1
        seen.append(read)
    # Disjoint, each chunk read once, and together all of them.
    assert set().union(*seen) == everything
    assert sum(len(s) for s in seen) == len(everything)
    assert set(bank.gets.values()) == {1}
    if parts > 1:
        assert all(len(s) < len(everything) for s in seen)


def test_subset_percentages(root, tmp_path):
    bank = CountingBank(str(tmp_path / 'bank'))
    plugin = protection.DirectoryProtectionPlugin(bank=bank)
    checkpoint, (resource,) = many_chunks(root, plugin)
    read = {}
    for percent in ('25%', '50%', '100%', '0.001%'):
        bank.gets.clear()
        record = run_subset(plugin, checkpoint, resource, percent)
        assert record['status'] == 'success', record
        read[percent] = set(bank.gets)
        assert record['extra_info']['chunks_read'] == len(read[percent])
    assert len(read['100%']) == 24
    assert read['25%'] <= read['50%'] <= read['100%']
    assert len(read['0.001%']) < len(read['50%']) < 24
    # The same percentage reads the same chunks again.
    bank.gets.clear()
    run_subset(plugin, checkpoint, resource, '25%')
    assert set(bank.gets) == read['25%']


def test_subset_damage_is_found_by_its_partition_only(root, bank, plugin):
    checkpoint, (resource,) = many_chunks(root, plugin)
    digest = list(files_of(load_manifest(bank, checkpoint, resource)))[5]
    flip(chunk_path(bank, digest), 10)
    mine = int(digest[:8], 16) % 4 + 1
    for part in range(1, 5):
        record = run_subset(plugin, checkpoint, resource, '%d/4' % part)
        if part != mine:
            assert record['status'] == 'success', record
            continue
        selected = record['extra_info']['chunks_selected']
        assert_error(record, '1 chunk of %d checked (subset %d/4 of 24) '
                     'damaged (1 corrupt): corrupt chunk %s'
                     % (selected, part, digest))
        assert record['extra_info']['chunks_corrupt'] == 1


@pytest.mark.parametrize('subset', [
    '0/4', '5/4', '1/0', '4', '1/4/2', 'a/b', '0%', '101%', '-5%', '%',
    '\u0661/4', 3, None])
def test_invalid_subsets_are_refused(root, bank, plugin, subset):
    assert not vfy.is_subset(subset)
    checkpoint, (resource,) = protect(root, plugin)
    with pytest.raises(Exception, match='subset'):
        vfy.Verifier(bank, checkpoint, resource, mode='subset',
                     subset=subset)


def test_subset_schema(plugin):
    schema = plugin.get_verify_schema(TYPE)
    for good in ({'mode': 'subset', 'subset': '1/4'},
                 {'mode': 'subset', 'subset': '4/4'},
                 {'mode': 'subset', 'subset': '12.5%'}):
        jsonschema.validate(good, schema)
        assert vfy.is_subset(good['subset'])
    jsonschema.validate({'mode': 'compare'}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({'mode': 'compare', 'subset': '1/2'}, schema)
    for bad in ({'mode': 'subset'}, {'subset': '1/4'},
                {'mode': 'full', 'subset': '1/4'},
                {'mode': 'subset', 'subset': 'half'},
                {'mode': 'subset', 'subset': 4}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_a_subset_outside_the_subset_mode_is_refused(root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin)
    with pytest.raises(Exception, match='only read in the subset mode'):
        vfy.Verifier(bank, checkpoint, resource, mode='full', subset='1/2')


# Comparing with the source -----------------------------------------------

def flip_keeping_metadata(path, offset):
    """Flip one byte of a file, its size and mtime left as they were."""
    st = os.stat(path)
    mode = st.st_mode
    os.chmod(path, 0o600)
    flip(path, offset)
    os.chmod(path, mode & 0o7777)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns) == (st.st_size,
                                                  st.st_mtime_ns)


def test_compare_of_an_unchanged_source(root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin)
    record = run_verify(plugin, checkpoint, resource, 'compare')
    assert record['status'] == 'success', record
    assert record['reason'] == ('compared with the source: 0 added, 0 '
                                'removed, 0 changed since the checkpoint')
    info = record['extra_info']
    assert info['mode'] == 'compare'
    for kind in ('added', 'removed', 'changed', 'corrupt', 'unchecked'):
        assert info['source_' + kind] == 0
    manifest = load_manifest(bank, checkpoint, resource)
    files = [e for e in manifest['entries'] if e['type'] == mf.FILE]
    assert info['source_files_compared'] == len(files)
    assert info['source_bytes_read'] == sum(e['size'] for e in files)
    assert info['source_report'] == {}


def test_compare_reports_ordinary_changes(root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin)
    top = root / PROJECT / 'docs'
    (top / 'small.txt').write_bytes(b'hello there\n')
    (top / 'new.txt').write_bytes(b'new')
    os.unlink(str(top / 'exec.sh'))
    os.unlink(str(top / 'link-to-small'))
    os.symlink('empty', str(top / 'link-to-small'))
    os.chmod(str(top / 'sub' / 'medium.bin'), 0o600)
    record = run_verify(plugin, checkpoint, resource, 'compare')
    assert record['status'] == 'success', record
    assert record['reason'].startswith(
        'compared with the source: 1 added, 1 removed, 3 changed since the '
        'checkpoint; added: file new.txt; removed: file exec.sh; changed: '
        'files link-to-small, small.txt and sub/medium.bin')
    info = record['extra_info']
    assert info['source_report'] == {
        'added': ['new.txt'], 'removed': ['exec.sh'],
        'changed': ['link-to-small', 'small.txt', 'sub/medium.bin']}
    assert info['source_corrupt'] == 0


def test_compare_flags_content_changed_under_unchanged_metadata(
        root, bank, plugin):
    """The issue's case: one file edited, one byte flipped in another
    without changing its size or mtime."""
    checkpoint, (resource,) = protect(root, plugin)
    top = root / PROJECT / 'docs'
    edited = top / 'sub' / 'many-05.txt'
    edited.write_bytes(b'edited\n')
    flip_keeping_metadata(str(top / 'sub' / 'many-07.txt'), 3)
    flip_keeping_metadata(str(top / 'sub' / 'deeper' / 'big.bin'),
                          150 * 1024)
    record = run_verify(plugin, checkpoint, resource, 'compare')
    assert_error(record, '2 files of unchanged size and mtime no longer '
                 'match the checkpoint, bit rot or tampering at the source '
                 '(files sub/deeper/big.bin and sub/many-07.txt)',
                 'changed: file sub/many-05.txt')
    info = record['extra_info']
    assert info['source_report'] == {
        'changed': ['sub/many-05.txt'],
        'corrupt': ['sub/deeper/big.bin', 'sub/many-07.txt']}
    assert (info['source_changed'], info['source_corrupt']) == (1, 2)


def test_compare_does_not_blame_the_source_for_a_damaged_bank(
        root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin)
    big = root / PROJECT / 'docs' / 'sub' / 'deeper' / 'big.bin'
    manifest = load_manifest(bank, checkpoint, resource)
    (entry,) = [e for e in manifest['entries']
                if e['path'] == 'sub/deeper/big.bin']
    # The bank's damage alone: the intact source still matches the names
    # of its chunks, without reading them.
    os.unlink(chunk_path(bank, entry['chunks'][0][0]))
    record = run_verify(plugin, checkpoint, resource, 'compare')
    assert record['status'] == 'success', record
    # Both damaged: the comparison cannot tell, and says so.
    flip_keeping_metadata(str(big), 10)
    record = run_verify(plugin, checkpoint, resource, 'compare')
    assert record['status'] == 'success', record
    assert record['extra_info']['source_unchecked'] == 1
    assert '1 file of unchanged size and mtime not compared' in \
        record['reason']


def test_compare_applies_the_plan_excludes(root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin)
    checkpoint.metadata['protection_plan']['parameters'] = {
        TYPE: {'exclude': ['*.tmp']}}
    checkpoint.save()
    (root / PROJECT / 'docs' / 'scratch.tmp').write_bytes(b'x')
    (root / PROJECT / 'docs' / 'kept.txt').write_bytes(b'x')
    record = run_verify(plugin, checkpoint, resource, 'compare')
    assert record['status'] == 'success', record
    assert record['extra_info']['source_report'] == {'added': ['kept.txt']}


def test_compare_follows_no_symlink(root, bank, plugin, tmp_path):
    checkpoint, (resource,) = protect(root, plugin)
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'medium.bin').write_bytes(b'secret')
    top = root / PROJECT / 'docs'
    sub = top / 'sub'
    os.rename(str(sub), str(top / 'moved'))
    os.symlink(str(outside), str(sub))
    record = run_verify(plugin, checkpoint, resource, 'compare')
    assert record['status'] == 'success', record
    info = record['extra_info']
    report = info['source_report']
    assert report['changed'] == ['sub']
    # Nothing below the symlink is the directory's: what was there is
    # removed (and now below moved/, added), the outside file not seen.
    assert report['removed'][0] == 'sub/dangling'
    assert report['added'][0] == 'moved'
    assert info['source_removed'] == info['source_added'] - 1 > 30


def test_compare_of_a_directory_gone_from_the_source(root, bank, plugin):
    checkpoint, (resource,) = protect(root, plugin)
    top = root / PROJECT / 'docs'
    os.rename(str(top), str(root / PROJECT / 'elsewhere'))
    record = run_verify(plugin, checkpoint, resource, 'compare')
    assert_error(record, 'the directory is no longer at the source')


# Runs of verify cycles ------------------------------------------------------

def test_a_cycle_run_reads_each_chunk_of_its_scope_once(root, tmp_path):
    """Two directories with the same files, in two checkpoints, the second
    with one more file: a run over the whole cycle reads every chunk of
    either once; two half runs split them by offset."""
    from karbor.objects import verify_cycle
    from karbor.services.protection.flows import verify as verify_flow
    bank = CountingBank(str(tmp_path / 'bank'))
    plugin = protection.DirectoryProtectionPlugin(bank=bank)
    rng = random.Random(5)
    content = {'f%d.bin' % i: rng.randbytes(3 * backup.CHUNK_SIZE)
               for i in range(4)}
    for name in ('left', 'right'):
        top = root / PROJECT / name
        top.mkdir(parents=True)
        for rel, data in content.items():
            (top / rel).write_bytes(data)
    older, resources = protect(root, plugin, names=('left', 'right'))
    (root / PROJECT / 'right' / 'more.bin').write_bytes(
        rng.randbytes(2 * backup.CHUNK_SIZE))
    newer, _ = protect(root, plugin, names=('left', 'right'))
    everything = set()
    for checkpoint in (older, newer):
        for resource in resources:
            everything |= set(files_of(load_manifest(bank, checkpoint,
                                                     resource)))
    assert len(everything) == 12 + 2

    def run(parts, to):
        scope = verify_flow.CycleScope(
            {'parts': parts, 'to': to}, [newer, older])
        verification = type('V', (), {'id': 'v', 'parameters': {},
                                      'scope': scope})()
        report = resource_mod.OperationReport(resources)
        bank.gets.clear()
        for resource in resources:
            report.update(resource, status='running')
            plugin.get_verify_operation(resource).on_main(
                checkpoint=newer, resource=resource, context=None,
                parameters={'mode': 'quick'}, report=report,
                verification=verification)
        return scope.result(), report, dict(bank.gets)

    space = verify_cycle.SPACE
    result, report, gets = run([{'cycle': 0, 'from': 0, 'to': space}],
                               space)
    assert sorted(gets) == sorted(mf.chunk_key(PROJECT, d)
                                  for d in everything)
    assert set(gets.values()) == {1}
    assert result == {'chunks': 14, 'chunks_left': 0,
                      'checkpoints_skipped': [],
                      'parts': [{'chunks_read': 14, 'chunks_damaged': 0}]}
    for resource in resources:
        record = report.get(resource.id)
        assert record['status'] == 'running', record
        info = record['extra_info']
        assert (info['mode'], info['manifests']) == ('subset', 2)
    # The two resources' reads add up to all chunks, each read once.
    assert sum(report.get(r.id)['extra_info']['chunks_selected']
               for r in resources) == 14

    half = space // 2
    first, _, first_gets = run([{'cycle': 1, 'from': 0, 'to': half}], half)
    second, _, second_gets = run([{'cycle': 1, 'from': half, 'to': space}],
                                 space)
    assert not set(first_gets) & set(second_gets)
    assert set(first_gets) | set(second_gets) == set(gets)
    assert first['chunks_left'] == len(second_gets)
    for key in first_gets:
        assert verify_cycle.offset(key.rsplit('/', 1)[-1]) < half

    # A damaged chunk is counted once, in the part it belongs to.
    victim = sorted(everything)[0]
    flip(chunk_path(bank, victim), 10)
    part = 0 if verify_cycle.offset(victim) < half else 1
    parts = [{'cycle': 2, 'from': 0, 'to': half},
             {'cycle': 2, 'from': half, 'to': space}]
    result, report, _ = run(parts, space)
    assert [p['chunks_damaged'] for p in result['parts']] == [
        1 - part, part]
    damaged = [r for r in resources
               if report.get(r.id)['status'] == 'error']
    assert len(damaged) == 1
    assert 'corrupt chunk %s' % victim in report.get(damaged[0].id)[
        'reason']
