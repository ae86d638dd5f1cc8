"""Quotas hold across API worker processes on PostgreSQL.

Thirty plan creates are sent at once to three gunicorn workers for five
places of ``[quota] plans``: the count and the insert of each run behind
a transaction-scoped advisory lock per project (karbor.objects.quota),
so exactly five are created and the others are refused with 403 naming
the quota.
"""

from concurrent import futures
import pathlib
import threading

from karbor.tests.e2e import helpers

PROJECT = 'quota-race'
USER = 'quinn'
PLACES = 5
CREATES = 30


def test_concurrent_plan_creates_do_not_overshoot_the_quota(
        make_deployment):
    server = make_deployment(protections=0, engines=0, extra_options={
        'quota': {'plans': PLACES}})
    docs = pathlib.Path(server.state_path) / 'data' / PROJECT / 'docs'
    docs.mkdir(parents=True)
    (docs / 'a.txt').write_text('alpha\n')
    (instance,) = helpers.api_ok(helpers.api_call(
        server, 'GET', '/protectables/OS::Karbor::Directory/instances',
        user=USER, project=PROJECT))['instances']
    body = {'plan': {'name': 'racer', 'provider_id':
                     helpers.LOCAL_PROVIDER_ID,
                     'resources': [{'id': instance['id'],
                                    'type': 'OS::Karbor::Directory',
                                    'name': 'docs'}]}}
    start = threading.Barrier(CREATES)

    def create(_):
        start.wait()
        return helpers.api_call(server, 'POST', '/plans', user=USER,
                                project=PROJECT, body=body, timeout=120)

    with futures.ThreadPoolExecutor(CREATES) as pool:
        results = list(pool.map(create, range(CREATES)))

    statuses = sorted(result.status for result in results)
    assert statuses == [200] * PLACES + [403] * (CREATES - PLACES), (
        statuses, server.output(last_lines=40))
    for result in results:
        if result.status == 403:
            assert result.body['forbidden']['message'].startswith(
                'Quota exceeded for plans of project %s: %d in use, limit '
                '%d' % (PROJECT, PLACES, PLACES))
    plans = helpers.api_ok(helpers.api_call(
        server, 'GET', '/plans', user=USER, project=PROJECT))['plans']
    assert len(plans) == PLACES
