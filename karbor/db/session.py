"""The one enginefacade transaction context of Karbor's database.

Objects open sessions with ``@reader`` / ``@writer`` (or
``with writer.using(context)``); nothing else holds an engine.
"""

import os
import sqlite3

from oslo_db.sqlalchemy import enginefacade
import sqlalchemy
from sqlalchemy import event

context_manager = enginefacade.transaction_context()
reader = context_manager.reader
writer = context_manager.writer

_configured = False


def configure(conf):
    """Point the context manager at ``[database]``; first call wins.

    enginefacade refuses to be reconfigured once it has started, and every
    process talks to one database, so later calls are no-ops.
    """
    global _configured
    if _configured:
        return
    _ensure_sqlite_dir(conf.database.connection)
    context_manager.configure(sqlite_fk=True, **dict(conf.database.items()))
    _configured = True


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
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute('PRAGMA busy_timeout = 30000')
        cursor.execute('PRAGMA journal_mode = WAL')
        cursor.close()
