"""session.read(): the API's reads, on an autocommit engine outside a
transaction and in the transaction inside one."""

import pytest
from sqlalchemy import select

from karbor.conf import CONF
from karbor import context
from karbor.db import models
from karbor.db import session


@pytest.fixture
def read_engine(db, monkeypatch):
    # The process's database may be SQLite, where read() uses
    # enginefacade alone; put an autocommit engine on it as on PostgreSQL.
    engine = session.autocommit_engine(session.get_engine().url,
                                       CONF.database)
    monkeypatch.setattr(session, '_read_engine', engine)
    yield engine
    engine.dispose()


def _plan(plan_id):
    return models.Plan(id=plan_id, project_id='p', name='n',
                       provider_id='prov', status='suspended',
                       resources=[], parameters={},
                       created_at=models.utcnow(), deleted=False)


def test_read_outside_a_transaction_runs_on_the_read_engine(read_engine):
    ctx = context.get_admin_context()
    assert session.read(ctx, lambda connection: connection.engine) \
        is read_engine


def test_read_inside_a_writer_transaction_sees_its_writes(read_engine):
    ctx = context.get_admin_context()

    def plan_ids(connection):
        return connection.execute(select(models.Plan.id)).scalars().all()

    with session.writer.using(ctx) as writer_session:
        writer_session.add(_plan('in-transaction'))
        writer_session.flush()
        # Not committed yet: only the transaction itself sees the row.
        assert session.read(ctx, plan_ids) == ['in-transaction']
        with read_engine.connect() as other:
            assert plan_ids(other) == []
    assert session.read(ctx, plan_ids) == ['in-transaction']


def test_read_rows_are_fetched_before_the_connection_returns(read_engine):
    ctx = context.get_admin_context()
    with session.writer.using(ctx) as writer_session:
        writer_session.add(_plan('fetched'))
    rows = session.read(ctx, lambda connection: connection.execute(
        select(models.Plan)).all())
    assert [row.id for row in rows] == ['fetched']
    assert read_engine.pool.checkedout() == 0
