"""Plans, protectables, checkpoints and restores of local directories,
through the real API, the real protection service and a real bank."""

import os
import time
import uuid

import pytest

from karbor import context
from karbor.services.protection import checkpoint as bank_checkpoint
from karbor.tests.functional.helpers import bank_files
from karbor.tests.functional.helpers import create_plan
from karbor.tests.functional.helpers import DIRECTORY
from karbor.tests.functional.helpers import instance_of
from karbor.tests.functional.helpers import make_tree
from karbor.tests.functional.helpers import project_root
from karbor.tests.functional.helpers import protect
from karbor.tests.functional.helpers import PROVIDER
from karbor.tests.functional.helpers import refuse_reading
from karbor.tests.functional.helpers import restore
from karbor.tests.functional.helpers import snapshot
from karbor.tests.functional.helpers import wait_for


# Protectables -------------------------------------------------------------

def test_protectable_types(api):
    res = api.get('protectables')
    assert DIRECTORY in res.json_body['protectable_type']
    res = api.get('protectables/%s' % DIRECTORY)
    assert res.json_body['protectable_type']['name'] == DIRECTORY
    assert api.get('protectables/OS::Nova::Server').status_code == 404


def test_instances_are_the_projects_directories(api, data_root):
    make_tree('demo', 'docs')
    make_tree('demo', 'photos')
    make_tree('other', 'secret')
    rows = api.get('protectables/%s/instances' % DIRECTORY).json_body[
        'instances']
    assert [r['name'] for r in rows] == ['docs', 'photos']
    for row in rows:
        assert uuid.UUID(row['id'])
        assert row['type'] == DIRECTORY
        assert row['dependent_resources'] == []
    res = api.get('protectables/%s/instances/%s' % (DIRECTORY, rows[0]['id']))
    assert res.json_body['instance']['name'] == 'docs'
    # The other project's directory is invisible.
    theirs = api.as_user('bob', 'other').get(
        'protectables/%s/instances' % DIRECTORY).json_body['instances']
    assert [r['name'] for r in theirs] == ['secret']
    res = api.get('protectables/%s/instances/%s' % (
        DIRECTORY, theirs[0]['id']))
    assert res.status_code == 404


# Plans --------------------------------------------------------------------

def test_plan_lifecycle(api, data_root):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    assert plan['status'] == 'suspended'
    assert plan['provider_id'] == PROVIDER
    assert api.get('plans/%s' % plan['id']).json_body['plan'] == plan
    rows = api.get('plans').json_body['plans']
    assert [p['id'] for p in rows] == [plan['id']]

    res = api.put('plans/%s' % plan['id'],
                  {'plan': {'name': 'renamed', 'status': 'started'}})
    assert res.status_code == 200
    assert (res.json_body['plan']['name'],
            res.json_body['plan']['status']) == ('renamed', 'started')
    assert api.get('plans?status=started').json_body['plans'][0][
        'name'] == 'renamed'

    assert api.delete('plans/%s' % plan['id']).status_code == 202
    assert api.get('plans/%s' % plan['id']).status_code == 404


@pytest.mark.parametrize('mutate,status,field', [
    (lambda p: p.update(provider_id='nope'), 400, 'provider_id'),
    (lambda p: p.update(provider_id=str(uuid.uuid4())), 404, 'Provider'),
    (lambda p: p['resources'][0].update(type='OS::Nova::Server'), 400,
     'type'),
    (lambda p: p['resources'][0].update(id=str(uuid.uuid4())), 404,
     'could not be found'),
    (lambda p: p.update(resources=[]), 400, 'resources'),
    (lambda p: p.update(parameters={DIRECTORY: {'nosuchoption': 1}}), 400,
     'nosuchoption'),
    (lambda p: p.update(parameters={'OS::Nova::Server': {}}), 400,
     'OS::Nova::Server'),
    (lambda p: p.update(colour='blue'), 400, 'colour'),
    (lambda p: p.pop('name'), 400, 'name'),
])
def test_bad_plans(api, data_root, mutate, status, field):
    make_tree('demo', 'docs')
    body = {'name': 'p', 'provider_id': PROVIDER,
            'resources': [{'id': instance_of(api, 'docs')['id'],
                           'type': DIRECTORY, 'name': 'docs'}]}
    mutate(body)
    res = api.post('plans', {'plan': body})
    assert res.status_code == status, res.json_body
    assert field in list(res.json_body.values())[0]['message']


def test_plans_are_isolated(api, data_root):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    bob = api.as_user('bob', 'other')
    assert bob.get('plans').json_body['plans'] == []
    res = bob.get('/v1/other/plans/%s' % plan['id'], project_prefix=False)
    assert res.status_code == 404
    res = bob.delete('/v1/other/plans/%s' % plan['id'],
                     project_prefix=False)
    assert res.status_code == 404
    # An admin sees every project's with all_tenants.
    admin = api.as_user('admin', 'other')
    rows = admin.get('plans?all_tenants=1').json_body['plans']
    assert plan['id'] in [p['id'] for p in rows]
    assert bob.get('plans?all_tenants=1').status_code == 403


# Protect, restore, delete ------------------------------------------------

def test_protect_restore_delete(api, protection, data_root):
    source = make_tree('demo', 'docs')
    bank_before = bank_files(data_root)
    plan = create_plan(api, ['docs'])
    checkpoint = protect(api, plan['id'], {'note': 'first'})
    assert checkpoint['status'] == 'available', checkpoint
    assert checkpoint['protection_plan']['id'] == plan['id']
    assert checkpoint['protection_plan']['name'] == plan['name']
    assert checkpoint['extra_info'] == {'note': 'first'}
    assert isinstance(checkpoint['resource_graph'], str)
    assert DIRECTORY in checkpoint['resource_graph']

    result = restore(api, checkpoint['id'],
                     {DIRECTORY: {'restore_name': 'docs-back'}})
    assert result['status'] == 'success', result
    resource_id = plan['resources'][0]['id']
    assert result['resources_status'] == {
        '%s#%s' % (DIRECTORY, resource_id): 'restored'}
    assert snapshot(os.path.join(project_root('demo'), 'docs-back')) == \
        snapshot(source)

    res = api.delete('providers/%s/checkpoints/%s' % (
        PROVIDER, checkpoint['id']))
    assert res.status_code == 202
    wait_for(lambda: api.get('providers/%s/checkpoints/%s' % (
        PROVIDER, checkpoint['id'])).status_code, lambda s: s == 404)
    assert bank_files(data_root) == bank_before


def test_second_checkpoint_of_unchanged_data_adds_only_metadata(
        api, protection, data_root):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    protect(api, plan['id'])
    chunks = {f for f in bank_files(data_root) if f.startswith('chunks/')}
    second = protect(api, plan['id'])
    assert second['status'] == 'available'
    assert {f for f in bank_files(data_root)
            if f.startswith('chunks/')} == chunks


def test_checkpoint_lists(api, protection, data_root):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    first = protect(api, plan['id'])
    second = protect(api, plan['id'])
    path = 'providers/%s/checkpoints' % PROVIDER
    rows = api.get(path).json_body['checkpoints']
    assert [c['id'] for c in rows] == [second['id'], first['id']]
    page = api.get(path + '?limit=1').json_body
    assert [c['id'] for c in page['checkpoints']] == [second['id']]
    assert 'checkpoints_links' in page
    page = api.get(path + '?limit=1&marker=%s' % second['id']).json_body
    assert [c['id'] for c in page['checkpoints']] == [first['id']]
    assert len(api.get(path + '?plan_id=%s' % plan['id']).json_body[
        'checkpoints']) == 2
    assert api.get(path + '?plan_id=%s' % uuid.uuid4()).json_body[
        'checkpoints'] == []
    today = time.strftime('%Y-%m-%d', time.gmtime())
    assert len(api.get(path + '?start_date=%s&end_date=%s' % (
        today, today)).json_body['checkpoints']) == 2
    assert api.get(path + '?start_date=2000-01-01&end_date=2000-01-02'
                   ).json_body['checkpoints'] == []
    assert api.get(path + '?start_date=yesterday').status_code == 400
    assert api.get(path + '?status=available').status_code == 200
    assert api.get(path + '?status=bogus').status_code == 400
    assert api.get('providers/%s/checkpoints' % uuid.uuid4()
                   ).status_code == 404


def test_lists_show_json_columns_as_shows_do(api, protection, data_root):
    # Lists hand some JSON columns on as unparsed text; what a client
    # gets must not tell the two paths apart.
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    noted = protect(api, plan['id'],
                    extra_info={'note': 'caf\u00e9 \u2603', 'n': [1, None]})
    plain = protect(api, plan['id'])
    for kind, path, key in (
            ('plans', 'plans', 'plan'),
            ('checkpoints', 'providers/%s/checkpoints' % PROVIDER,
             'checkpoint'),
            ('operation_logs', 'operation_logs', 'operation_log')):
        rows = api.get(path).json_body[kind]
        assert rows, kind
        for row in rows:
            shown = api.get('%s/%s' % (path, row['id'])).json_body[key]
            assert row == shown, kind
    listed = {c['id']: c for c in api.get(
        'providers/%s/checkpoints' % PROVIDER).json_body['checkpoints']}
    assert listed[noted['id']]['extra_info'] == {
        'note': 'caf\u00e9 \u2603', 'n': [1, None]}
    assert listed[plain['id']]['extra_info'] == {}
    assert isinstance(listed[plain['id']]['resource_graph'], str)


def test_checkpoints_and_restores_are_isolated(api, protection, data_root):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    checkpoint = protect(api, plan['id'])
    result = restore(api, checkpoint['id'])
    bob = api.as_user('bob', 'other')
    base = '/v1/other/providers/%s/checkpoints' % PROVIDER
    assert bob.get(base, project_prefix=False).json_body[
        'checkpoints'] == []
    assert bob.get('%s/%s' % (base, checkpoint['id']),
                   project_prefix=False).status_code == 404
    assert bob.delete('%s/%s' % (base, checkpoint['id']),
                      project_prefix=False).status_code == 404
    assert bob.get('/v1/other/restores', project_prefix=False).json_body[
        'restores'] == []
    assert bob.get('/v1/other/restores/%s' % result['id'],
                   project_prefix=False).status_code == 404
    res = bob.post('/v1/other/restores', {'restore': {
        'provider_id': PROVIDER, 'checkpoint_id': checkpoint['id']}},
        project_prefix=False)
    assert res.status_code == 404
    res = bob.post('/v1/other/providers/%s/checkpoints' % PROVIDER,
                   {'checkpoint': {'plan_id': plan['id']}},
                   project_prefix=False)
    assert res.status_code == 404


def test_default_restore_name_and_existing_target(api, protection,
                                                  data_root):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    checkpoint = protect(api, plan['id'])
    first = restore(api, checkpoint['id'])
    assert first['status'] == 'success', first
    names = sorted(os.listdir(project_root('demo')))
    assert len(names) == 2 and names[0] == 'docs'

    taken = restore(api, checkpoint['id'],
                    {DIRECTORY: {'restore_name': 'docs'}})
    assert taken['status'] == 'error'
    (reason,) = taken['resources_reason'].values()
    assert 'docs' in reason


@pytest.mark.parametrize('name', ['../escape', '..', '.', 'a/b', ''])
def test_restore_names_that_escape_are_refused(api, protection, data_root,
                                               name):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    checkpoint = protect(api, plan['id'])
    res = api.post('restores', {'restore': {
        'provider_id': PROVIDER, 'checkpoint_id': checkpoint['id'],
        'parameters': {DIRECTORY: {'restore_name': name}}}})
    assert res.status_code == 400
    assert 'restore_name' in res.json_body['badRequest']['message']


def test_unreadable_file_fails_the_checkpoint(api, protection, data_root,
                                              monkeypatch):
    make_tree('demo', 'docs')
    refuse_reading(monkeypatch, 'sub/b.bin')
    plan = create_plan(api, ['docs'])
    checkpoint = protect(api, plan['id'])
    assert checkpoint['status'] == 'error'
    assert 'sub/b.bin' in checkpoint['error_reason']
    (record,) = checkpoint['resources_status'].values()
    assert record['status'] == 'error'
    assert 'sub/b.bin' in record['reason']
    # A failed checkpoint can be deleted.
    assert api.delete('providers/%s/checkpoints/%s' % (
        PROVIDER, checkpoint['id'])).status_code == 202


def test_restore_of_unavailable_checkpoint_is_refused(api, protection,
                                                      data_root):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    checkpoint = protect(api, plan['id'])
    admin = api.as_user('admin')
    res = admin.put('providers/%s/checkpoints/%s' % (
        PROVIDER, checkpoint['id']), {'os-resetState': {'state': 'error'}})
    assert res.status_code == 200
    assert res.json_body['checkpoint']['status'] == 'error'
    res = api.post('restores', {'restore': {
        'provider_id': PROVIDER, 'checkpoint_id': checkpoint['id']}})
    assert res.status_code == 400
    # Resetting state is for admins only.
    res = api.put('providers/%s/checkpoints/%s' % (
        PROVIDER, checkpoint['id']),
        {'os-resetState': {'state': 'available'}})
    assert res.status_code == 403


def test_plan_deleted_checkpoint_keeps_its_copy(api, protection, data_root):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    checkpoint = protect(api, plan['id'])
    api.delete('plans/%s' % plan['id'])
    shown = api.get('providers/%s/checkpoints/%s' % (
        PROVIDER, checkpoint['id'])).json_body['checkpoint']
    assert shown['protection_plan']['name'] == plan['name']
    assert restore(api, checkpoint['id'])['status'] == 'success'


def test_restart_marks_interrupted_work_as_error(api, protection,
                                                 data_root, admin_context):
    from karbor import objects
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    service = protection[0]
    ctx = context.get_admin_context()
    row = objects.Checkpoint(
        ctx, id=str(uuid.uuid4()), project_id='demo', provider_id=PROVIDER,
        plan_id=plan['id'], status='protecting', host=service.host,
        protection_plan={'id': plan['id'], 'name': plan['name'],
                         'resources': plan['resources']})
    row.create()
    service.stop()
    service.start()
    shown = api.get('providers/%s/checkpoints/%s' % (PROVIDER, row.id)
                    ).json_body['checkpoint']
    assert shown['status'] == 'error'
    assert 'interrupted' in shown['error_reason']


def test_reindex_rebuilds_the_index_from_the_bank(api, protection,
                                                  data_root, db):
    from karbor.db import models
    from karbor.services.protection import provider as provider_registry
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    checkpoint = protect(api, plan['id'])
    # A new deployment: the index is gone, the bank remains.
    with db.begin() as connection:
        connection.execute(models.Checkpoint.__table__.delete())
    assert api.get('providers/%s/checkpoints' % PROVIDER).json_body[
        'checkpoints'] == []
    provider = provider_registry.get_registry().get(PROVIDER)
    added, updated = bank_checkpoint.reindex(
        context.get_admin_context(), PROVIDER, provider.bank_class())
    assert (added, updated) == (1, 0)
    shown = api.get('providers/%s/checkpoints/%s' % (
        PROVIDER, checkpoint['id'])).json_body['checkpoint']
    assert shown['status'] == 'available'
    assert shown['protection_plan']['id'] == plan['id']
    assert restore(api, checkpoint['id'])['status'] == 'success'


def test_parameters_must_name_resources_of_the_plan(api, protection,
                                                    data_root):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    resource_id = plan['resources'][0]['id']
    res = api.put('plans/%s' % plan['id'], {'plan': {'parameters': {
        '%s#%s' % (DIRECTORY, uuid.uuid4()): {}}}})
    assert res.status_code == 400
    res = api.put('plans/%s' % plan['id'], {'plan': {'parameters': {
        '%s#%s' % (DIRECTORY, resource_id): {'exclude': ['*.tmp']}}}})
    assert res.status_code == 200
    assert res.json_body['plan']['updated_at'] is not None


def test_reset_state_reaches_the_bank(api, protection, data_root):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    checkpoint = protect(api, plan['id'])
    from karbor.services.protection import provider as provider_registry
    admin = api.as_user('admin')
    admin.put('providers/%s/checkpoints/%s' % (PROVIDER, checkpoint['id']),
              {'os-resetState': {'state': 'error'}})
    bank = provider_registry.get_registry().get(PROVIDER).bank_class()
    assert bank_checkpoint.Checkpoint.load(
        bank, checkpoint['id']).status == 'error'


def test_own_project_id_filter_is_not_admin_only(api, data_root):
    assert api.get('plans?project_id=demo').status_code == 200
    assert api.get('plans?project_id=other').status_code == 403
