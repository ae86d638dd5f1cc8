"""session.read() on PostgreSQL: a connection the server dropped (as a
restart does) costs a read nothing; the read runs again on a new one."""

import sqlalchemy

from karbor.conf import CONF
from karbor import context
from karbor.db import session


def _backend_pid(connection):
    return connection.execute(sqlalchemy.text('SELECT pg_backend_pid()')
                              ).scalar()


def test_read_survives_the_server_dropping_its_connections(postgresql,
                                                           monkeypatch):
    url = postgresql.create_database('read_engine')
    engine = session.autocommit_engine(url, CONF.database)
    monkeypatch.setattr(session, '_read_engine', engine)
    ctx = context.get_admin_context()
    try:
        first = session.read(ctx, _backend_pid)
        # The pooled connection is idle: end its backend from outside.
        killer = sqlalchemy.create_engine(url)
        with killer.connect() as connection:
            assert connection.execute(sqlalchemy.text(
                'SELECT pg_terminate_backend(:pid)'), {'pid': first}
            ).scalar()
        killer.dispose()
        second = session.read(ctx, _backend_pid)
        assert second != first
        assert session.read(ctx, _backend_pid) == second
    finally:
        engine.dispose()
