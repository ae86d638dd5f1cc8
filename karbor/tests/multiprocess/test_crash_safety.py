"""A karbor-protection process killed (SIGKILL) while it runs protects.

Twenty protects of one plan run at once on one protection service (the
other one is disabled, so it takes none of them; protection_max_operations
lets all twenty run). They are held mid-protect the way the directory
plugin's own protocol holds them: a garbage collection marker in the bank
makes every protect wait, after taking its lease, until it is gone. Then
the service is killed:

- restarted at once, it ends all twenty and their logs in error as
  interrupted, and the plan protects and verifies again;
- left dead, the other (live, even though disabled) service ends them
  once the dead one's heartbeat is older than service_down_time.

The bank is checked for half-written objects; every chunk must hash to
its name.
"""

import hashlib
import json
import os
import pathlib
import time
import uuid

from karbor.services.protection.banks import file_system
from karbor.services.protection.plugins.directory import gc
from karbor.services.protection.plugins.directory import manifest as mf
from karbor.tests.e2e import helpers

PROVIDER = helpers.LOCAL_PROVIDER_ID
DIRECTORY = 'OS::Karbor::Directory'
PROJECT = 'crash'
USER = 'cora'
OPERATIONS = 20
OPTIONS = {'DEFAULT': {'protection_max_operations': OPERATIONS,
                       'interrupted_check_interval': 1}}


def _api(server, method, path, body=None, status=200, user=USER):
    return helpers.api_ok(helpers.api_call(
        server, method, path, user=user, project=PROJECT, body=body,
        timeout=60), status)


def _wait(check, what, timeout=90, server=None):
    value, waited = helpers.poll(check, timeout)
    assert value, '%s did not happen within %.0f s%s' % (
        what, waited, '\n' + server.output(last_lines=30) if server else '')
    return value


def _plan(server):
    docs = pathlib.Path(server.state_path) / 'data' / PROJECT / 'docs'
    docs.mkdir(parents=True)
    for index in range(4):
        (docs / ('file-%d.bin' % index)).write_bytes(os.urandom(300000))
    (instance,) = _api(server, 'GET', '/protectables/%s/instances'
                       % DIRECTORY)['instances']
    return _api(server, 'POST', '/plans', {'plan': {
        'name': 'crash', 'provider_id': PROVIDER,
        'resources': [{'id': instance['id'], 'type': DIRECTORY,
                       'name': 'docs'}]}})['plan']


def _bank(server):
    return pathlib.Path(server.state_path) / 'bank'


def _hold_protects(server):
    marker = _bank(server) / 'locks' / PROJECT / (
        'gc-test-%s' % uuid.uuid4().hex)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({'kind': 'gc', 'host': 'test',
                                  'updated_at': time.time()}))
    return marker


def _set_enabled(server, proc, enabled):
    (row,) = _api(server, 'GET', '/os-services?binary=karbor-protection'
                  '&host=%s' % proc.host, user='admin')['services']
    body = {'status': 'enabled'} if enabled else {
        'status': 'disabled', 'disabled_reason': 'crash test'}
    _api(server, 'PUT', '/os-services/%d' % row['id'], body, user='admin')
    line = 'takes new work' if enabled else 'takes no new work'
    # The service notices at its next heartbeat (report_interval 1).
    _wait(lambda: proc.output().count(line) > 0, '%s %s' % (
        proc.host, line), timeout=30)


def _checkpoint_path(checkpoint_id):
    return '/providers/%s/checkpoints/%s' % (PROVIDER, checkpoint_id)


def _logs(server, checkpoint_id):
    return _api(server, 'GET', '/operation_logs?checkpoint_id=%s'
                % checkpoint_id)['operation_logs']


def _start_held_protects(server, postgresql, plan, host):
    """OPERATIONS protects, all running (logged) on ``host``, held."""
    marker = _hold_protects(server)
    ids = [_api(server, 'POST', '/providers/%s/checkpoints' % PROVIDER,
                {'checkpoint': {'plan_id': plan['id']}},
                status=202)['checkpoint']['id'] for _ in range(OPERATIONS)]
    database = server.database_connection.rsplit('/', 1)[1]

    def hosts():
        return postgresql.psql(
            "SELECT id, host FROM checkpoints WHERE id IN (%s)"
            % ','.join("'%s'" % cid for cid in ids), database=database)

    locks = _bank(server) / 'locks' / PROJECT

    def held():
        # Logged, and waiting with their lease taken (written after the
        # checkpoint's metadata): mid-protect.
        leases = {path.name for path in locks.glob('protect-*')}
        return all([log['status'] for log in _logs(server, cid)] ==
                   ['protecting'] and any(
                       name.startswith('protect-%s-' % cid)
                       for name in leases) for cid in ids)

    running, waited = helpers.poll(held, 90)
    assert running, 'not all %d protects running after %.0f s:\n%s\n%s' % (
        OPERATIONS, waited, hosts(), '\n'.join(
            proc.output(last_lines=40) for proc in server.protection))
    assert {line.split('|')[1] for line in hosts().split()} == {host}
    return ids, marker


def _assert_all_interrupted(server, ids, host, reason_start):
    def ended():
        return all(_api(server, 'GET', _checkpoint_path(cid))['checkpoint'][
            'status'] != 'protecting' for cid in ids)

    _wait(ended, 'the interrupted protects ending', server=server)
    for cid in ids:
        shown = _api(server, 'GET', _checkpoint_path(cid))['checkpoint']
        assert shown['status'] == 'error', shown
        assert shown['error_reason'].startswith(reason_start), shown
        assert {r['status'] for r in shown['resources_status'].values()} \
            == {'error'}, shown
        (log,) = _logs(server, cid)
        assert log['status'] == 'error', log
        assert log['error_info'] == shown['error_reason']
        assert log['ended_at']
        metadata = json.loads((_bank(server) / 'checkpoints' / cid /
                               'metadata').read_text())
        assert metadata['status'] == 'error'
    assert _api(server, 'GET', '/operation_logs?status=protecting')[
        'operation_logs'] == []


def _assert_bank_whole(server):
    """No object half-written: chunks hash to their names, every metadata
    and manifest is JSON."""
    bank = _bank(server)
    chunks = list((bank / 'chunks' / PROJECT).glob('*/*'))
    assert chunks
    for path in chunks:
        if not path.name.startswith('.tmp-'):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == \
                path.name, path
    for path in (bank / 'checkpoints').glob('*/metadata'):
        json.loads(path.read_text())


def _protect_and_verify(server, plan):
    checkpoint = _api(server, 'POST', '/providers/%s/checkpoints'
                      % PROVIDER, {'checkpoint': {'plan_id': plan['id']}},
                      status=202)['checkpoint']
    shown = _wait(lambda: (lambda c: c if c['status'] != 'protecting'
                           else None)(_api(server, 'GET', _checkpoint_path(
                               checkpoint['id']))['checkpoint']),
                  'the new protect', server=server)
    assert shown['status'] == 'available', shown
    verification = _api(server, 'POST', '/verifications', {'verification': {
        'provider_id': PROVIDER, 'checkpoint_id': checkpoint['id']}},
        status=202)['verification']
    verified = _wait(lambda: (lambda v: v if v['status'] != 'verifying'
                              else None)(_api(server, 'GET', '/verifications/'
                                              '%s' % verification['id'])[
                                                  'verification']),
                     'the verification', server=server)
    assert verified['status'] == 'success', verified
    return checkpoint


def test_sigkill_during_20_protects_then_restart(make_deployment,
                                                 postgresql):
    server = make_deployment(extra_options=OPTIONS)
    killed, other = server.protection
    _set_enabled(server, other, False)
    plan = _plan(server)
    ids, marker = _start_held_protects(server, postgresql, plan,
                                       killed.host)

    killed.kill()
    marker.unlink()
    killed.start()
    _assert_all_interrupted(server, ids, killed.host,
                            'interrupted: protection service %s '
                            % killed.host)
    _protect_and_verify(server, plan)
    _assert_bank_whole(server)

    # The interrupted checkpoints delete, and the collection that follows
    # leaves exactly the chunks the remaining checkpoint refers to.
    for cid in ids:
        _api(server, 'DELETE', _checkpoint_path(cid), status=202)
    _wait(lambda: all(helpers.api_call(
        server, 'GET', _checkpoint_path(cid), user=USER,
        project=PROJECT).status == 404 for cid in ids),
        'the deletes', server=server)
    bank = file_system.FileSystemBank(str(_bank(server)))
    on_disk = {mf.digest_of_key(key) for key in
               bank.list_objects(mf.chunk_prefix(PROJECT))}
    assert on_disk == gc.referenced_chunks(bank, PROJECT)
    assert on_disk


def test_sigkill_survivor_ends_the_dead_services_work(make_deployment,
                                                      postgresql):
    server = make_deployment(extra_options=OPTIONS)
    killed, survivor = server.protection
    _set_enabled(server, survivor, False)
    plan = _plan(server)
    ids, marker = _start_held_protects(server, postgresql, plan,
                                       killed.host)

    killed.kill()
    killed_at = time.monotonic()
    marker.unlink()
    _assert_all_interrupted(server, ids, killed.host,
                            'interrupted: protection service %s stopped '
                            'reporting at ' % killed.host)
    # Not before the dead one's heartbeat was service_down_time old.
    assert time.monotonic() - killed_at >= server.service_down_time - 1.5

    _set_enabled(server, survivor, True)
    checkpoint = _protect_and_verify(server, plan)
    database = server.database_connection.rsplit('/', 1)[1]
    assert postgresql.psql("SELECT host FROM checkpoints WHERE id = '%s'"
                           % checkpoint['id'],
                           database=database).split() == [survivor.host]
    _assert_bank_whole(server)
