"""os-services with the real services running in-process."""

import time

import pytest

from karbor import objects


@pytest.fixture
def fast_heartbeat(override):
    override('report_interval', 1)


def _services(admin_api, query=''):
    res = admin_api.get('os-services' + query)
    assert res.status_code == 200, res.json_body
    return {s['binary']: s for s in res.json_body['services']}


def test_both_services_register_and_are_up(admin_api, running_services):
    services = _services(admin_api)
    assert set(services) == {'karbor-protection', 'karbor-operationengine'}
    for row in services.values():
        assert row['state'] == 'up'
        assert row['status'] == 'enabled'
        assert row['disabled_reason'] is None
        assert isinstance(row['id'], int)


def test_non_admin_is_refused(api, running_services):
    res = api.get('os-services')
    assert res.status_code == 403
    res = api.put('os-services/1', body={'status': 'disabled'})
    assert res.status_code == 403


def test_filters(admin_api, running_services):
    services = _services(admin_api, '?binary=karbor-protection')
    assert list(services) == ['karbor-protection']
    res = admin_api.get('os-services?binary=nova-compute')
    assert res.status_code == 400
    host = services['karbor-protection']['host']
    assert len(_services(admin_api, '?host=%s' % host)) == 2
    assert _services(admin_api, '?host=elsewhere') == {}


def test_pagination(admin_api, running_services):
    res = admin_api.get('os-services?limit=1')
    (first,) = res.json_body['services']
    assert 'services_links' in res.json_body
    res = admin_api.get('os-services?limit=1&marker=%d' % first['id'])
    (second,) = res.json_body['services']
    assert second['id'] > first['id']
    res = admin_api.get('os-services?marker=abc')
    assert res.status_code == 400


def test_disable_and_enable(admin_api, running_services):
    service_id = _services(admin_api)['karbor-protection']['id']
    res = admin_api.put('os-services/%d' % service_id,
                        body={'status': 'disabled',
                              'disabled_reason': 'maintenance'})
    assert res.status_code == 200
    assert res.json_body['service']['status'] == 'disabled'
    assert res.json_body['service']['disabled_reason'] == 'maintenance'
    row = _services(admin_api)['karbor-protection']
    assert (row['status'], row['disabled_reason']) == ('disabled',
                                                       'maintenance')

    res = admin_api.put('os-services/%d' % service_id,
                        body={'status': 'enabled'})
    assert res.json_body['service']['status'] == 'enabled'
    assert res.json_body['service']['disabled_reason'] is None


def test_unknown_service(admin_api, running_services):
    assert admin_api.put('os-services/999',
                         body={'status': 'enabled'}).status_code == 404
    assert admin_api.put('os-services/abc',
                         body={'status': 'enabled'}).status_code == 404


def test_stopped_service_goes_down(fast_heartbeat, admin_api,
                                   running_services, override):
    override('service_down_time', 2)
    protection = running_services[0]
    protection.stop()
    deadline = time.time() + 10
    while _services(admin_api)['karbor-protection']['state'] == 'up':
        assert time.time() < deadline, 'service never went down'
        time.sleep(0.5)
    # The other one keeps beating.
    assert _services(admin_api)['karbor-operationengine']['state'] == 'up'
    running_services.remove(protection)


def test_restarted_service_reuses_its_row(admin_api, running_services,
                                          admin_context):
    before = objects.Service.get_by_host_and_binary(
        admin_context, running_services[0].host, 'karbor-protection')
    running_services[0].stop()
    running_services[0].start()
    after = objects.Service.get_by_host_and_binary(
        admin_context, running_services[0].host, 'karbor-protection')
    assert after.id == before.id
    assert after.report_count > before.report_count
