"""Checkpoint verification throughput of Karbor against sha256sum and restic.

One run, one machine, one protected tree:

1. The seeded tree of benchmarks/protect.py (about 1 GiB by default) is
   built, karbor-all is started as a subprocess with its own state
   directory and port, and the tree is protected once through the REST
   API. The chunk files of that checkpoint are found from its manifest in
   the file-system bank (``<bank>/chunks/<project>/<xx>/<sha256>``); their
   total size is the byte count every Karbor and sha256sum throughput is
   computed over. When restic is there (as root the script runs
   ``apt-get install -y restic`` if it is missing, unless --no-install),
   a restic repository of the same tree is made too.
2. ``--repeat`` rounds (3 by default) then measure, in this order:
   the machine's hashing limit (hashlib SHA-256 over in-memory 4 MiB
   buffers, one thread per core, in this process); ``sha256sum`` over the
   checkpoint's chunk files in one process; the same files through
   ``xargs -0 -P2 sha256sum``; ``restic check --read-data`` of the
   repository; a Karbor ``full`` verification of the checkpoint and a
   Karbor ``quick`` one, each timed from the POST to the final status
   seen by polling. Before each reading run the files it reads are read
   once, unmeasured, so that every tool starts from a warm page cache
   (the file-system bank drops the pages of the chunks it reads, so
   without that Karbor would read from the disk and the others from
   memory). A last round, unless --no-cold, drops those pages first
   (``posix_fadvise(DONTNEED)`` after a sync) and times sha256sum,
   restic and Karbor's full verification from the disk; it has no target.
3. The resident set size of karbor-all is sampled every 50 ms from start
   to stop. The verification's own operation log (``GET
   /v1/<project>/operation_logs?verification_id=<id>``) gives the
   plugin's figures (bytes read, chunks, its duration and throughput).
4. A table gives, per operation, the median of the runs (and the
   fastest and slowest), MB/s (bytes / 10**6 / median seconds), CPU
   seconds, peak RSS and the ratio to restic, then PASS or FAIL per
   target:

   - Karbor full verify >= 4x the throughput of restic check --read-data
     (SKIP when restic is not installed);
   - Karbor full verify >= 50 % of the hashing limit;
   - Karbor quick verify < 1 s;
   - peak RSS of karbor-all < 300 MiB;
   - every Karbor verification ends ``success`` and sha256sum finds every
     chunk's SHA-256 equal to its name.

``--profile`` runs karbor-all under protect.py's sampling profiler and
prints where CPU and wall time went in the last full and quick
verification. The work directory (under --workdir, /tmp by default)
needs about 3.2 times the tree size free and is removed at the end unless
--keep. The exit status is 0 whatever the targets, 1 when the benchmark
could not run (no space, karbor-all not starting, the protect failing).

Usage::

    python benchmarks/verify.py [--size-mib 1024] [--seed 1] [--repeat 3]
                                [--workdir DIR] [--keep] [--profile]
                                [--set SECTION.OPTION=VALUE ...]
"""

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import protect as bench  # noqa: E402  (the tree, the server, the sampler)

MiB = bench.MiB
MB = bench.MB
PROJECT = bench.PROJECT
PROVIDER_ID = bench.PROVIDER_ID
RESOURCE_TYPE = bench.RESOURCE_TYPE

# Targets.
FULL_VS_RESTIC = 4.0
FULL_VS_HASH_LIMIT = 0.5
QUICK_LIMIT = 1.0
RSS_LIMIT = bench.RSS_LIMIT

# The tree, the bank and restic's repository (each about a tree's size).
SPACE_FACTOR = 3.2

HASH_BUFFER = 4 * MiB
DIGEST_NAME = re.compile(r'^[0-9a-f]{64}$')

# Phases of karbor-all the RSS sampler and the profiler tell apart.
PHASES = (('protect', 'karbor protect (first)'),
          ('verify-full', 'karbor verify full (warm)'),
          ('verify-quick', 'karbor verify quick'),
          ('verify-cold', 'karbor verify full (cold)'))


# --------------------------------------------------------------------------
# Files and the page cache.

def read_files(paths):
    """Read every file once (to warm the page cache); the bytes read."""
    buf = bytearray(MiB)
    total = 0
    for path in paths:
        with open(path, 'rb', buffering=0) as f:
            while True:
                count = f.readinto(buf)
                if not count:
                    break
                total += count
    return total


def drop_files(paths):
    """Ask the kernel to forget the (clean) pages of ``paths``."""
    os.sync()
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        except (AttributeError, OSError):
            pass
        finally:
            os.close(fd)


def files_under(top):
    found = []
    for parent, _dirs, names in os.walk(top):
        for name in names:
            path = os.path.join(parent, name)
            if os.path.isfile(path) and not os.path.islink(path):
                found.append(path)
    return sorted(found)


def checkpoint_chunks(bank, checkpoint_id, resource_id):
    """The checkpoint's chunk files: (paths, bytes, notes).

    From its manifest (named in the checkpoint metadata); every file
    under the project's chunk directory when the manifest cannot be read.
    """
    notes = []
    top = os.path.join(bank, 'chunks', PROJECT)
    listed = files_under(top)
    digests = None
    try:
        with open(os.path.join(bank, 'checkpoints', checkpoint_id,
                               'metadata'), 'rb') as f:
            meta = json.loads(f.read())
        key = meta['resources'][resource_id]['saved_info']['manifest']
        with open(os.path.join(bank, *key.split('/')), 'rb') as f:
            manifest = json.loads(f.read())
        digests = sorted({ref[0] for entry in manifest['entries']
                          if entry.get('type') == 'file'
                          for ref in entry.get('chunks') or ()})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        notes.append('manifest not read (%r): every file under %s counted'
                     % (exc, top))
    if digests is None:
        paths = listed
    else:
        paths = [os.path.join(top, d[:2], d) for d in digests]
        missing = [p for p in paths if not os.path.isfile(p)]
        if missing:
            notes.append('%d chunks of the manifest are not in the bank'
                         % len(missing))
            paths = [p for p in paths if p not in set(missing)]
        extra = len(set(listed) - set(paths))
        if extra:
            notes.append('%d files under %s are not chunks of the '
                         'checkpoint (not counted)' % (extra, top))
    size = sum(os.path.getsize(p) for p in paths)
    return paths, size, notes


def cpu_snapshot(pid):
    """(monotonic s, CPU s the machine was busy, CPU s of this benchmark).

    The machine's from /proc/stat (user, nice, system, irq, softirq and
    steal, over every core); this benchmark's are its own process, its
    reaped children (the tools) and karbor-all.
    """
    busy = None
    try:
        with open('/proc/stat') as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields
        busy = (user + nice + system + irq + softirq + steal) / \
            bench.clock_ticks()
    except (OSError, ValueError):
        pass
    ours = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        ours += usage.ru_utime + usage.ru_stime
    ours += bench.read_cpu_seconds(pid) or 0.0
    return time.monotonic(), busy, ours


def others_busy(before, after):
    """Cores' worth of CPU used by other processes between snapshots."""
    if None in (before[1], after[1]) or after[0] <= before[0]:
        return None
    others = (after[1] - before[1]) - (after[2] - before[2])
    return max(0.0, others / (after[0] - before[0]))


# --------------------------------------------------------------------------
# Timed runs.

def run_timed(name, cmd, log_path, timeout, env=None, stdin_path=None,
              out_path=None):
    """Run ``cmd`` once, timed from start to exit (CPU, RSS from wait4).

    stdout goes to ``out_path`` (appended) or else to the log.
    """
    with open(log_path, 'ab') as log:
        shown = ' '.join(cmd)
        log.write(('\n$ %s\n' % (shown if len(shown) < 400 else
                                 shown[:400] + ' ...')).encode())
        log.flush()
        out = open(out_path, 'ab') if out_path else log
        stdin = open(stdin_path, 'rb') if stdin_path else subprocess.DEVNULL
        try:
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=out, stderr=log, stdin=stdin,
                                    env=env)
            code, usage, timed_out = bench.wait_rusage(proc, timeout)
            seconds = time.perf_counter() - started
        finally:
            if out_path:
                out.close()
            if stdin_path:
                stdin.close()
    note = ''
    if timed_out:
        note = 'timed out after %ds' % timeout
    elif code:
        note = 'exit status %d (see %s)' % (code, log_path)
    return bench.Outcome(name, seconds, ok=not code and not timed_out,
                         cpu=usage.ru_utime + usage.ru_stime,
                         rss=usage.ru_maxrss * bench.KiB, note=note)


def hashing_limit(seconds, threads):
    """hashlib SHA-256 over in-memory 4 MiB buffers, ``threads`` threads.

    Returns (Outcome, bytes hashed): the Outcome's seconds run from the
    common start to the last thread's end, its CPU is the threads' own.
    """
    buffers = [os.urandom(HASH_BUFFER) for _ in range(threads)]
    for buf in buffers:
        hashlib.sha256(buf).digest()
    counts = [0] * threads
    ends = [0.0] * threads
    cpu = [0.0] * threads
    gate = threading.Barrier(threads + 1)
    box = {}

    def work(index):
        buf = buffers[index]
        sha256 = hashlib.sha256
        gate.wait()
        deadline = box['deadline']
        cpu_start = time.thread_time()
        count = 0
        while True:
            sha256(buf).digest()
            count += 1
            if time.perf_counter() >= deadline:
                break
        ends[index] = time.perf_counter()
        counts[index] = count
        cpu[index] = time.thread_time() - cpu_start

    workers = [threading.Thread(target=work, args=(i,), daemon=True,
                                name='hash-limit-%d' % i)
               for i in range(threads)]
    for worker in workers:
        worker.start()
    box['start'] = time.perf_counter()
    box['deadline'] = box['start'] + seconds
    gate.wait()
    for worker in workers:
        worker.join()
    elapsed = max(ends) - box['start']
    done = sum(counts) * HASH_BUFFER
    return bench.Outcome('hashlib limit', elapsed, cpu=sum(cpu)), done


def check_sums(out_path, paths):
    """sha256sum's lines against the chunk names: (lines, bad) or None."""
    wanted = {os.path.basename(p): p for p in paths}
    seen = set()
    bad = 0
    try:
        with open(out_path, 'rb') as f:
            lines = f.read().decode('utf-8', 'replace').splitlines()
    except OSError:
        return None
    for line in lines:
        digest, _sep, path = line.partition('  ')
        name = os.path.basename(path)
        if name not in wanted or not DIGEST_NAME.match(digest):
            bad += 1
            continue
        seen.add(name)
        if digest != name:
            bad += 1
    bad += len(set(wanted) - seen)
    return len(lines), bad


# --------------------------------------------------------------------------
# Karbor.

def protect_once(server, args):
    """Plan and protect the tree: (checkpoint id, resource id, Outcome)."""
    instances = server.call(
        'GET', '/protectables/%s/instances' % RESOURCE_TYPE)['instances']
    resource = next((i for i in instances
                     if i['name'] == bench.SOURCE_NAME), None)
    if resource is None:
        raise bench.ApiError('no %s instance named %s among %r' % (
            RESOURCE_TYPE, bench.SOURCE_NAME, instances))
    plan = server.call('POST', '/plans', {'plan': {
        'name': 'verify-bench', 'provider_id': PROVIDER_ID,
        'resources': [{'id': resource['id'], 'type': RESOURCE_TYPE,
                       'name': resource['name']}],
        'parameters': {}}})['plan']
    os.sync()
    cpu_before = server.cpu_seconds()
    server.sampler.set_phase('protect')
    started = time.perf_counter()
    checkpoint_ids = []
    ok, note, posted, _final = bench.run_phase(server, 'protect-1', plan,
                                               checkpoint_ids, args)
    seconds = time.perf_counter() - started
    server.sampler.set_phase(None)
    cpu_after = server.cpu_seconds()
    outcome = bench.Outcome(
        dict(PHASES)['protect'], seconds, ok=ok,
        cpu=(cpu_after - cpu_before
             if None not in (cpu_before, cpu_after) else None),
        rss=server.sampler.peaks.get('protect'), note=note)
    if not ok:
        raise bench.ApiError('protect failed: %s' % note)
    return posted['id'], resource['id'], outcome


def karbor_verify(server, checkpoint_id, mode, phase, args):
    """One verification, POST to final status: (Outcome, final, log)."""
    server.profile_request('reset')
    cpu_before = server.cpu_seconds()
    server.sampler.set_phase(phase)
    started = time.perf_counter()
    posted = server.call('POST', '/verifications', {'verification': {
        'provider_id': PROVIDER_ID, 'checkpoint_id': checkpoint_id,
        'parameters': {RESOURCE_TYPE: {'mode': mode}}}})['verification']
    final = server.wait_for('/verifications/%s' % posted['id'],
                            'verification', ('success', 'error'),
                            args.timeout, args.poll)
    seconds = time.perf_counter() - started
    server.sampler.set_phase(None)
    cpu_after = server.cpu_seconds()
    record = server.profile_request('dump %s' % phase)
    logs = server.call('GET', '/operation_logs?verification_id=%s' %
                       posted['id'])['operation_logs']
    log = logs[0] if logs else None
    ok = final['status'] == 'success'
    note = ''
    if not ok:
        note = 'verification %s: %s' % (final['status'], '; '.join(
            '%s %s: %s' % (rid, final['resources_status'].get(rid),
                           final['resources_reason'].get(rid))
            for rid in sorted(final.get('resources_status') or {})) or
            (log or {}).get('error_info'))
    outcome = bench.Outcome(
        dict(PHASES)[phase], seconds, ok=ok,
        cpu=(cpu_after - cpu_before
             if None not in (cpu_before, cpu_after) else None),
        note=note)
    return outcome, final, log, record


# --------------------------------------------------------------------------
# The report.

class Series(object):
    """The runs of one operation: its row in the table."""

    def __init__(self, key, label, basis=None):
        self.key = key
        self.label = label
        self.basis = basis          # bytes behind MB/s, or None
        self.runs = []              # Outcome per run
        self.extra = []             # per run, whatever the kind keeps

    def add(self, outcome, extra=None):
        self.runs.append(outcome)
        self.extra.append(extra)

    @property
    def ok(self):
        return bool(self.runs) and all(r.ok for r in self.runs)

    def seconds(self):
        times = [r.seconds for r in self.runs if r.ok and r.seconds]
        return statistics.median(times) if times else None

    def span(self):
        times = [r.seconds for r in self.runs if r.ok and r.seconds]
        return (min(times), max(times)) if times else None

    def mbps(self):
        seconds = self.seconds()
        if self.basis is None or not seconds:
            return None
        if isinstance(self.basis, list):   # bytes per run (hash limit)
            rates = [b / MB / r.seconds for b, r in zip(self.basis,
                                                        self.runs)
                     if r.ok and r.seconds]
            return statistics.median(rates) if rates else None
        return self.basis / MB / seconds

    def cpu(self):
        values = [r.cpu for r in self.runs if r.cpu is not None]
        return statistics.median(values) if values else None

    def rss(self):
        values = [r.rss for r in self.runs if r.rss]
        return max(values) if values else None

    def median_index(self):
        """The run whose time is the median (the lower one of two)."""
        timed = sorted((r.seconds, i) for i, r in enumerate(self.runs)
                       if r.ok and r.seconds)
        return timed[(len(timed) - 1) // 2][1] if timed else None


def _fmt(value, pattern, empty='-'):
    return empty if value is None else pattern % value


def print_table(series, restic_mbps, peak_rss):
    head = ('operation', 'runs', 'median s', 'min-max s', 'MB/s',
            'CPU s', 'peak RSS', 'vs restic', 'result')
    widths = (36, 4, 8, 13, 7, 6, 8, 9, 6)
    fmt = '  '.join('%-' + str(w) + 's' if i == 0 else '%' + str(w) + 's'
                    for i, w in enumerate(widths))
    print(fmt % head)
    print('  '.join('-' * w for w in widths))
    for row in series:
        if not row.runs:
            continue
        span = row.span()
        mbps = row.mbps()
        ratio = (mbps / restic_mbps if mbps and restic_mbps and
                 row.key.startswith('karbor-full') else None)
        rss = row.rss()
        if row.key.startswith('karbor') and peak_rss.get(row.key):
            rss = peak_rss[row.key]
        print(fmt % (
            row.label[:widths[0]], len(row.runs),
            _fmt(row.seconds(), '%.3f'),
            '%.3f-%.3f' % span if span else '-',
            _fmt(mbps, '%.0f'), _fmt(row.cpu(), '%.2f'),
            _fmt(rss and rss / MiB, '%.0f MiB'),
            _fmt(ratio, '%.2fx'),
            'ok' if row.ok else 'FAILED'))


def figures_note(label, log, wall):
    info = (log or {}).get('extra_info') or {}
    if not info:
        return '%s: no figures in its operation log' % label
    return ('%s: operation log %s; plugin %.3f s (API wall %.3f s), read %s '
            'in %s of %s chunks, %s MB/s by the plugin, %s damaged' % (
                label, log.get('status'), info.get('duration_seconds', 0),
                wall, bench.human_bytes(info.get('bytes_read', 0)),
                info.get('chunks_checked', '?'), info.get('chunks', '?'),
                info.get('throughput_mb_s', '?'),
                info.get('chunks_damaged', '?')))


# --------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        description='Verify a protected seeded tree through the Karbor API '
                    'and compare with sha256sum, restic check --read-data '
                    'and the machine\'s SHA-256 limit.')
    parser.add_argument('--size-mib', type=int, default=1024,
                        help='approximate tree size in MiB (default 1024)')
    parser.add_argument('--seed', type=int, default=1,
                        help='seed of the tree (default 1)')
    parser.add_argument('--repeat', type=int, default=3,
                        help='measured rounds (default 3); the table gives '
                             'medians')
    parser.add_argument('--workdir', default=tempfile.gettempdir(),
                        help='directory in which a new work directory is '
                             'made (default %(default)s)')
    parser.add_argument('--keep', action='store_true',
                        help='keep the work directory (tree, bank, restic '
                             'repository, logs)')
    parser.add_argument('--no-install', action='store_true',
                        help='never apt-get install restic')
    parser.add_argument('--no-restic', action='store_true')
    parser.add_argument('--no-cold', action='store_true',
                        help='skip the cold-cache round')
    parser.add_argument('--hash-seconds', type=float, default=2.0,
                        help='seconds of each hashing-limit run (default 2)')
    parser.add_argument('--timeout', type=int, default=1800,
                        help='seconds allowed per operation (default 1800)')
    parser.add_argument('--poll', type=float, default=0.02,
                        help='seconds between status polls (default 0.02)')
    parser.add_argument('--set', type=bench.parse_set, action='append',
                        default=[], metavar='SECTION.OPTION=VALUE',
                        help='extra karbor.conf option (repeatable)')
    parser.add_argument('--profile', action='store_true',
                        help='run karbor-all under protect.py\'s sampling '
                             'profiler and print where its time went')
    parser.add_argument('--profile-interval', type=float, default=0.01)
    parser.add_argument('--log-lines', type=int, default=200,
                        help='lines of the karbor-all log printed when an '
                             'API call fails (default 200)')
    parser.add_argument('--top', type=int, default=12,
                        help='functions per profile list (default 12)')
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error('--repeat must be at least 1')
    return args


def prepare_restic(args, work, source):
    """A restic repository of the tree: (env, repo, info) or None."""
    base = os.path.join(work, 'restic')
    os.mkdir(base)
    log = os.path.join(base, 'restic.log')
    password = os.path.join(base, 'password')
    with open(password, 'w') as f:
        f.write('karbor-verify-bench\n')
    repo = os.path.join(base, 'repo')
    env = dict(os.environ, RESTIC_REPOSITORY=repo,
               RESTIC_PASSWORD_FILE=password,
               RESTIC_CACHE_DIR=os.path.join(base, 'cache'))
    info = {'version': bench.tool_version(['restic', 'version']),
            'log': log}
    if bench.run_quiet(['restic', 'init'], log, env=env) != 0:
        info['error'] = 'restic init failed (see %s)' % log
        return None, info
    backup = run_timed('restic backup', ['restic', 'backup', '--host',
                                         'karbor-bench', source],
                       log, args.timeout, env=env)
    info['backup'] = backup
    if not backup.ok:
        info['error'] = 'restic backup: %s' % backup.note
        return None, info
    info['files'] = files_under(repo)
    info['bytes'] = sum(os.path.getsize(p) for p in info['files'])
    info['env'] = env
    return env, info


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    load_before = bench.loadavg()
    plan = bench.TreePlan(args.size_mib, args.seed)
    tree_bytes = plan.total_bytes
    os.makedirs(args.workdir, exist_ok=True)
    need = int(tree_bytes * SPACE_FACTOR) + 256 * MiB
    free = shutil.disk_usage(args.workdir).free
    if free < need:
        print('benchmark aborted: %s free in %s, %s needed' % (
            bench.human_bytes(free), args.workdir, bench.human_bytes(need)),
            file=sys.stderr)
        return 1
    work = os.path.realpath(tempfile.mkdtemp(prefix='karbor-verify-bench-',
                                             dir=args.workdir))
    print('work directory %s (%s free, %s needed)' % (
        work, bench.human_bytes(free), bench.human_bytes(need)), flush=True)
    server = None
    try:
        have_restic = not args.no_restic and bench.ensure_restic(
            args, os.path.join(work, 'install.log'))
        source = os.path.join(work, 'data', PROJECT, bench.SOURCE_NAME)
        os.makedirs(os.path.dirname(source))
        started = time.perf_counter()
        plan.build(source)
        os.sync()
        print('tree: %s, %d files (built in %.1fs)' % (
            bench.human_bytes(tree_bytes), len(plan.files),
            time.perf_counter() - started), flush=True)

        base = os.path.join(work, 'karbor')
        os.mkdir(base)
        server = bench.KarborServer(
            base, os.path.join(work, 'data'), args.set,
            args.profile_interval if args.profile else None)
        print('karbor: starting %s' % ' '.join(server.command), flush=True)
        try:
            server.start()
            checkpoint_id, resource_id, protected = protect_once(server,
                                                                 args)
        except (RuntimeError, bench.ApiError) as exc:
            print('benchmark aborted: %s' % exc, file=sys.stderr)
            print(server.log_tail(args.log_lines), file=sys.stderr)
            return 1
        print('karbor: protected in %.2fs (checkpoint %s)' % (
            protected.seconds, checkpoint_id), flush=True)
        chunks, chunk_bytes, chunk_notes = checkpoint_chunks(
            server.bank_path, checkpoint_id, resource_id)
        print('bank: %d chunk files, %s' % (
            len(chunks), bench.human_bytes(chunk_bytes)), flush=True)
        chunk_list = os.path.join(work, 'chunks.list')
        with open(chunk_list, 'wb') as f:
            f.write(b''.join(os.fsencode(p) + b'\0' for p in chunks))

        env, rinfo = None, {}
        if have_restic:
            env, rinfo = prepare_restic(args, work, source)
            print('restic: repository of %s made in %.2fs' % (
                bench.human_bytes(rinfo.get('bytes', 0)),
                rinfo['backup'].seconds if rinfo.get('backup') else 0),
                flush=True)

        cores = os.cpu_count() or 1
        sums_log = os.path.join(work, 'sha256sum.log')
        batch = max(1, min(16, -(-len(chunks) // 8)))
        rows = {
            'hash': Series('hash', 'hashlib limit, %d threads, memory' %
                           cores, basis=[]),
            'sha256sum': Series('sha256sum', 'sha256sum, 1 process (warm)',
                                chunk_bytes),
            'xargs': Series('xargs', 'xargs -P2 -n%d sha256sum (warm)' %
                            batch, chunk_bytes),
            'restic': Series('restic', 'restic check --read-data (warm)',
                             rinfo.get('bytes')),
            'karbor-full': Series('karbor-full', 'karbor verify full (warm)',
                                  chunk_bytes),
            'karbor-quick': Series('karbor-quick', 'karbor verify quick'),
            'sha256sum-cold': Series('sha256sum-cold',
                                     'sha256sum, 1 process (cold)',
                                     chunk_bytes),
            'restic-cold': Series('restic-cold',
                                  'restic check --read-data (cold)',
                                  rinfo.get('bytes')),
            'karbor-full-cold': Series('karbor-full-cold',
                                       'karbor verify full (cold)',
                                       chunk_bytes),
        }
        profile = {}
        sums = []
        warm_reads = []
        failed = None

        def warm(paths):
            started = time.perf_counter()
            count = read_files(paths)
            warm_reads.append((count, time.perf_counter() - started))

        def sha256sum(key, round_index, cold):
            out = os.path.join(work, 'sums-%s-%d.txt' % (key, round_index))
            (drop_files if cold else warm)(chunks)
            if key == 'xargs':
                cmd = ['xargs', '-0', '-P2', '-n%d' % batch, 'sha256sum',
                       '--']
                outcome = run_timed(rows[key].label, cmd, sums_log,
                                    args.timeout, stdin_path=chunk_list,
                                    out_path=out)
            else:
                outcome = run_timed(rows[key].label, ['sha256sum', '--'] +
                                    chunks, sums_log, args.timeout,
                                    out_path=out)
            rows[key].add(outcome)
            sums.append((rows[key].label, check_sums(out, chunks)))
            os.unlink(out)

        def restic_check(key, cold):
            (drop_files if cold else warm)(rinfo['files'])
            rows[key].add(run_timed(rows[key].label,
                                    ['restic', 'check', '--read-data'],
                                    rinfo['log'], args.timeout, env=env))

        def verify(key, phase, mode, cold=False):
            if mode == 'full':
                (drop_files if cold else warm)(chunks)
            outcome, final, log, record = karbor_verify(
                server, checkpoint_id, mode, phase, args)
            rows[key].add(outcome, log)
            if record:
                profile[phase] = record
            print('  %s: %s in %.3fs' % (rows[key].label, final['status'],
                                         outcome.seconds), flush=True)

        snapshot = cpu_snapshot(server.proc.pid)
        try:
            for index in range(args.repeat):
                print('round %d of %d (load %s)' % (
                    index + 1, args.repeat, bench.loadavg()), flush=True)
                outcome, hashed = hashing_limit(args.hash_seconds, cores)
                rows['hash'].add(outcome)
                rows['hash'].basis.append(hashed)
                sha256sum('sha256sum', index, False)
                sha256sum('xargs', index, False)
                if env:
                    restic_check('restic', False)
                verify('karbor-full', 'verify-full', 'full')
                verify('karbor-quick', 'verify-quick', 'quick')
            if not args.no_cold:
                print('cold round (load %s)' % bench.loadavg(), flush=True)
                sha256sum('sha256sum-cold', args.repeat, True)
                if env:
                    restic_check('restic-cold', True)
                verify('karbor-full-cold', 'verify-cold', 'full', cold=True)
        except bench.ApiError as exc:
            failed = str(exc)
            print('karbor: %s' % exc, flush=True)
            if server.profile_out and server.proc.poll() is None:
                os.kill(server.proc.pid, signal.SIGUSR2)
                time.sleep(1)
        others = others_busy(snapshot, cpu_snapshot(server.proc.pid))
        log_tail = server.log_tail(args.log_lines) if failed else None
        server.stop()
        single, single_bytes = hashing_limit(args.hash_seconds, 1)

        # The report.
        peak = server.sampler.peak if server.sampler else None
        kernel_peak = (server.usage.ru_maxrss * bench.KiB
                       if server.usage else None)
        peak_rss = {'karbor-full': server.sampler.peaks.get('verify-full'),
                    'karbor-quick': server.sampler.peaks.get('verify-quick'),
                    'karbor-full-cold': server.sampler.peaks.get(
                        'verify-cold')}
        series = [rows[k] for k in (
            'hash', 'sha256sum', 'xargs', 'restic', 'karbor-full',
            'karbor-quick', 'sha256sum-cold', 'restic-cold',
            'karbor-full-cold')]
        full, quick = rows['karbor-full'], rows['karbor-quick']
        restic_mbps = rows['restic'].mbps() if rows['restic'].ok else None
        hash_mbps = rows['hash'].mbps()
        full_mbps = full.mbps() if full.ok else None

        print()
        print('=' * 100)
        print('Karbor verify benchmark: seed %d, tree %s (%d bytes, %d '
              'files); checkpoint %s: %d chunk files, %d bytes' % (
                  args.seed, bench.human_bytes(tree_bytes), tree_bytes,
                  len(plan.files), checkpoint_id, len(chunks), chunk_bytes))
        print('machine: %s; SHA extensions: %s' % (
            bench.machine_summary(), 'yes' if sha_ni() else 'no'))
        print('cores: %d; load average (1, 5, 15 min): %s before, %s after; '
              'other processes used %s cores\' worth of CPU during the '
              'rounds' % (cores, load_before, bench.loadavg(),
                          _fmt(others, '%.2f', '?')))
        print('work directory: %s (%s)' % (work, bench.filesystem_of(work)))
        print('MB/s = bytes / 10**6 / median seconds; bytes = the '
              'checkpoint\'s chunk files (Karbor, sha256sum), the restic '
              'repository (restic, %s), hashed (hashlib); warm = files read '
              'once just before' % bench.human_bytes(rinfo.get('bytes', 0))
              if rinfo.get('bytes') else
              'MB/s = bytes / 10**6 / median seconds; bytes = the '
              'checkpoint\'s chunk files; warm = files read once just before')
        print()
        print_table(series, restic_mbps, peak_rss)
        print()
        checks = []
        if not env:
            checks.append(('full verify >= %.0fx restic check --read-data'
                           % FULL_VS_RESTIC, 'no restic', 'SKIP'))
        elif full_mbps and restic_mbps:
            value = full_mbps / restic_mbps
            checks.append(('full verify >= %.0fx restic check --read-data'
                           % FULL_VS_RESTIC, '%.2fx' % value,
                           'PASS' if value >= FULL_VS_RESTIC else 'FAIL'))
        else:
            checks.append(('full verify >= %.0fx restic check --read-data'
                           % FULL_VS_RESTIC, 'n/a', 'FAIL'))
        if full_mbps and hash_mbps:
            value = full_mbps / hash_mbps
            checks.append(('full verify >= %.0f%% of the hashing limit' %
                           (FULL_VS_HASH_LIMIT * 100), '%.0f%%' %
                           (value * 100), 'PASS' if value >=
                           FULL_VS_HASH_LIMIT else 'FAIL'))
        else:
            checks.append(('full verify >= %.0f%% of the hashing limit' %
                           (FULL_VS_HASH_LIMIT * 100), 'n/a', 'FAIL'))
        quick_s = quick.seconds() if quick.ok else None
        checks.append(('quick verify < %.0f s (median; slowest %s)' % (
            QUICK_LIMIT, _fmt(quick.span() and quick.span()[1], '%.3f s')),
            _fmt(quick_s, '%.3f s', 'n/a'),
            'PASS' if quick_s is not None and quick_s < QUICK_LIMIT
            else 'FAIL'))
        checks.append(('karbor-all peak RSS < %d MiB (start to stop)' %
                       (RSS_LIMIT // MiB), _fmt(peak and peak / MiB,
                                                '%.0f MiB', 'n/a'),
                       'PASS' if peak and peak < RSS_LIMIT else 'FAIL'))
        verifications = [r for key in ('karbor-full', 'karbor-quick',
                                       'karbor-full-cold')
                         for r in rows[key].runs]
        succeeded = sum(1 for r in verifications if r.ok)
        checks.append(('every Karbor verification ends success',
                       '%d of %d' % (succeeded, len(verifications)),
                       'PASS' if verifications and succeeded ==
                       len(verifications) else 'FAIL'))
        bad_sums = [(label, result) for label, result in sums
                    if result is None or result[1]]
        checks.append(('sha256sum: every chunk\'s SHA-256 is its name',
                       '%d runs' % len(sums) if not bad_sums else
                       '%d bad' % len(bad_sums),
                       'PASS' if sums and not bad_sums else 'FAIL'))
        print('targets:')
        for text, value, verdict in checks:
            print('  %-56s %-12s %s' % (text, value, verdict))

        notes = []
        for row in series:
            if row.runs:
                notes.append('%s: %s s' % (row.label, ', '.join(
                    '%.3f' % r.seconds if r.ok else 'FAILED (%.3f)' %
                    r.seconds for r in row.runs)))
        for row in series:
            for outcome in row.runs:
                if outcome.note:
                    notes.append('%s: %s' % (row.label, outcome.note))
                    break
        if failed:
            notes.append('karbor: stopped by %s' % failed)
        for key in ('karbor-full', 'karbor-quick', 'karbor-full-cold'):
            index = rows[key].median_index()
            if index is None and rows[key].runs:
                index = 0
            if index is not None:
                notes.append(figures_note(
                    rows[key].label + ' (median run)', rows[key].extra[index],
                    rows[key].runs[index].seconds))
        notes.append('hashlib, 1 thread, in memory: %.0f MB/s' % (
            single_bytes / MB / single.seconds))
        if warm_reads:
            rates = [b / MB / s for b, s in warm_reads if s]
            notes.append('warm-up reads (unmeasured): %d, %.0f-%.0f MB/s '
                         '(the slow ones read from the disk)' % (
                             len(warm_reads), min(rates), max(rates)))
        notes.append('karbor protect (first): %.2f s, %.0f MB/s of tree, '
                     'peak RSS %s' % (protected.seconds, tree_bytes / MB /
                                      protected.seconds,
                                      bench.human_bytes(protected.rss or 0)))
        if peak:
            notes.append('karbor-all peak RSS %s sampled every 50 ms (%d '
                         'samples), %s by the kernel (ru_maxrss)' % (
                             bench.human_bytes(peak), server.sampler.samples,
                             bench.human_bytes(kernel_peak or 0)))
        for label, result in bad_sums:
            notes.append('%s: %s' % (label, 'output not read' if result is
                                     None else '%d of %d lines wrong' % (
                                         result[1], result[0])))
        notes.extend(chunk_notes)
        if rinfo.get('version'):
            notes.append('restic: %s; repository %s in %d files, made by '
                         'restic backup in %.2f s' % (
                             rinfo['version'],
                             bench.human_bytes(rinfo.get('bytes', 0)),
                             len(rinfo.get('files', ())),
                             rinfo['backup'].seconds if rinfo.get('backup')
                             else 0))
        if rinfo.get('error'):
            notes.append('restic: %s' % rinfo['error'])
        elif not have_restic:
            notes.append('restic: not installed; its rows are missing and '
                         'its target SKIPs')
        if args.set:
            notes.append('karbor options set: ' + ', '.join(
                '[%s] %s = %s' % o for o in args.set))
        print()
        for note in notes:
            print(note)
        print('=' * 100)
        bench.print_profile(profile, args.top, phases=PHASES[1:])
        if log_tail:
            print()
            print('last lines of the karbor-all log:')
            print(log_tail)
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print('kept %s' % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def sha_ni():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    return 'sha_ni' in line.split()
    except OSError:
        pass
    return False


if __name__ == '__main__':
    sys.exit(main())
