"""Throughput and latency of the Karbor API against a bare webob app.

Two WSGI applications are served, one after the other, by the same
server karbor-all uses (cheroot, same thread count), each in a
subprocess of its own so that the load generator does not share a GIL
with it:

full
    ``GET /v1/demo/providers`` through the whole paste pipeline of
    etc/karbor/api-paste.ini (request_id, faultwrap, sizelimit, noauth,
    router, policy check, list helper, provider registry, JSON).
bare
    a ``webob.dec.wsgify`` function answering any request with the JSON
    document the full app answered (measured first), serialised again
    for every request; a built-in document of the same shape when the
    full app gave no 200.

The load generator is ``wrk`` when it is on PATH (as root, the script
tries ``apt-get install -y wrk`` first, unless --no-install), otherwise
a multi-process keep-alive client written with http.client.  Every
response that is not a 200 counts as an error.  The run ends with the
ratio of the two throughputs and PASS or FAIL against the target
"full pipeline >= 50% of the bare app"; the exit status is 0 either way.

``--profile`` skips the HTTP run and profiles the full pipeline in this
process instead (webob.Request.blank, cProfile).

Usage::

    python benchmarks/api.py [--duration S] [--concurrency C]
                             [--threads T] [--client auto|wrk|python]
    python benchmarks/api.py --profile [--requests N]
"""

import argparse
import array
import collections
import http.client
import json
import multiprocessing
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = '/v1/demo/providers'
TOKEN = 'demo:demo'
TARGET = 0.5
APPS = ('full', 'bare')
HOST = '127.0.0.1'


# --------------------------------------------------------------------------
# The two applications (built in the server subprocess).

def _configure_karbor(state_dir):
    """The configuration the unit tests use, then the schema."""
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    from oslo_log import log

    from karbor.conf import CONF
    from karbor.db import migration
    from karbor.db import session
    from karbor import objects

    log.register_options(CONF)
    CONF([], project='karbor', default_config_files=[])
    CONF.set_override('state_path', state_dir)
    CONF.set_override('transport_url', 'fake://')
    objects.register_all()
    session.configure(CONF)
    migration.upgrade()
    return CONF


def build_full_app(state_dir):
    _configure_karbor(state_dir)
    from karbor.api import app
    return app.load_app()


def build_bare_app(document=None):
    import webob
    import webob.dec

    if document is None:
        document = DEFAULT_DOCUMENT

    @webob.dec.wsgify
    def bare(req):
        response = webob.Response(content_type='application/json',
                                  charset=None)
        response.body = json.dumps(document).encode('utf-8')
        return response

    return bare


# The shape of the providers list, for when the full app's answer is not
# available to copy.
DEFAULT_DOCUMENT = {'providers': [{
        'id': 'b766f37c-d011-4026-8228-28730d734a3f',
        'name': 'Local Directory',
        'description': ("Protects directories under the server's data "
                        "root into a file-system bank"),
        'extended_info_schema': {'options_schema': {},
                                 'restore_schema': {},
                                 'saved_info_schema': {},
                                 'verify_schema': {}},
}]}


def serve(which, threads, body_file=None):
    """Serve one app on an ephemeral port until stdin closes.

    Prints ``READY <port>`` once listening; the parent closing our stdin
    (or dying) stops the server.
    """
    import threading

    from cheroot import wsgi as cheroot_wsgi

    state_dir = tempfile.mkdtemp(prefix='karbor-bench-')
    if which == 'full':
        app = build_full_app(state_dir)
    else:
        document = None
        if body_file:
            with open(body_file, 'rb') as body:
                document = json.loads(body.read())
        app = build_bare_app(document)
    server = cheroot_wsgi.Server((HOST, 0), app, numthreads=threads)
    server.prepare()
    port = server.bind_addr[1]
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    print('READY %d' % port, flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


class ServerProcess(object):
    """``api.py --serve WHICH`` as a child; stopped by closing its stdin."""

    def __init__(self, which, threads, log_dir, body_file=None):
        self.which = which
        self.log_path = os.path.join(log_dir, 'server-%s.log' % which)
        self._log = open(self.log_path, 'wb')
        command = [sys.executable, os.path.abspath(__file__),
                   '--serve', which, '--threads', str(threads)]
        if body_file:
            command += ['--body-file', body_file]
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._log, cwd=REPO)
        self.port = self._wait_ready(timeout=60)

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        line = b''
        fd = self.proc.stdout.fileno()
        while not line.endswith(b'\n'):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError('the %s server did not start:\n%s' % (
                    self.which, self.log_tail()))
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(fd, 1)
                if not chunk:
                    continue
                line += chunk
        words = line.split()
        if len(words) != 2 or words[0] != b'READY':
            self.stop()
            raise RuntimeError('unexpected output of the %s server: %r\n%s'
                               % (self.which, line, self.log_tail()))
        return int(words[1])

    def cpu_seconds(self):
        """User + system CPU time of the server so far, or None."""
        try:
            with open('/proc/%d/stat' % self.proc.pid) as stat:
                fields = stat.read().rsplit(')', 1)[1].split()
        except OSError:
            return None
        # Fields 14 and 15 (utime, stime), counted from "state" as 3.
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf('SC_CLK_TCK')

    def log_tail(self, lines=30):
        self._log.flush()
        with open(self.log_path, 'rb') as log:
            text = log.read().decode('utf-8', 'replace')
        return '\n'.join(text.splitlines()[-lines:])

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


# --------------------------------------------------------------------------
# Results and load generators.

class Result(object):

    def __init__(self, requests, seconds, p50_ms, p99_ms, errors,
                 error_detail, sample=None):
        self.requests = requests
        self.seconds = seconds
        self.p50_ms = p50_ms
        self.p99_ms = p99_ms
        self.errors = errors
        self.error_detail = error_detail    # {"HTTP 500": n, "read": n}
        self.sample = sample                # body of one bad response
        self.cpu_seconds = None

    @property
    def rate(self):
        return self.requests / self.seconds if self.seconds else 0.0


def percentile(ordered, fraction):
    """Nearest-rank percentile of an ascending sequence."""
    if not ordered:
        return float('nan')
    rank = max(1, int(round(fraction * len(ordered) + 0.4999999)))
    return ordered[min(rank, len(ordered)) - 1]


def check_once(port):
    """One request before the load: its status, length and body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request('GET', PATH, headers={'X-Auth-Token': TOKEN})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# wrk: a Lua script so that any non-200 (3xx included, which wrk itself
# does not count) is an error, and the numbers come out machine-readable.
WRK_SCRIPT = r'''
wrk.method = "GET"
wrk.headers["X-Auth-Token"] = "%(token)s"

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

bad = 0
bad_codes = ""
sample = ""
local counts = {}

function response(status, headers, body)
   if status ~= 200 then
      bad = bad + 1
      counts[status] = (counts[status] or 0) + 1
      local parts = {}
      for code, n in pairs(counts) do
         table.insert(parts, code .. "=" .. n)
      end
      bad_codes = table.concat(parts, ",")
      if sample == "" and body then
         sample = string.sub(body, 1, 300)
      end
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%%d duration_us=%%d p50_us=%%d p99_us=%%d " ..
      "connect=%%d read=%%d write=%%d timeout=%%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(99),
      e.connect, e.read, e.write, e.timeout))
   for _, thread in ipairs(threads) do
      io.write(string.format("BENCH-THREAD bad=%%d codes=%%s\n",
                             thread:get("bad"), thread:get("bad_codes")))
      local s = thread:get("sample")
      if s ~= "" then
         io.write("BENCH-SAMPLE " .. string.gsub(s, "\n", " ") .. "\n")
      end
   end
end
'''


class Wrk(object):
    name = 'wrk'

    def __init__(self, binary, threads, concurrency):
        self.binary = binary
        self.threads = max(1, min(threads, concurrency))
        self.concurrency = concurrency
        self.script = tempfile.NamedTemporaryFile(
            'w', prefix='karbor-bench-', suffix='.lua', delete=False)
        self.script.write(WRK_SCRIPT % {'token': TOKEN})
        self.script.close()
        version = subprocess.run([binary, '-v'], capture_output=True,
                                 text=True)
        words = (version.stdout + version.stderr).split()
        self.version = words[1] if len(words) > 1 else '?'

    def describe(self):
        return 'wrk %s, %d threads, %d connections' % (
            self.version, self.threads, self.concurrency)

    def run(self, port, duration):
        command = [self.binary, '-t%d' % self.threads,
                   '-c%d' % self.concurrency, '-d%ds' % max(1, duration),
                   '--timeout', '10s', '-s', self.script.name,
                   'http://%s:%d%s' % (HOST, port, PATH)]
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=duration + 60)
        if done.returncode != 0:
            raise RuntimeError('wrk failed (%d):\n%s%s' % (
                done.returncode, done.stdout, done.stderr))
        return self._parse(done.stdout)

    @staticmethod
    def _parse(output):
        numbers = None
        detail = collections.Counter()
        sample = None
        for line in output.splitlines():
            if line.startswith('BENCH '):
                numbers = dict(word.split('=', 1)
                               for word in line.split()[1:])
            elif line.startswith('BENCH-THREAD '):
                codes = line.split('codes=', 1)[1].strip()
                for part in filter(None, codes.split(',')):
                    code, count = part.split('=')
                    detail['HTTP %s' % code] += int(count)
            elif line.startswith('BENCH-SAMPLE ') and sample is None:
                sample = line[len('BENCH-SAMPLE '):]
        if numbers is None:
            raise RuntimeError('no result line in the wrk output:\n' +
                               output)
        for kind in ('connect', 'read', 'write', 'timeout'):
            if int(numbers[kind]):
                detail['socket ' + kind] += int(numbers[kind])
        return Result(requests=int(numbers['requests']),
                      seconds=int(numbers['duration_us']) / 1e6,
                      p50_ms=int(numbers['p50_us']) / 1e3,
                      p99_ms=int(numbers['p99_us']) / 1e3,
                      errors=sum(detail.values()),
                      error_detail=dict(detail), sample=sample)

    def close(self):
        os.unlink(self.script.name)


def _client_process(port, connections, duration, barrier, queue):
    """One load process: ``connections`` threads, one connection each."""
    import threading

    latencies = array.array('d')
    detail = collections.Counter()
    samples = []
    lock = threading.Lock()
    headers = {'X-Auth-Token': TOKEN}

    barrier.wait()
    start = time.perf_counter()
    deadline = start + duration
    finished = []

    def worker():
        mine = array.array('d')
        bad = collections.Counter()
        conn = None
        while True:
            begin = time.perf_counter()
            if begin >= deadline:
                break
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(HOST, port, timeout=10)
                conn.request('GET', PATH, headers=headers)
                response = conn.getresponse()
                body = response.read()
                mine.append(time.perf_counter() - begin)
                if response.status != 200:
                    bad['HTTP %d' % response.status] += 1
                    if not samples:
                        samples.append(body[:300].decode('utf-8', 'replace'))
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                bad['client %s' % type(exc).__name__] += 1
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()
        with lock:
            latencies.extend(mine)
            detail.update(bad)
            finished.append(time.perf_counter())

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = max(finished) - start
    queue.put((latencies.tobytes(), dict(detail),
               samples[0] if samples else None, elapsed))


class PythonClient(object):
    name = 'python'

    def __init__(self, processes, concurrency):
        self.processes = max(1, min(processes, concurrency))
        self.concurrency = concurrency
        self.context = multiprocessing.get_context('fork')

    def describe(self):
        return ('Python http.client keep-alive client, %d processes, '
                '%d connections' % (self.processes, self.concurrency))

    def run(self, port, duration):
        shares = [self.concurrency // self.processes] * self.processes
        for i in range(self.concurrency % self.processes):
            shares[i] += 1
        barrier = self.context.Barrier(self.processes + 1)
        queue = self.context.Queue()
        procs = [self.context.Process(
            target=_client_process,
            args=(port, share, duration, barrier, queue), daemon=True)
            for share in shares]
        for proc in procs:
            proc.start()
        barrier.wait(timeout=60)
        parts = [queue.get(timeout=duration + 60) for _ in procs]
        for proc in procs:
            proc.join()
        latencies = array.array('d')
        detail = collections.Counter()
        sample = None
        for raw, bad, bad_sample, _ in parts:
            chunk = array.array('d')
            chunk.frombytes(raw)
            latencies.extend(chunk)
            detail.update(bad)
            sample = sample or bad_sample
        ordered = sorted(latencies)
        errors = sum(detail.values())
        # Like wrk: every answered request counts and has a latency;
        # connection failures count only as errors.
        answered = len(ordered)
        return Result(requests=answered,
                      seconds=max(part[3] for part in parts),
                      p50_ms=percentile(ordered, 0.50) * 1e3,
                      p99_ms=percentile(ordered, 0.99) * 1e3,
                      errors=errors, error_detail=dict(detail),
                      sample=sample)

    def close(self):
        pass


def find_wrk(install):
    binary = shutil.which('wrk')
    if binary or not install:
        return binary
    if os.geteuid() != 0 or not shutil.which('apt-get'):
        return None
    print('wrk is not installed; trying apt-get install -y wrk ...',
          flush=True)
    try:
        subprocess.run(['apt-get', 'install', '-y', '-q', 'wrk'],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=dict(os.environ, DEBIAN_FRONTEND='noninteractive'),
                       timeout=300)
    except (OSError, subprocess.SubprocessError):
        pass
    return shutil.which('wrk')


def choose_client(args):
    if args.client in ('auto', 'wrk'):
        binary = find_wrk(install=not args.no_install)
        if binary:
            return Wrk(binary, args.client_threads, args.concurrency)
        if args.client == 'wrk':
            sys.exit('wrk is not available')
        print('wrk is not available; using the Python client.', flush=True)
    return PythonClient(args.client_procs, args.concurrency)


# --------------------------------------------------------------------------
# The run.

def bench_app(which, client, args, log_dir, body_file=None):
    server = ServerProcess(which, args.threads, log_dir, body_file)
    try:
        status, body = check_once(server.port)
        if status != 200:
            print('%s: the first request got HTTP %d: %s' % (
                which, status, body[:300].decode('utf-8', 'replace')))
        if args.warmup > 0:
            client.run(server.port, args.warmup)
        cpu_before = server.cpu_seconds()
        result = client.run(server.port, args.duration)
        cpu_after = server.cpu_seconds()
        if cpu_before is not None and cpu_after is not None:
            result.cpu_seconds = cpu_after - cpu_before
        result.body_bytes = len(body)
        result.first = (status, body)
        if server.proc.poll() is not None:
            print('%s: the server died:\n%s' % (which, server.log_tail()))
        return result
    finally:
        server.stop()


def print_report(results, client, args):
    cores = os.cpu_count() or 1
    print()
    print('Karbor API benchmark: GET %s, full pipeline vs bare webob app'
          % PATH)
    print('server : cheroot.wsgi.Server, %d threads, one subprocess per app'
          % args.threads)
    print('load   : %s; %ds warm-up + %ds measured per app'
          % (client.describe(), args.warmup, args.duration))
    print('bare   : json.dumps of %s per request'
          % ('the document the full app answered' if args.bare_copied
             else 'a built-in providers document (full app gave no 200)'))
    print('machine: %d CPU cores, shared by the server and the load '
          'generator%s' % (cores, ' (few cores: numbers are indicative)'
                           if cores <= 2 else ''))
    if args.loadavg is not None:
        print('         load average %.2f before the run%s' % (
            args.loadavg, ' -- other work is running, expect noise'
            if args.loadavg > 0.5 else ''))
    print()
    header = ('%-5s %7s %9s %9s %8s %8s %7s %9s %11s' % (
        'app', 'body B', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'errors',
        'srv CPU%', 'CPU us/req'))
    print(header)
    print('-' * len(header))
    for which in APPS:
        r = results[which]
        if r.cpu_seconds is not None and r.seconds:
            cpu = '%8.0f%%' % (100.0 * r.cpu_seconds / r.seconds)
            per_request = ('%11.0f' % (1e6 * r.cpu_seconds / r.requests)
                           if r.requests else '%11s' % '-')
        else:
            cpu, per_request = '%9s' % 'n/a', '%11s' % 'n/a'
        print('%-5s %7d %9d %9.1f %8.2f %8.2f %7d %s %s' % (
            which, r.body_bytes, r.requests, r.rate, r.p50_ms, r.p99_ms,
            r.errors, cpu, per_request))
    for which in APPS:
        r = results[which]
        if r.errors:
            detail = ', '.join('%s x%d' % item
                               for item in sorted(r.error_detail.items()))
            print('%s errors: %s' % (which, detail))
            if r.sample:
                print('%s sample error body: %s' % (which, r.sample))
    full, bare = results['full'].rate, results['bare'].rate
    ratio = full / bare if bare else 0.0
    verdict = 'PASS' if ratio >= TARGET else 'FAIL'
    print()
    print('ratio full/bare: %.2f (%.1f / %.1f req/s); target full >= %d%% '
          'of bare: %s' % (ratio, full, bare, TARGET * 100, verdict))


# --------------------------------------------------------------------------
# --profile: the full pipeline in this process.

def profile(args):
    import cProfile
    import pstats

    import webob

    state_dir = tempfile.mkdtemp(prefix='karbor-bench-')
    try:
        full = build_full_app(state_dir)

        def call(app):
            req = webob.Request.blank(PATH, headers={'X-Auth-Token': TOKEN})
            response = req.get_response(app)
            if response.status_int != 200:
                raise RuntimeError('HTTP %s: %s' % (response.status,
                                                    response.body[:300]))
            return response.body

        bare = build_bare_app(json.loads(call(full)))

        timings = {}
        for name, app in (('full', full), ('bare', bare)):
            for _ in range(200):
                call(app)
            begin = time.perf_counter()
            for _ in range(args.requests):
                call(app)
            timings[name] = (time.perf_counter() - begin) / args.requests
        print('in-process, webob.Request.blank, %d requests each:'
              % args.requests)
        for name in ('full', 'bare'):
            print('  %-4s %8.1f us/request' % (name, timings[name] * 1e6))
        print('  full/bare time: %.1fx' % (timings['full'] / timings['bare']))
        print()

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            call(full)
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.strip_dirs()
        print('cProfile of %d full-pipeline requests, by cumulative time:'
              % args.requests)
        stats.sort_stats('cumulative').print_stats(args.top)
        print('by own time:')
        stats.sort_stats('tottime').print_stats(args.top)
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


# --------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        description='Requests/s and latency of GET %s through the full '
                    'Karbor API pipeline and of a bare webob app, served '
                    'alike by cheroot.' % PATH)
    parser.add_argument('--duration', type=int, default=20,
                        help='measured seconds per app (default 20; with '
                             'the warm-up the run takes about a minute)')
    parser.add_argument('--warmup', type=int, default=3,
                        help='unmeasured seconds of load before each '
                             'measurement (default 3)')
    parser.add_argument('--concurrency', type=int, default=16,
                        help='open keep-alive connections (default 16)')
    parser.add_argument('--threads', type=int, default=8,
                        help='cheroot request threads, as '
                             'osapi_karbor_threads (default 8)')
    parser.add_argument('--client', choices=('auto', 'wrk', 'python'),
                        default='auto',
                        help='load generator (default: wrk if available)')
    parser.add_argument('--client-threads', type=int, default=2,
                        help='wrk threads (default 2)')
    parser.add_argument('--client-procs', type=int, default=2,
                        help='processes of the Python client (default 2)')
    parser.add_argument('--no-install', action='store_true',
                        help='never try to apt-get install wrk')
    parser.add_argument('--profile', action='store_true',
                        help='profile the full pipeline in-process instead')
    parser.add_argument('--requests', type=int, default=3000,
                        help='requests for --profile (default 3000)')
    parser.add_argument('--top', type=int, default=30,
                        help='rows of each --profile listing (default 30)')
    parser.add_argument('--serve', choices=APPS, help=argparse.SUPPRESS)
    parser.add_argument('--body-file', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in ('duration', 'concurrency', 'threads', 'client_threads',
                 'client_procs', 'requests'):
        if getattr(args, name) < 1:
            parser.error('--%s must be at least 1' % name.replace('_', '-'))
    if args.warmup < 0:
        parser.error('--warmup must not be negative')
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.serve:
        serve(args.serve, args.threads, args.body_file)
        return 0
    if args.profile:
        profile(args)
        return 0
    client = choose_client(args)
    try:
        args.loadavg = os.getloadavg()[0]
    except OSError:
        args.loadavg = None
    log_dir = tempfile.mkdtemp(prefix='karbor-bench-logs-')
    results = {}
    body_file = None
    try:
        for which in APPS:
            print('%s: %ds warm-up, %ds measured ...' % (
                which, args.warmup, args.duration), flush=True)
            results[which] = bench_app(which, client, args, log_dir,
                                       body_file)
            status, body = results[which].first
            if which == 'full' and status == 200:
                # The bare app answers the same document.
                body_file = os.path.join(log_dir, 'full-body.json')
                with open(body_file, 'wb') as out:
                    out.write(body)
    except RuntimeError as exc:
        print('benchmark aborted: %s' % exc, file=sys.stderr)
        return 1
    finally:
        client.close()
        shutil.rmtree(log_dir, ignore_errors=True)
    args.bare_copied = body_file is not None
    print_report(results, client, args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
