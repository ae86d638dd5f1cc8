"""What the benchmarks print about the machine they ran on.

Imported by the benchmark scripts as a sibling module (``python
benchmarks/X.py`` puts this directory on the path).
"""

import os
import platform


def cpu_model():
    """The CPU's model name from /proc/cpuinfo, else the architecture."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or '?'


def summary(*extra):
    """'N cores, <cpu>, Python X.Y.Z' and any ``extra`` parts."""
    return ', '.join(('%d cores' % (os.cpu_count() or 0), cpu_model(),
                      'Python %s' % platform.python_version()) + extra)
