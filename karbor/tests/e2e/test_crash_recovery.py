"""A protection service killed mid-protect leaves nothing in progress.

karbor-all is killed (SIGKILL) while a protect runs and started again
with the same host: the checkpoint and its operation log end in error
with an "interrupted" reason, and a new protect of the same plan works.
"""

import json
import os
import signal
import time
import uuid

from karbor.tests.e2e.conftest import start_karbor_all
from karbor.tests.e2e import helpers

PROVIDER = helpers.LOCAL_PROVIDER_ID
DIRECTORY = 'OS::Karbor::Directory'
PROJECT = 'crash'
USER = 'erin'


def _api(server, method, path, body=None, status=200):
    return helpers.api_ok(helpers.api_call(
        server, method, path, user=USER, project=PROJECT, body=body), status)


def _wait(check, what, timeout=60):
    done, waited = helpers.poll(check, timeout)
    assert done, '%s did not happen within %.0f s' % (what, waited)


def test_kill_mid_protect_then_restart(tmp_path):
    workdir = tmp_path / 'state'
    workdir.mkdir()
    server = start_karbor_all(workdir)
    try:
        docs = workdir / 'data' / PROJECT / 'docs'
        docs.mkdir(parents=True)
        (docs / 'a.txt').write_bytes(os.urandom(100000))
        (instance,) = _api(server, 'GET', '/protectables/%s/instances'
                           % DIRECTORY)['instances']
        plan = _api(server, 'POST', '/plans', {'plan': {
            'name': 'crash', 'provider_id': PROVIDER,
            'resources': [{'id': instance['id'], 'type': DIRECTORY,
                           'name': 'docs'}]}})['plan']

        # A fresh garbage-collection marker makes the protect wait (see the
        # directory plugin's gc module): the kill lands mid-protect.
        marker = workdir / 'bank' / 'locks' / PROJECT / (
            'gc-e2e-%s' % uuid.uuid4().hex)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({'kind': 'gc', 'host': 'e2e',
                                      'updated_at': time.time()}))
        checkpoint = _api(server, 'POST', '/providers/%s/checkpoints'
                          % PROVIDER, {'checkpoint': {'plan_id': plan['id']}},
                          status=202)['checkpoint']
        lease = marker.parent / ('protect-%s-%s' % (checkpoint['id'],
                                                    instance['id']))
        _wait(lease.exists, 'the protect starting')

        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=30)
        marker.unlink()
    finally:
        helpers.stop_process(server.process)

    server = start_karbor_all(workdir)
    try:
        path = '/providers/%s/checkpoints/%s' % (PROVIDER, checkpoint['id'])
        shown = _api(server, 'GET', path)['checkpoint']
        assert shown['status'] == 'error', shown
        assert 'interrupted' in shown['error_reason'], shown

        logs = _api(server, 'GET', '/operation_logs?checkpoint_id=%s'
                    % checkpoint['id'])['operation_logs']
        assert [log['status'] for log in logs] == ['error'], logs
        assert 'interrupted' in logs[0]['error_info']
        assert logs[0]['ended_at']
        running = _api(server, 'GET', '/operation_logs?status=protecting')
        assert running['operation_logs'] == []

        # The plan protects again, and the failed checkpoint deletes.
        again = _api(server, 'POST', '/providers/%s/checkpoints' % PROVIDER,
                     {'checkpoint': {'plan_id': plan['id']}},
                     status=202)['checkpoint']
        again_path = '/providers/%s/checkpoints/%s' % (PROVIDER, again['id'])
        _wait(lambda: _api(server, 'GET', again_path)['checkpoint'][
            'status'] == 'available', 'the second protect')
        _api(server, 'DELETE', path, status=202)
        _wait(lambda: helpers.api_call(server, 'GET', path, user=USER,
                                       project=PROJECT).status == 404,
              'the delete of the interrupted checkpoint')
    finally:
        helpers.stop_process(server.process)
