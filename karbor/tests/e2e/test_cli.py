"""The released karbor and openstack CLIs against a running karbor-all.

Every check goes through a client subprocess, the way an operator would
see it: the tables and messages the clients print are what is asserted.
"""

import json
import pathlib
import signal
import time
import uuid

import pytest

from karbor.tests.e2e import helpers
from karbor.tests.e2e.helpers import failed
from karbor.tests.e2e.helpers import ok
from karbor.tests.e2e.helpers import parse_show
from karbor.tests.e2e.helpers import parse_table

BINARIES = ('karbor-protection', 'karbor-operationengine')
NON_ADMIN = 'demo'


def _services_of(rows, host):
    return {row['Binary']: row for row in rows if row['Host'] == host}


@pytest.fixture
def protection_service_id(karbor_cli, karbor_server):
    """The id of karbor-all's protection service, from service-list."""
    rows = parse_table(ok(karbor_cli('service-list', '--host',
                                     karbor_server.service_host,
                                     '--binary', 'karbor-protection')))
    assert len(rows) == 1, rows
    return rows[0]['Id']


# ------------------------------------------------------------ karbor CLI

def test_provider_list_shows_local_directory(karbor_cli):
    rows = parse_table(ok(karbor_cli('provider-list')))
    by_id = {row['Id']: row for row in rows}
    assert helpers.LOCAL_PROVIDER_ID in by_id, rows
    assert by_id[helpers.LOCAL_PROVIDER_ID]['Name'] == \
        helpers.LOCAL_PROVIDER_NAME


def test_provider_list_works_for_any_project_member(karbor_cli):
    rows = parse_table(ok(karbor_cli('provider-list', user=NON_ADMIN,
                                     project='another-project')))
    assert helpers.LOCAL_PROVIDER_ID in [row['Id'] for row in rows]


def test_provider_show(karbor_cli):
    shown = parse_show(ok(karbor_cli('provider-show',
                                     helpers.LOCAL_PROVIDER_ID)))
    assert shown['id'] == helpers.LOCAL_PROVIDER_ID
    assert shown['name'] == helpers.LOCAL_PROVIDER_NAME
    # The CLI prints the schema as indented JSON over several rows.
    schema = json.loads(shown['extended_info_schema'])
    assert sorted(schema) == sorted(helpers.SCHEMA_KINDS)
    for kind in helpers.SCHEMA_KINDS:
        assert isinstance(schema[kind], dict), schema


def test_provider_show_unknown_is_not_found(karbor_cli):
    missing = str(uuid.uuid4())
    message = failed(karbor_cli('provider-show', missing))
    assert 'not found' in message.lower() or '404' in message, message
    assert missing in message, message


def test_service_list_as_admin(karbor_cli, karbor_server):
    rows = parse_table(ok(karbor_cli('service-list')))
    mine = _services_of(rows, karbor_server.service_host)
    assert sorted(mine) == sorted(BINARIES), rows
    for binary in BINARIES:
        assert mine[binary]['State'] == 'up', rows
        assert mine[binary]['Status'] == 'enabled', rows
        assert mine[binary]['Id'].isdigit(), rows


def test_service_list_filters_by_binary(karbor_cli, karbor_server):
    rows = parse_table(ok(karbor_cli('service-list', '--host',
                                     karbor_server.service_host,
                                     '--binary', 'karbor-operationengine')))
    assert [row['Binary'] for row in rows] == ['karbor-operationengine']


def test_service_list_is_forbidden_to_non_admin(karbor_cli):
    result = karbor_cli('service-list', user=NON_ADMIN)
    message = failed(result).lower()
    assert 'policy' in message or 'forbidden' in message, result
    assert 'karbor-protection' not in result.stdout


def test_service_disable_and_enable(karbor_cli, karbor_server,
                                    protection_service_id):
    service_id = protection_service_id
    try:
        shown = parse_table(ok(karbor_cli('service-disable', service_id,
                                          '--reason', 'maintenance')))
        assert [(r['Id'], r['Status'], r['Disabled Reason'])
                for r in shown] == [(service_id, 'disabled', 'maintenance')]

        rows = parse_table(ok(karbor_cli('service-list')))
        listed = {row['Id']: row for row in rows}[service_id]
        assert listed['Status'] == 'disabled', rows
        assert listed['Disabled Reason'] == 'maintenance', rows
        # Disabling is an operator's flag: the process is still alive.
        assert listed['State'] == 'up', rows
        other = _services_of(rows, karbor_server.service_host)[
            'karbor-operationengine']
        assert other['Status'] == 'enabled', rows
    finally:
        enabled = ok(karbor_cli('service-enable', service_id))

    shown = parse_table(enabled)
    assert [(r['Id'], r['Status']) for r in shown] == [
        (service_id, 'enabled')]
    rows = parse_table(ok(karbor_cli('service-list')))
    listed = {row['Id']: row for row in rows}[service_id]
    assert listed['Status'] == 'enabled', rows
    assert listed['Disabled Reason'] == '-', rows


def test_service_disable_is_forbidden_to_non_admin(karbor_cli,
                                                   protection_service_id):
    result = karbor_cli('service-disable', protection_service_id,
                        '--reason', 'nope', user=NON_ADMIN)
    message = failed(result).lower()
    assert 'policy' in message or 'forbidden' in message, result
    rows = parse_table(ok(karbor_cli('service-list')))
    listed = {row['Id']: row for row in rows}[protection_service_id]
    assert listed['Status'] == 'enabled', rows


def test_service_disable_unknown_is_not_found(karbor_cli):
    message = failed(karbor_cli('service-disable', '987654', '--reason',
                                'x'))
    assert 'not found' in message.lower() or '404' in message, message


# --------------------------------------------------------- OpenStack CLI

def test_osc_provider_list(openstack_json):
    rows = openstack_json('provider', 'list')
    by_id = {row['Id']: row for row in rows}
    assert helpers.LOCAL_PROVIDER_ID in by_id, rows
    assert by_id[helpers.LOCAL_PROVIDER_ID]['Name'] == \
        helpers.LOCAL_PROVIDER_NAME


def test_osc_provider_show(openstack_json):
    shown = openstack_json('provider', 'show', helpers.LOCAL_PROVIDER_ID)
    assert shown['id'] == helpers.LOCAL_PROVIDER_ID
    assert shown['name'] == helpers.LOCAL_PROVIDER_NAME
    schema = shown['extended_info_schema']
    if isinstance(schema, str):
        # The plugin formats it as a JSON text.
        schema = json.loads(schema)
    assert sorted(schema) == sorted(helpers.SCHEMA_KINDS)


def test_osc_provider_show_unknown_is_not_found(openstack_cli):
    missing = str(uuid.uuid4())
    message = failed(openstack_cli('provider', 'show', missing))
    # After the 404 osc-lib's find_resource looks the id up as a name in
    # the provider list, then says so.
    assert 'no provider with a name or id' in message.lower(), message
    assert missing in message, message


def test_osc_service_list_as_admin(openstack_json, karbor_server):
    rows = openstack_json('service', 'list')
    mine = _services_of(rows, karbor_server.service_host)
    assert sorted(mine) == sorted(BINARIES), rows
    for binary in BINARIES:
        assert mine[binary]['State'] == 'up', rows
        assert mine[binary]['Status'] == 'enabled', rows
        assert isinstance(mine[binary]['Id'], int), rows


def test_osc_service_list_is_forbidden_to_non_admin(openstack_cli):
    message = failed(openstack_cli('service', 'list', '-f', 'json',
                                   user=NON_ADMIN)).lower()
    assert 'policy' in message or 'forbidden' in message, message


def test_osc_service_disable_and_enable(openstack_json,
                                        protection_service_id):
    service_id = protection_service_id
    try:
        shown = openstack_json('service', 'disable', service_id,
                               '--reason', 'osc maintenance')
        assert shown['status'] == 'disabled', shown
        assert shown['disabled_reason'] == 'osc maintenance', shown
        rows = openstack_json('service', 'list')
        listed = {str(row['Id']): row for row in rows}[service_id]
        assert listed['Status'] == 'disabled', rows
        assert listed['Disabled Reason'] == 'osc maintenance', rows
    finally:
        shown = openstack_json('service', 'enable', service_id)
    assert shown['status'] == 'enabled', shown
    assert shown['disabled_reason'] is None, shown


# -------------------------------------------------------------- liveness

@pytest.fixture
def extra_protection(karbor_server, tmp_path):
    """A separate karbor-protection process sharing karbor-all's database.

    Yields ``(process, host)``; the process is gone after the test.
    """
    host = 'karbor-e2e-extra-%s' % uuid.uuid4().hex[:8]
    config = helpers.write_config(
        tmp_path / 'karbor-protection.conf',
        DEFAULT={'state_path': karbor_server.state_path,
                 'host': host,
                 'transport_url': 'fake://',
                 'report_interval': karbor_server.report_interval,
                 'service_down_time': karbor_server.service_down_time},
        database={'connection': karbor_server.database_connection})
    log_path = tmp_path / 'karbor-protection.log'
    process = helpers.start_logged(
        [helpers.find_script('karbor-protection'), '--config-file', config],
        log_path, tmp_path)
    process.log_path = log_path
    try:
        yield process, host
    finally:
        helpers.stop_process(process)


def _state_of(karbor_cli, host):
    """The State (up/down) of ``host``'s karbor-protection, or None."""
    rows = parse_table(ok(karbor_cli('service-list', '--host', host)))
    rows = [row for row in rows if row['Host'] == host]
    assert len(rows) <= 1, rows
    return rows[0]['State'] if rows else None


def test_separate_protection_process_goes_up_then_down(
        karbor_cli, openstack_json, karbor_server, extra_protection):
    process, host = extra_protection

    def up():
        assert process.poll() is None, (
            'karbor-protection exited with %s:\n%s' % (
                process.returncode, helpers.read_log(process.log_path)))
        return _state_of(karbor_cli, host) == 'up'

    seen_up, waited = helpers.poll(up, timeout=30)
    assert seen_up, 'not up after %.1f s; its output:\n%s' % (
        waited, helpers.read_log(process.log_path))

    rows = openstack_json('service', 'list', '--host', host)
    assert [(r['Binary'], r['State'], r['Status']) for r in rows] == [
        ('karbor-protection', 'up', 'enabled')], rows

    process.send_signal(signal.SIGKILL)
    process.wait(10)
    killed_at = time.monotonic()
    # The last heartbeat is at most report_interval old at the kill; the
    # API calls it down once it is older than service_down_time. Allow a
    # few seconds more for the CLI's own start-up.
    bound = (karbor_server.service_down_time
             + karbor_server.report_interval + 4)
    went_down, _ = helpers.poll(
        lambda: _state_of(karbor_cli, host) == 'down', timeout=bound)
    elapsed = time.monotonic() - killed_at
    assert went_down, 'still %r %.1f s after SIGKILL' % (
        _state_of(karbor_cli, host), elapsed)
    assert elapsed <= bound + 2, elapsed

    # karbor-all's own services keep beating meanwhile.
    rows = parse_table(ok(karbor_cli('service-list', '--host',
                                     karbor_server.service_host)))
    assert {row['Binary']: row['State'] for row in rows} == {
        binary: 'up' for binary in BINARIES}, rows


def test_server_log_is_clean(karbor_server):
    """No traceback in karbor-all's output so far (runs last in the file)."""
    log = pathlib.Path(karbor_server.log_path).read_text(errors='replace')
    assert 'Traceback' not in log, log[-5000:]
