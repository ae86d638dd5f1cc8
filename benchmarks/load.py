"""Mixed API traffic against Karbor deployed as in production.

The deployment is the one the multi-process tests run against
(karbor/tests/multiprocess/servers.py): a private PostgreSQL (durable:
fsync on) and RabbitMQ on free loopback ports, ``karbor-manage db sync``,
karbor-api under gunicorn (gthread workers), two karbor-protection and two
karbor-operationengine processes. Everything runs in a temporary directory
that is removed at the end.

Seeding: ``--projects`` projects, each with a directory to protect, 20
plans and 5 available checkpoints. Then ``--clients`` concurrent clients
(threads spread over ``--client-procs`` processes, one keep-alive
connection each; client ``i`` works in project ``i % projects``) send
requests back to back for ``--warmup`` + ``--duration`` seconds, each
request's kind drawn at random with these weights:

    list plans            15   GET  /plans?limit=50
    list checkpoints      15   GET  /providers/P/checkpoints?limit=50
    list operation logs   10   GET  /operation_logs?limit=50
    show plan             20   GET  /plans/ID
    show checkpoint       20   GET  /providers/P/checkpoints/ID
    create plan           18   POST /plans
    create checkpoint      2   POST /providers/P/checkpoints (a protect)

Only requests begun after the warm-up count. A request's latency runs
from sending it to reading the last byte of its answer (the client's
JSON encoding and decoding left out). A response with another
status than the kind's (200, or 202 for a checkpoint) or no response is
an error. After the run the created checkpoints are followed until they
leave ``protecting`` (``--settle`` seconds at most), so a protect lost
between the API, RabbitMQ and the protection services shows.

Usage::

    python benchmarks/load.py [--duration 30] [--clients 32]
                              [--api-workers 2] [--api-threads 8]
"""

import argparse
import array
import collections
import json
import multiprocessing
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from karbor.tests.multiprocess import servers

import machine as bench_machine

PROVIDER = 'b766f37c-d011-4026-8228-28730d734a3f'
DIRECTORY = 'OS::Karbor::Directory'
PLANS_PER_PROJECT = 20
CHECKPOINTS_PER_PROJECT = 5
LIST_LIMIT = 50
TARGET_P99_MS = 200.0

# kind: (weight, group the target applies to)
KINDS = collections.OrderedDict([
    ('list plans', (15, 'list')),
    ('list checkpoints', (15, 'list')),
    ('list operation logs', (10, 'list')),
    ('show plan', (20, 'show')),
    ('show checkpoint', (20, 'show')),
    ('create plan', (18, 'create')),
    ('create checkpoint', (2, 'create')),
])


# --------------------------------------------------------------------------
# HTTP

class Connection:
    """One keep-alive HTTP/1.1 connection to the API on loopback.

    The load generator shares the machine's cores with the servers, so it
    must cost them as little as it can. http.client parses every
    response's headers through the email package and cost the generator
    about 0.3 ms of CPU per request; this reads the status line and the
    two headers it needs. (Re)connects on first use and after the server
    closes the connection.
    """

    def __init__(self, port, timeout):
        self.port = port
        self.timeout = timeout
        self.sock = None
        self.buffer = bytearray()

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.buffer = bytearray()

    def _connect(self):
        self.sock = socket.create_connection(('127.0.0.1', self.port),
                                             timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _read_more(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError('the server closed the connection')
        self.buffer += chunk

    def exchange(self, request):
        """Send raw ``request`` bytes; (status, body bytes)."""
        if self.sock is None:
            self._connect()
        self.sock.sendall(request)
        while (end := self.buffer.find(b'\r\n\r\n')) < 0:
            self._read_more()
        lines = bytes(self.buffer[:end]).decode('latin-1').split('\r\n')
        status = int(lines[0].split(' ', 2)[1])
        length, closing = None, False
        for line in lines[1:]:
            name, _, value = line.partition(':')
            name = name.strip().lower()
            if name == 'content-length':
                length = int(value)
            elif name == 'connection':
                closing = value.strip().lower() == 'close'
            elif name == 'transfer-encoding':
                raise ConnectionError('unexpected Transfer-Encoding: '
                                      + value.strip())
        if length is None:
            raise ConnectionError('a response without Content-Length')
        need = end + 4 + length
        while len(self.buffer) < need:
            self._read_more()
        body = bytes(self.buffer[end + 4:need])
        del self.buffer[:need]
        if closing:
            self.close()
        return status, body


def send(conn, method, path, token, body=None):
    """One request on a keep-alive ``Connection``: (status, raw body,
    seconds from sending it to reading the last byte of the answer).

    The time leaves out encoding the request and decoding the answer:
    that is the client's work, done while the client threads of a
    process wait for each other's GIL.
    """
    head = ('%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: %s\r\n'
            'Accept: application/json\r\n' % (method, path, token))
    data = b''
    if body is not None:
        data = json.dumps(body).encode()
        head += ('Content-Type: application/json\r\nContent-Length: %d\r\n'
                 % len(data))
    elif method in ('POST', 'PUT'):
        head += 'Content-Length: 0\r\n'
    request = (head + '\r\n').encode('latin-1') + data
    started = time.perf_counter()
    status, raw = conn.exchange(request)
    return status, raw, time.perf_counter() - started


def parse(raw):
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw[:300].decode('utf-8', 'replace')


def request(conn, method, path, token, body=None):
    """One request on a keep-alive connection: (status, parsed body)."""
    status, raw, _ = send(conn, method, path, token, body)
    return status, parse(raw)


def project_name(index):
    return 'load-%d' % index


def token(project, user='loader'):
    return '%s:%s' % (user, project)


def plan_body(instance_id, name):
    return {'plan': {'name': name, 'provider_id': PROVIDER,
                     'resources': [{'id': instance_id, 'type': DIRECTORY,
                                    'name': 'docs'}]}}


# --------------------------------------------------------------------------
# Seeding

def seed(deployment, projects):
    """Plans and available checkpoints per project: {project: world}."""
    conn = Connection(deployment.port, timeout=60)
    worlds = {}
    for index in range(projects):
        project = project_name(index)
        auth = token(project)
        docs = os.path.join(deployment.state_path, 'data', project, 'docs')
        os.makedirs(docs)
        for number in range(10):
            with open(os.path.join(docs, 'file-%d.txt' % number), 'w') as f:
                f.write('load test file %d\n' % number * 100)
        base = '/v1/%s' % project
        status, found = request(conn, 'GET', '%s/protectables/%s/instances'
                                % (base, DIRECTORY), auth)
        if status != 200:
            raise RuntimeError('protectable instances: %s %s'
                               % (status, found))
        instance_id = found['instances'][0]['id']
        plans = []
        for number in range(PLANS_PER_PROJECT):
            status, made = request(conn, 'POST', base + '/plans', auth,
                                   plan_body(instance_id, 'seed-%d' % number))
            if status != 200:
                raise RuntimeError('plan create: %s %s' % (status, made))
            plans.append(made['plan']['id'])
        checkpoints = []
        for number in range(CHECKPOINTS_PER_PROJECT):
            status, made = request(
                conn, 'POST', '%s/providers/%s/checkpoints' % (base, PROVIDER),
                auth, {'checkpoint': {'plan_id': plans[number]}})
            if status != 202:
                raise RuntimeError('checkpoint create: %s %s'
                                   % (status, made))
            checkpoints.append(made['checkpoint']['id'])
        worlds[project] = {'instance': instance_id, 'plans': plans,
                           'checkpoints': checkpoints}
    for project, world in worlds.items():
        statuses = wait_protected(deployment, project, world['checkpoints'],
                                  timeout=300)
        if set(statuses.values()) != {'available'}:
            raise RuntimeError('seed checkpoints of %s: %s'
                               % (project, statuses))
    conn.close()
    return worlds


def wait_protected(deployment, project, checkpoint_ids, timeout):
    """Poll until none is protecting: {checkpoint id: status}."""
    conn = Connection(deployment.port, timeout=60)
    deadline = time.monotonic() + timeout
    statuses = {}
    pending = list(checkpoint_ids)
    while True:
        still = []
        for checkpoint_id in pending:
            status, shown = request(
                conn, 'GET', '/v1/%s/providers/%s/checkpoints/%s' % (
                    project, PROVIDER, checkpoint_id), token(project))
            state = (shown['checkpoint']['status'] if status == 200
                     else 'HTTP %d' % status)
            statuses[checkpoint_id] = state
            if state == 'protecting':
                still.append(checkpoint_id)
        pending = still
        if not pending or time.monotonic() > deadline:
            conn.close()
            return statuses
        time.sleep(1)


# --------------------------------------------------------------------------
# The load

def _client_process(port, worlds, clients, first_client, begin_at, measure_at,
                    end_at, seed_value, queue):
    """``clients`` threads, one connection each; results into ``queue``."""
    import threading

    lock = threading.Lock()
    latencies = {kind: array.array('d') for kind in KINDS}
    errors = {kind: collections.Counter() for kind in KINDS}
    samples = {}
    created = []
    kinds = list(KINDS)
    weights = [KINDS[kind][0] for kind in kinds]

    def one(kind, conn, project, world, rng, counter):
        base = '/v1/%s' % project
        auth = token(project, 'user-%d' % counter)
        if kind == 'list plans':
            return 200, send(conn, 'GET', '%s/plans?limit=%d'
                             % (base, LIST_LIMIT), auth)
        if kind == 'list checkpoints':
            return 200, send(conn, 'GET', '%s/providers/%s/checkpoints'
                             '?limit=%d' % (base, PROVIDER, LIST_LIMIT),
                             auth)
        if kind == 'list operation logs':
            return 200, send(conn, 'GET', '%s/operation_logs?limit=%d'
                             % (base, LIST_LIMIT), auth)
        if kind == 'show plan':
            return 200, send(conn, 'GET', '%s/plans/%s' % (
                base, rng.choice(world['plans'])), auth)
        if kind == 'show checkpoint':
            return 200, send(conn, 'GET', '%s/providers/%s/checkpoints/%s'
                             % (base, PROVIDER,
                                rng.choice(world['checkpoints'])), auth)
        if kind == 'create plan':
            return 200, send(conn, 'POST', base + '/plans', auth,
                             plan_body(world['instance'], 'load'))
        return 202, send(conn, 'POST', '%s/providers/%s/checkpoints'
                         % (base, PROVIDER),
                         auth, {'checkpoint': {
                             'plan_id': rng.choice(world['plans'])}})

    def worker(counter):
        rng = random.Random(seed_value * 1000 + counter)
        project = project_name(counter % len(worlds))
        world = worlds[project]
        mine = {kind: array.array('d') for kind in KINDS}
        bad = {kind: collections.Counter() for kind in KINDS}
        made = []
        conn = None
        while time.time() < begin_at:
            time.sleep(0.005)
        while True:
            started = time.time()
            if started >= end_at:
                break
            kind = rng.choices(kinds, weights)[0]
            problem = None
            try:
                if conn is None:
                    conn = Connection(port, timeout=30)
                wanted, (status, raw, seconds) = one(
                    kind, conn, project, world, rng, counter)
                if status != wanted:
                    problem, body = 'HTTP %d' % status, parse(raw)
                elif kind == 'create checkpoint':
                    made.append((project, parse(raw)['checkpoint']['id']))
            except (OSError, ValueError) as exc:
                problem, body = 'client %s' % type(exc).__name__, str(exc)
                seconds = time.time() - started
                conn.close()
                conn = None
            if started >= measure_at:
                mine[kind].append(seconds)
                if problem:
                    bad[kind][problem] += 1
                    samples.setdefault(kind, '%s: %s' % (problem, body))
        if conn is not None:
            conn.close()
        with lock:
            for kind in KINDS:
                latencies[kind].extend(mine[kind])
                errors[kind].update(bad[kind])
            created.extend(made)

    threads = [threading.Thread(target=worker, args=(first_client + i,))
               for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(({kind: values.tobytes() for kind, values in latencies.items()},
               {kind: dict(counts) for kind, counts in errors.items()},
               samples, created))


def run_load(deployment, worlds, args, components):
    """Start the client processes; merge what they measured.

    ``components`` maps a name to the pids whose process trees' CPU time
    is measured over the same window.
    """
    queue = multiprocessing.Queue()
    begin_at = time.time() + 2
    measure_at = begin_at + args.warmup
    end_at = measure_at + args.duration
    shares = [args.clients // args.client_procs
              + (1 if i < args.clients % args.client_procs else 0)
              for i in range(args.client_procs)]
    procs, first = [], 0
    for index, share in enumerate(shares):
        proc = multiprocessing.Process(
            target=_client_process,
            args=(deployment.port, worlds, share, first, begin_at,
                  measure_at, end_at, args.seed + index, queue))
        proc.start()
        procs.append(proc)
        first += share
    # What each component burns in the measured window, from /proc.
    time.sleep(max(0, measure_at - time.time()))
    trees = {name: [pid for root in roots for pid in process_tree(root)]
             for name, roots in components.items()}
    trees['load generator'] = [proc.pid for proc in procs]
    # Each gunicorn worker alone too: one worker taking most keep-alive
    # connections shows as one busy worker and idle others.
    workers = [[pid] for pid in process_tree(deployment.api.pid)[1:]]
    before = {name: cpu_seconds(pids) for name, pids in trees.items()}
    workers_before = [cpu_seconds(pids) for pids in workers]
    time.sleep(max(0, end_at - time.time()))
    cpu = {name: cpu_seconds(pids) - before[name]
           for name, pids in trees.items()}
    # Processes born in the window (PostgreSQL backends of connections
    # the pools opened under load) count whole.
    for name, roots in components.items():
        born = {pid for root in roots for pid in process_tree(root)}
        cpu[name] += cpu_seconds(born - set(trees[name]))
    cpu['api workers'] = [cpu_seconds(pids) - was
                          for pids, was in zip(workers, workers_before)]
    latencies = {kind: array.array('d') for kind in KINDS}
    errors = {kind: collections.Counter() for kind in KINDS}
    samples, created = {}, []
    for _ in procs:
        got_latencies, got_errors, got_samples, got_created = queue.get()
        for kind in KINDS:
            values = array.array('d')
            values.frombytes(got_latencies[kind])
            latencies[kind].extend(values)
            errors[kind].update(got_errors[kind])
        for kind, sample in got_samples.items():
            samples.setdefault(kind, sample)
        created.extend(got_created)
    for proc in procs:
        proc.join()
    return latencies, errors, samples, created, cpu


# --------------------------------------------------------------------------
# The report

def percentile(ordered, fraction):
    """Nearest-rank percentile of an ascending sequence."""
    if not ordered:
        return float('nan')
    rank = max(1, int(round(fraction * len(ordered) + 0.4999999)))
    return ordered[min(rank, len(ordered)) - 1]


def _stat_fields(pid):
    with open('/proc/%d/stat' % pid) as f:
        # The command name may hold spaces: the fields follow its ')'.
        return f.read().rsplit(')', 1)[1].split()


def process_tree(pid):
    """``pid`` and all its descendants (gunicorn's workers, postgres')."""
    children = collections.defaultdict(list)
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                children[int(_stat_fields(int(entry))[1])].append(int(entry))
            except (OSError, IndexError):
                pass
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def cpu_seconds(pids):
    """User + system CPU seconds the live processes ``pids`` used so far."""
    ticks = 0
    for pid in pids:
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf('SC_CLK_TCK')


def version_of(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True,
                             timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return '?'
    return out.splitlines()[0] if out else '?'


def print_report(args, latencies, errors, samples, cpu, settled, loadavg,
                 speeds, postgres_version):
    print()
    print('Karbor load: %d clients, %ds measured after %ds warm-up, %d '
          'projects' % (args.clients, args.duration, args.warmup,
                        args.projects))
    print('deployment: karbor-api under gunicorn (%d gthread workers x %d '
          'threads), 2 karbor-protection, 2 karbor-operationengine'
          % (args.api_workers, args.api_threads))
    print('            %s (fsync on), RabbitMQ %s, all on loopback'
          % (postgres_version, version_of(
              ['dpkg-query', '-W', '-f', '${Version}', 'rabbitmq-server'])))
    print('machine   : %s; load average before: %s' % (
        bench_machine.summary(), loadavg))
    print('            the servers and the load generator share it')
    print('core speed: %s M loop iterations per CPU second (before the '
          'servers started, before the load); a virtual machine\'s varies '
          'from run to run' % ' and '.join('%.1f' % v for v in speeds))
    print()
    header = '%-20s %9s %8s %8s %8s %8s %7s' % (
        'kind', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors')
    print(header)
    print('-' * len(header))
    everything = array.array('d')
    total_errors = 0
    verdict = True
    for kind, (_weight, group) in KINDS.items():
        ordered = sorted(latencies[kind])
        everything.extend(ordered)
        count = len(ordered)
        failed = sum(errors[kind].values())
        total_errors += failed
        p99 = percentile(ordered, 0.99) * 1000
        if group in ('list', 'show') and not p99 < TARGET_P99_MS:
            verdict = False
        print('%-20s %9d %8.1f %8.1f %8.1f %8.1f %7d' % (
            kind, count, count / args.duration,
            percentile(ordered, 0.50) * 1000, p99,
            (ordered[-1] * 1000) if ordered else float('nan'), failed))
    ordered = sorted(everything)
    print('-' * len(header))
    print('%-20s %9d %8.1f %8.1f %8.1f %8.1f %7d' % (
        'all', len(ordered), len(ordered) / args.duration,
        percentile(ordered, 0.50) * 1000, percentile(ordered, 0.99) * 1000,
        (ordered[-1] * 1000) if ordered else float('nan'), total_errors))
    for kind in KINDS:
        if errors[kind]:
            print('%s errors: %s; e.g. %s' % (
                kind, ', '.join('%s x%d' % item
                                for item in sorted(errors[kind].items())),
                samples.get(kind, '')[:300]))
    print()
    print('CPU seconds in the measured %ds (%% of one core):' % args.duration)
    workers = cpu.pop('api workers')
    print('    ' + ', '.join('%s %.1f (%.0f%%)' % (
        name, seconds, 100.0 * seconds / args.duration)
        for name, seconds in cpu.items()))
    print('    karbor-api by gunicorn worker: %s' % ', '.join(
        '%.1f' % seconds for seconds in workers))
    if ordered:
        print('    karbor-api: %.1f ms of CPU per request' % (
            1000.0 * cpu['karbor-api'] / len(ordered)))
    counts = collections.Counter(settled.values())
    print('checkpoints created in the run (warm-up included): %d; after '
          'the run: %s' % (len(settled), ', '.join(
              '%d %s' % (n, status) for status, n in sorted(counts.items()))
              or 'none'))
    verdict = verdict and total_errors == 0 and set(counts) <= {'available'}
    print('target: zero errors, every protect ends available, p99 < %d ms '
          'for list and show: %s' % (TARGET_P99_MS,
                                     'PASS' if verdict else 'FAIL'))


# --------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        description='Mixed list/show/create API traffic against karbor-api '
                    'under gunicorn with PostgreSQL and RabbitMQ.')
    parser.add_argument('--duration', type=int, default=30,
                        help='measured seconds (default 30)')
    parser.add_argument('--warmup', type=int, default=5,
                        help='unmeasured seconds of load first (default 5)')
    parser.add_argument('--clients', type=int, default=32,
                        help='concurrent clients (default 32)')
    parser.add_argument('--client-procs', type=int, default=4,
                        help='processes the clients are spread over '
                             '(default 4)')
    parser.add_argument('--projects', type=int, default=4,
                        help='projects the clients work in (default 4)')
    parser.add_argument('--api-workers', type=int,
                        default=os.cpu_count() or 1,
                        help='gunicorn workers, as osapi_karbor_workers '
                             '(default: the number of CPUs)')
    parser.add_argument('--api-threads', type=int, default=8,
                        help='threads per worker, as osapi_karbor_threads '
                             '(default 8)')
    parser.add_argument('--settle', type=int, default=180,
                        help='seconds to wait for the protects to end '
                             '(default 180)')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--keep', action='store_true',
                        help='keep the work directory (logs, database)')
    args = parser.parse_args(argv)
    for name in ('duration', 'clients', 'client_procs', 'projects',
                 'api_workers', 'api_threads'):
        if getattr(args, name) < 1:
            parser.error('--%s must be at least 1' % name.replace('_', '-'))
    args.client_procs = min(args.client_procs, args.clients)
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    workdir = tempfile.mkdtemp(prefix='karbor-load-')
    postgres = servers.PostgreSQL(os.path.join(workdir, 'postgresql'),
                                  durable=True)
    rabbit = servers.RabbitMQ(os.path.join(workdir, 'rabbitmq'))
    deployment = None
    speeds = [bench_machine.core_speed()]
    try:
        print('starting PostgreSQL, RabbitMQ and Karbor in %s ...'
              % workdir, flush=True)
        postgres.start()
        rabbit.start()
        deployment = servers.Deployment(
            os.path.join(workdir, 'karbor'), postgres.url, rabbit.url,
            api_workers=args.api_workers, report_interval=10,
            service_down_time=40,
            extra_options={
                'DEFAULT': {'osapi_karbor_threads': args.api_threads},
                # Checked on every create as in production, but out of
                # reach: a run makes hundreds of plans per project.
                'quota': {'plans': 1000000, 'checkpoints': 1000000}})
        deployment.start()
        print('seeding %d projects ...' % args.projects, flush=True)
        worlds = seed(deployment, args.projects)
        loadavg = ' '.join('%.2f' % v for v in os.getloadavg())
        speeds.append(bench_machine.core_speed())
        print('%d clients for %ds + %ds warm-up ...' % (
            args.clients, args.duration, args.warmup), flush=True)
        components = {
            'karbor-api': [deployment.api.pid],
            'karbor-protection': [p.pid for p in deployment.protection],
            'karbor-operationengine': [p.pid for p in deployment.engines],
            'PostgreSQL': [postgres.process.pid],
            'RabbitMQ': [rabbit.process.pid]}
        latencies, errors, samples, created, cpu = run_load(
            deployment, worlds, args, components)
        print('waiting for %d protects to end ...' % len(created),
              flush=True)
        settled = {}
        by_project = collections.defaultdict(list)
        for project, checkpoint_id in created:
            by_project[project].append(checkpoint_id)
        deadline = time.monotonic() + args.settle
        for project, ids in by_project.items():
            settled.update(wait_protected(
                deployment, project, ids,
                timeout=max(0, deadline - time.monotonic())))
        postgres_version = postgres.psql('SELECT version()').split(' on ')[0]
        print_report(args, latencies, errors, samples, cpu, settled,
                     loadavg, speeds, postgres_version)
    except (servers.ServerError, RuntimeError) as exc:
        print('benchmark aborted: %s' % exc, file=sys.stderr)
        if deployment is not None:
            print(deployment.output(last_lines=30), file=sys.stderr)
        return 1
    finally:
        if deployment is not None:
            deployment.stop()
        rabbit.stop()
        postgres.cleanup()
        if args.keep:
            print('work directory kept: %s' % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
