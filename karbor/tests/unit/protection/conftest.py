"""Fixtures of the directory plugin's tests: a real bank and root."""

import pytest

from karbor.services.protection.banks import file_system
from karbor.services.protection.plugins.directory import backup
from karbor.services.protection.plugins.directory import gc
from karbor.services.protection.plugins.directory import protection


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunk and pack sizes small enough for trees of a few files."""
    monkeypatch.setattr(backup, 'CHUNK_SIZE', 64 * 1024)
    monkeypatch.setattr(backup, 'SMALL_FILE_LIMIT', 16 * 1024)
    monkeypatch.setattr(backup, 'PACK_SIZE', 64 * 1024)
    monkeypatch.setattr(gc, 'POLL_INTERVAL', 0.02)


@pytest.fixture
def root(tmp_path, override):
    root = tmp_path / 'data'
    root.mkdir()
    override('root_path', str(root), group='directory')
    override('workers', 3, group='directory')
    return root


@pytest.fixture
def bank(tmp_path):
    return file_system.FileSystemBank(str(tmp_path / 'bank'))


@pytest.fixture
def plugin(bank):
    return protection.DirectoryProtectionPlugin(bank=bank)
