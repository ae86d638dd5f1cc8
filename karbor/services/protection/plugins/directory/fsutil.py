"""Linux file-system calls the standard library lacks, with fallbacks.

- ``rename_noreplace``: renameat2(RENAME_NOREPLACE), so a restore never
  replaces what appeared under its target name;
- ``write_back`` / ``start_write_back``: sync_file_range(2), which writes
  a file's dirty pages (and waits for them) without committing the
  journal or flushing the disk cache: the data goes to disk as it is
  produced, and the pages, clean, can be dropped at once;
- ``drop_cache``: posix_fadvise(DONTNEED).

Each falls back to a portable equivalent where the call does not exist.
"""

import ctypes
import errno
import os

_RENAME_NOREPLACE = 1
_AT_FDCWD = -100
_SYNC_FILE_RANGE_WAIT_BEFORE = 1
_SYNC_FILE_RANGE_WRITE = 2
_SYNC_FILE_RANGE_WAIT_AFTER = 4
_WRITE_AND_WAIT = (_SYNC_FILE_RANGE_WAIT_BEFORE | _SYNC_FILE_RANGE_WRITE |
                   _SYNC_FILE_RANGE_WAIT_AFTER)


def _libc_function(name, argtypes):
    try:
        function = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None
    function.argtypes = argtypes
    function.restype = ctypes.c_int
    return function


_renameat2 = _libc_function('renameat2', [
    ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
    ctypes.c_uint])
_sync_file_range = _libc_function('sync_file_range', [
    ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint])

_UNSUPPORTED = (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EPERM)


def _raise_errno(path=None):
    err = ctypes.get_errno()
    raise OSError(err, os.strerror(err), path)


def rename_noreplace(source, target):
    """Rename; FileExistsError rather than replace ``target`` (even an
    empty directory, which rename(2) would silently replace)."""
    if _renameat2 is not None:
        if _renameat2(_AT_FDCWD, os.fsencode(source), _AT_FDCWD,
                      os.fsencode(target), _RENAME_NOREPLACE) == 0:
            return
        if ctypes.get_errno() not in _UNSUPPORTED:
            _raise_errno(target)
    # No atomic variant: check, then rename (which still refuses to
    # replace a non-empty directory).
    if os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST),
                              target)
    os.rename(source, target)


def _sync_range(fd, offset, length, flags):
    if _sync_file_range is None:
        return False
    if _sync_file_range(fd, offset, length, flags) == 0:
        return True
    if ctypes.get_errno() in _UNSUPPORTED:
        return False
    _raise_errno()


def start_write_back(fd, offset=0, length=0):
    """Start writing a range's dirty pages (length 0: to end of file)."""
    if not _sync_range(fd, offset, length, _SYNC_FILE_RANGE_WRITE):
        drop_cache(fd, offset, length)    # also starts the writeback


def write_back(fd, offset=0, length=0):
    """Write a range's dirty pages and wait for them, then drop them.

    Not durable by itself (no metadata, no disk-cache flush): an fsync
    afterwards is, and finds little left to do.
    """
    if not _sync_range(fd, offset, length, _WRITE_AND_WAIT):
        os.fdatasync(fd)
    drop_cache(fd, offset, length)


def drop_cache(fd, offset=0, length=0):
    try:
        os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)
    except (AttributeError, OSError):
        pass


def fsync_path(path, directory=False):
    flags = os.O_RDONLY | (os.O_DIRECTORY if directory else 0)
    fd = os.open(path, flags | os.O_NOFOLLOW)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
