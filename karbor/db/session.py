"""The one enginefacade transaction context of Karbor's database.

Objects open sessions with ``@reader`` / ``@writer`` (or
``with writer.using(context)``), and run the API's hot reads (shows and
lists) through ``read()``; nothing else holds an engine.
"""

import json
import os
import sqlite3

import orjson
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import exc_filters
import sqlalchemy
from sqlalchemy import event
from sqlalchemy import pool as sa_pool

context_manager = enginefacade.transaction_context()
reader = context_manager.reader
writer = context_manager.writer

_configured = False
# PostgreSQL only: the engine of read() (see there).
_read_engine = None


def configure(conf):
    """Point the context manager at ``[database]``; first call wins.

    enginefacade refuses to be reconfigured once it has started, and every
    process talks to one database, so later calls are no-ops.
    """
    global _configured, _read_engine
    if _configured:
        return
    _ensure_sqlite_dir(conf.database.connection)
    # thread_checkin adds a sleep(0) per connection check-in so eventlet
    # can switch green threads; on real threads it only costs time.
    context_manager.configure(sqlite_fk=True, thread_checkin=False,
                              json_deserializer=load_json,
                              **dict(conf.database.items()))
    _configured = True
    # oslo.db hands json_deserializer to PostgreSQL engines only.
    get_engine().dialect._json_deserializer = load_json
    _pool_sqlite_connections()
    if get_engine().dialect.name == 'postgresql':
        _read_engine = autocommit_engine(get_engine().url, conf.database)


def autocommit_engine(url, options):
    """An engine for read(): autocommit, no ping, pooled as [database] says.

    oslo.db's engines ping every connection they hand out and run each
    use in a transaction, so a one-SELECT read took four round trips
    (ping, BEGIN, SELECT, ROLLBACK). A stale connection is instead found
    when a read fails on it (see read()). Its errors are oslo.db's, as
    on the enginefacade engine.
    """
    pooling = {'pool_size': options.max_pool_size,
               'max_overflow': options.max_overflow,
               'pool_timeout': options.pool_timeout}
    engine = sqlalchemy.create_engine(
        url, isolation_level='AUTOCOMMIT',
        pool_recycle=options.connection_recycle_time,
        json_deserializer=load_json,
        **{key: value for key, value in pooling.items()
           if value is not None})
    exc_filters.register_engine(engine)
    return engine


def read(context, work):
    """``work(connection)``: one or a few SELECTs whose rows it fetches.

    The API's shows and lists are such reads. On PostgreSQL they run on
    an autocommit engine: no transaction and no ping, one round trip
    per SELECT. In benchmarks/load.py that cut PostgreSQL's CPU per
    request by about a sixth and the API's by about a twentieth. A
    read that meets a connection the server dropped (a restart) runs
    once more: the pool discards the connections made before the
    failure, so the second run gets a fresh one.

    Inside a transaction of ``context`` (a writer block), and on other
    databases, it runs on enginefacade's reader, which joins the
    transaction and so sees its own writes.
    """
    if _read_engine is None or _in_transaction(context):
        with reader.connection.using(context) as connection:
            return work(connection)
    try:
        with _read_engine.connect() as connection:
            return work(connection)
    except db_exc.DBConnectionError:
        with _read_engine.connect() as connection:
            return work(connection)


def _in_transaction(context):
    try:
        context.transaction_ctx
    except db_exc.NoEngineContextEstablished:
        return False
    return True


def load_json(text):
    """Decode a JSON column; orjson, falling back to the json module.

    A checkpoint row has four JSON columns, and the json module's Python
    layer around its C scanner made decoding them most of the time a
    50-row list spent in the database driver. orjson refuses what the
    json module writes for NaN and infinities, so those rows take the
    slow path.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _pool_sqlite_connections():
    """Pool SQLite file connections instead of opening one per session.

    oslo.db gives SQLite files a NullPool: each transaction opens and
    closes a connection, and closing the last one makes SQLite checkpoint
    and drop its WAL, which the next open rebuilds; that doubled what
    every operation pays to write its operation log. pysqlite connections
    to files are made with check_same_thread=False, so a QueuePool may
    hand them to any thread (one at a time).
    """
    engine = get_engine()
    if engine.dialect.name != 'sqlite' or engine.url.database in (
            None, '', ':memory:'):
        return
    old = engine.pool
    engine.pool = sa_pool.QueuePool(
        old._creator, pool_size=5, max_overflow=20, timeout=30,
        recycle=old._recycle, reset_on_return=old._reset_on_return,
        pre_ping=old._pre_ping, _dispatch=old.dispatch,
        dialect=old._dialect)
    old.dispose()


def _forget_connections_after_fork():
    # A forked worker (gunicorn) must not use its parent's connections.
    if _configured:
        get_engine().dispose(close=False)
    if _read_engine is not None:
        _read_engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_connections_after_fork)


def _ensure_sqlite_dir(connection):
    # A fresh state_path has no directory for the SQLite file yet, and
    # oslo.db connects as soon as it builds the engine.
    url = sqlalchemy.engine.make_url(connection)
    if url.get_backend_name() == 'sqlite' and url.database not in (
            None, '', ':memory:'):
        os.makedirs(os.path.dirname(os.path.abspath(url.database)),
                    exist_ok=True)


def get_engine():
    return writer.get_engine()


@event.listens_for(sqlalchemy.engine.Engine, 'connect')
def _tune_sqlite(dbapi_connection, connection_record):
    # WAL lets API readers proceed while the protection service writes;
    # the busy timeout makes concurrent writers wait instead of failing.
    # In WAL mode synchronous=NORMAL keeps the database consistent and
    # saves an fsync per commit; a power cut may lose the last commits,
    # which is the embedded SQLite's trade (production runs PostgreSQL).
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute('PRAGMA busy_timeout = 30000')
        cursor.execute('PRAGMA journal_mode = WAL')
        cursor.execute('PRAGMA synchronous = NORMAL')
        cursor.close()
