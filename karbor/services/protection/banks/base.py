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
