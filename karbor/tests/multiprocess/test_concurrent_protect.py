"""200 protects at once against two protection services over RabbitMQ.

Every ``POST /checkpoints`` becomes one cast on the shared protection
topic; RabbitMQ hands each message to one of the two karbor-protection
processes, and the one that gets it claims the checkpoint row before it
works. The test judges the outcome from three places that do not depend
on each other: the API (statuses, operation logs), the database's host
column (who ran it) and the file-system bank (what was written).
"""

import collections
from concurrent import futures
import json
import pathlib
import time

from karbor.tests.e2e import helpers

PROVIDER = helpers.LOCAL_PROVIDER_ID
DIRECTORY = 'OS::Karbor::Directory'
PROJECT = 'burst'
USER = 'bea'
PROTECTS = 200
SUBMITTERS = 50
FINISH_TIMEOUT = 300


def _api(server, method, path, body=None, status=200):
    return helpers.api_ok(helpers.api_call(
        server, method, path, user=USER, project=PROJECT, body=body,
        timeout=120), status)


def _all_pages(server, path, key, page=100):
    """Every row of a list, following markers page by page."""
    rows = []
    separator = '&' if '?' in path else '?'
    marker = ''
    while True:
        found = _api(server, 'GET', '%s%slimit=%d%s' % (
            path, separator, page, marker))[key]
        rows.extend(found)
        if len(found) < page:
            return rows
        marker = '&marker=%s' % found[-1]['id']


def _plan(server):
    docs = pathlib.Path(server.state_path) / 'data' / PROJECT / 'docs'
    docs.mkdir(parents=True)
    for index in range(5):
        (docs / ('file-%d.txt' % index)).write_text('content %d\n' % index)
    (instance,) = _api(server, 'GET', '/protectables/%s/instances'
                       % DIRECTORY)['instances']
    return _api(server, 'POST', '/plans', {'plan': {
        'name': 'burst', 'provider_id': PROVIDER,
        'resources': [{'id': instance['id'], 'type': DIRECTORY,
                       'name': 'docs'}]}})['plan']


def _submit(server, plan_id):
    return _api(server, 'POST', '/providers/%s/checkpoints' % PROVIDER,
                {'checkpoint': {'plan_id': plan_id}}, status=202)['checkpoint']


def test_200_concurrent_protects_each_run_once(deployment, postgresql):
    plan = _plan(deployment)

    started = time.monotonic()
    with futures.ThreadPoolExecutor(SUBMITTERS) as pool:
        created = list(pool.map(lambda _: _submit(deployment, plan['id']),
                                range(PROTECTS)))
    submitted = time.monotonic() - started
    ids = {checkpoint['id'] for checkpoint in created}
    assert len(ids) == PROTECTS

    def finished():
        rows = _all_pages(deployment, '/providers/%s/checkpoints?plan_id=%s'
                          % (PROVIDER, plan['id']), 'checkpoints')
        statuses = collections.Counter(row['status'] for row in rows)
        return statuses if statuses.get('protecting', 0) == 0 else None

    statuses, waited = helpers.poll(finished, FINISH_TIMEOUT, interval=2)
    assert statuses == {'available': PROTECTS}, (
        'after %.0f s: %r\n%s' % (waited, statuses,
                                  deployment.output(last_lines=40)))
    print('%d protects: submitted in %.1f s, all available after %.1f s'
          % (PROTECTS, submitted, time.monotonic() - started))

    # Exactly one operation log per checkpoint, each ended successfully.
    logs = _all_pages(deployment, '/operation_logs?plan_id=%s' % plan['id'],
                      'operation_logs')
    per_checkpoint = collections.Counter(log['checkpoint_id']
                                         for log in logs)
    assert set(per_checkpoint) == ids
    assert set(per_checkpoint.values()) == {1}, [
        checkpoint for checkpoint, count in per_checkpoint.items()
        if count > 1]
    assert {(log['operation_type'], log['status']) for log in logs} == {
        ('protect', 'available')}, logs
    assert all(log['ended_at'] for log in logs), logs

    # Each was claimed by one of the two services, and both did work.
    hosts = collections.Counter(dict(
        line.split('|') for line in postgresql.psql(
            "SELECT host, count(*) FROM checkpoints WHERE plan_id = '%s' "
            "GROUP BY host" % plan['id'], database='karbor').split()))
    hosts = {host: int(count) for host, count in hosts.items()}
    protection_hosts = {proc.host for proc in deployment.protection}
    assert set(hosts) == protection_hosts, hosts
    assert sum(hosts.values()) == PROTECTS
    # RabbitMQ deals a queue's messages round-robin to its consumers.
    assert min(hosts.values()) >= PROTECTS // 5, hosts

    # The bank holds one complete checkpoint per request, nothing else
    # of this plan, and every one of them says available.
    bank = pathlib.Path(deployment.state_path) / 'bank' / 'checkpoints'
    in_bank = {}
    for metadata in bank.glob('*/metadata'):
        content = json.loads(metadata.read_text())
        if content['protection_plan']['id'] == plan['id']:
            in_bank[content['id']] = content['status']
    assert in_bank == {checkpoint_id: 'available' for checkpoint_id in ids}
