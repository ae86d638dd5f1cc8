"""List and insert costs of operation logs on a table of a million rows.

One command, in this process, on a fresh SQLite database:

1. A temporary state directory gets a database migrated by alembic
   (``karbor.db.migration.upgrade()``), configured as the unit tests do.
   ``operation_logs`` is filled with --rows rows (1,000,000 by default)
   over --projects projects (100): executemany of parameter tuples, in
   transactions of --batch rows, in the order of ``started_at`` (logs are
   written as time passes), which spans the year before the run. The
   DateTime, JSON and Boolean values go through the columns' own
   SQLAlchemy bind processors, so the rows hold what the ORM would have
   written. The seven secondary indexes are dropped before the inserts
   and rebuilt afterwards from the DDL the migration ran (checked equal;
   --keep-indexes inserts with them in place). The mix: protect 60 %,
   verify 15 %, delete 15 %, restore 10 %; about 5 % end in their
   failure status, half of the last two hours' still run; each row has
   the ids its type carries, ``ended_at`` and a small JSON
   ``extra_info``. ANALYZE runs afterwards. The load is timed, not a
   target.
2. Lists are timed through the code the API runs,
   ``objects.OperationLog.list(ctx, ListQuery(...))``, and through the
   whole paste pipeline (``karbor.api.app.load_app()``, noauth) with
   ``webob.Request.blank('/v1/<project>/operation_logs?...')``:

   a. the first page (limit 100), newest first;
   b. the first page of ``status=error``;
   c. the deep page: 90 pages of 100 are walked by marker (9,000 rows
      skipped, each page checked full, ordered and new), then page 91 is
      fetched with the last marker; it is checked against OFFSET 9000.

   Each query gets --repeat timed calls, after one untimed call per
   project; the queries take turns call by call, so that a change in the
   machine's load hits them alike, and each call goes to another project
   than the query's previous one (--list-projects of them for a and b,
   --deep-projects for c).
3. ``OperationLog.start(...)`` + ``.finish(...)``, what each operation
   adds to the database, on the loaded table (--inserts operations, in
   ten rounds that take turns with the what-ifs below).
4. The SQL of those calls (captured by a ``before_cursor_execute``
   listener) is run under ``EXPLAIN QUERY PLAN``; each plan is printed
   with a verdict: operation_logs only searched through an index, and no
   temporary B-tree for the ORDER BY.
5. The table: wall-clock median and p95 and the median process CPU time
   per call, in milliseconds (CPU time shows the cost without the waits
   for a busy machine's cores), the target and PASS or FAIL, and the
   deep/first page ratio. Then, without targets, where the time goes:
   the captured SQL alone on an open connection, opening a connection,
   and what-ifs that change the engine from this script (never Karbor's
   code): no oslo.db ``time.sleep(0)`` at check-in, an idle connection
   kept open, ``synchronous = NORMAL``, a QueuePool.

Targets: each page < 20 ms median; the deep page <= 1.5x the first
page's median; start + finish < 2 ms median.

The temporary directory is removed at the end unless --keep. The exit
status is 0 whatever the targets.

Usage::

    python benchmarks/operation_logs.py [--rows 1000000] [--projects 100]
                                        [--repeat 100] [--inserts 200]
                                        [--seed 1] [--keep] [--no-api]
"""

import argparse
import contextlib
import datetime
import math
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.parse

import machine as bench_machine

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
        variant = '89ab'[int(h[16], 16) & 3]
        return '%s-%s-4%s-%s%s-%s' % (h[:8], h[8:12], h[13:16], variant,
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
    """Fill operation_logs; returns a dict of timings and counts."""
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
    result = {}
    with engine.connect() as connection:
        # Only this loading connection trades durability for speed. On
        # the DBAPI connection, before SQLAlchemy begins: synchronous
        # cannot change inside a transaction.
        raw = connection.connection.driver_connection
        raw.execute('PRAGMA synchronous = OFF')
        raw.execute('PRAGMA cache_size = -262144')
        index_query = ("SELECT name, sql FROM sqlite_master WHERE type = "
                       "'index' AND tbl_name = 'operation_logs' AND sql IS "
                       "NOT NULL ORDER BY name")
        with connection.begin():
            indexes = connection.exec_driver_sql(index_query).all()
        if not args.keep_indexes:
            # Built once after the rows are in (sorting beats a million
            # random inserts into seven B-trees), from the very DDL the
            # migration ran; checked below.
            with connection.begin():
                for name, _ in indexes:
                    connection.exec_driver_sql('DROP INDEX "%s"' % name)
        done = 0
        start = time.perf_counter()
        for chunk in range(chunks):
            count = min(args.batch, args.rows - done)
            rows = make_rows(rng, new_id, count, begin + step * chunk,
                             begin + step * (chunk + 1), running_after,
                             world)
            with connection.begin():
                connection.exec_driver_sql(insert, rows)
            done += count
            print('  inserted %9d rows  %6.1f s' % (
                done, time.perf_counter() - start), end='\r', flush=True)
        print()
        result['insert_s'] = time.perf_counter() - start
        start = time.perf_counter()
        if not args.keep_indexes:
            with connection.begin():
                for _, sql in indexes:
                    connection.exec_driver_sql(sql)
        result['index_s'] = time.perf_counter() - start
        with connection.begin():
            if connection.exec_driver_sql(index_query).all() != indexes:
                raise RuntimeError('the indexes differ from the migration')
        result['indexes'] = [name for name, _ in indexes]
        start = time.perf_counter()
        with connection.begin():
            connection.exec_driver_sql('ANALYZE')
        raw.execute('PRAGMA wal_checkpoint(TRUNCATE)')
        result['analyze_s'] = time.perf_counter() - start
        with connection.begin():
            result['counts'] = dict(connection.exec_driver_sql(
                'SELECT project_id, count(*) FROM operation_logs '
                'GROUP BY project_id').all())
    return result


# --------------------------------------------------------------------------
# Measuring

class Timings(object):
    """Wall-clock and process CPU seconds of repeated calls."""

    def __init__(self):
        self.wall = []
        self.cpu = []

    @contextlib.contextmanager
    def measure(self):
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.cpu.append(time.process_time() - cpu)
        self.wall.append(time.perf_counter() - wall)

    def median_ms(self):
        return statistics.median(self.wall) * 1e3

    def p95_ms(self):
        ordered = sorted(self.wall)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] * 1e3

    def cpu_ms(self):
        return statistics.median(self.cpu) * 1e3

    def extend(self, other):
        self.wall.extend(other.wall)
        self.cpu.extend(other.cpu)


class SqlCapture(object):
    """The statements on operation_logs sent while ``capturing``."""

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
    """Warm ``call`` once per argument, then time ``repeat`` calls, each
    with the next argument."""
    for argument in arguments:
        call(argument)
    timings = Timings()
    for i in range(repeat):
        argument = arguments[i % len(arguments)]
        with timings.measure():
            call(argument)
    return timings


def interleaved(queries, repeat):
    """{name: Timings} of ``queries`` [(name, call, arguments)]: one
    untimed call per argument, then ``repeat`` timed calls of each, the
    queries taking turns call by call (a change in the machine's load
    hits them alike)."""
    for _, call, arguments in queries:
        for argument in arguments:
            call(argument)
    timings = dict((name, Timings()) for name, _, _ in queries)
    for i in range(repeat):
        for name, call, arguments in queries:
            with timings[name].measure():
                call(arguments[i % len(arguments)])
    return timings


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
    logs = objects.OperationLog.list(user_context(project), query)
    if len(logs) != LIMIT:
        raise RuntimeError('%s %s %s: a page of %d logs' % (
            project, marker, filters, len(logs)))
    return logs


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
    """Follow ``pages`` pages by marker; (last marker, Timings)."""
    marker = None
    seen = set()
    previous = None
    timings = Timings()
    for _ in range(pages):
        with timings.measure():
            logs = list_page(project, marker=marker)
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
    return marker, timings


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


def sql_only(engine, statements, repeat):
    """The captured statements alone, all of them per sample, on one
    connection kept open (after one untimed round)."""
    timings = Timings()
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        for i in range(repeat + 1):
            with timings.measure():
                for statement, parameters in statements:
                    raw.execute(statement, parameters).fetchall()
    del timings.wall[0], timings.cpu[0]
    return timings


@contextlib.contextmanager
def what_if(engine, db_path, no_yield=False, keep_open=False,
            pooled=False, synchronous_normal=False):
    """Change the service's engine from outside, for a comparison.

    ``no_yield``: without oslo.db's ``time.sleep(0)`` at every connection
    check-in (enginefacade's ``thread_checkin``, meant for eventlet).
    ``keep_open``: one more connection stays open, idle (no transaction),
    so that closing a session's connection is not closing the last one:
    SQLite then neither checkpoints nor removes the WAL, and the next
    connection finds the WAL index ready.
    ``pooled``: a QueuePool instead of the NullPool oslo.db puts on
    SQLite files, so sessions reuse open connections.
    ``synchronous_normal``: new connections set ``PRAGMA synchronous =
    NORMAL`` (in WAL mode: no fsync at each commit, only at checkpoints).
    """
    from oslo_db.sqlalchemy import engines
    from sqlalchemy import event
    from sqlalchemy import pool

    def set_normal(dbapi_connection, connection_record):
        dbapi_connection.execute('PRAGMA synchronous = NORMAL')

    yielding = event.contains(engine, 'checkin', engines._thread_yield)
    original_pool = engine.pool
    idle = None
    if no_yield and yielding:
        event.remove(engine, 'checkin', engines._thread_yield)
    if synchronous_normal:
        event.listen(engine, 'connect', set_normal)
    if pooled:
        # The NullPool's creator and event listeners, kept connections.
        engine.pool = pool.QueuePool(
            original_pool._creator, pool_size=5, max_overflow=10,
            pre_ping=original_pool._pre_ping,
            _dispatch=original_pool.dispatch,
            dialect=original_pool._dialect)
    if keep_open:
        idle = sqlite3.connect(db_path, isolation_level=None)
        idle.execute('SELECT id FROM operation_logs LIMIT 1').fetchall()
    try:
        yield
    finally:
        if idle is not None:
            idle.close()
        if pooled:
            engine.pool.dispose()
            engine.pool = original_pool
        if synchronous_normal:
            event.remove(engine, 'connect', set_normal)
        if no_yield and yielding:
            event.listen(engine, 'checkin', engines._thread_yield)


def operations(count, rng, projects, warm=10):
    """Timings of OperationLog.start, .finish and both, per operation
    (after ``warm`` untimed ones)."""
    from karbor import objects
    ids_of = {
        'protect': ('plan_id', 'provider_id', 'checkpoint_id'),
        'verify': ('provider_id', 'checkpoint_id', 'verification_id'),
        'delete': ('plan_id', 'provider_id', 'checkpoint_id'),
        'restore': ('provider_id', 'checkpoint_id', 'restore_id'),
    }
    new_id = Ids(rng)
    kinds = [t for t, _ in TYPE_MIX]
    start, finish, both = Timings(), Timings(), Timings()
    for i in range(count + warm):
        project = projects[i % len(projects)]
        kind = kinds[i % len(kinds)]
        ctx = user_context(project)
        ids = {key: new_id() for key in ids_of[kind]}
        failed = i % 20 == 0
        wall, cpu = time.perf_counter(), time.process_time()
        log = objects.OperationLog.start(ctx, kind, project, **ids)
        wall_1, cpu_1 = time.perf_counter(), time.process_time()
        ended = log.finish(not failed,
                           error_info='benchmark failure' if failed
                           else None,
                           extra_info={'resources': 3})
        wall_2, cpu_2 = time.perf_counter(), time.process_time()
        if not ended:
            raise RuntimeError('finish did not end the log')
        if i < warm:
            continue
        start.wall.append(wall_1 - wall)
        start.cpu.append(cpu_1 - cpu)
        finish.wall.append(wall_2 - wall_1)
        finish.cpu.append(cpu_2 - cpu_1)
        both.wall.append(wall_2 - wall)
        both.cpu.append(cpu_2 - cpu)
    return start, finish, both


def connection_setup(engine, repeat):
    """A session's connection: open (NullPool: every time) + first read."""
    timings = Timings()
    for i in range(repeat + 5):
        with timings.measure():
            with engine.connect() as connection:
                connection.exec_driver_sql(
                    'SELECT id FROM operation_logs LIMIT 1').all()
    del timings.wall[:5], timings.cpu[:5]
    return timings


def machine():
    return bench_machine.summary('SQLite %s' % sqlite3.sqlite_version)


def loadavg():
    try:
        return ' '.join('%.2f' % v for v in os.getloadavg())
    except OSError:
        return '?'


# --------------------------------------------------------------------------
# The run

def run(args, state_dir):
    import random

    import sqlalchemy

    rng = random.Random(args.seed)
    print('machine: %s' % machine())
    print('load average before: %s' % loadavg())
    engine = configure(state_dir)
    print('SQLAlchemy %s, pool %s, %s'
          % (sqlalchemy.__version__, type(engine.pool).__name__,
             engine.url))

    end = datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None, microsecond=0) - datetime.timedelta(hours=1)
    print('\n1. load: %d rows over %d projects, started_at over the year '
          'to %s, batches of %d rows' % (args.rows, args.projects, end,
                                         args.batch))
    loaded = load(engine, args, rng, end)
    counts = loaded['counts']
    size = os.path.getsize(os.path.join(state_dir, 'karbor.sqlite'))
    print('  inserts %.1f s (%.0f rows/s); %s %.1f s; ANALYZE + WAL '
          'checkpoint %.1f s; database file %.0f MiB'
          % (loaded['insert_s'], args.rows / loaded['insert_s'],
             'indexes kept during the load' if args.keep_indexes else
             'the %d secondary indexes dropped before the inserts and '
             'rebuilt from the migration\'s DDL' % len(loaded['indexes']),
             loaded['index_s'], loaded['analyze_s'], size / (1 << 20)))
    print('  ANALYZE run: yes (sqlite_stat1 filled)')
    print('  rows per project: min %d, median %d, max %d'
          % (min(counts.values()), statistics.median(counts.values()),
             max(counts.values())))
    with engine.connect() as connection:
        pragmas = {name: connection.exec_driver_sql(
            'PRAGMA %s' % name).scalar()
            for name in ('journal_mode', 'synchronous', 'cache_size')}
        statuses = connection.exec_driver_sql(
            'SELECT status, count(*) FROM operation_logs GROUP BY status '
            'ORDER BY 2 DESC').all()
    print('  statuses: %s' % ', '.join('%s %d' % tuple(row)
                                       for row in statuses))
    print('  the service\'s connections: journal_mode=%(journal_mode)s '
          'synchronous=%(synchronous)s cache_size=%(cache_size)s' % pragmas)

    needed = (DEEP_PAGES + 1) * LIMIT
    by_size = sorted(counts, key=lambda p: (-counts[p], p))
    list_projects = sorted(by_size[:args.list_projects])
    deep_projects = [p for p in sorted(by_size[:args.deep_projects])
                     if counts[p] >= needed]
    if not deep_projects:
        raise SystemExit('no project has the %d rows the deep page needs; '
                         'use more --rows or fewer --projects' % needed)
    capture = SqlCapture(engine)
    rows = []          # (name, Timings, target_ms or None)
    plans = []         # (name, (statement, parameters))

    print('\n2. lists: %d timed calls per query, the queries taking turns '
          'call by call,\n   after one untimed call per project; a and b '
          'rotate over %d projects, c over %d'
          % (args.repeat, len(list_projects), len(deep_projects)))
    markers = {}
    walked = Timings()
    for project in deep_projects:
        markers[project], timings = walk(project, DEEP_PAGES)
        walked.wall.extend(timings.wall[1:])
        walked.cpu.extend(timings.cpu[1:])
    print('  pages walked by marker: %d in each of %d projects, every page '
          'full, ordered and without repeats' % (DEEP_PAGES,
                                                 len(deep_projects)))
    deep_ok = all(
        [log.id for log in list_page(project, markers[project])] ==
        offset_ids(engine, project, DEEP_PAGES * LIMIT)
        for project in deep_projects)
    print('  page 91 equals the page read with OFFSET %d: %s'
          % (DEEP_PAGES * LIMIT, 'yes' if deep_ok else 'NO'))

    with capture.capturing() as sql:
        list_page(list_projects[0])
    plans.append(('a. first page', sql[-1]))
    with capture.capturing() as sql:
        list_page(list_projects[0], status='error')
    plans.append(('b. status=error page', sql[-1]))
    with capture.capturing() as sql:
        list_page(deep_projects[0], markers[deep_projects[0]])
    plans.append(('c. deep page: marker lookup', sql[0]))
    plans.append(('c. deep page: keyset page', sql[-1]))

    queries = [
        ('a. first page (object)', list_page, list_projects),
        ('b. status=error page (object)',
         lambda p: list_page(p, status='error'), list_projects),
        ('c. deep page 91 by marker (object)',
         lambda p: list_page(p, markers[p]), deep_projects),
    ]
    if not args.no_api:
        from karbor.api import app as api_app
        app = api_app.load_app()
        queries += [
            ('a. first page (WSGI)', lambda p: api_page(app, p),
             list_projects),
            ('b. status=error page (WSGI)',
             lambda p: api_page(app, p, status='error'), list_projects),
            ('c. deep page 91 by marker (WSGI)',
             lambda p: api_page(app, p, marker=markers[p]), deep_projects),
        ]
    listed = interleaved(queries, args.repeat)
    for name, _, _ in queries:
        rows.append((name, listed[name], PAGE_TARGET_MS))
        if name.startswith('c.') and '(object)' in name:
            rows.append(('   (walk: pages 2-%d by marker)' % DEEP_PAGES,
                         walked, None))

    with capture.capturing() as sql:
        log = objects_start(list_projects[0], rng)
        log.finish(True)
    plans.append(('start: INSERT', sql[0]))
    plans.append(('finish: UPDATE', sql[-1]))

    # The writes, and what-ifs on the engine: W0 is the code as it is.
    db_path = os.path.join(state_dir, 'karbor.sqlite')
    ladder = (
        ('W0', 'as is (the start/finish rows of the table)', {}),
        ('W1', 'no time.sleep(0) at connection check-in',
         dict(no_yield=True)),
        ('W2', 'W1 + one idle connection kept open',
         dict(no_yield=True, keep_open=True)),
        ('W3', 'W2 + PRAGMA synchronous = NORMAL',
         dict(no_yield=True, keep_open=True, synchronous_normal=True)),
        ('W4', 'W1 + QueuePool instead of NullPool',
         dict(no_yield=True, pooled=True)),
        ('W5', 'W4 + PRAGMA synchronous = NORMAL',
         dict(no_yield=True, pooled=True, synchronous_normal=True)),
    )
    rounds = 10
    per_round = max(1, args.inserts // rounds)
    print('\n3. OperationLog.start + .finish: %d operations over the '
          'projects and types, in %d\n   rounds of %d (after 2 untimed) '
          'taking turns with what-ifs W1-W5 (see below)'
          % (per_round * rounds, rounds, per_round))
    operations(10, rng, sorted(counts), warm=0)
    ops = dict((code, [Timings(), Timings(), Timings()])
               for code, _, _ in ladder)
    list_codes = ('W0', 'W1', 'W2', 'W4')
    pages = dict((code, Timings()) for code in list_codes)
    # Round-robin over the variants, a slice of the calls each time, so
    # that a change in the machine's load hits them all alike.
    for _ in range(rounds):
        for code, _, changes in ladder:
            with what_if(engine, db_path, **changes):
                for total, part in zip(ops[code], operations(
                        per_round, rng, sorted(counts), warm=2)):
                    total.extend(part)
                if code in list_codes:
                    pages[code].extend(timed(
                        list_page, list_projects,
                        max(1, args.repeat // rounds)))
    start, finish, both = ops['W0']
    rows.append(('start (INSERT, commit)', start, None))
    rows.append(('finish (UPDATE, commit)', finish, None))
    rows.append(('start + finish', both, INSERT_TARGET_MS))

    # Where the time goes: not targets, and nothing of Karbor changed.
    breakdown = []
    statements = dict(plans)
    for label, names in (
            ('a. SQL alone', ['a. first page']),
            ('b. SQL alone', ['b. status=error page']),
            ('c. SQL alone (2 statements)',
             ['c. deep page: marker lookup', 'c. deep page: keyset page'])):
        breakdown.append((label, sql_only(
            engine, [statements[n] for n in names], args.repeat)))
    breakdown.append(('connection open + first read', connection_setup(
        engine, args.repeat)))
    for code, _, _ in ladder:
        breakdown.append(('start + finish, %s' % code, ops[code][2]))
    for code in list_codes:
        breakdown.append(('a. first page (object), %s' % code, pages[code]))

    print('\n4. EXPLAIN QUERY PLAN of the SQL the calls above issued')
    for name, (statement, parameters) in plans:
        lines, problems = query_plan(engine, statement, parameters)
        print('\n-- %s' % name)
        print('   ' + ' '.join(statement.split()))
        print('   parameters: %r' % (tuple(parameters),))
        for line in lines or ['(no table access to plan)']:
            print('   | ' + line)
        if problems:
            verdict = 'PROBLEM: ' + '; '.join(problems)
        elif name.startswith(('start', 'finish')):
            verdict = 'ok'
        else:
            verdict = 'ok: index search, no temp B-tree for ORDER BY'
        print('   => ' + verdict)

    print('\n5. results: %d rows, %d projects, pages of %d; wall-clock '
          'median and p95, process CPU median, in ms'
          % (args.rows, args.projects, LIMIT))
    header = '%-36s %9s %9s %9s %10s  %s' % (
        'query', 'median', 'p95', 'cpu', 'target', 'result')
    print(header)
    print('-' * len(header))
    for name, timings, target in rows:
        print('%-36s %9.2f %9.2f %9.2f %10s  %s' % (
            name, timings.median_ms(), timings.p95_ms(), timings.cpu_ms(),
            '' if target is None else '< %g ms' % target,
            '' if target is None else
            'PASS' if timings.median_ms() < target else 'FAIL'))
    ratios = [('object', listed['c. deep page 91 by marker (object)'],
               listed['a. first page (object)'])]
    if not args.no_api:
        ratios.append(('WSGI', listed['c. deep page 91 by marker (WSGI)'],
                       listed['a. first page (WSGI)']))
    for label, d, f in ratios:
        ratio = d.median_ms() / f.median_ms()
        print('%-36s %9.2f %9s %9s %10s  %s' % (
            'deep/first page ratio (%s)' % label, ratio, '', '',
            '<= %gx' % DEEP_RATIO_TARGET,
            'PASS' if ratio <= DEEP_RATIO_TARGET else 'FAIL'))
    print('%-36s %9s' % ('deep page = OFFSET page', 'yes' if deep_ok
                         else 'NO'))
    print('\nbreakdown (no targets): the SQL alone, on an open connection; '
          'a connection\nopened and read; what-ifs W0-W5, which change the '
          'engine from this script\n(Karbor is unchanged), measured in %d '
          'interleaved rounds' % rounds)
    for name, timings in breakdown:
        print('%-36s %9.2f %9.2f %9.2f' % (
            name, timings.median_ms(), timings.p95_ms(), timings.cpu_ms()))
    for code, text, _ in ladder:
        print('  %s: %s' % (code, text))
    print('\nload average after: %s' % loadavg())


def objects_start(project, rng):
    from karbor import objects
    return objects.OperationLog.start(user_context(project), 'protect',
                                      project, plan_id=Ids(rng)())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rows', type=int, default=1000000)
    parser.add_argument('--projects', type=int, default=100)
    parser.add_argument('--batch', type=int, default=50000,
                        help='rows per insert transaction')
    parser.add_argument('--keep-indexes', action='store_true',
                        help='insert with every index in place (slower)')
    parser.add_argument('--repeat', type=int, default=100,
                        help='timed calls per list query')
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
            print('state directory removed: %s' % state_dir)
        print('total time: %.0f s' % (time.perf_counter() - started))
    return 0


if __name__ == '__main__':
    sys.exit(main())
