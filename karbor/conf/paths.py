"""Where the files Karbor ships under etc/karbor can be found."""

import os
import sys

_SOURCE_ETC = os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), 'etc', 'karbor')


def etc_dirs():
    """Candidate etc/karbor directories, most specific first.

    /etc/karbor is the operator's; ``pip install`` puts the shipped files
    under the installation prefix (a virtualenv, say); a source checkout
    (an editable install, the tests) has them in its own etc/karbor.
    """
    return ['/etc/karbor', os.path.join(sys.prefix, 'etc', 'karbor'),
            _SOURCE_ETC]


def find_shipped(name, isdir=False):
    """The first existing ``name`` in etc_dirs(), or None."""
    check = os.path.isdir if isdir else os.path.isfile
    for directory in etc_dirs():
        path = os.path.join(directory, name)
        if check(path):
            return path
    return None
