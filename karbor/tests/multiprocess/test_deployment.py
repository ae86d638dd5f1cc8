"""The multi-process deployment as an operator sees it through the CLI."""

from karbor.tests.e2e.helpers import ok
from karbor.tests.e2e.helpers import parse_table


def test_every_service_process_is_up_on_its_own_host(karbor_cli,
                                                     deployment):
    rows = parse_table(ok(karbor_cli('service-list')))
    seen = {(row['Host'], row['Binary']): row['State'] for row in rows}
    wanted = {(proc.host, proc.script): 'up'
              for proc in deployment.protection + deployment.engines}
    assert seen == wanted, rows


def test_database_is_postgresql_at_the_newest_revision(deployment,
                                                       postgresql):
    printed = deployment.karbor_manage('db', 'version').strip()
    in_table = postgresql.psql('SELECT version_num FROM alembic_version',
                               database='karbor').strip()
    assert printed == in_table != ''
