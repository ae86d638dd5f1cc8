"""List and insert costs of operation logs on a table of a million rows.

One command, in this process, on a fresh SQLite database:

1. A temporary state directory gets a database migrated by alembic
   (``karbor.db.migration.upgrade()``), as the unit tests set it up. The
   ``operation_logs`` table is filled with --rows rows (1,000,000 by
   default) spread over --projects projects (100), by Core
   ``insert()`` executemany in transactions of --batch rows, in the order
   of their ``started_at`` (logs are written as time passes), which spans
   the year before the run. The mix: protect 60 %, verify 15 %, delete
   15 %, restore 10 %; about 5 % end in their failure status, a few of
   the last two hours' are still running; each row has the ids its type
   carries (plan, provider, checkpoint, restore, verification, scheduled
   operation), ``ended_at`` and a small JSON ``extra_info``. ANALYZE runs
   afterwards so that the planner has statistics. The load is timed but
   has no target.
2. Lists are timed through the code the API runs,
   ``objects.OperationLog.list(ctx, ListQuery(...))``, and through the
   whole paste pipeline (``karbor.api.app.load_app()``, noauth) with
   ``webob.Request.blank('/v1/<project>/operation_logs?...')``:

   a. the first page (limit 100), newest first;
   b. the first page of ``status=error``;
   c. the deep page: 90 pages of 100 are walked by marker (9,000 rows
      skipped), then page 91 is fetched with the last marker.

   Every measured call goes to another project than the one before
   (--list-projects of them for a and b, --deep-projects for c), after
   one unmeasured call per project. The deep page is checked against the
   same rows read with OFFSET 9000.
3. ``OperationLog.start(...)`` and ``.finish(...)``, what each operation
   adds to the database, are timed on the loaded table (--inserts
   operations).
4. The SQL those calls issued (captured by a ``before_cursor_execute``
   listener) is run again under ``EXPLAIN QUERY PLAN``; the plan of each
   is printed with a verdict: every access to operation_logs a SEARCH on
   an index, and no temporary B-tree for the ORDER BY.
5. The table: median and p95 milliseconds per query, the target and PASS
   or FAIL; then the deep/first page ratio.

Targets: each page < 20 ms median; the deep page <= 1.5x the first
page's median; start + finish < 2 ms median.

The temporary directory is removed at the end unless --keep. The exit
status is 0 whatever the targets.

Usage::

    python benchmarks/operation_logs.py [--rows 1000000] [--projects 100]
                                        [--repeat 100] [--inserts 200]
                                        [--seed 1] [--keep]
"""

import argparse
import contextlib
import datetime
import math
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LIMIT = 100
DEEP_PAGES = 90            # pages walked by marker before the deep page
PAGE_TARGET_MS = 20.0
DEEP_RATIO_TARGET = 1.5
INSERT_TARGET_MS = 2.0

# (operation type, share of all rows)
TYPE_MIX = (('protect', 0.60), ('verify', 0.15), ('delete', 0.15),
            ('restore', 0.10))
FAILURE_RATE = 0.05
PLANS_PER_PROJECT = 5
PROVIDERS = 3
ERRORS = ('Resource OS::Nova::Server %s: snapshot timed out after 600 s',
          'Bank write failed: No space left on device (%s)',
          'Resource OS::Cinder::Volume %s is in error state',
          'Lost the lease of checkpoint %s')


# --------------------------------------------------------------------------
# Setup

def configure(state_dir):
    """The configuration and schema the unit tests use."""
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
    return session.get_engine()


def project_name(index):
    return 'project-%03d' % index


class Ids(object):
    """Seeded UUID-shaped strings (version 4 layout), fast to make."""

    def __init__(self, rng):
        self.bits = rng.getrandbits

    def __call__(self):
        h = '%032x' % self.bits(128)
        return '%s-%s-4%s-%s%s-%s' % (h[:8], h[8:12], h[13:16],
                                       '89ab'[int(h[16], 16) & 3],
                                       h[17:20], h[20:])


# Columns written by the loader, in the order of make_rows' tuples.
COLUMNS = ('id', 'project_id', 'operation_type', 'checkpoint_id', 'plan_id',
           'provider_id', 'restore_id', 'verification_id',
           'scheduled_operation_id', 'status', 'started_at', 'ended_at',
           'error_info', 'extra_info', 'created_at', 'updated_at',
           'deleted_at', 'deleted')


def binders(engine):
    """The bind processors SQLAlchemy applies to DateTime, JSON, Boolean.

    The loader hands plain tuples to executemany; passing the values
    through the columns' own processors stores exactly what a Core or ORM
    insert would (the lists compare these strings with the markers').
    """
    from karbor.db import models
    columns = models.OperationLog.__table__.c
    dialect = engine.dialect

    def binder(name):
        impl = columns[name].type.dialect_impl(dialect)
        return impl.bind_processor(dialect) or (lambda value: value)
    return binder('started_at'), binder('extra_info'), binder('deleted')


def make_rows(rng, new_id, count, begin, end, running_after, world):
    """``count`` rows (tuples in COLUMNS order) started in [begin, end),
    in started_at order."""
    span = (end - begin).total_seconds()
    offsets = sorted(rng.random() * span for _ in range(count))
    types = [t for t, _ in TYPE_MIX]
    weights = [w for _, w in TYPE_MIX]
    kinds = rng.choices(types, weights, k=count)
    projects = world['projects']
    plans = world['plans']
    provider_of_plan = world['provider_of_plan']
    schedule_of = world['schedule_of']
    status_of = world['status_of']
    time_value, json_value, bool_value = world['binders']
    not_deleted = bool_value(False)
    random_ = rng.random
    randrange = rng.randrange
    uniform = rng.uniform
    choice = rng.choice
    timedelta = datetime.timedelta
    rows = []
    for offset, kind in zip(offsets, kinds):
        project = randrange(len(projects))
        started = begin + timedelta(seconds=offset)
        started = started.replace(microsecond=started.microsecond
                                  // 1000 * 1000)
        plan = choice(plans[project])
        restore_id = verification_id = scheduled_id = None
        error_info = ended = None
        running, success, failure = status_of[kind]
        resources = randrange(1, 13)
        if kind == 'protect':
            duration = uniform(20, 1800)
            scheduled = random_() < 0.7
            if scheduled:
                scheduled_id = schedule_of[plan]
            extra = {'trigger': 'scheduled' if scheduled else 'manual',
                     'resources': resources,
                     'bytes': randrange(1 << 20, 50 << 30)}
        elif kind == 'restore':
            duration = uniform(30, 2400)
            restore_id = new_id()
            extra = {'resources': resources, 'restore_target': None}
        elif kind == 'verify':
            duration = uniform(5, 300)
            verification_id = new_id()
            extra = {'resources': resources}
        else:
            duration = uniform(1, 120)
            extra = {'resources': resources}
        if started >= running_after and random_() < 0.5:
            status = running
            extra = {'resources': resources, 'progress': 0.4}
        else:
            ended = started + timedelta(seconds=round(duration, 3))
            if random_() < FAILURE_RATE:
                status = failure
                error_info = choice(ERRORS) % new_id()[:8]
            else:
                status = success
            extra['duration_s'] = round(duration, 1)
        started_value = time_value(started)
        ended_value = time_value(ended) if ended is not None else None
        rows.append((
            new_id(), projects[project], kind, new_id(), plan,
            provider_of_plan[plan], restore_id, verification_id,
            scheduled_id, status, started_value, ended_value, error_info,
            json_value(extra), started_value, ended_value, None,
            not_deleted))
    return rows


def load(engine, args, rng, end):
    """Fill operation_logs; (load s, ANALYZE s, {project: rows})."""
    from karbor.objects import operation_log

    new_id = Ids(rng)
    projects = [project_name(i) for i in range(args.projects)]
    providers = [new_id() for _ in range(PROVIDERS)]
    plans = [[new_id() for _ in range(PLANS_PER_PROJECT)] for _ in projects]
    world = {
        'projects': projects,
        'plans': plans,
        'provider_of_plan': {plan: rng.choice(providers)
                             for group in plans for plan in group},
        'schedule_of': {plan: new_id() for group in plans for plan in group},
        'status_of': operation_log.STATUS_OF,
        'binders': binders(engine),
    }
    begin = end - datetime.timedelta(days=365)
    running_after = end - datetime.timedelta(hours=2)
    insert = 'INSERT INTO operation_logs (%s) VALUES (%s)' % (
        ', '.join(COLUMNS), ', '.join('?' * len(COLUMNS)))
    chunks = max(1, math.ceil(args.rows / args.batch))
    step = (end - begin) / chunks
    done = 0
    start = time.perf_counter()
    with engine.connect() as connection:
        # Only this loading connection trades durability for speed. On
        # the DBAPI connection, before SQLAlchemy begins: synchronous
        # cannot change inside a transaction.
        raw = connection.connection.driver_connection
        raw.execute('PRAGMA synchronous = OFF')
        raw.execute('PRAGMA cache_size = -262144')
        for chunk in range(chunks):
            count = min(args.batch, args.rows - done)
            rows = make_rows(rng, new_id, count, begin + step * chunk,
                             begin + step * (chunk + 1), running_after,
                             world)
            with connection.begin():
                connection.exec_driver_sql(insert, rows)
            done += count
            print('  loaded %9d rows  %6.1f s' % (
                done, time.perf_counter() - start), end='\r', flush=True)
        print()
        load_seconds = time.perf_counter() - start
        start = time.perf_counter()
        with connection.begin():
            connection.exec_driver_sql('ANALYZE')
        raw.execute('PRAGMA wal_checkpoint(TRUNCATE)')
        analyze_seconds = time.perf_counter() - start
        with connection.begin():
            counts = dict(connection.exec_driver_sql(
                'SELECT project_id, count(*) FROM operation_logs '
                'GROUP BY project_id').all())
    return load_seconds, analyze_seconds, counts


# --------------------------------------------------------------------------
# Measuring

def stats_ms(samples):
    """(median, p95) of ``samples`` (seconds), in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered) * 1e3, p95 * 1e3


class SqlCapture(object):
    """The statements sent to the database while ``capturing``."""

    def __init__(self, engine):
        from sqlalchemy import event
        self.active = False
        self.statements = []
        event.listen(engine, 'before_cursor_execute', self._record)

    def _record(self, conn, cursor, statement, parameters, context,
                executemany):
        if self.active and 'operation_logs' in statement:
            self.statements.append((statement, parameters))

    @contextlib.contextmanager
    def capturing(self):
        self.statements = []
        self.active = True
        try:
            yield self.statements
        finally:
            self.active = False


def timed(call, arguments, repeat):
    """Warm ``call`` once per argument, then time ``repeat`` calls."""
    for argument in arguments:
        call(argument)
    samples = []
    for i in range(repeat):
        argument = arguments[i % len(arguments)]
        begin = time.perf_counter()
        call(argument)
        samples.append(time.perf_counter() - begin)
    return samples


def user_context(project):
    from karbor import context
    return context.RequestContext(user_id='bench', project_id=project,
                                  roles=['reader', 'member'])


def list_page(project, marker=None, **filters):
    from karbor.api.listing import ListQuery
    from karbor import objects
    query = ListQuery(limit=LIMIT, marker=marker,
                      sort=[('started_at', 'desc')], filters=filters,
                      project_id=project)
    return objects.OperationLog.list(user_context(project), query)


def api_page(app, project, **params):
    import webob
    path = '/v1/%s/operation_logs?%s' % (
        project, urllib.parse.urlencode(dict(limit=LIMIT, **params)))
    req = webob.Request.blank(path,
                              headers={'X-Auth-Token': 'bench:' + project})
    response = req.get_response(app)
    if response.status_int != 200:
        raise RuntimeError('%s: HTTP %s %s' % (path, response.status,
                                               response.body[:300]))
    body = response.json
    if len(body['operation_logs']) != LIMIT:
        raise RuntimeError('%s: %d logs' % (path,
                                            len(body['operation_logs'])))
    return body


def walk(project, pages):
    """Follow ``pages`` pages by marker; (last marker, per-page seconds)."""
    marker = None
    seen = set()
    previous = None
    samples = []
    for _ in range(pages):
        begin = time.perf_counter()
        logs = list_page(project, marker=marker)
        samples.append(time.perf_counter() - begin)
        if len(logs) != LIMIT:
            raise RuntimeError('%s: a page of %d logs while walking'
                               % (project, len(logs)))
        for log in logs:
            key = (log.started_at, log.id)
            if previous is not None and key >= previous:
                raise RuntimeError('%s: pages out of order' % project)
            previous = key
            seen.add(log.id)
        marker = logs[-1].id
    if len(seen) != pages * LIMIT:
        raise RuntimeError('%s: %d distinct rows in %d pages'
                           % (project, len(seen), pages))
    return marker, samples


def offset_ids(engine, project, offset):
    """The ids of the page at ``offset``, read with OFFSET as a check."""
    with engine.connect() as connection:
        return [row[0] for row in connection.exec_driver_sql(
            'SELECT id FROM operation_logs WHERE project_id = ? AND '
            'deleted = 0 ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?',
            (project, LIMIT, offset))]


def query_plan(engine, statement, parameters):
    """EXPLAIN QUERY PLAN rows as indented lines, and problems found."""
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            'EXPLAIN QUERY PLAN ' + statement, parameters).all()
    depth = {0: -1}
    lines = []
    problems = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append('  ' * depth[node] + detail)
        if 'TEMP B-TREE' in detail:
            problems.append(detail)
        elif detail.startswith('SCAN') and 'operation_logs' in detail:
            problems.append(detail)
    return lines, problems


def machine():
    cpu = ''
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return '%d cores, %s, Python %s, SQLite %s' % (
        os.cpu_count() or 0, cpu or platform.machine(),
        platform.python_version(), sqlite3.sqlite_version)


def loadavg():
    try:
        return ' '.join('%.2f' % v for v in os.getloadavg())
    except OSError:
        return '?'


# --------------------------------------------------------------------------
# The run

def run(args, state_dir):
    import random

    rng = random.Random(args.seed)
    print('machine: %s' % machine())
    print('load average before: %s' % loadavg())
    engine = configure(state_dir)
    import sqlalchemy
    print('SQLAlchemy %s, pool %s, database %s'
          % (sqlalchemy.__version__, type(engine.pool).__name__,
             engine.url))

    end = datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None, microsecond=0) - datetime.timedelta(hours=1)
    print('\n1. loading %d rows over %d projects (batches of %d rows, '
          'in started_at order)' % (args.rows, args.projects, args.batch))
    load_s, analyze_s, counts = load(engine, args, rng, end)
    db_path = os.path.join(state_dir, 'karbor.sqlite')
    size = os.path.getsize(db_path)
    print('  load: %.1f s (%.0f rows/s); ANALYZE + WAL checkpoint: %.1f s; '
          'database file %.0f MiB' % (load_s, args.rows / load_s, analyze_s,
                                      size / (1 << 20)))
    print('  rows per project: min %d, median %d, max %d'
          % (min(counts.values()), statistics.median(counts.values()),
             max(counts.values())))
    with engine.connect() as connection:
        pragmas = {name: connection.exec_driver_sql(
            'PRAGMA %s' % name).scalar()
            for name in ('journal_mode', 'synchronous', 'cache_size')}
        errors = connection.exec_driver_sql(
            "SELECT count(*) FROM operation_logs WHERE status = 'error'"
            ).scalar()
    print('  connections of the service: journal_mode=%(journal_mode)s '
          'synchronous=%(synchronous)s cache_size=%(cache_size)s' % pragmas)
    print("  rows with status 'error': %d (%.1f %%)"
          % (errors, 100.0 * errors / args.rows))

    needed = (DEEP_PAGES + 1) * LIMIT
    by_size = sorted(counts, key=lambda p: (-counts[p], p))
    list_projects = sorted(by_size[:args.list_projects])
    deep_projects = [p for p in sorted(by_size[:args.deep_projects])
                     if counts[p] >= needed]
    capture = SqlCapture(engine)
    results = []          # (name, samples or None, target text, passed)
    plans = []            # (name, statement, parameters)

    def record(name, samples, target_ms):
        median, _ = stats_ms(samples)
        results.append((name, samples, '< %g ms' % target_ms,
                        median < target_ms))
        return median

    print('\n2. lists, %d measured calls each (projects: %d for a and b, '
          '%d for c)' % (args.repeat, len(list_projects),
                         len(deep_projects)))
    with capture.capturing() as sql:
        list_page(list_projects[0])
    plans.append(('a. first page', sql[-1]))
    first = record('a. first page (object)', timed(
        list_page, list_projects, args.repeat), PAGE_TARGET_MS)

    with capture.capturing() as sql:
        list_page(list_projects[0], status='error')
    plans.append(('b. status=error page', sql[-1]))
    record('b. status=error page (object)', timed(
        lambda p: list_page(p, status='error'), list_projects,
        args.repeat), PAGE_TARGET_MS)

    markers = {}
    walked = []
    for project in deep_projects:
        markers[project], samples = walk(project, DEEP_PAGES)
        walked.extend(samples[1:])
    deep_ok = True
    for project in deep_projects:
        got = [log.id for log in list_page(project, markers[project])]
        if got != offset_ids(engine, project, DEEP_PAGES * LIMIT):
            deep_ok = False
    with capture.capturing() as sql:
        list_page(deep_projects[0], markers[deep_projects[0]])
    plans.append(('c. deep page, marker lookup', sql[0]))
    plans.append(('c. deep page, keyset page', sql[-1]))
    deep = record('c. deep page 91 by marker (object)', timed(
        lambda p: list_page(p, markers[p]), deep_projects, args.repeat),
        PAGE_TARGET_MS)
    print('  walked %d pages by marker in each of %d projects; pages 2-%d: '
          'median %.2f ms, p95 %.2f ms' % ((DEEP_PAGES, len(deep_projects),
                                           DEEP_PAGES) + stats_ms(walked)))
    print('  deep page equals the OFFSET %d page: %s'
          % (DEEP_PAGES * LIMIT, 'yes' if deep_ok else 'NO'))

    api_first = api_deep = None
    if not args.no_api:
        from karbor.api import app as api_app
        app = api_app.load_app()
        api_first = record('a. first page (WSGI)', timed(
            lambda p: api_page(app, p), list_projects, args.repeat),
            PAGE_TARGET_MS)
        record('b. status=error page (WSGI)', timed(
            lambda p: api_page(app, p, status='error'), list_projects,
            args.repeat), PAGE_TARGET_MS)
        api_deep = record('c. deep page 91 by marker (WSGI)', timed(
            lambda p: api_page(app, p, marker=markers[p]), deep_projects,
            args.repeat), PAGE_TARGET_MS)

    print('\n3. OperationLog.start + finish, %d operations' % args.inserts)
    from karbor import objects
    ids_of = {
        'protect': ('plan_id', 'provider_id', 'checkpoint_id'),
        'verify': ('provider_id', 'checkpoint_id', 'verification_id'),
        'delete': ('plan_id', 'provider_id', 'checkpoint_id'),
        'restore': ('provider_id', 'checkpoint_id', 'restore_id'),
    }
    new_id = Ids(rng)
    starts, finishes, both = [], [], []
    kinds = [t for t, _ in TYPE_MIX]
    for i in range(args.inserts + 10):
        project = project_name(i % args.projects)
        kind = kinds[i % len(kinds)]
        ctx = user_context(project)
        ids = {key: new_id() for key in ids_of[kind]}
        t0 = time.perf_counter()
        log = objects.OperationLog.start(ctx, kind, project, **ids)
        t1 = time.perf_counter()
        if not log.finish(i % 20 != 0, error_info=None if i % 20 else
                          'benchmark failure',
                          extra_info={'resources': 3}):
            raise RuntimeError('finish did not update the log')
        t2 = time.perf_counter()
        if i >= 10:      # the first ten warm the code paths
            starts.append(t1 - t0)
            finishes.append(t2 - t1)
            both.append(t2 - t0)
    with capture.capturing() as sql:
        log = objects.OperationLog.start(
            user_context(list_projects[0]), 'protect', list_projects[0],
            plan_id=new_id())
        log.finish(True)
    plans.append(('start (INSERT)', sql[0]))
    plans.append(('finish (UPDATE)', sql[-1]))
    results.append(('start', starts, '', None))
    results.append(('finish', finishes, '', None))
    record('start + finish', both, INSERT_TARGET_MS)

    print('\n4. EXPLAIN QUERY PLAN of the SQL issued')
    for name, (statement, parameters) in plans:
        lines, problems = query_plan(engine, statement, parameters)
        print('\n-- %s' % name)
        print('   ' + ' '.join(statement.split()))
        print('   parameters: %r' % (tuple(parameters),))
        for line in lines:
            print('   | ' + line)
        if name.startswith(('start', 'finish')) and not problems:
            verdict = 'ok'
        elif problems:
            verdict = 'PROBLEM: ' + '; '.join(problems)
        else:
            verdict = 'ok: index search, no temp B-tree for ORDER BY'
        print('   => ' + verdict)

    print('\n5. results (%d rows, %d projects, limit %d, medians over %d '
          'calls, start/finish over %d operations)'
          % (args.rows, args.projects, LIMIT, args.repeat, args.inserts))
    header = '%-38s %10s %10s %10s  %s' % ('query', 'median ms', 'p95 ms',
                                          'target', 'result')
    print(header)
    print('-' * len(header))
    for name, samples, target, passed in results:
        median, p95 = stats_ms(samples)
        verdict = '' if passed is None else ('PASS' if passed else 'FAIL')
        print('%-38s %10.2f %10.2f %10s  %s' % (name, median, p95, target,
                                                 verdict))
    for label, d, f in (('object', deep, first),
                        ('WSGI', api_deep, api_first)):
        if d is None:
            continue
        ratio = d / f
        print('%-38s %10.2f %10s %10s  %s' % (
            'deep/first page ratio (%s)' % label, ratio, '',
            '<= %gx' % DEEP_RATIO_TARGET,
            'PASS' if ratio <= DEEP_RATIO_TARGET else 'FAIL'))
    print('deep page equals the OFFSET page: %s' % ('yes' if deep_ok
                                                     else 'NO'))
    print('load average after: %s' % loadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rows', type=int, default=1000000)
    parser.add_argument('--projects', type=int, default=100)
    parser.add_argument('--batch', type=int, default=50000,
                        help='rows per insert transaction')
    parser.add_argument('--repeat', type=int, default=100,
                        help='measured calls per list query')
    parser.add_argument('--inserts', type=int, default=200,
                        help='operations timed for start + finish')
    parser.add_argument('--list-projects', type=int, default=10,
                        help='projects the a and b calls rotate over')
    parser.add_argument('--deep-projects', type=int, default=5,
                        help='projects walked for the deep page')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--workdir', default=None,
                        help='where the temporary state directory is made')
    parser.add_argument('--no-api', action='store_true',
                        help='skip the WSGI rows')
    parser.add_argument('--keep', action='store_true',
                        help='keep the state directory (and database)')
    args = parser.parse_args()
    state_dir = tempfile.mkdtemp(prefix='karbor-oplog-bench-',
                                 dir=args.workdir)
    started = time.perf_counter()
    try:
        run(args, state_dir)
    finally:
        if args.keep:
            print('state directory kept: %s' % state_dir)
        else:
            shutil.rmtree(state_dir, ignore_errors=True)
        print('total time: %.0f s' % (time.perf_counter() - started))
    return 0


if __name__ == '__main__':
    sys.exit(main())
