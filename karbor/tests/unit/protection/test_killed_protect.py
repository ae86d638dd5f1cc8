"""A directory protect killed (SIGKILL) midway leaves no object
half-written, and garbage collection removes all it left once its lease
has expired.

The protect runs in a child process on a slow disk (every fsync takes
0.2 s, so that the kill lands while puts are in flight) and is killed
once it has written a few chunks.
"""

import hashlib
import json
import os
import subprocess
import sys
import time

from karbor.services.protection import checkpoint as checkpoint_mod
from karbor.services.protection.plugins.directory import gc
from karbor.services.protection.plugins.directory import manifest as mf

CHILD = '''
import os, time, uuid
from karbor.conf import CONF
CONF([], project='karbor', default_config_files=[])
CONF.set_override('root_path', %(root)r, group='directory')
from karbor.services.protection.banks import file_system
from karbor.services.protection import checkpoint as checkpoint_mod
from karbor.services.protection import resource as resource_mod
from karbor.services.protection.plugins.directory import protectable
from karbor.services.protection.plugins.directory import protection
real_fsync = os.fsync
def slow_fsync(fd):
    time.sleep(0.2)
    real_fsync(fd)
os.fsync = slow_fsync
bank = file_system.FileSystemBank(%(bank)r)
checkpoint = checkpoint_mod.Checkpoint.create(
    bank, str(uuid.uuid4()), 'proj-a', 'provider-1',
    plan={'id': 'plan-1', 'name': 'plan'}, resource_graph=[],
    created_at='2024-01-01T00:00:00')
resource = resource_mod.Resource(
    type='OS::Karbor::Directory',
    id=protectable.resource_id('proj-a', 'docs'), name='docs')
protection.DirectoryProtectionPlugin(bank=bank).get_protect_operation(
    resource).on_main(checkpoint=checkpoint, resource=resource,
                      context=None, parameters={},
                      report=resource_mod.OperationReport([resource]))
print('the protect finished before the kill')
'''


def _temporary_files(bank):
    return [os.path.join(dirpath, name)
            for dirpath, _, names in os.walk(bank.root) for name in names
            if name.startswith('.tmp-')]


def _chunks(bank):
    return bank.list_objects(mf.chunk_prefix('proj-a'))


def test_killed_protect_leaves_only_what_gc_removes(tmp_path, bank):
    top = tmp_path / 'data' / 'proj-a' / 'docs'
    top.mkdir(parents=True)
    for index in range(12):
        (top / ('big-%02d' % index)).write_bytes(os.urandom(5 << 20))
    child = subprocess.Popen(
        [sys.executable, '-c', CHILD % {'root': str(tmp_path / 'data'),
                                        'bank': bank.root}],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not (len(_chunks(bank)) >= 3 and _temporary_files(bank)):
            assert child.poll() is None, child.stdout.read()
            assert time.monotonic() < deadline, 'the protect wrote nothing'
            time.sleep(0.01)
    finally:
        child.kill()
        child.wait()

    # Every object the bank shows is whole: each chunk is named by the
    # SHA-256 of its content, and the checkpoint got no manifest.
    chunks = _chunks(bank)
    for key in chunks:
        assert hashlib.sha256(bank.get_object(key)).hexdigest() == \
            mf.digest_of_key(key), key
    assert not [key for key in bank.list_objects(checkpoint_mod.PREFIX)
                if mf.is_manifest_key(key)]
    partials = _temporary_files(bank)
    assert partials

    # While the killed protect's lease is fresh, collection defers.
    assert gc.collect_garbage(bank, 'proj-a')['status'] == 'deferred'
    assert set(_chunks(bank)) == set(chunks)

    # LEASE_TIMEOUT later (the lease and the partial writes aged as if).
    (lease,) = gc.fresh_locks(bank, 'proj-a', gc.PROTECT)
    bank.put_object(lease, json.dumps(
        {'updated_at': time.time() - gc.LEASE_TIMEOUT - 1}).encode())
    old = time.time() - gc.LEASE_TIMEOUT - 1
    for path in partials:
        os.utime(path, (old, old))
    result = gc.collect_garbage(bank, 'proj-a')
    assert result['status'] == 'done'
    assert result['chunks_deleted'] == len(chunks)
    assert result['partials_removed'] == len(partials)
    assert _chunks(bank) == []
    assert _temporary_files(bank) == []
    assert bank.list_objects(gc.locks_prefix('proj-a')) == []


def test_fresh_partial_writes_are_kept(bank):
    bank.put_object('chunks/proj-a/ab/x', b'data')
    young = os.path.join(bank.root, 'chunks', 'proj-a', 'ab', '.tmp-young')
    old = os.path.join(bank.root, 'chunks', 'proj-a', 'ab', '.tmp-old')
    for path in (young, old):
        with open(path, 'wb') as f:
            f.write(b'partial')
    os.utime(old, (time.time() - 100, time.time() - 100))
    assert bank.remove_stale_partials('chunks/proj-b/', 50) == 0
    assert bank.remove_stale_partials('chunks/proj-a/', 50) == 1
    assert os.path.exists(young) and not os.path.exists(old)
    assert bank.list_objects() == ['chunks/proj-a/ab/x']
