"""What the benchmarks print about the machine they ran on.

Imported by the benchmark scripts as a sibling module (``python
benchmarks/X.py`` puts this directory on the path).
"""

import os
import platform
import time


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


def core_speed(seconds=0.2):
    """Millions of iterations per CPU second of a fixed pure-Python loop.

    A virtual machine's cores may run faster or slower from one minute to
    the next (other guests on the host): the same loop took 0.43 s and
    0.68 s of CPU ten minutes apart on the machine these benchmarks were
    written on. Printed with a run, it tells a slow host from slow code.
    """
    done, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        total = 0
        for i in range(100000):
            total += i * i % 7
        done += 100000
    return done / (time.process_time() - start) / 1e6
