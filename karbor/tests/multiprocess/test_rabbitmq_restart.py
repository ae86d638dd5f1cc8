"""RabbitMQ restarts under a running deployment.

- A request queued while no protection service consumes survives a
  broker restart (durable queue, persistent message) and runs once the
  services are back.
- After the restart, the API and the services have reconnected by
  themselves: a new protect runs.
- While the broker is down, a protect fails at once, visibly: 503, and
  the checkpoint and its log in error, not a request pending for ever.

These restart the session's RabbitMQ: the suite runs without xdist.
"""

import os
import pathlib

from karbor.tests.e2e import helpers

PROVIDER = helpers.LOCAL_PROVIDER_ID
DIRECTORY = 'OS::Karbor::Directory'
PROJECT = 'broker'
USER = 'ruth'


def _api(server, method, path, body=None, status=200):
    return helpers.api_ok(helpers.api_call(
        server, method, path, user=USER, project=PROJECT, body=body,
        timeout=120), status)


def _protect(server, plan):
    return _api(server, 'POST', '/providers/%s/checkpoints' % PROVIDER,
                {'checkpoint': {'plan_id': plan['id']}},
                status=202)['checkpoint']


def _ended(server, checkpoint, timeout=90):
    path = '/providers/%s/checkpoints/%s' % (PROVIDER, checkpoint['id'])

    def check():
        shown = _api(server, 'GET', path)['checkpoint']
        return shown if shown['status'] != 'protecting' else None

    shown, waited = helpers.poll(check, timeout)
    assert shown, 'checkpoint still protecting after %.0f s\n%s' % (
        waited, server.output(last_lines=30))
    return shown


def test_rabbitmq_restart(make_deployment, rabbitmq):
    server = make_deployment(extra_options={'DEFAULT': {
        'interrupted_check_interval': 1}})
    docs = pathlib.Path(server.state_path) / 'data' / PROJECT / 'docs'
    docs.mkdir(parents=True)
    (docs / 'a.bin').write_bytes(os.urandom(100000))
    (instance,) = _api(server, 'GET', '/protectables/%s/instances'
                       % DIRECTORY)['instances']
    plan = _api(server, 'POST', '/plans', {'plan': {
        'name': 'broker', 'provider_id': PROVIDER,
        'resources': [{'id': instance['id'], 'type': DIRECTORY,
                       'name': 'docs'}]}})['plan']
    assert _ended(server, _protect(server, plan))['status'] == 'available'

    # Queued while no protection service runs, across a broker restart.
    for proc in server.protection:
        proc.stop()
    queued = _protect(server, plan)
    rabbitmq.restart()
    for proc in server.protection:
        proc.start()
    assert _ended(server, queued)['status'] == 'available'

    # Everybody reconnected: the API sends, a service consumes.
    assert _ended(server, _protect(server, plan))['status'] == 'available'

    # The broker down: the request fails at once, visibly.
    rabbitmq.stop()
    try:
        refused = helpers.api_call(
            server, 'POST', '/providers/%s/checkpoints' % PROVIDER,
            user=USER, project=PROJECT, timeout=120,
            body={'checkpoint': {'plan_id': plan['id']}})
    finally:
        rabbitmq.start()
    assert refused.status == 503, refused.text
    assert 'could not be sent' in refused.body['serviceUnavailable'][
        'message']
    failed = [c for c in _api(server, 'GET', '/providers/%s/checkpoints'
                              % PROVIDER)['checkpoints']
              if c['status'] != 'available']
    assert len(failed) == 1, failed
    assert failed[0]['status'] == 'error'
    assert failed[0]['error_reason'].startswith(
        'could not be sent to a protection service')
    (log,) = _api(server, 'GET', '/operation_logs?checkpoint_id=%s'
                  % failed[0]['id'])['operation_logs']
    assert (log['status'], log['error_info']) == (
        'error', failed[0]['error_reason'])

    # And back again once the broker is.
    assert _ended(server, _protect(server, plan))['status'] == 'available'
