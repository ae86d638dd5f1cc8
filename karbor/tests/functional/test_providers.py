import pytest

from karbor.services.protection import provider

LOCAL_ID = 'b766f37c-d011-4026-8228-28730d734a3f'


def test_list_shows_the_local_directory_provider(api):
    res = api.get('providers')
    assert res.status_code == 200
    (row,) = res.json_body['providers']
    assert row['id'] == LOCAL_ID
    assert row['name'] == 'Local Directory'
    assert set(row['extended_info_schema']) == {
        'options_schema', 'restore_schema', 'saved_info_schema',
        'verify_schema'}
    assert 'providers_links' not in res.json_body


def test_show(api):
    res = api.get('providers/%s' % LOCAL_ID)
    assert res.status_code == 200
    assert res.json_body['provider']['name'] == 'Local Directory'


def test_reader_may_list(api):
    res = api.as_user('carol').get('providers')
    assert res.status_code == 200


@pytest.fixture
def three_providers(tmp_path, override):
    ids = ['11111111-1111-4111-8111-111111111111',
           '22222222-2222-4222-8222-222222222222',
           '33333333-3333-4333-8333-333333333333']
    for number, (name, pid) in enumerate(zip(['Gamma', 'Alpha', 'Beta'],
                                             ids)):
        (tmp_path / ('p%d.conf' % number)).write_text(
            '[provider]\nname = %s\ndescription = the %s one\nid = %s\n'
            'bank = file-system\n' % (name, name.lower(), pid))
    (tmp_path / 'off.conf').write_text(
        '[provider]\nname = Off\nid = 44444444-4444-4444-8444-444444444444\n'
        'bank = file-system\nenabled = false\n')
    override('config_dir', str(tmp_path), group='provider')
    provider.reset_registry()
    return ids


def test_pagination_and_sorting(api, three_providers):
    res = api.get('providers')
    assert [p['name'] for p in res.json_body['providers']] == [
        'Alpha', 'Beta', 'Gamma']

    res = api.get('providers?limit=2&sort=name:desc')
    assert [p['name'] for p in res.json_body['providers']] == [
        'Gamma', 'Beta']
    (link,) = res.json_body['providers_links']
    assert link['rel'] == 'next'
    assert 'marker=%s' % three_providers[2] in link['href']
    assert 'sort=name%3Adesc' in link['href']

    next_path = link['href'].split('localhost', 1)[1]
    res = api.get(next_path, project_prefix=False)
    assert [p['name'] for p in res.json_body['providers']] == ['Alpha']
    assert 'providers_links' not in res.json_body


def test_filters(api, three_providers):
    res = api.get('providers?name=Beta')
    assert [p['id'] for p in res.json_body['providers']] == [
        three_providers[2]]
    res = api.get('providers?description=the+alpha+one')
    assert [p['name'] for p in res.json_body['providers']] == ['Alpha']


def test_disabled_provider_is_not_served(api, three_providers):
    res = api.get('providers/44444444-4444-4444-8444-444444444444')
    assert res.status_code == 404


def test_limit_is_capped_by_max_limit(api, three_providers, override):
    override('osapi_max_limit', 2)
    res = api.get('providers?limit=50')
    assert len(res.json_body['providers']) == 2
    assert 'providers_links' in res.json_body
