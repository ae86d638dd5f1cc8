"""Protect and restore throughput of Karbor against restic (and borg).

One run, one machine, one tree:

1. A seeded tree of about 1 GiB is built under the work directory (the
   same --seed and --size-mib always give the same paths, contents,
   modes, mtimes and symlinks): a few large files, many 4 MiB files,
   thousands of small files in nested directories, empty files, empty
   directories and symlinks, all filled with pseudo-random (so
   incompressible and not deduplicable) bytes.
2. karbor-all is started as a subprocess with its own state directory and
   port, its [directory] root_path holding the tree. Through the REST API
   (noauth) the script creates a plan and measures, from the POST to the
   final status seen by polling: a first protect, a protect of the
   unchanged tree and a restore into a fresh name. The restored tree is
   compared with the source (SHA-256 of every file, modes, mtimes,
   symlink targets, empty directories). The resident set size of the
   karbor-all process is sampled every 50 ms from start to stop.
3. The peers run on the same tree, its pages warm in the cache: ``tar cf -
   DIR | sha256sum`` (read and hash throughput reference, after one
   unmeasured warm-up run), restic (init, backup, backup of the unchanged
   tree, restore of the latest snapshot) when installed (as root it tries
   ``apt-get install -y restic`` unless --no-install) and borg likewise
   when it is installed (never installed by this script). Their restored
   trees are compared with the source too.
4. A table gives seconds, MB/s (tree bytes / seconds, MB = 10**6 bytes),
   CPU seconds and peak RSS per operation, Karbor's ratios against
   restic's counterparts, and PASS or FAIL per target:

   - first protect >= 1.5x the throughput of restic's first backup;
   - protect of the unchanged tree >= 5x faster than the first protect;
   - restore >= 1.5x the throughput of restic's restore;
   - every restored tree equal to the source;
   - peak RSS of karbor-all < 300 MiB.

``--profile`` runs karbor-all under a sampling profiler written here
(every thread's Python stack and, from /proc, its CPU time, every 10 ms)
and prints where CPU and wall time went in each measured Karbor phase.
Its overhead makes that run's numbers slightly worse; compare runs made
the same way.

The work directory (a new directory under --workdir, /tmp by default)
needs about 3.2 times the tree size free, and is removed at the end unless
--keep. The exit status is 0 whatever the targets, 1 when the benchmark
could not run (no space, karbor-all not starting).

Usage::

    python benchmarks/protect.py [--size-mib 1024] [--seed 1]
                                 [--workdir DIR] [--keep] [--profile]
                                 [--set SECTION.OPTION=VALUE ...]
"""

import argparse
import collections
from concurrent import futures
import faulthandler
import hashlib
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

import machine as bench_machine

try:
    import psutil
except ImportError:  # pragma: no cover - optional
    psutil = None

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROVIDER_ID = 'b766f37c-d011-4026-8228-28730d734a3f'
RESOURCE_TYPE = 'OS::Karbor::Directory'
PROJECT = 'bench'
TOKEN = 'bench:bench'
SOURCE_NAME = 'src'
KARBOR_RESTORE_NAME = 'restored'
HOST = '127.0.0.1'

KiB = 1 << 10
MiB = 1 << 20
MB = 1000 * 1000

# Targets.
FIRST_VS_RESTIC = 1.5
UNCHANGED_SPEEDUP = 5.0
RESTORE_VS_RESTIC = 1.5
RSS_LIMIT = 300 * MiB

# Phases of karbor-all the RSS sampler and the profiler tell apart.
PHASES = (('protect-1', 'karbor protect (first)'),
          ('protect-2', 'karbor protect (unchanged)'),
          ('restore', 'karbor restore'))

# Space the work directory needs, in tree sizes: the tree, then at any
# time one tool's repository and one restored tree (each removed before
# the next tool runs unless --keep).
SPACE_FACTOR = 3.2
SPACE_FACTOR_KEEP = 7.2


def human_bytes(n):
    for unit, size in (('GiB', 1 << 30), ('MiB', MiB), ('KiB', KiB)):
        if n >= size:
            return '%.1f %s' % (n / size, unit)
    return '%d B' % n


def clock_ticks():
    try:
        return os.sysconf('SC_CLK_TCK')
    except (ValueError, OSError):
        return 100


# --------------------------------------------------------------------------
# The seeded tree.

FILE_MODES = (0o644,) * 6 + (0o600, 0o640, 0o664, 0o755, 0o700, 0o444)
DIR_MODES = (0o755,) * 4 + (0o750, 0o700, 0o775)
MTIME_BASE = 1_600_000_000
MTIME_SPAN = 4 * 365 * 86400


class TreePlan(object):
    """What the tree holds, drawn from the seed alone.

    dirs: relative path -> (mode, mtime_ns), '' being the top;
    files: [(relative path, size, mode, mtime_ns)];
    symlinks: [(relative path, target, mtime_ns)].
    """

    def __init__(self, size_mib, seed):
        self.seed = seed
        rng = random.Random('karbor-protect-bench layout %d' % seed)
        self.dirs = {}
        self.files = []
        self.symlinks = []
        scale = size_mib / 1024.0

        def mtime():
            return ((MTIME_BASE + rng.randrange(MTIME_SPAN)) * 10 ** 9 +
                    rng.randrange(10 ** 9))

        def add_dir(path):
            parts = path.split('/')
            for depth in range(1, len(parts) + 1):
                sub = '/'.join(parts[:depth])
                if sub not in self.dirs:
                    self.dirs[sub] = (rng.choice(DIR_MODES), mtime())

        def add_file(path, size):
            if '/' in path:
                add_dir(path.rsplit('/', 1)[0])
            self.files.append((path, size, rng.choice(FILE_MODES), mtime()))

        self.dirs[''] = (0o755, mtime())
        # A few large files, not a multiple of any chunk size.
        large = max(MiB, int(150 * MiB * scale))
        for index in range(3):
            add_file('large/blob-%d.bin' % index,
                     large + rng.randrange(1, 4096))
        # Many files of exactly 4 MiB.
        for index in range(max(1, round(100 * scale))):
            add_file('media/set-%d/clip-%03d.dat' % (index % 4, index),
                     4 * MiB)
        # Thousands of small files, 1 to 64 KiB, in nested directories.
        leaves = []
        for a in range(10):
            for b in range(5):
                for c in range(4):
                    leaves.append('src/proj-%d/mod-%d/pkg-%d' % (a, b, c))
        for a in range(10):
            leaves.append('src/proj-%d' % a)
            for b in range(5):
                leaves.append('src/proj-%d/mod-%d' % (a, b))
        for index in range(max(1, round(5000 * scale))):
            where = rng.choice(leaves)
            kind = rng.randrange(50)
            if kind == 0:
                name = 'notes with spaces %d.txt' % index
            elif kind == 1:
                name = 'r\u00e9sum\u00e9-\u00df-%d.txt' % index
            else:
                name = 'f%05d.%s' % (index, rng.choice(
                    ('py', 'c', 'h', 'json', 'txt', 'bin', 'dat')))
            add_file('%s/%s' % (where, name),
                     rng.randint(1 * KiB, 64 * KiB))
        # Empty files, some next to the others, some alone.
        for index in range(40):
            where = rng.choice(leaves + ['empty-files'])
            add_file('%s/empty-%02d' % (where, index), 0)
        # Empty directories: a nested chain and scattered leaves.
        add_dir('empty/a/b/c')
        for index in range(12):
            add_dir('%s/cache-%02d' % (rng.choice(leaves), index))
        # Symlinks: to files, to directories, dangling, absolute.
        regular = [f[0] for f in self.files]
        dirs = [d for d in self.dirs if d]
        for index in range(40):
            where = rng.choice(leaves + ['links'])
            add_dir(where)
            path = '%s/link-%02d' % (where, index)
            kind = index % 8
            if kind < 5:
                target = os.path.relpath(rng.choice(regular), where)
            elif kind == 5:
                target = os.path.relpath(rng.choice(dirs), where)
            elif kind == 6:
                target = 'does-not-exist-%d' % index
            else:
                target = '/nonexistent/karbor-bench/%d' % index
            self.symlinks.append((path, target, mtime()))

    @property
    def total_bytes(self):
        return sum(f[1] for f in self.files)

    def build(self, top):
        """Create the tree at ``top`` (which must not exist)."""
        os.mkdir(top, 0o700)
        for path in sorted(self.dirs):
            if path:
                os.mkdir(os.path.join(top, path), 0o700)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(
            os, 'O_CLOEXEC', 0)
        for path, size, mode, mtime_ns in self.files:
            # One generator per file: the contents do not depend on the
            # order files are written in.
            rng = random.Random('karbor-protect-bench data %d %s' % (
                self.seed, path))
            fd = os.open(os.path.join(top, path), flags, 0o600)
            try:
                left = size
                while left:
                    piece = min(left, 4 * MiB)
                    data = rng.randbytes(piece)
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                    left -= piece
                os.fchmod(fd, mode)
                os.utime(fd, ns=(mtime_ns, mtime_ns))
            finally:
                os.close(fd)
        for path, target, mtime_ns in self.symlinks:
            full = os.path.join(top, path)
            os.symlink(target, full)
            os.utime(full, ns=(mtime_ns, mtime_ns), follow_symlinks=False)
        # Directories deepest first, once their content is complete.
        for path in sorted(self.dirs, key=lambda p: (-p.count('/'), p)):
            if not path:
                continue
            mode, mtime_ns = self.dirs[path]
            full = os.path.join(top, path)
            os.chmod(full, mode)
            os.utime(full, ns=(mtime_ns, mtime_ns))
        mode, mtime_ns = self.dirs['']
        os.chmod(top, mode)
        os.utime(top, ns=(mtime_ns, mtime_ns))


# --------------------------------------------------------------------------
# Comparing trees.

def _hash_file(path):
    digest = hashlib.sha256()
    buf = bytearray(MiB)
    view = memoryview(buf)
    with open(path, 'rb', buffering=0) as f:
        while True:
            count = f.readinto(buf)
            if not count:
                break
            digest.update(view[:count])
    return digest.hexdigest()


def scan_tree(top, workers=None):
    """relative path -> (kind, mode, mtime_ns, size or target, sha256)."""
    entries = {}
    files = []
    st = os.lstat(top)
    entries['.'] = ('dir', stat.S_IMODE(st.st_mode), st.st_mtime_ns, None,
                    None)
    pending = ['']
    while pending:
        rel = pending.pop()
        with os.scandir(os.path.join(top, rel) if rel else top) as it:
            for entry in it:
                path = '%s/%s' % (rel, entry.name) if rel else entry.name
                st = entry.stat(follow_symlinks=False)
                mode = stat.S_IMODE(st.st_mode)
                if stat.S_ISDIR(st.st_mode):
                    entries[path] = ('dir', mode, st.st_mtime_ns, None, None)
                    pending.append(path)
                elif stat.S_ISLNK(st.st_mode):
                    entries[path] = ('symlink', mode, st.st_mtime_ns,
                                     os.readlink(entry.path), None)
                elif stat.S_ISREG(st.st_mode):
                    entries[path] = ('file', mode, st.st_mtime_ns,
                                     st.st_size, None)
                    files.append(path)
                else:
                    entries[path] = ('other', mode, st.st_mtime_ns,
                                     stat.S_IFMT(st.st_mode), None)
    workers = workers or min(4, os.cpu_count() or 2)
    with futures.ThreadPoolExecutor(workers) as pool:
        digests = pool.map(lambda p: _hash_file(os.path.join(top, p)), files)
        for path, digest in zip(files, digests):
            entries[path] = entries[path][:4] + (digest,)
    return entries


def compare_trees(expected, actual, limit=8):
    """Differences between two scan_tree() results, as sentences."""
    problems = []
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    if missing:
        problems.append('%d missing, e.g. %s' % (len(missing),
                                                 ', '.join(missing[:3])))
    if extra:
        problems.append('%d unexpected, e.g. %s' % (len(extra),
                                                    ', '.join(extra[:3])))
    fields = ('type', 'mode', 'mtime', 'size/target', 'sha256')
    counts = collections.Counter()
    examples = []
    for path in sorted(set(expected) & set(actual)):
        want, got = expected[path], actual[path]
        if want == got:
            continue
        for index, name in enumerate(fields):
            if want[index] != got[index]:
                counts[name] += 1
                if len(examples) < limit:
                    shown = (oct(want[index]), oct(got[index])) if (
                        name == 'mode') else (want[index], got[index])
                    examples.append('%s: %s %r != %r' % (
                        path, name, shown[0], shown[1]))
    for name in fields:
        if counts[name]:
            problems.append('%d with a different %s' % (counts[name], name))
    return problems + examples


# --------------------------------------------------------------------------
# Processes: timing, CPU and peak RSS.

class Outcome(object):
    """How one measured operation went."""

    def __init__(self, name, seconds=None, ok=True, cpu=None, rss=None,
                 note=''):
        self.name = name
        self.seconds = seconds
        self.ok = ok
        self.cpu = cpu
        self.rss = rss
        self.note = note


def wait_rusage(proc, timeout=None):
    """Reap ``proc`` with wait4: (exit code, rusage, timed out)."""
    box = {}

    def reap():
        box['result'] = os.wait4(proc.pid, 0)

    reaper = threading.Thread(target=reap, daemon=True)
    reaper.start()
    reaper.join(timeout)
    timed_out = reaper.is_alive()
    if timed_out:
        proc.kill()
        reaper.join()
    _pid, status, usage = box['result']
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage, timed_out


def run_measured(name, cmd, log_path, timeout, env=None, cwd=None):
    """Run ``cmd`` once, timed from start to exit, after a sync."""
    os.sync()
    with open(log_path, 'ab') as log:
        log.write(('\n$ %s\n' % ' '.join(cmd)).encode())
        log.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, cwd=cwd)
        code, usage, timed_out = wait_rusage(proc, timeout)
        seconds = time.perf_counter() - started
    note = ''
    if timed_out:
        note = 'timed out after %ds' % timeout
    elif code:
        note = 'exit status %d (see %s)' % (code, log_path)
    return Outcome(name, seconds, ok=not code and not timed_out,
                   cpu=usage.ru_utime + usage.ru_stime,
                   rss=usage.ru_maxrss * KiB, note=note)


def run_quiet(cmd, log_path, env=None, cwd=None, timeout=600):
    with open(log_path, 'ab') as log:
        log.write(('\n$ %s\n' % ' '.join(cmd)).encode())
        log.flush()
        return subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                              timeout=timeout).returncode


def read_rss(pid, proc=None):
    if proc is not None:
        try:
            return proc.memory_info().rss
        except Exception:
            return None
    try:
        with open('/proc/%d/status' % pid) as status:
            for line in status:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) * KiB
    except OSError:
        return None
    return None


def read_cpu_seconds(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / clock_ticks()
    except (OSError, IndexError, ValueError):
        if psutil is not None:
            try:
                times = psutil.Process(pid).cpu_times()
                return times.user + times.system
            except Exception:
                return None
        return None


class RssSampler(threading.Thread):
    """The RSS of one process every ``interval`` seconds, peak per phase."""

    def __init__(self, pid, interval=0.05):
        super(RssSampler, self).__init__(name='rss-sampler', daemon=True)
        self.pid = pid
        self.interval = interval
        self.phase = None
        self.peak = 0
        self.peaks = collections.defaultdict(int)
        self.samples = 0
        self._stop_event = threading.Event()
        self._proc = None
        if psutil is not None:
            try:
                self._proc = psutil.Process(pid)
            except Exception:
                self._proc = None

    def sample(self):
        rss = read_rss(self.pid, self._proc)
        if rss is None:
            return
        self.samples += 1
        self.peak = max(self.peak, rss)
        phase = self.phase
        if phase is not None:
            self.peaks[phase] = max(self.peaks[phase], rss)

    def set_phase(self, phase):
        self.sample()
        self.phase = phase
        self.sample()

    def run(self):
        while not self._stop_event.wait(self.interval):
            self.sample()

    def stop(self):
        self._stop_event.set()
        self.join()


# --------------------------------------------------------------------------
# The sampling profiler that runs inside karbor-all with --profile.

IDLE_LEAVES = {
    ('threading.py', 'wait'), ('threading.py', '_wait_for_tstate_lock'),
    ('threading.py', 'join'), ('queue.py', 'get'), ('queue.py', 'put'),
    ('selectors.py', 'select'), ('socket.py', 'accept'),
    ('connections.py', 'get_conn'), ('connections.py', '_run_select'),
    # concurrent.futures workers block in SimpleQueue.get, written in C.
    ('thread.py', '_worker'),
    # oslo.messaging's fake driver waits for messages.
    ('impl_fake.py', 'poll'),
}


def _thread_group(name):
    return re.sub(r'\d+', 'N', name or '?')


def _code_key(code):
    return '%s:%d(%s)' % (code.co_filename, code.co_firstlineno,
                          code.co_name)


class StackSampler(threading.Thread):
    """Samples every thread's Python stack and CPU time.

    Wall samples count the leaf function of every thread whose leaf is
    not a known idle wait; CPU time (from /proc/self/task/N/schedstat)
    is charged to the stack seen at the end of each interval. A control
    file written by the benchmark asks for "reset" or "dump LABEL"; each
    request appends one JSON line to the output file.
    """

    def __init__(self, out_path, ctl_path, interval):
        super(StackSampler, self).__init__(name='bench-profiler',
                                           daemon=True)
        self.out_path = out_path
        self.ctl_path = ctl_path
        self.interval = interval
        self._ctl_seen = None
        self._cpu_last = {}
        self._reset()

    def _reset(self):
        self.samples = 0
        self.started = time.monotonic()
        self.threads = collections.defaultdict(
            lambda: {'busy': 0, 'idle': 0, 'cpu_ns': 0})
        self.self_wall = collections.Counter()
        self.self_cpu = collections.Counter()
        self.incl_wall = collections.Counter()
        self.incl_cpu = collections.Counter()

    @staticmethod
    def _schedstat(native_id):
        try:
            with open('/proc/self/task/%d/schedstat' % native_id) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _check_control(self):
        try:
            with open(self.ctl_path) as f:
                text = f.read().strip()
        except OSError:
            return
        if not text or text == self._ctl_seen:
            return
        self._ctl_seen = text
        _seq, command = text.split(' ', 1)
        record = {'request': text}
        if command.startswith('dump '):
            top = 40
            record.update(
                label=command[5:], samples=self.samples,
                interval=self.interval,
                seconds=round(time.monotonic() - self.started, 3),
                threads=dict(self.threads),
                self_wall=self.self_wall.most_common(top),
                self_cpu=self.self_cpu.most_common(top),
                incl_wall=self.incl_wall.most_common(top * 3),
                incl_cpu=self.incl_cpu.most_common(top * 3))
        self._reset()
        with open(self.out_path, 'a') as out:
            out.write(json.dumps(record) + '\n')

    def _sample(self, me):
        # CPU times first: reading /proc releases the GIL, and holding
        # other threads' frames meanwhile would keep their locals (chunk
        # buffers) alive after they return.
        cpu = {}
        for thread in threading.enumerate():
            native = thread.native_id
            now = self._schedstat(native) if native is not None else None
            last = self._cpu_last.get(native)
            if now is not None:
                self._cpu_last[native] = now
            cpu[thread.ident] = (
                _thread_group(thread.name),
                max(0, now - last) if None not in (now, last) else 0)
        self.samples += 1
        stacks = []
        frames = sys._current_frames()
        try:
            for ident, frame in frames.items():
                if ident != me:
                    stacks.append((ident, self._stack(frame)))
        finally:
            del frames
            frame = None
        for ident, (idle, keys) in stacks:
            name, used = cpu.get(ident, ('?', 0))
            group = self.threads[name]
            group['cpu_ns'] += used
            group['idle' if idle else 'busy'] += 1
            if not idle:
                self.self_wall[keys[0]] += 1
                for key in keys:
                    self.incl_wall[key] += 1
            if used:
                self.self_cpu[keys[0]] += used
                for key in keys:
                    self.incl_cpu[key] += used

    @staticmethod
    def _stack(frame):
        """(idle, distinct function keys from the leaf up)."""
        code = frame.f_code
        idle = (os.path.basename(code.co_filename),
                code.co_name) in IDLE_LEAVES
        keys = []
        seen = set()
        while frame is not None:
            key = _code_key(frame.f_code)
            if key not in seen:
                seen.add(key)
                keys.append(key)
            frame = frame.f_back
        return idle, keys

    def run(self):
        me = threading.get_ident()
        while True:
            time.sleep(self.interval)
            try:
                self._check_control()
                self._sample(me)
            except Exception as exc:  # never take the server down
                sys.stderr.write('bench-profiler: %r\n' % (exc,))


def serve_profiled(argv):
    """``protect.py --serve-profiled OUT CTL INTERVAL -- karbor args``."""
    out_path, ctl_path, interval = argv[0], argv[1], float(argv[2])
    karbor_args = argv[4:] if argv[3:4] == ['--'] else argv[3:]
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    from karbor.cmd import all as karbor_all
    sys.argv = ['karbor-all'] + karbor_args
    # Every thread's stack on SIGUSR2 (to the log), even if the server
    # is stuck: the benchmark asks for it when a request fails.
    faulthandler.register(signal.SIGUSR2, all_threads=True)
    StackSampler(out_path, ctl_path, interval).start()
    return karbor_all.main(karbor_args)


# --------------------------------------------------------------------------
# karbor-all and its API.

class ApiError(Exception):
    pass


def free_port():
    sock = socket.socket()
    try:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]
    finally:
        sock.close()


def karbor_all_command():
    script = os.path.join(os.path.dirname(sys.executable), 'karbor-all')
    if os.access(script, os.X_OK):
        return [script]
    found = shutil.which('karbor-all')
    if found:
        return [found]
    return [sys.executable, '-c',
            'import sys; from karbor.cmd.all import main; sys.exit(main())']


class KarborServer(object):
    """karbor-all in a subprocess with its own state, port and data root."""

    def __init__(self, base, data_root, overrides, profile_interval=None):
        self.base = base
        self.state = os.path.join(base, 'state')
        self.port = free_port()
        self.log_path = os.path.join(base, 'karbor-all.log')
        self.conf_path = os.path.join(base, 'karbor.conf')
        self.profile_out = None
        self.profile_ctl = None
        self._ctl_seq = 0
        sections = collections.OrderedDict()
        sections['DEFAULT'] = collections.OrderedDict([
            ('state_path', self.state),
            ('osapi_karbor_listen', HOST),
            ('osapi_karbor_listen_port', str(self.port)),
            ('auth_strategy', 'noauth'),
            ('debug', 'false'),
        ])
        sections['directory'] = collections.OrderedDict([
            ('root_path', data_root)])
        for section, option, value in overrides:
            sections.setdefault(section, collections.OrderedDict())[
                option] = value
        with open(self.conf_path, 'w') as conf:
            for section, options in sections.items():
                conf.write('[%s]\n' % section)
                for option, value in options.items():
                    conf.write('%s = %s\n' % (option, value))
                conf.write('\n')
        if profile_interval:
            self.profile_out = os.path.join(base, 'profile.jsonl')
            self.profile_ctl = os.path.join(base, 'profile.ctl')
            self.command = [sys.executable, os.path.abspath(__file__),
                            '--serve-profiled', self.profile_out,
                            self.profile_ctl, str(profile_interval), '--',
                            '--config-file', self.conf_path]
        else:
            self.command = karbor_all_command() + [
                '--config-file', self.conf_path]
        self.proc = None
        self.sampler = None
        self.usage = None

    @property
    def bank_path(self):
        return os.path.join(self.state, 'bank')

    def start(self, timeout=90):
        log = open(self.log_path, 'ab')
        try:
            self.proc = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, cwd=self.base)
        finally:
            log.close()
        self.sampler = RssSampler(self.proc.pid)
        self.sampler.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('karbor-all exited with status %s:\n%s' % (
                    self.proc.returncode, self.log_tail()))
            with open(self.log_path, 'rb') as log:
                if b'karbor-all: API on ' in log.read():
                    return
            time.sleep(0.1)
        raise RuntimeError('karbor-all did not serve within %ds:\n%s' % (
            timeout, self.log_tail()))

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, 'rb') as log:
                text = log.read().decode('utf-8', 'replace')
        except OSError:
            return ''
        return '\n'.join(text.splitlines()[-lines:])

    def cpu_seconds(self):
        return read_cpu_seconds(self.proc.pid)

    def stop(self, timeout=60):
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            _code, self.usage, _timed_out = wait_rusage(self.proc, timeout)
        if self.sampler is not None and self.sampler.is_alive():
            self.sampler.stop()

    # The profiler's control file.

    def profile_request(self, command, timeout=10):
        if not self.profile_ctl:
            return None
        self._ctl_seq += 1
        text = '%d %s' % (self._ctl_seq, command)
        temp = self.profile_ctl + '.tmp'
        with open(temp, 'w') as ctl:
            ctl.write(text)
        os.replace(temp, self.profile_ctl)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(self.profile_out) as out:
                    for line in out:
                        record = json.loads(line)
                        if record.get('request') == text:
                            return record
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        return None

    # REST.

    def call(self, method, path, body=None, expect=(200, 202)):
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        headers = {'X-Auth-Token': TOKEN, 'Accept': 'application/json'}
        data = None
        if body is not None:
            data = json.dumps(body).encode('utf-8')
            headers['Content-Type'] = 'application/json'
        try:
            conn.request(method, '/v1/%s%s' % (PROJECT, path), body=data,
                         headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ApiError('%s %s: %s' % (method, path, exc or repr(exc)))
        finally:
            conn.close()
        if resp.status not in expect:
            raise ApiError('%s %s: %d %s' % (
                method, path, resp.status, raw[:500].decode('utf-8',
                                                            'replace')))
        return json.loads(raw) if raw else None

    def wait_for(self, path, key, done, timeout, poll):
        deadline = time.monotonic() + timeout
        while True:
            doc = self.call('GET', path)[key]
            if doc['status'] in done:
                return doc
            if time.monotonic() > deadline:
                raise ApiError('%s still %s after %ds' % (
                    path, doc['status'], timeout))
            time.sleep(poll)


def checkpoint_figures(bank_path, checkpoint_id, resource_id):
    """The plugin's own extra_info of a checkpoint, from the bank."""
    path = os.path.join(bank_path, 'checkpoints', checkpoint_id, 'metadata')
    try:
        with open(path, 'rb') as meta:
            doc = json.loads(meta.read())
        return doc['resources'][resource_id].get('extra_info') or {}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def run_phase(server, phase, plan, checkpoint_ids, args):
    """POST one protect or restore and poll it to its final status."""
    if phase == 'restore':
        posted = server.call('POST', '/restores', {'restore': {
            'provider_id': PROVIDER_ID,
            'checkpoint_id': checkpoint_ids[0],
            'parameters': {RESOURCE_TYPE: {
                'restore_name': KARBOR_RESTORE_NAME}}}})['restore']
        final = server.wait_for('/restores/%s' % posted['id'], 'restore',
                                ('success', 'error'), args.timeout,
                                args.poll)
        ok = final['status'] == 'success'
        note = '' if ok else 'restore %s: %s' % (
            final['status'], final.get('resources_reason'))
        return ok, note, posted, final
    checkpoints = '/providers/%s/checkpoints' % PROVIDER_ID
    posted = server.call('POST', checkpoints, {'checkpoint': {
        'plan_id': plan['id']}})['checkpoint']
    final = server.wait_for('%s/%s' % (checkpoints, posted['id']),
                            'checkpoint', ('available', 'error'),
                            args.timeout, args.poll)
    ok = final['status'] == 'available'
    note = '' if ok else 'checkpoint %s: %s' % (
        final['status'], final.get('error_reason') or
        final.get('resources_status'))
    if ok:
        checkpoint_ids.append(posted['id'])
    return ok, note, posted, final


def run_karbor(args, work, source, expected, tree_bytes):
    """Protect, protect again, restore through the API; verify."""
    results = {}
    info = {'figures': {}, 'verify': None, 'profile': {}}
    base = os.path.join(work, 'karbor')
    os.mkdir(base)
    server = KarborServer(base, os.path.join(work, 'data'), args.set,
                          args.profile_interval if args.profile else None)
    info['server'] = server
    print('karbor: starting %s' % ' '.join(server.command), flush=True)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    try:
        instances = server.call(
            'GET', '/protectables/%s/instances' % RESOURCE_TYPE)['instances']
        resource = next((i for i in instances if i['name'] == SOURCE_NAME),
                        None)
        if resource is None:
            raise ApiError('no %s instance named %s among %r' % (
                RESOURCE_TYPE, SOURCE_NAME, instances))
        plan = server.call('POST', '/plans', {'plan': {
            'name': 'protect-bench', 'provider_id': PROVIDER_ID,
            'resources': [{'id': resource['id'], 'type': RESOURCE_TYPE,
                           'name': resource['name']}],
            'parameters': {}}})['plan']
        checkpoint_ids = []
        for phase, label in PHASES:
            if phase == 'restore' and not checkpoint_ids:
                break
            os.sync()
            server.profile_request('reset')
            cpu_before = server.cpu_seconds()
            server.sampler.set_phase(phase)
            started = time.perf_counter()
            try:
                ok, note, posted, final = run_phase(
                    server, phase, plan, checkpoint_ids, args)
            except ApiError as exc:
                seconds = time.perf_counter() - started
                server.sampler.set_phase(None)
                results[phase] = Outcome(label, seconds, ok=False,
                                         note=str(exc))
                raise
            seconds = time.perf_counter() - started
            server.sampler.set_phase(None)
            cpu_after = server.cpu_seconds()
            cpu = (cpu_after - cpu_before
                   if None not in (cpu_before, cpu_after) else None)
            results[phase] = Outcome(label, seconds, ok=ok, cpu=cpu,
                                     rss=server.sampler.peaks.get(phase),
                                     note=note)
            record = server.profile_request('dump %s' % phase)
            if record:
                info['profile'][phase] = record
            if phase != 'restore' and ok:
                info['figures'][phase] = checkpoint_figures(
                    server.bank_path, posted['id'], resource['id'])
            print('karbor: %s %s in %.2fs' % (
                label, final['status'], seconds), flush=True)
    except ApiError as exc:
        print('karbor: %s' % exc, flush=True)
        info['error'] = str(exc)
        if server.profile_out and server.proc.poll() is None:
            # The profiling wrapper dumps every thread's stack.
            os.kill(server.proc.pid, signal.SIGUSR2)
            time.sleep(1)
    finally:
        server.stop()
    if info.get('error'):
        info['log_tail'] = server.log_tail(args.log_lines)
    restored = os.path.join(work, 'data', PROJECT, KARBOR_RESTORE_NAME)
    if 'restore' in results and results['restore'].ok:
        info['verify'] = compare_trees(expected, scan_tree(restored))
    if not args.keep:
        shutil.rmtree(restored, ignore_errors=True)
        shutil.rmtree(server.state, ignore_errors=True)
    return results, info


# --------------------------------------------------------------------------
# Peers.

def ensure_restic(args, log_path):
    if shutil.which('restic'):
        return True
    if args.no_install or os.geteuid() != 0 or not shutil.which('apt-get'):
        return False
    print('restic: not installed; apt-get install -y restic ...', flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    cmd = ['apt-get', 'install', '-y', '--no-install-recommends', 'restic']
    try:
        if run_quiet(cmd, log_path, env=env) != 0:
            run_quiet(['apt-get', 'update'], log_path, env=env)
            run_quiet(cmd, log_path, env=env)
    except (OSError, subprocess.SubprocessError) as exc:
        print('restic: install failed: %s' % exc, flush=True)
    return bool(shutil.which('restic'))


def tool_version(cmd):
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return '?'
    return out.decode('utf-8', 'replace').strip().splitlines()[0] if out \
        else '?'


def run_tar(args, work, source):
    log = os.path.join(work, 'tar.log')
    cmd = ['bash', '-c', 'set -o pipefail; tar cf - -C "$1" "$2" | '
           'sha256sum', 'tar-bench', os.path.dirname(source),
           os.path.basename(source)]
    run_measured('warm-up', cmd, log, args.timeout)
    return run_measured('tar cf - | sha256sum', cmd, log, args.timeout)


def run_restic(args, work, source, expected):
    base = os.path.join(work, 'restic')
    os.mkdir(base)
    log = os.path.join(base, 'restic.log')
    password = os.path.join(base, 'password')
    with open(password, 'w') as f:
        f.write('karbor-protect-bench\n')
    env = dict(os.environ, RESTIC_REPOSITORY=os.path.join(base, 'repo'),
               RESTIC_PASSWORD_FILE=password,
               RESTIC_CACHE_DIR=os.path.join(base, 'cache'))
    results = {}
    info = {'version': tool_version(['restic', 'version']), 'verify': None,
            'log': log}
    if run_quiet(['restic', 'init'], log, env=env) != 0:
        info['error'] = 'restic init failed (see %s)' % log
        return results, info
    backup = ['restic', 'backup', '--host', 'karbor-bench', source]
    results['backup-1'] = run_measured('restic backup (first)', backup, log,
                                       args.timeout, env=env)
    results['backup-2'] = run_measured('restic backup (unchanged)', backup,
                                       log, args.timeout, env=env)
    target = os.path.join(base, 'restore')
    results['restore'] = run_measured(
        'restic restore', ['restic', 'restore', 'latest', '--target', target],
        log, args.timeout, env=env)
    restored = os.path.join(target, source.lstrip('/'))
    if results['restore'].ok:
        info['verify'] = compare_trees(expected, scan_tree(restored))
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return results, info


def run_borg(args, work, source, expected):
    base = os.path.join(work, 'borg')
    os.mkdir(base)
    log = os.path.join(base, 'borg.log')
    repo = os.path.join(base, 'repo')
    env = dict(os.environ, BORG_PASSPHRASE='karbor-protect-bench',
               BORG_BASE_DIR=os.path.join(base, 'home'),
               BORG_RELOCATED_REPO_ACCESS_IS_OK='yes',
               BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK='yes')
    results = {}
    info = {'version': tool_version(['borg', '--version']), 'verify': None,
            'log': log}
    if run_quiet(['borg', 'init', '--encryption=repokey', repo], log,
                 env=env) != 0:
        info['error'] = 'borg init failed (see %s)' % log
        return results, info
    results['backup-1'] = run_measured(
        'borg create (first)', ['borg', 'create', repo + '::first', source],
        log, args.timeout, env=env)
    results['backup-2'] = run_measured(
        'borg create (unchanged)',
        ['borg', 'create', repo + '::second', source], log, args.timeout,
        env=env)
    target = os.path.join(base, 'restore')
    os.mkdir(target)
    results['restore'] = run_measured(
        'borg extract', ['borg', 'extract', repo + '::second'], log,
        args.timeout, env=env, cwd=target)
    restored = os.path.join(target, source.lstrip('/'))
    if results['restore'].ok:
        info['verify'] = compare_trees(expected, scan_tree(restored))
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return results, info


# --------------------------------------------------------------------------
# The report.

def machine_summary():
    cores = os.cpu_count()
    mem = None
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemTotal:'):
                    mem = int(line.split()[1]) * KiB
    except OSError:
        pass
    return '%s cores (%s), %s RAM, Linux %s, Python %s' % (
        cores, bench_machine.cpu_model(), human_bytes(mem) if mem else '?',
        platform.release(), platform.python_version())


def filesystem_of(path):
    best = ('', '?')
    try:
        with open('/proc/mounts') as f:
            for line in f:
                parts = line.split()
                mount = parts[1].replace('\\040', ' ')
                if (path == mount or path.startswith(mount.rstrip('/') + '/')
                        or mount == '/') and len(mount) >= len(best[0]):
                    best = (mount, parts[2])
    except OSError:
        pass
    return '%s on %s' % (best[1], best[0] or '?')


def loadavg():
    try:
        return '%.2f %.2f %.2f' % os.getloadavg()
    except OSError:
        return '?'


def _fmt(value, pattern, empty='-'):
    return empty if value is None else pattern % value


def print_report(args, plan, tree_bytes, rows, checks, notes, header):
    print()
    print('=' * 78)
    for line in header:
        print(line)
    print()
    head = ('operation', 'seconds', 'MB/s', 'CPU s', 'peak RSS',
            'vs restic', 'result')
    widths = (28, 8, 8, 7, 10, 9, 6)
    fmt = '  '.join('%-' + str(w) + 's' if i == 0 else '%' + str(w) + 's'
                    for i, w in enumerate(widths))
    print(fmt % head)
    print('  '.join('-' * w for w in widths))
    for outcome, ratio in rows:
        mbps = (tree_bytes / MB / outcome.seconds
                if outcome.seconds and outcome.ok else None)
        print(fmt % (
            outcome.name[:widths[0]],
            _fmt(outcome.seconds, '%.2f'),
            _fmt(mbps, '%.1f'),
            _fmt(outcome.cpu, '%.1f'),
            _fmt(outcome.rss and outcome.rss / MiB, '%.0f MiB'),
            _fmt(ratio, '%.2fx'),
            'ok' if outcome.ok else 'FAILED'))
    print()
    print('targets:')
    for text, value, verdict in checks:
        print('  %-52s %-12s %s' % (text, value, verdict))
    if notes:
        print()
        for note in notes:
            print(note)
    print('=' * 78)


def shorten(key):
    path, _, rest = key.partition(':')
    for prefix in (REPO + '/', sys.prefix + '/lib/'):
        if path.startswith(prefix):
            path = path[len(prefix):]
            break
    else:
        marker = 'site-packages/'
        if marker in path:
            path = path.split(marker, 1)[1]
        elif '/lib/python' in path:
            path = 'stdlib/' + os.path.basename(path)
    return '%s:%s' % (path, rest)


def print_profile(profile, top, phases=PHASES):
    """Print the sampler's records of ``phases`` ((key, label) pairs)."""
    if not profile:
        return
    print()
    print('profile of karbor-all (sampling every %s s; wall = samples of a '
          'thread not waiting idle, CPU from schedstat)' % (
              next(iter(profile.values())).get('interval')))
    for phase, label in phases:
        record = profile.get(phase)
        if not record:
            continue
        print()
        print('-- %s: %d samples over %.2fs' % (label, record['samples'],
                                                record['seconds']))
        threads = sorted(record['threads'].items(),
                         key=lambda kv: -kv[1]['cpu_ns'])
        print('   threads (CPU s, busy/idle samples): ' + '; '.join(
            '%s %.2f %d/%d' % (name, v['cpu_ns'] / 1e9, v['busy'],
                               v['idle'])
            for name, v in threads if v['cpu_ns'] or v['busy']))
        total_cpu = sum(v['cpu_ns'] for v in record['threads'].values())
        print('   CPU by leaf function (%.2f s in all):' % (total_cpu / 1e9))
        for key, ns in record['self_cpu'][:top]:
            print('     %6.2fs %5.1f%%  %s' % (
                ns / 1e9, 100.0 * ns / max(1, total_cpu), shorten(key)))
        karbor = [(k, v) for k, v in record['incl_cpu']
                  if '/karbor/' in k and 'protect.py' not in k]
        print('   CPU including callees, Karbor functions:')
        for key, ns in karbor[:top]:
            print('     %6.2fs %5.1f%%  %s' % (
                ns / 1e9, 100.0 * ns / max(1, total_cpu), shorten(key)))
        total_wall = sum(v for _k, v in record['self_wall'])
        print('   busy wall samples by leaf function (%d in all):' % sum(
            v['busy'] for v in record['threads'].values()))
        for key, count in record['self_wall'][:top]:
            print('     %6d %5.1f%%  %s' % (
                count, 100.0 * count / max(1, total_wall), shorten(key)))


def verify_check(name, verify):
    if verify is None:
        return ('%s restored tree equal to the source' % name, 'not run',
                'FAIL')
    return ('%s restored tree equal to the source' % name,
            'equal' if not verify else '%d problems' % len(verify),
            'PASS' if not verify else 'FAIL')


def evaluate(args, tree_bytes, karbor, kinfo, restic, rinfo, borg, binfo,
             tar):
    rows = []
    checks = []
    notes = []

    def ratio(ours, theirs):
        if (ours is None or theirs is None or not ours.ok or not theirs.ok
                or not ours.seconds):
            return None
        return theirs.seconds / ours.seconds

    rows.append((tar, None))
    counterparts = {'protect-1': 'backup-1', 'protect-2': 'backup-2',
                    'restore': 'restore'}
    for phase, label in PHASES:
        outcome = karbor.get(phase) or Outcome(label, ok=False,
                                               note='not run')
        rows.append((outcome, ratio(outcome,
                                    restic.get(counterparts[phase]))))
    for key in ('backup-1', 'backup-2', 'restore'):
        if key in restic:
            rows.append((restic[key], None))
    for key in ('backup-1', 'backup-2', 'restore'):
        if key in borg:
            rows.append((borg[key], None))

    def target(text, value, goal, fmt='%.2fx'):
        if value is None:
            checks.append((text, 'n/a', 'FAIL' if restic else 'SKIP'))
        else:
            checks.append((text, fmt % value,
                           'PASS' if value >= goal else 'FAIL'))

    first = karbor.get('protect-1')
    target('first protect >= %.1fx restic backup throughput'
           % FIRST_VS_RESTIC, ratio(first, restic.get('backup-1')),
           FIRST_VS_RESTIC)
    target('unchanged protect >= %.0fx faster than first protect'
           % UNCHANGED_SPEEDUP, ratio(karbor.get('protect-2'), first),
           UNCHANGED_SPEEDUP)
    if ratio(karbor.get('protect-2'), first) is None:
        checks[-1] = checks[-1][:2] + ('FAIL',)
    target('restore >= %.1fx restic restore throughput' % RESTORE_VS_RESTIC,
           ratio(karbor.get('restore'), restic.get('restore')),
           RESTORE_VS_RESTIC)
    checks.append(verify_check('karbor', kinfo.get('verify')))
    if restic:
        checks.append(verify_check('restic', rinfo.get('verify')))
    if borg:
        checks.append(verify_check('borg', binfo.get('verify')))
    server = kinfo.get('server')
    peak = server.sampler.peak if server and server.sampler else None
    kernel_peak = (server.usage.ru_maxrss * KiB
                   if server and server.usage else None)
    if peak:
        checks.append(('karbor-all peak RSS < %d MiB (sampled every %d ms)'
                       % (RSS_LIMIT // MiB, server.sampler.interval * 1000),
                       '%.0f MiB' % (peak / MiB),
                       'PASS' if peak < RSS_LIMIT else 'FAIL'))
    else:
        checks.append(('karbor-all peak RSS < %d MiB' % (RSS_LIMIT // MiB),
                       'n/a', 'FAIL'))

    # Notes: failures, the plugin's own figures, versions.
    for outcome, _ratio in rows:
        if outcome.note:
            notes.append('%s: %s' % (outcome.name, outcome.note))
    for name, info in (('karbor', kinfo), ('restic', rinfo),
                       ('borg', binfo)):
        if info.get('error') and not any(
                note.endswith(info['error']) for note in notes):
            notes.append('%s: %s' % (name, info['error']))
        for problem in (info.get('verify') or [])[:12]:
            notes.append('%s restore differs: %s' % (name, problem))
    if kernel_peak:
        notes.append('karbor-all: peak RSS %s sampled (%d samples), %s by '
                     'the kernel (ru_maxrss, start to stop)' % (
                         human_bytes(peak or 0),
                         server.sampler.samples, human_bytes(kernel_peak)))
    for phase, label in PHASES[:2]:
        figures = kinfo['figures'].get(phase)
        if figures:
            wall = karbor[phase].seconds
            notes.append(
                '%s: plugin says %.2fs (API wall %.2fs), read %s, wrote %s, '
                '%d chunks written, %d reused, %d of %d files unchanged' % (
                    label, figures.get('duration_seconds', 0), wall,
                    human_bytes(figures.get('bytes_read', 0)),
                    human_bytes(figures.get('bytes_written', 0)),
                    figures.get('chunks_written', 0),
                    figures.get('chunks_reused', 0),
                    figures.get('files_unchanged', 0),
                    figures.get('files', 0)))
    if args.set:
        notes.append('karbor options set: ' + ', '.join(
            '[%s] %s = %s' % o for o in args.set))
    if rinfo.get('version'):
        notes.append('restic: %s' % rinfo['version'])
    elif not restic:
        notes.append('restic: not installed; its rows and ratios are '
                     'missing (targets SKIP)')
    if binfo.get('version'):
        notes.append('borg: %s (repokey, default lz4 compression)' %
                     binfo['version'])
    return rows, checks, notes


# --------------------------------------------------------------------------

def parse_set(text):
    match = re.match(r'^([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)=(.*)$', text)
    if not match:
        raise argparse.ArgumentTypeError(
            'expected SECTION.OPTION=VALUE, got %r' % text)
    return match.groups()


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description='Protect, re-protect and restore a seeded tree through '
                    'the Karbor API, against tar and restic/borg.')
    parser.add_argument('--size-mib', type=int, default=1024,
                        help='approximate tree size in MiB (default 1024); '
                             'every kind of file scales with it')
    parser.add_argument('--seed', type=int, default=1,
                        help='seed of the tree (default 1)')
    parser.add_argument('--workdir', default=tempfile.gettempdir(),
                        help='directory in which a new work directory is '
                             'made (default %(default)s)')
    parser.add_argument('--keep', action='store_true',
                        help='keep the work directory (tree, bank, '
                             'repositories, restored trees, logs)')
    parser.add_argument('--no-install', action='store_true',
                        help='never apt-get install restic')
    parser.add_argument('--no-restic', action='store_true')
    parser.add_argument('--no-borg', action='store_true')
    parser.add_argument('--timeout', type=int, default=1800,
                        help='seconds allowed per operation (default 1800)')
    parser.add_argument('--poll', type=float, default=0.02,
                        help='seconds between status polls (default 0.02)')
    parser.add_argument('--set', type=parse_set, action='append',
                        default=[], metavar='SECTION.OPTION=VALUE',
                        help='extra karbor.conf option, e.g. '
                             'directory.workers=2 (repeatable)')
    parser.add_argument('--profile', action='store_true',
                        help='run karbor-all under a sampling profiler and '
                             'print where its time went')
    parser.add_argument('--profile-interval', type=float, default=0.01)
    parser.add_argument('--log-lines', type=int, default=300,
                        help='lines of the karbor-all log printed when an '
                             'API call fails (default 300)')
    parser.add_argument('--top', type=int, default=12,
                        help='functions per profile list (default 12)')
    return parser.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['--serve-profiled']:
        return serve_profiled(argv[1:]) or 0
    args = parse_args(argv)
    load_before = loadavg()
    plan = TreePlan(args.size_mib, args.seed)
    tree_bytes = plan.total_bytes
    os.makedirs(args.workdir, exist_ok=True)
    factor = SPACE_FACTOR_KEEP if args.keep else SPACE_FACTOR
    need = int(tree_bytes * factor) + 256 * MiB
    free = shutil.disk_usage(args.workdir).free
    if free < need:
        print('benchmark aborted: %s free in %s, %s needed' % (
            human_bytes(free), args.workdir, human_bytes(need)),
            file=sys.stderr)
        return 1
    work = tempfile.mkdtemp(prefix='karbor-protect-bench-',
                            dir=args.workdir)
    work = os.path.realpath(work)
    print('work directory %s (%s free, %s needed)' % (
        work, human_bytes(free), human_bytes(need)), flush=True)
    karbor, kinfo, restic, rinfo, borg, binfo = {}, {}, {}, {}, {}, {}
    try:
        have_restic = not args.no_restic and ensure_restic(
            args, os.path.join(work, 'install.log'))
        have_borg = not args.no_borg and bool(shutil.which('borg'))
        source = os.path.join(work, 'data', PROJECT, SOURCE_NAME)
        os.makedirs(os.path.dirname(source))
        started = time.perf_counter()
        plan.build(source)
        os.sync()
        built = time.perf_counter() - started
        started = time.perf_counter()
        expected = scan_tree(source)
        scanned = time.perf_counter() - started
        counts = collections.Counter(v[0] for v in expected.values())
        print('tree: %s in %d files, %d directories, %d symlinks '
              '(built in %.1fs, hashed in %.1fs)' % (
                  human_bytes(tree_bytes), counts['file'], counts['dir'],
                  counts['symlink'], built, scanned), flush=True)
        tar = run_tar(args, work, source)
        print('tar: %.2fs' % tar.seconds, flush=True)
        try:
            karbor, kinfo = run_karbor(args, work, source, expected,
                                       tree_bytes)
        except RuntimeError as exc:
            print('benchmark aborted: %s' % exc, file=sys.stderr)
            return 1
        if have_restic:
            restic, rinfo = run_restic(args, work, source, expected)
            print('restic: done', flush=True)
        if have_borg:
            borg, binfo = run_borg(args, work, source, expected)
            print('borg: done', flush=True)
        header = [
            'Karbor protect benchmark: seed %d, tree %s (%d bytes): '
            '%d files, %d directories, %d symlinks' % (
                args.seed, human_bytes(tree_bytes), tree_bytes,
                counts['file'], counts['dir'], counts['symlink']),
            'machine: %s' % machine_summary(),
            'work directory: %s (%s)' % (work, filesystem_of(work)),
            'load average (1, 5, 15 min): %s before, %s after' % (
                load_before, loadavg()),
            'MB/s = tree bytes / 10**6 / seconds; "vs restic" = restic '
            'seconds / Karbor seconds for the same operation; warm cache',
        ]
        rows, checks, notes = evaluate(args, tree_bytes, karbor, kinfo,
                                       restic, rinfo, borg, binfo, tar)
        print_report(args, plan, tree_bytes, rows, checks, notes, header)
        print_profile(kinfo.get('profile'), args.top)
        if kinfo.get('log_tail'):
            print()
            print('last lines of the karbor-all log:')
            print(kinfo['log_tail'])
    finally:
        if args.keep:
            print('kept %s' % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
