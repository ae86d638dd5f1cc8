import pytest
import webob

from karbor.api import listing
from karbor.api import middleware
from karbor import context
from karbor import exception

SORT_KEYS = ('id', 'name', 'created_at')
FILTERS = {'name': listing.exact, 'status': listing.one_of('a', 'b'),
           'plan_id': listing.uuid}
UUID = '8c2f4b43-6c4b-4e59-8f0b-9d1d2f5a0000'


def _req(query, user='alice', project='demo'):
    req = webob.Request.blank('/v1/demo/things?' + query)
    roles = ['reader', 'member'] + (['admin'] if user == 'admin' else [])
    req.environ[middleware.CONTEXT_KEY] = context.RequestContext(
        user_id=user, project_id=project, roles=roles)
    req.urlvars = {'project_id': 'demo'}
    return req


def _parse(query, **kwargs):
    return listing.parse(_req(query, **kwargs), SORT_KEYS,
                         [('created_at', 'desc')], FILTERS)


def test_defaults(override):
    override('osapi_max_limit', 50)
    query = _parse('')
    assert query.limit == 50
    assert query.marker is None
    assert query.sort == [('created_at', 'desc')]
    assert query.filters == {}
    assert query.project_id == 'demo'


def test_sort_forms():
    assert _parse('sort=name:desc,id').sort == [('name', 'desc'),
                                                ('id', 'asc')]
    assert _parse('sort_key=name&sort_dir=desc').sort == [('name', 'desc')]


@pytest.mark.parametrize('query,field', [
    ('limit=abc', 'limit'),
    ('limit=-3', 'limit'),
    ('limit=1.5', 'limit'),
    ('sort=nosuchkey:asc', 'sort'),
    ('sort=name:up', 'sort'),
    ('sort=name&sort_key=id', 'sort'),
    ('marker=123', 'marker'),
    ('colour=red', 'colour'),
    ('status=c', 'status'),
    ('plan_id=nope', 'plan_id'),
    ('all_tenants=perhaps', 'all_tenants'),
])
def test_bad_parameters_name_the_field(query, field):
    with pytest.raises(exception.InvalidInput) as error:
        _parse(query, user='admin')
    assert field in error.value.message


def test_limit_capped(override):
    override('osapi_max_limit', 10)
    assert _parse('limit=500').limit == 10
    assert _parse('limit=3').limit == 3


def test_filters_converted():
    query = _parse('name=x&status=a&plan_id=%s' % UUID)
    assert query.filters == {'name': 'x', 'status': 'a', 'plan_id': UUID}


def test_all_tenants_needs_admin():
    with pytest.raises(exception.PolicyNotAuthorized):
        _parse('all_tenants=1')
    with pytest.raises(exception.PolicyNotAuthorized):
        _parse('project_id=other')
    assert _parse('all_tenants=1', user='admin').project_id is None
    assert _parse('all_tenants=True', user='admin').project_id is None
    assert _parse('all_tenants=1&project_id=other',
                  user='admin').project_id == 'other'
    assert _parse('all_tenants=0', user='admin').project_id == 'demo'


def test_not_project_scoped_refuses_tenant_params():
    with pytest.raises(exception.InvalidInput):
        listing.parse(_req('all_tenants=1', user='admin'), SORT_KEYS,
                      [('id', 'asc')], project_scoped=False)


def test_links():
    req = _req('limit=2&name=x')
    query = _parse('limit=2&name=x')
    items = [{'id': 'a'}, {'id': 'b'}]
    (link,) = listing.links(req, 'things', items, query)['things_links']
    assert link['rel'] == 'next'
    assert link['href'].startswith('http://localhost/v1/demo/things?')
    assert 'marker=b' in link['href'] and 'name=x' in link['href']
    assert listing.links(req, 'things', items[:1], query) == {}


def test_paginate_in_memory():
    rows = [{'id': str(i), 'name': n} for i, n in
            enumerate(['c', 'a', 'b', 'a'])]
    query = listing.ListQuery(limit=2, sort=[('name', 'asc')])
    page = listing.paginate_in_memory(rows, query)
    assert [r['id'] for r in page] == ['1', '3']
    query.marker = '3'
    assert [r['id'] for r in listing.paginate_in_memory(rows, query)] == [
        '2', '0']
    query.marker = 'nope'
    with pytest.raises(exception.InvalidInput):
        listing.paginate_in_memory(rows, query)


@pytest.mark.parametrize('value,expected', [
    ('0', True), ('42', True), (str(listing.MAX_INT), True),
    (str(listing.MAX_INT + 1), False), ('\u00b2', False),
    ('\u0663', False), ('-1', False), (' 1', False), ('', False)])
def test_is_int_id(value, expected):
    assert listing.is_int_id(value) is expected
