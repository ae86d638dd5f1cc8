import json
import os
import stat
import threading
import time
import uuid

import jsonschema
import pytest

from karbor import exception
from karbor.services.protection import checkpoint as checkpoint_mod
from karbor.services.protection.plugins.directory import backup
from karbor.services.protection.plugins.directory import gc
from karbor.services.protection.plugins.directory import manifest as mf
from karbor.services.protection.plugins.directory import protectable
from karbor.services.protection.plugins.directory import protection
from karbor.services.protection import resource as resource_mod

TYPE = 'OS::Karbor::Directory'
MTIME = 1500000000123456789


# Small trees still use several chunks, packs and big files.
pytestmark = pytest.mark.usefixtures('small_chunks')


_clock = [0]


def make_checkpoint(bank, project_id='proj-a', plan_id='plan-1'):
    _clock[0] += 1
    return checkpoint_mod.Checkpoint.create(
        bank, str(uuid.uuid4()), project_id, 'provider-1',
        plan={'id': plan_id, 'name': 'plan'}, resource_graph=[],
        created_at='2024-01-01T00:00:%02d' % _clock[0])


def resource_of(project_id, name, shown_name=None):
    return resource_mod.Resource(
        type=TYPE, id=protectable.resource_id(project_id, name),
        name=shown_name or name)


def run_protect(plugin, checkpoint, resource, parameters=None):
    report = resource_mod.OperationReport([resource])
    plugin.get_protect_operation(resource).on_main(
        checkpoint=checkpoint, resource=resource, context=None,
        parameters=parameters or {}, report=report)
    checkpoint.update(status='available')
    return report.get(resource.id)


def run_restore(plugin, checkpoint, resource, parameters=None,
                restore_id=None):
    report = resource_mod.OperationReport([resource])
    restore = resource_mod.Resource(type='restore',
                                    id=restore_id or str(uuid.uuid4()))
    plugin.get_restore_operation(resource).on_main(
        checkpoint=checkpoint, resource=resource, context=None,
        parameters=parameters or {}, report=report, restore=restore)
    return report.get(resource.id)


def run_delete(plugin, checkpoint, resource):
    report = resource_mod.OperationReport([resource])
    plugin.get_delete_operation(resource).on_main(
        checkpoint=checkpoint, resource=resource, context=None,
        parameters={}, report=report)
    return report.get(resource.id)


def make_tree(top):
    """A tree with everything a restore must reproduce."""
    os.makedirs(os.path.join(top, 'sub', 'deeper'))
    os.makedirs(os.path.join(top, 'empty-dir'))
    os.makedirs(os.path.join(top, 'locked'))
    files = {
        'small.txt': b'hello world\n',
        'same-as-small.txt': b'hello world\n',
        'empty': b'',
        'sub/medium.bin': os.urandom(10 * 1024),
        'sub/deeper/big.bin': os.urandom(200 * 1024 + 17),
        'sub/zeros.bin': b'\0' * (3 * 64 * 1024),
        'locked/readonly.txt': b'read only',
        'exec.sh': b'#!/bin/sh\necho hi\n',
    }
    for index in range(30):
        files['sub/many-%02d.txt' % index] = b'file %d\n' % index * index
    for rel, data in files.items():
        with open(os.path.join(top, rel), 'wb') as f:
            f.write(data)
    os.chmod(os.path.join(top, 'exec.sh'), 0o755)
    os.chmod(os.path.join(top, 'locked', 'readonly.txt'), 0o400)
    os.symlink('small.txt', os.path.join(top, 'link-to-small'))
    os.symlink('/nonexistent/target', os.path.join(top, 'sub', 'dangling'))
    os.symlink('deeper', os.path.join(top, 'sub', 'dirlink'))
    for index, (dirpath, dirnames, filenames) in enumerate(
            sorted(os.walk(top), reverse=True)):
        for name in filenames + dirnames:
            os.utime(os.path.join(dirpath, name),
                     ns=(MTIME + index, MTIME + index),
                     follow_symlinks=False)
    os.chmod(os.path.join(top, 'locked'), 0o550)
    os.chmod(os.path.join(top, 'empty-dir'), 0o700)
    os.utime(top, ns=(MTIME, MTIME))
    return files


def snapshot(top):
    """Everything compared between a tree and its restore."""
    result = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames + ['']:
            path = os.path.join(dirpath, name) if name else dirpath
            rel = os.path.relpath(path, top)
            if name == '' and dirpath != top:
                continue
            st = os.lstat(path)
            value = {'mode': st.st_mode, 'mtime_ns': st.st_mtime_ns}
            if stat.S_ISLNK(st.st_mode):
                value['target'] = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                with open(path, 'rb') as f:
                    value['data'] = f.read()
            result[rel] = value
    return result


def chunk_keys(bank, project_id='proj-a'):
    return set(bank.list_objects(mf.chunk_prefix(project_id)))


def temp_dirs(root, project_id='proj-a'):
    return [n for n in os.listdir(root / project_id)
            if n.startswith('.karbor-')]


def test_protect_then_restore_is_identical(root, bank, plugin):
    top = root / 'proj-a' / 'docs'
    make_tree(str(top))
    before = snapshot(str(top))
    checkpoint = make_checkpoint(bank)
    resource = resource_of('proj-a', 'docs')
    record = run_protect(plugin, checkpoint, resource)
    saved = record['saved_info']
    assert saved['manifest'] == checkpoint.resource_key(resource.id,
                                                        'manifest')
    assert saved['files'] == 38 and saved['symlinks'] == 3
    assert saved['directories'] == 4 and saved['skipped'] == 0
    jsonschema.validate(saved, plugin.get_saved_info_schema(TYPE))
    extra = record['extra_info']
    assert extra['chunks_written'] > 0 and extra['chunks_reused'] == 0
    assert extra['bytes_read'] == saved['bytes']
    for key in ('files', 'directories', 'bytes_read', 'bytes_written',
                'chunks_written', 'chunks_reused', 'duration_seconds'):
        assert key in extra
    assert record['reason'] is None

    record = run_restore(plugin, checkpoint, resource,
                         {'restore_name': 'docs-copy'})
    assert snapshot(str(root / 'proj-a' / 'docs-copy')) == before
    assert record['extra_info']['files'] == 38
    assert record['extra_info']['bytes_written'] == saved['bytes']
    assert temp_dirs(root) == []


def test_default_restore_name_and_forged_resource_name(root, bank, plugin):
    top = root / 'proj-a' / 'docs'
    top.mkdir(parents=True)
    (top / 'a').write_bytes(b'a')
    (root / 'proj-a' / 'other').mkdir()
    checkpoint = make_checkpoint(bank)
    # The name comes from the tenant; the id decides what is protected.
    resource = resource_of('proj-a', 'docs', shown_name='../other')
    run_protect(plugin, checkpoint, resource)
    manifest = json.loads(bank.get_object(
        mf.manifest_key(checkpoint, resource.id)))
    assert manifest['name'] == 'docs'
    assert [e['path'] for e in manifest['entries']] == ['a']
    record = run_restore(plugin, checkpoint, resource,
                         restore_id='0123456789abcdef')
    assert record['extra_info']['restore_name'] == 'docs-restore-01234567'
    assert (root / 'proj-a' / 'docs-restore-01234567' / 'a').read_bytes() \
        == b'a'


def test_resource_of_another_project_is_not_found(root, bank, plugin):
    (root / 'proj-b' / 'secret').mkdir(parents=True)
    checkpoint = make_checkpoint(bank, 'proj-a')
    resource = resource_of('proj-b', 'secret')
    with pytest.raises(exception.ProtectableResourceNotFound):
        run_protect(plugin, checkpoint, resource)


def test_second_protect_writes_no_chunk(root, bank, plugin):
    make_tree(str(root / 'proj-a' / 'docs'))
    resource = resource_of('proj-a', 'docs')
    run_protect(plugin, make_checkpoint(bank), resource)
    chunks = chunk_keys(bank)
    # Just-written files are re-read (their ctime is too recent to trust)
    # but deduplicated, small ones included.
    record = run_protect(plugin, make_checkpoint(bank), resource)
    assert chunk_keys(bank) == chunks
    assert record['extra_info']['chunks_written'] == 0
    assert record['extra_info']['chunks_reused'] == \
        record['saved_info']['chunks']


def test_file_cache_skips_reading_unchanged_files(root, bank, plugin,
                                                  monkeypatch):
    monkeypatch.setattr(backup, 'RACY_WINDOW_NS', 0)
    monkeypatch.setattr(backup, 'COARSE_RACY_WINDOW_NS', 0)
    top = root / 'proj-a' / 'docs'
    make_tree(str(top))
    resource = resource_of('proj-a', 'docs')
    first = run_protect(plugin, make_checkpoint(bank), resource)
    chunks = chunk_keys(bank)
    time.sleep(0.01)
    second_cp = make_checkpoint(bank)
    second = run_protect(plugin, second_cp, resource)
    assert second['extra_info']['files_unchanged'] == 38
    assert second['extra_info']['bytes_read'] == 0
    assert chunk_keys(bank) == chunks
    assert second['saved_info']['bytes'] == first['saved_info']['bytes']

    # A changed file is read again, the others still come from the cache.
    (top / 'small.txt').write_bytes(b'changed content')
    third = run_protect(plugin, make_checkpoint(bank), resource)
    assert third['extra_info']['files_unchanged'] == 37
    assert third['extra_info']['bytes_read'] == len(b'changed content')
    assert third['extra_info']['chunks_written'] == 1

    # A missing chunk disables the cache for the files using it.
    manifest = json.loads(bank.get_object(
        mf.manifest_key(second_cp, resource.id)))
    big = [e for e in manifest['entries'] if e['path'] ==
           'sub/deeper/big.bin'][0]
    bank.delete_object(mf.chunk_key('proj-a', big['chunks'][0][0]))
    fourth = run_protect(plugin, make_checkpoint(bank), resource)
    assert fourth['extra_info']['files_unchanged'] == 37
    assert fourth['extra_info']['chunks_written'] == 1
    run_restore(plugin, checkpoint_mod.Checkpoint.load(bank, second_cp.id),
                resource, {'restore_name': 'again'})
    assert (root / 'proj-a' / 'again' / 'sub/deeper/big.bin').read_bytes() \
        == (top / 'sub/deeper/big.bin').read_bytes()


def test_file_cache_only_from_same_plan(root, bank, plugin, monkeypatch):
    monkeypatch.setattr(backup, 'RACY_WINDOW_NS', 0)
    monkeypatch.setattr(backup, 'COARSE_RACY_WINDOW_NS', 0)
    make_tree(str(root / 'proj-a' / 'docs'))
    resource = resource_of('proj-a', 'docs')
    run_protect(plugin, make_checkpoint(bank, plan_id='plan-1'), resource)
    other = run_protect(plugin, make_checkpoint(bank, plan_id='plan-2'),
                        resource)
    assert other['extra_info']['files_unchanged'] == 0
    assert other['extra_info']['chunks_written'] == 0


def test_projects_never_share_chunks(root, bank, plugin):
    for project in ('proj-a', 'proj-b'):
        top = root / project / 'docs'
        top.mkdir(parents=True)
        (top / 'same.bin').write_bytes(b'x' * 100000)
        (top / 'tiny').write_bytes(b'tiny')
    cp_a = make_checkpoint(bank, 'proj-a')
    cp_b = make_checkpoint(bank, 'proj-b')
    run_protect(plugin, cp_a, resource_of('proj-a', 'docs'))
    record = run_protect(plugin, cp_b, resource_of('proj-b', 'docs'))
    assert record['extra_info']['chunks_reused'] == 0
    digests_a = {k.rpartition('/')[2] for k in chunk_keys(bank, 'proj-a')}
    digests_b = {k.rpartition('/')[2] for k in chunk_keys(bank, 'proj-b')}
    assert digests_a == digests_b and digests_a
    # Deleting project A's checkpoint leaves project B's data alone.
    run_delete(plugin, cp_a, resource_of('proj-a', 'docs'))
    assert chunk_keys(bank, 'proj-a') == set()
    assert len(chunk_keys(bank, 'proj-b')) == len(digests_b)
    run_restore(plugin, cp_b, resource_of('proj-b', 'docs'),
                {'restore_name': 'back'})
    assert (root / 'proj-b' / 'back' / 'same.bin').read_bytes() == \
        b'x' * 100000


def test_unreadable_file_fails_the_protect(root, bank, plugin,
                                           monkeypatch):
    top = root / 'proj-a' / 'docs'
    make_tree(str(top))
    real_open = os.open

    def guarded_open(path, *args, **kwargs):
        if str(path).endswith('sub/medium.bin'):
            raise PermissionError(13, 'Permission denied')
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, 'open', guarded_open)
    checkpoint = make_checkpoint(bank)
    resource = resource_of('proj-a', 'docs')
    report = resource_mod.OperationReport([resource])
    with pytest.raises(exception.DirectoryReadError) as info:
        plugin.get_protect_operation(resource).on_main(
            checkpoint=checkpoint, resource=resource, context=None,
            parameters={}, report=report)
    message = str(info.value)
    assert 'sub/medium.bin' in message and 'Permission denied' in message
    assert report.get(resource.id)['reason'] == message
    # The failed protect cleaned up after itself: no lease, no chunk.
    assert bank.list_objects('locks/') == []
    assert chunk_keys(bank) == set()
    assert not bank.exists(mf.manifest_key(checkpoint, resource.id))


def test_read_error_of_a_large_file(root, bank, plugin, monkeypatch):
    top = root / 'proj-a' / 'docs'
    top.mkdir(parents=True)
    (top / 'big').write_bytes(os.urandom(300 * 1024))
    real_pread = os.pread

    def failing_pread(fd, length, offset):
        if offset >= 128 * 1024:
            raise OSError(5, 'Input/output error')
        return real_pread(fd, length, offset)

    monkeypatch.setattr(os, 'pread', failing_pread)
    with pytest.raises(exception.DirectoryReadError) as info:
        run_protect(plugin, make_checkpoint(bank),
                    resource_of('proj-a', 'docs'))
    assert 'big' in str(info.value)
    assert 'Input/output error' in str(info.value)
    assert chunk_keys(bank) == set()


def test_special_files_are_skipped_and_named(root, bank, plugin):
    top = root / 'proj-a' / 'docs'
    top.mkdir(parents=True)
    (top / 'regular').write_bytes(b'data')
    os.mkfifo(str(top / 'a-fifo'))
    record = run_protect(plugin, make_checkpoint(bank),
                         resource_of('proj-a', 'docs'))
    assert 'a-fifo (fifo)' in record['reason']
    assert record['saved_info']['skipped'] == 1
    assert record['saved_info']['files'] == 1


def test_exclude_patterns(root, bank, plugin):
    top = root / 'proj-a' / 'docs'
    (top / 'cache' / 'inner').mkdir(parents=True)
    (top / 'cache' / 'inner' / 'x').write_bytes(b'x')
    (top / 'keep.txt').write_bytes(b'k')
    (top / 'drop.log').write_bytes(b'd')
    (top / 'sub').mkdir()
    (top / 'sub' / 'nested.log').write_bytes(b'n')
    schema = plugin.get_options_schema(TYPE)
    for value in ('*.log,cache', ['*.log', 'cache'], ' *.log , ./cache/ '):
        jsonschema.validate({'exclude': value}, schema)
        checkpoint = make_checkpoint(bank)
        resource = resource_of('proj-a', 'docs')
        run_protect(plugin, checkpoint, resource, {'exclude': value})
        manifest = json.loads(bank.get_object(
            mf.manifest_key(checkpoint, resource.id)))
        assert [e['path'] for e in manifest['entries']] == [
            'keep.txt', 'sub']
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({'exclude': 3}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({'other': 'x'}, schema)


@pytest.mark.parametrize('name', ['', '.', '..', 'a/b', 'a\\b', 'a\0b',
                                  'x' * 256])
def test_bad_restore_names(root, bank, plugin, name):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({'restore_name': name},
                            plugin.get_restore_schema(TYPE))
    top = root / 'proj-a' / 'docs'
    top.mkdir(parents=True)
    (top / 'f').write_bytes(b'f')
    checkpoint = make_checkpoint(bank)
    resource = resource_of('proj-a', 'docs')
    run_protect(plugin, checkpoint, resource)
    with pytest.raises(exception.InvalidRestoreName):
        run_restore(plugin, checkpoint, resource, {'restore_name': name})
    assert sorted(os.listdir(root / 'proj-a')) == ['docs']


def test_good_restore_names_match_the_schema(plugin):
    schema = plugin.get_restore_schema(TYPE)
    for name in ('copy', '...', '.hidden', 'a b', 'x' * 255):
        jsonschema.validate({'restore_name': name}, schema)
    jsonschema.validate({}, schema)
    verify = plugin.get_verify_schema(TYPE)
    jsonschema.validate({'mode': 'quick'}, verify)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({'mode': 'slow'}, verify)
    assert isinstance(plugin.get_verify_operation(None),
                      protection.VerifyOperation)
    for getter in (plugin.get_options_schema, plugin.get_restore_schema,
                   plugin.get_verify_schema, plugin.get_saved_info_schema):
        assert getter(TYPE)['additionalProperties'] is False


def test_restore_refuses_an_existing_target(root, bank, plugin):
    top = root / 'proj-a' / 'docs'
    top.mkdir(parents=True)
    (top / 'f').write_bytes(b'f')
    checkpoint = make_checkpoint(bank)
    resource = resource_of('proj-a', 'docs')
    run_protect(plugin, checkpoint, resource)
    (root / 'proj-a' / 'taken').mkdir()
    for name in ('docs', 'taken'):
        with pytest.raises(exception.RestoreTargetExists) as info:
            run_restore(plugin, checkpoint, resource, {'restore_name': name})
        assert name in str(info.value)
    assert os.listdir(root / 'proj-a' / 'taken') == []
    assert temp_dirs(root) == []


def test_corrupt_chunk_fails_the_restore_cleanly(root, bank, plugin):
    top = root / 'proj-a' / 'docs'
    make_tree(str(top))
    checkpoint = make_checkpoint(bank)
    resource = resource_of('proj-a', 'docs')
    run_protect(plugin, checkpoint, resource)
    victim = sorted(chunk_keys(bank))[0]
    path = os.path.join(bank.root, *victim.split('/'))
    with open(path, 'r+b') as f:
        first = f.read(1)
        f.seek(0)
        f.write(bytes([first[0] ^ 0xff]))
    report = resource_mod.OperationReport([resource])
    with pytest.raises(exception.ChunkCorrupted) as info:
        plugin.get_restore_operation(resource).on_main(
            checkpoint=checkpoint, resource=resource, context=None,
            parameters={'restore_name': 'copy'}, report=report,
            restore=resource_mod.Resource(type='restore', id='r1'))
    assert victim in str(info.value)
    assert victim in report.get(resource.id)['reason']
    assert not os.path.lexists(root / 'proj-a' / 'copy')
    assert temp_dirs(root) == []


def test_missing_chunk_fails_the_restore_cleanly(root, bank, plugin):
    make_tree(str(root / 'proj-a' / 'docs'))
    checkpoint = make_checkpoint(bank)
    resource = resource_of('proj-a', 'docs')
    run_protect(plugin, checkpoint, resource)
    victim = sorted(chunk_keys(bank))[-1]
    bank.delete_object(victim)
    with pytest.raises(exception.ChunkCorrupted) as info:
        run_restore(plugin, checkpoint, resource, {'restore_name': 'copy'})
    assert victim in str(info.value)
    assert sorted(os.listdir(root / 'proj-a')) == ['docs']


def test_manifest_paths_cannot_escape(root, bank, plugin):
    (root / 'proj-a' / 'docs').mkdir(parents=True)
    checkpoint = make_checkpoint(bank)
    resource = resource_of('proj-a', 'docs')
    run_protect(plugin, checkpoint, resource)
    key = mf.manifest_key(checkpoint, resource.id)
    manifest = json.loads(bank.get_object(key))
    for entries in (
            [{'path': '../evil', 'type': 'dir', 'mode': 0o40755,
              'mtime_ns': 0}],
            [{'path': 'l', 'type': 'symlink', 'mode': 0o120777,
              'mtime_ns': 0, 'target': '/etc'},
             {'path': 'l/passwd', 'type': 'file', 'mode': 0o100644,
              'mtime_ns': 0, 'size': 0, 'chunks': []}]):
        manifest['entries'] = entries
        bank.put_object(key, json.dumps(manifest).encode())
        with pytest.raises(exception.InvalidManifest):
            run_restore(plugin, checkpoint, resource,
                        {'restore_name': 'copy'})
    assert sorted(os.listdir(root / 'proj-a')) == ['docs']


def test_delete_and_gc_restore_the_bank(root, bank, plugin):
    make_tree(str(root / 'proj-a' / 'docs'))
    resource = resource_of('proj-a', 'docs')
    first = make_checkpoint(bank)
    run_protect(plugin, first, resource)
    hint = mf.latest_key('proj-a', 'plan-1', resource.id)
    before = set(bank.list_objects()) - {hint}

    (root / 'proj-a' / 'docs' / 'new-file').write_bytes(os.urandom(70000))
    second = make_checkpoint(bank)
    run_protect(plugin, second, resource)
    assert set(bank.list_objects()) > before
    record = run_delete(plugin, second, resource)
    assert record['extra_info']['gc'] == 'done'
    assert record['extra_info']['chunks_deleted'] >= 2
    second.delete_metadata()
    # The hint named the deleted checkpoint: gone with it.
    assert set(bank.list_objects()) == before

    # The first checkpoint still restores; deleting it empties the bank.
    run_restore(plugin, first, resource, {'restore_name': 'copy'})
    run_delete(plugin, first, resource)
    first.delete_metadata()
    assert bank.list_objects() == []


def write_lease(bank, key, age=0):
    bank.put_object(key, json.dumps(
        {'updated_at': time.time() - age}).encode())


def test_gc_defers_while_a_protect_runs(root, bank, plugin):
    make_tree(str(root / 'proj-a' / 'docs'))
    resource = resource_of('proj-a', 'docs')
    first = make_checkpoint(bank)
    run_protect(plugin, first, resource)
    chunks = chunk_keys(bank)

    lease = gc.protect_lease_key('proj-a', 'running-cp', 'some-resource')
    write_lease(bank, lease)
    record = run_delete(plugin, first, resource)
    assert record['extra_info']['gc'] == 'deferred'
    assert chunk_keys(bank) == chunks
    assert bank.exists(gc.pending_key('proj-a'))
    assert not [k for k in bank.list_objects('locks/')
                if k.rpartition('/')[2].startswith('gc-') and
                k != gc.pending_key('proj-a')]

    # A protect finishing while another still runs defers again...
    other = make_checkpoint(bank)
    (root / 'proj-a' / 'other').mkdir()
    (root / 'proj-a' / 'other' / 'f').write_bytes(b'other data')
    run_protect(plugin, other, resource_of('proj-a', 'other'))
    assert bank.exists(gc.pending_key('proj-a'))
    assert chunks <= chunk_keys(bank)

    # ...and the last one to finish runs the pending collection.
    bank.delete_object(lease)
    last = make_checkpoint(bank)
    run_protect(plugin, last, resource_of('proj-a', 'other'))
    assert not bank.exists(gc.pending_key('proj-a'))
    remaining = chunk_keys(bank)
    assert not (chunks & remaining)
    assert remaining
    assert bank.list_objects('locks/') == []


def test_stale_leases_are_ignored_and_removed(root, bank):
    lease = gc.protect_lease_key('proj-a', 'dead-cp', 'r')
    marker = gc.locks_prefix('proj-a') + 'gc-deadbeef'
    write_lease(bank, lease, age=gc.LEASE_TIMEOUT + 5)
    write_lease(bank, marker, age=gc.LEASE_TIMEOUT + 5)
    bank.put_object(mf.chunk_key('proj-a', 'ab' * 32), b'orphan')
    result = gc.collect_garbage(bank, 'proj-a')
    assert result['status'] == 'done' and result['chunks_deleted'] == 1
    assert bank.list_objects() == []


def test_protect_waits_for_a_running_collection(root, bank, plugin):
    top = root / 'proj-a' / 'docs'
    top.mkdir(parents=True)
    (top / 'f').write_bytes(b'data')
    marker = gc.locks_prefix('proj-a') + 'gc-' + uuid.uuid4().hex
    write_lease(bank, marker)
    done = threading.Event()
    errors = []

    def protect():
        try:
            run_protect(plugin, make_checkpoint(bank),
                        resource_of('proj-a', 'docs'))
        except Exception as exc:    # pragma: no cover - reported below
            errors.append(exc)
        done.set()

    thread = threading.Thread(target=protect)
    thread.start()
    time.sleep(0.2)
    assert not done.is_set()
    # It announced itself before waiting, so collections defer to it.
    assert [k for k in bank.list_objects('locks/proj-a/protect-')]
    assert chunk_keys(bank) == set()
    bank.delete_object(marker)
    thread.join(10)
    assert done.is_set() and not errors
    assert chunk_keys(bank)


def test_lease_is_refreshed(bank, monkeypatch):
    monkeypatch.setattr(gc, 'LEASE_REFRESH', 0.02)
    lease = gc.Lease(bank, 'locks/p/protect-x', kind='protect')
    lease.acquire()
    first = json.loads(bank.get_object(lease.key))['updated_at']
    time.sleep(0.1)
    second = json.loads(bank.get_object(lease.key))['updated_at']
    lease.release()
    assert second > first
    assert not bank.exists(lease.key)


def test_projects_with_chunks(bank):
    bank.put_object(mf.chunk_key('p1', 'ab' * 32), b'x')
    bank.put_object(mf.chunk_key('p2', 'cd' * 32), b'y')
    assert gc.projects_with_chunks(bank) == ['p1', 'p2']


def test_undecodable_names_and_hard_links(root, bank, plugin):
    top = root / 'proj-a' / 'docs'
    top.mkdir(parents=True)
    odd = os.fsdecode(b'caf\xe9-\xff.bin')
    (top / odd).write_bytes(b'latin-1 name')
    (top / 'linked-1').write_bytes(b'shared inode')
    os.link(str(top / 'linked-1'), str(top / 'linked-2'))
    os.symlink(odd, str(top / os.fsdecode(b'link-\xfe')))
    before = snapshot(str(top))
    checkpoint = make_checkpoint(bank)
    resource = resource_of('proj-a', 'docs')
    run_protect(plugin, checkpoint, resource)
    run_restore(plugin, checkpoint, resource, {'restore_name': 'copy'})
    assert snapshot(str(root / 'proj-a' / 'copy')) == before
    assert os.path.exists(os.path.join(
        os.fsencode(str(root / 'proj-a' / 'copy')), b'caf\xe9-\xff.bin'))


def test_vanished_file_is_skipped(root, bank, plugin, monkeypatch):
    top = root / 'proj-a' / 'docs'
    top.mkdir(parents=True)
    (top / 'kept').write_bytes(b'kept')
    (top / 'gone').write_bytes(b'gone')
    real_open = os.open

    def vanishing_open(path, *args, **kwargs):
        if path == 'gone':
            raise FileNotFoundError(2, 'No such file or directory')
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, 'open', vanishing_open)
    record = run_protect(plugin, make_checkpoint(bank),
                         resource_of('proj-a', 'docs'))
    assert 'gone (vanished)' in record['reason']
    assert record['saved_info']['files'] == 1


def test_a_parent_swapped_for_a_symlink_is_not_followed(tmp_path):
    top = tmp_path / 'top'
    (top / 'a').mkdir(parents=True)
    (top / 'a' / 'f').write_bytes(b'inside')
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'f').write_bytes(b'secret')
    expected = backup._identity(os.lstat(str(top / 'a' / 'f')))
    os.rename(str(top / 'a'), str(tmp_path / 'moved'))
    os.symlink(str(outside), str(top / 'a'))
    root_fd = os.open(str(top), os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(backup._Vanished):
            backup.open_file(root_fd, 'a/f', expected)
        # A file replaced in place (same path, new inode) is read anew.
        os.unlink(str(top / 'a'))
        (top / 'a').mkdir()
        (top / 'a' / 'f').write_bytes(b'replaced')
        fd, st = backup.open_file(root_fd, 'a/f', expected)
        try:
            assert os.read(fd, 100) == b'replaced'
        finally:
            os.close(fd)
    finally:
        os.close(root_fd)


def test_protect_reports_to_a_missing_report(root, bank, plugin):
    # Hooks may be called without a report (e.g. from tools).
    top = root / 'proj-a' / 'docs'
    top.mkdir(parents=True)
    resource = resource_of('proj-a', 'docs')
    checkpoint = make_checkpoint(bank)
    plugin.get_protect_operation(resource).on_main(
        checkpoint=checkpoint, resource=resource, context=None,
        parameters={}, report=None)
    assert bank.exists(mf.manifest_key(checkpoint, resource.id))


def test_bank_methods(bank):
    bank.put_object('a/b', b'12345')
    assert bank.exists('a/b') and not bank.exists('a/c')
    assert not bank.exists('a')
    assert bank.object_size('a/b') == 5
    with pytest.raises(exception.BankObjectNotFound):
        bank.object_size('a/c')
    with pytest.raises(exception.BankObjectNotFound):
        bank.object_size('a')
    bank.sync(['a/b', 'x/y'])
    with pytest.raises(exception.Invalid):
        bank.exists('../etc')
    big = os.urandom(2 << 20)
    bank.put_object('big', big)
    assert bank.get_object('big') == big


def test_default_bank_methods():
    from karbor.services.protection.banks import base as bank_base

    class MemoryBank(bank_base.BankPlugin):
        def __init__(self):
            self.objects = {}

        def put_object(self, key, data):
            self.objects[key] = data

        def get_object(self, key):
            try:
                return self.objects[key]
            except KeyError:
                raise exception.BankObjectNotFound(key=key)

        def list_objects(self, prefix='', marker=None, limit=None):
            return sorted(k for k in self.objects if k.startswith(prefix))

        def delete_object(self, key):
            self.objects.pop(key, None)

    memory = MemoryBank()
    memory.put_object('k', b'abc')
    assert memory.exists('k') and not memory.exists('j')
    assert memory.object_size('k') == 3
    with pytest.raises(exception.BankObjectNotFound):
        memory.object_size('j')
    assert memory.sync(['k']) is None


def test_concurrent_protects_and_deletes_lose_nothing(root, bank, plugin,
                                                      monkeypatch):
    """Protects of changing data race deletes (and their collections):
    every checkpoint left restores exactly what it protected."""
    monkeypatch.setattr(gc, 'POLL_INTERVAL', 0.005)
    top = root / 'proj-a' / 'docs'
    top.mkdir(parents=True)
    resource = resource_of('proj-a', 'docs')
    lock = threading.Lock()
    tree_lock = threading.Lock()
    kept = []           # (checkpoint, expected snapshot)
    errors = []

    def protector(rounds):
        for index in range(rounds):
            with tree_lock:
                (top / ('f%d' % (index % 3))).write_bytes(
                    os.urandom(20000 + index))
                (top / 'big').write_bytes(os.urandom(100000))
                expected = snapshot(str(top))
                checkpoint = make_checkpoint(bank)
                run_protect(plugin, checkpoint, resource)
            with lock:
                kept.append((checkpoint, expected))

    def deleter(stop):
        while not stop.is_set() or len(kept) > 2:
            with lock:
                victim = kept.pop(0) if len(kept) > 2 else None
            if victim is None:
                time.sleep(0.002)
                continue
            run_delete(plugin, victim[0], resource)
            victim[0].delete_metadata()

    def guard(fn, *args):
        try:
            fn(*args)
        except Exception as exc:    # pragma: no cover - reported below
            errors.append(exc)

    stop = threading.Event()
    deleting = threading.Thread(target=guard, args=(deleter, stop))
    deleting.start()
    writers = [threading.Thread(target=guard, args=(protector, 6))
               for _ in range(2)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(60)
    stop.set()
    deleting.join(60)
    assert not errors
    # Whatever a deferred collection left is collected by the next one.
    gc.collect_garbage(bank, 'proj-a')
    for index, (checkpoint, expected) in enumerate(kept):
        name = 'check-%d' % index
        run_restore(plugin, checkpoint, resource, {'restore_name': name})
        assert snapshot(str(root / 'proj-a' / name)) == expected
    referenced = set()
    for checkpoint, _expected in kept:
        manifest = json.loads(bank.get_object(
            mf.manifest_key(checkpoint, resource.id)))
        referenced |= mf.chunk_digests(manifest)
    assert {k.rpartition('/')[2] for k in chunk_keys(bank)} == referenced


def test_gc_keeps_chunks_of_a_protect_finishing_during_it(
        root, bank, plugin, monkeypatch):
    """A protect that checked for collections before a collection began,
    and finishes (manifest written, lease removed) while the collection
    runs, keeps its chunks."""
    top = root / 'proj-a' / 'docs'
    top.mkdir(parents=True)
    (top / 'data').write_bytes(os.urandom(50000))
    resource = resource_of('proj-a', 'docs')
    checked = threading.Event()
    proceed = threading.Event()
    real_wait = gc.wait_for_collections

    def paused_wait(bank_, project_id):
        real_wait(bank_, project_id)
        checked.set()
        proceed.wait(10)

    monkeypatch.setattr(gc, 'wait_for_collections', paused_wait)
    checkpoint = make_checkpoint(bank)
    protecting = threading.Thread(target=run_protect,
                                  args=(plugin, checkpoint, resource))
    protecting.start()
    assert checked.wait(10)

    real_fresh = gc.fresh_locks
    calls = []

    def fresh_locks(bank_, project_id, kind):
        if kind == gc.PROTECT and not calls:
            calls.append(kind)
            # The protect completes between the marker and this check.
            proceed.set()
            protecting.join(10)
        return real_fresh(bank_, project_id, kind)

    monkeypatch.setattr(gc, 'fresh_locks', fresh_locks)
    result = gc.collect_garbage(bank, 'proj-a')
    assert result['status'] == 'done'
    assert not protecting.is_alive()
    run_restore(plugin, checkpoint_mod.Checkpoint.load(bank, checkpoint.id),
                resource, {'restore_name': 'copy'})
    assert (root / 'proj-a' / 'copy' / 'data').read_bytes() == \
        (top / 'data').read_bytes()


def test_the_file_cache_comes_from_the_hint_without_a_scan(
        root, bank, plugin, monkeypatch):
    monkeypatch.setattr(backup, 'RACY_WINDOW_NS', 0)
    monkeypatch.setattr(backup, 'COARSE_RACY_WINDOW_NS', 0)
    make_tree(str(root / 'proj-a' / 'docs'))
    resource = resource_of('proj-a', 'docs')
    first = make_checkpoint(bank)
    run_protect(plugin, first, resource)
    hint = json.loads(bank.get_object(
        mf.latest_key('proj-a', 'plan-1', resource.id)))
    assert hint == {'checkpoint_id': first.id}

    def no_scan(bank):
        raise AssertionError('the bank was scanned despite the hint')

    time.sleep(0.01)
    with monkeypatch.context() as m:
        m.setattr(checkpoint_mod.Checkpoint, 'list_ids', no_scan)
        second = run_protect(plugin, make_checkpoint(bank), resource)
    assert second['extra_info']['files_unchanged'] == 38


def test_a_stale_hint_falls_back_to_the_newest_checkpoint(
        root, bank, plugin, monkeypatch):
    monkeypatch.setattr(backup, 'RACY_WINDOW_NS', 0)
    monkeypatch.setattr(backup, 'COARSE_RACY_WINDOW_NS', 0)
    top = root / 'proj-a' / 'docs'
    make_tree(str(top))
    resource = resource_of('proj-a', 'docs')
    run_protect(plugin, make_checkpoint(bank), resource)
    (top / 'small.txt').write_bytes(b'changed content')
    time.sleep(0.01)
    newest = make_checkpoint(bank)
    run_protect(plugin, newest, resource)
    # The hint names a checkpoint that failed (or was deleted): the
    # newest available one serves, found by a scan.
    failed = make_checkpoint(bank)
    failed.update(status='error')
    bank.put_object(mf.latest_key('proj-a', 'plan-1', resource.id),
                    json.dumps({'checkpoint_id': failed.id}).encode())
    third = run_protect(plugin, make_checkpoint(bank), resource)
    assert third['extra_info']['files_unchanged'] == 38
    assert third['extra_info']['bytes_read'] == 0
    for garbage in (b'not json', b'{}', b'[]'):
        bank.put_object(mf.latest_key('proj-a', 'plan-1', resource.id),
                        garbage)
        again = run_protect(plugin, make_checkpoint(bank), resource)
        assert again['extra_info']['files_unchanged'] == 38
