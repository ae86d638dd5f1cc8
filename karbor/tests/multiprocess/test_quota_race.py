"""Quotas hold across API worker processes on PostgreSQL.

Thirty plan creates are sent at once to three gunicorn workers for five
places of ``[quota] plans``: the count and the insert of each run behind
a transaction-scoped advisory lock per project (karbor.objects.quota),
so exactly five are created and the others are refused with 403 naming
the quota. The same holds for a project's own limit, set through the
API.
"""

from concurrent import futures
import pathlib
import threading

from karbor.tests.e2e import helpers

PROJECT = 'quota-race'
USER = 'quinn'
PLACES = 5
CREATES = 30


def race(server, project, places, source):
    """CREATES plan creates in ``project`` at once; ``places`` succeed."""
    docs = pathlib.Path(server.state_path) / 'data' / project / 'docs'
    docs.mkdir(parents=True)
    (docs / 'a.txt').write_text('alpha\n')
    (instance,) = helpers.api_ok(helpers.api_call(
        server, 'GET', '/protectables/OS::Karbor::Directory/instances',
        user=USER, project=project))['instances']
    body = {'plan': {'name': 'racer', 'provider_id':
                     helpers.LOCAL_PROVIDER_ID,
                     'resources': [{'id': instance['id'],
                                    'type': 'OS::Karbor::Directory',
                                    'name': 'docs'}]}}
    start = threading.Barrier(CREATES)

    def create(_):
        start.wait()
        return helpers.api_call(server, 'POST', '/plans', user=USER,
                                project=project, body=body, timeout=120)

    with futures.ThreadPoolExecutor(CREATES) as pool:
        results = list(pool.map(create, range(CREATES)))

    statuses = sorted(result.status for result in results)
    assert statuses == [200] * places + [403] * (CREATES - places), (
        statuses, server.output(last_lines=40))
    for result in results:
        if result.status == 403:
            assert result.body['forbidden']['message'].startswith(
                'Quota exceeded for plans of project %s: %d in use, limit '
                '%d (%s)' % (project, places, places, source))
    plans = helpers.api_ok(helpers.api_call(
        server, 'GET', '/plans', user=USER, project=project))['plans']
    assert len(plans) == places


def test_concurrent_plan_creates_do_not_overshoot_the_quota(
        make_deployment):
    server = make_deployment(protections=0, engines=0, extra_options={
        'quota': {'plans': PLACES}})
    race(server, PROJECT, PLACES, '[quota] plans')
    # A project's own limit, set through the API, is read in the insert
    # transaction of every worker alike.
    other = PROJECT + '-own'
    helpers.api_ok(helpers.api_call(
        server, 'PUT', '/quotas/%s' % other, project=other,
        body={'quota': {'plans': PLACES - 2}}))
    race(server, other, PLACES - 2, 'quota of project %s' % other)
