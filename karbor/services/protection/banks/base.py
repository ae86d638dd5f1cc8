"""The bank-plugin contract: a flat key/value object store.

Keys are '/'-separated paths of safe characters. Values are bytes. A bank
must make every put atomic: a reader sees the old object, the new one, or
none, never a partial write.
"""

import abc
import re

from karbor import exception

# Letters, digits and a few punctuation marks, not starting with a dot:
# no empty, '.' or '..' segment can name anything outside the bank, and
# no key collides with the banks' hidden temporary files.
_SEGMENT = re.compile(r'^[A-Za-z0-9_:=+@-][A-Za-z0-9_.:=+@-]*$')


def validate_key(key):
    if not isinstance(key, str) or not key or len(key) > 1024:
        raise exception.Invalid('Invalid bank key: %r' % (key,))
    for segment in key.split('/'):
        if not _SEGMENT.match(segment):
            raise exception.Invalid('Invalid bank key: %r' % (key,))
    return key


class BankPlugin(metaclass=abc.ABCMeta):
    """Base of every bank plugin (entry points ``karbor.banks``)."""

    @abc.abstractmethod
    def put_object(self, key, data):
        """Store ``data`` (bytes) under ``key``, atomically."""

    @abc.abstractmethod
    def get_object(self, key):
        """The bytes under ``key``; raises BankObjectNotFound."""

    @abc.abstractmethod
    def list_objects(self, prefix='', marker=None, limit=None):
        """Sorted keys starting with ``prefix``, after ``marker``."""

    @abc.abstractmethod
    def delete_object(self, key):
        """Remove ``key``; removing a missing key is not an error."""

    # Optional methods. The defaults are correct for any bank; banks
    # should override them with cheaper implementations.

    def exists(self, key):
        """Whether an object is stored under ``key``."""
        try:
            self.get_object(key)
        except exception.BankObjectNotFound:
            return False
        return True

    def object_size(self, key):
        """The size in bytes of ``key``; raises BankObjectNotFound."""
        return len(self.get_object(key))

    def remove_stale_partials(self, prefix, older_than):
        """Remove what interrupted puts under ``prefix`` left behind and
        last wrote ``older_than`` seconds ago or more; return how many.

        A put killed midway leaves no object (puts are atomic), but a bank
        may keep its partial data apart until then. The default does
        nothing: for a bank whose puts leave nothing behind.
        """
        return 0

    def sync(self, keys):
        """Make the names of the already put ``keys`` durable.

        Puts make an object's content durable before it becomes visible;
        a bank whose names can still be lost in a crash after ``put_object``
        returned (a file system without a directory fsync) makes them
        durable here. Callers sync the objects a new object refers to
        before putting it. The default does nothing.
        """
