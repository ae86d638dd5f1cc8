import multiprocessing
import os

import pytest

from karbor import exception
from karbor.services.protection.banks import file_system


@pytest.fixture
def bank(tmp_path):
    return file_system.FileSystemBank(str(tmp_path / 'bank'))


def test_put_get_delete(bank):
    bank.put_object('checkpoints/abc/metadata', b'{"a": 1}')
    assert bank.get_object('checkpoints/abc/metadata') == b'{"a": 1}'
    bank.put_object('checkpoints/abc/metadata', b'new')
    assert bank.get_object('checkpoints/abc/metadata') == b'new'
    bank.delete_object('checkpoints/abc/metadata')
    with pytest.raises(exception.BankObjectNotFound):
        bank.get_object('checkpoints/abc/metadata')
    bank.delete_object('checkpoints/abc/metadata')  # idempotent


def test_list_prefix_marker_limit(bank):
    keys = ['a/1', 'a/2', 'a/3', 'ab/1', 'b/1']
    for key in keys:
        bank.put_object(key, key.encode())
    assert bank.list_objects() == keys
    assert bank.list_objects('a/') == ['a/1', 'a/2', 'a/3']
    assert bank.list_objects('a') == ['a/1', 'a/2', 'a/3', 'ab/1']
    assert bank.list_objects('a/', marker='a/1', limit=1) == ['a/2']
    assert bank.list_objects('zzz/') == []


@pytest.mark.parametrize('key', [
    '', '/abs', '../escape', 'a/../../b', 'a//b', 'a/./b', '.hidden',
    'a/.tmp-x', 'spa ce', 'a\\b', 'x' * 2000, None,
])
def test_keys_cannot_escape_the_root(bank, key):
    with pytest.raises(exception.Invalid):
        bank.put_object(key, b'x')


def test_no_temporary_files_left_and_none_listed(bank, tmp_path):
    bank.put_object('a/b', b'data')
    names = os.listdir(os.path.join(bank.root, 'a'))
    assert names == ['b']


def test_failed_write_leaves_no_object(bank, monkeypatch):
    def broken_fsync(fd):
        raise OSError('disk on fire')

    monkeypatch.setattr(os, 'fsync', broken_fsync)
    with pytest.raises(OSError):
        bank.put_object('a/b', b'data')
    monkeypatch.undo()
    assert bank.list_objects() == []
    assert os.listdir(os.path.join(bank.root, 'a')) == []


def test_a_second_bank_on_the_same_path_sees_the_objects(bank):
    bank.put_object('x/y', b'1')
    again = file_system.FileSystemBank(bank.root)
    assert again.get_object('x/y') == b'1'


def test_default_path_from_config(tmp_path, override):
    override('file_system_bank_path', str(tmp_path / 'cfg-bank'),
             group='file_system_bank_plugin')
    bank = file_system.FileSystemBank()
    assert bank.root == str(tmp_path / 'cfg-bank')


def test_delete_prunes_emptied_directories(bank):
    bank.put_object('checkpoints/c1/resources/r1/manifest', b'm')
    bank.put_object('checkpoints/c2/metadata', b'x')
    bank.delete_object('checkpoints/c1/resources/r1/manifest')
    assert os.listdir(os.path.join(bank.root, 'checkpoints')) == ['c2']
    bank.delete_object('checkpoints/c2/metadata')
    assert os.listdir(bank.root) == []
    # The root itself stays, and writing recreates what is needed.
    bank.put_object('checkpoints/c3/metadata', b'y')
    assert bank.get_object('checkpoints/c3/metadata') == b'y'


def _churn(root, worker, rounds, failures):
    bank = file_system.FileSystemBank(root)
    try:
        for round_ in range(rounds):
            key = 'locks/project/deep/lease-%d-%d' % (worker, round_)
            bank.put_object(key, b'lease')
            assert bank.get_object(key) == b'lease'
            bank.delete_object(key)
    except Exception as exc:
        failures.put('%s: %r' % (worker, exc))


def test_writes_survive_concurrent_deletes_pruning_their_parents(bank):
    # Protection services take and drop leases under locks/<project>/ all
    # the time: one's delete may prune locks/ or locks/<project>/ while
    # another's write is between making them and using them. Processes,
    # as the services are, so that the race really runs in parallel.
    failures = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_churn,
                                       args=(bank.root, n, 400, failures))
               for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert [worker.exitcode for worker in workers] == [0] * 4
    assert failures.empty(), failures.get()
    assert os.listdir(bank.root) == []
