import os

import pytest

from karbor.services.protection.plugins.directory import fsutil


@pytest.fixture(params=['native', 'fallback'])
def mode(request, monkeypatch):
    if request.param == 'fallback':
        monkeypatch.setattr(fsutil, '_renameat2', None)
        monkeypatch.setattr(fsutil, '_sync_file_range', None)
    return request.param


def test_rename_noreplace(tmp_path, mode):
    source = tmp_path / 'source'
    source.mkdir()
    (source / 'f').write_bytes(b'x')
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(FileExistsError):
        fsutil.rename_noreplace(str(source), str(empty))
    assert (source / 'f').exists() and os.listdir(str(empty)) == []
    fsutil.rename_noreplace(str(source), str(tmp_path / 'new'))
    assert (tmp_path / 'new' / 'f').read_bytes() == b'x'


def test_write_back_and_drop(tmp_path, mode):
    path = str(tmp_path / 'f')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.pwrite(fd, b'a' * 10000, 0)
        fsutil.start_write_back(fd, 0, 10000)
        fsutil.write_back(fd, 0, 10000)
        fsutil.write_back(fd)
        fsutil.drop_cache(fd)
        fsutil.fsync_path(path)
        fsutil.fsync_path(str(tmp_path), directory=True)
    finally:
        os.close(fd)
    with open(path, 'rb') as f:
        assert f.read() == b'a' * 10000
