"""Verifications through the API and the real protection service."""

import datetime
import os
import random
import uuid

import pytest

from karbor import context
from karbor import objects
from karbor.services.protection.plugins.directory import backup
from karbor.tests.functional.helpers import create_plan
from karbor.tests.functional.helpers import DIRECTORY
from karbor.tests.functional.helpers import make_tree
from karbor.tests.functional.helpers import project_root
from karbor.tests.functional.helpers import protect
from karbor.tests.functional.helpers import PROVIDER
from karbor.tests.functional.helpers import wait_for


def verify(api, checkpoint_id, parameters=None, wrap_in_list=False):
    body = {'provider_id': PROVIDER, 'checkpoint_id': checkpoint_id,
            'parameters': parameters or {}}
    res = api.post('verifications', {
        'verification': [body] if wrap_in_list else body})
    assert res.status_code == 202, res.json_body
    created = res.json_body['verification']
    assert created['status'] == 'verifying'
    return wait_for(
        lambda: api.get('verifications/%s' % created['id']).json_body[
            'verification'],
        lambda v: v['status'] != 'verifying', timeout=60)


@pytest.fixture
def checkpoint(api, protection):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    return protect(api, plan['id'])


def _bank_chunks(data_root):
    found = []
    for dirpath, _, filenames in os.walk(str(data_root / 'bank' / 'chunks')):
        found.extend(os.path.join(dirpath, name) for name in filenames)
    return sorted(found)


def test_fresh_checkpoint_verifies(api, checkpoint):
    for wrap in (False, True):
        result = verify(api, checkpoint['id'], wrap_in_list=wrap)
        assert result['status'] == 'success', result
        (key,) = result['resources_status']
        assert key.startswith(DIRECTORY + '#')
        assert result['resources_status'] == {key: 'success'}
        assert result['resource_status'] == result['resources_status']
        assert result['resources_reason'] == {}


def test_quick_mode(api, checkpoint):
    result = verify(api, checkpoint['id'], {DIRECTORY: {'mode': 'quick'}})
    assert result['status'] == 'success', result
    assert result['parameters'] == {DIRECTORY: {'mode': 'quick'}}


def test_subset_runs_together_read_every_chunk(api, checkpoint, data_root):
    chunks = _bank_chunks(data_root)
    victim = chunks[0]
    with open(victim, 'r+b') as f:
        first = f.read(1)
        f.seek(0)
        f.write(bytes([first[0] ^ 0x01]))
    read = 0
    errors = []
    for part in (1, 2, 3):
        parameters = {DIRECTORY: {'mode': 'subset',
                                  'subset': '%d/3' % part}}
        result = verify(api, checkpoint['id'], parameters)
        assert result['parameters'] == parameters
        if result['status'] == 'error':
            (reason,) = result['resources_reason'].values()
            assert os.path.basename(victim) in reason
            assert 'subset %d/3' % part in reason
            errors.append(part)
        else:
            assert result['status'] == 'success', result
        log = api.get('operation_logs?operation_type=verify').json_body[
            'operation_logs'][0]
        assert log['verification_id'] == result['id']
        info = log['extra_info']
        (figures,) = info['resources'].values()
        assert figures['subset'] == '%d/3' % part
        read += info['chunks_read']
        assert info['chunks_left'] == len(chunks) - info['chunks_read']
        assert info['chunks_damaged'] == (1 if errors[-1:] == [part]
                                          else 0)
    assert read == len(chunks)
    assert len(errors) == 1


def test_missing_chunk_is_an_error_naming_it(api, checkpoint, data_root):
    victim = _bank_chunks(data_root)[0]
    os.unlink(victim)
    for mode in ('full', 'quick'):
        result = verify(api, checkpoint['id'], {DIRECTORY: {'mode': mode}})
        assert result['status'] == 'error', result
        (reason,) = result['resources_reason'].values()
        assert os.path.basename(victim) in reason
        (status,) = result['resources_status'].values()
        assert status == 'error'
    logs = api.get('operation_logs?operation_type=verify').json_body[
        'operation_logs']
    assert [log['status'] for log in logs] == ['error', 'error']
    assert os.path.basename(victim) in logs[0]['error_info']
    assert logs[0]['verification_id'] == result['id']


def test_flipped_byte_is_caught_by_full_only(api, checkpoint, data_root):
    victim = _bank_chunks(data_root)[-1]
    with open(victim, 'r+b') as f:
        first = f.read(1)
        f.seek(0)
        f.write(bytes([first[0] ^ 0x01]))
    result = verify(api, checkpoint['id'], {DIRECTORY: {'mode': 'quick'}})
    assert result['status'] == 'success'
    result = verify(api, checkpoint['id'])
    assert result['status'] == 'error'
    assert os.path.basename(victim) in list(
        result['resources_reason'].values())[0]


def test_a_damaged_chunk_is_quarantined_and_the_next_protect_repairs_it(
        api, protection, data_root):
    make_tree('demo', 'docs')
    plan = create_plan(api, ['docs'])
    first = protect(api, plan['id'])
    victim = _bank_chunks(data_root)[-1]
    data = open(victim, 'rb').read()
    damaged = data[:10] + bytes([data[10] ^ 0x40]) + data[11:]
    with open(victim, 'wb') as f:
        f.write(damaged)
    name = os.path.basename(victim)

    result = verify(api, first['id'])
    assert result['status'] == 'error'
    (reason,) = result['resources_reason'].values()
    assert 'corrupt chunk %s' % name in reason
    assert 'moved to quarantine/demo/' in reason
    log = api.get('operation_logs?verification_id=%s' % result['id']
                  ).json_body['operation_logs'][0]
    assert log['extra_info']['chunks_quarantined'] == 1, log['extra_info']
    # The damaged bytes are kept as evidence, out of the protects' way.
    assert not os.path.exists(victim)
    quarantine = data_root / 'bank' / 'quarantine' / 'demo'
    (kept,) = os.listdir(str(quarantine))
    assert kept.startswith(name + '-')
    assert (quarantine / kept).read_bytes() == damaged
    # Found once, the damage stays visible, even to a quick verification.
    result = verify(api, first['id'], {DIRECTORY: {'mode': 'quick'}})
    assert result['status'] == 'error'
    assert 'missing chunk %s' % name in list(
        result['resources_reason'].values())[0]

    # The source still holds those bytes: the next protect writes the
    # chunk again, which repairs the first checkpoint too.
    second = protect(api, plan['id'])
    assert second['status'] == 'available'
    assert open(victim, 'rb').read() == data
    for checkpoint in (first, second):
        assert verify(api, checkpoint['id'])['status'] == 'success'


@pytest.mark.parametrize('mutate,status', [
    (lambda body: body.update(checkpoint_id=str(uuid.uuid4())), 404),
    (lambda body: body.update(provider_id=str(uuid.uuid4())), 404),
    (lambda body: body.update(checkpoint_id='nope'), 400),
    (lambda body: body.update(parameters={DIRECTORY: {'mode': 'fast'}}),
     400),
    (lambda body: body.update(parameters={'OS::Nova::Server': {}}), 400),
    (lambda body: body.update(parameters={DIRECTORY: {
        'mode': 'subset', 'subset': '5/4'}}), 400),
    (lambda body: body.update(parameters={DIRECTORY: {'mode': 'subset'}}),
     400),
    (lambda body: body.update(parameters={DIRECTORY: {'subset': '1/2'}}),
     400),
    (lambda body: body.update(colour='blue'), 400),
])
def test_bad_requests_write_nothing(api, checkpoint, mutate, status):
    body = {'provider_id': PROVIDER, 'checkpoint_id': checkpoint['id']}
    mutate(body)
    res = api.post('verifications', {'verification': body})
    assert res.status_code == status, res.json_body
    assert api.get('verifications').json_body['verifications'] == []
    assert api.get('operation_logs?operation_type=verify').json_body[
        'operation_logs'] == []


def test_only_available_checkpoints_of_this_project(api, checkpoint):
    admin = api.as_user('admin')
    path = 'providers/%s/checkpoints/%s' % (PROVIDER, checkpoint['id'])
    admin.put(path, {'os-resetState': {'state': 'error'}})
    res = api.post('verifications', {'verification': {
        'provider_id': PROVIDER, 'checkpoint_id': checkpoint['id']}})
    assert res.status_code == 400
    admin.put(path, {'os-resetState': {'state': 'available'}})

    bob = api.as_user('bob', 'other')
    res = bob.post('/v1/other/verifications', {'verification': {
        'provider_id': PROVIDER, 'checkpoint_id': checkpoint['id']}},
        project_prefix=False)
    assert res.status_code == 404

    api.delete(path)
    wait_for(lambda: api.get(path).status_code, lambda s: s == 404)
    res = api.post('verifications', {'verification': {
        'provider_id': PROVIDER, 'checkpoint_id': checkpoint['id']}})
    assert res.status_code == 404
    assert api.get('verifications').json_body['verifications'] == []


def test_lists_and_isolation(api, checkpoint):
    result = verify(api, checkpoint['id'])
    rows = api.get('verifications').json_body['verifications']
    assert [r['id'] for r in rows] == [result['id']]
    assert api.get('verifications?status=success').json_body[
        'verifications'][0]['id'] == result['id']
    assert api.get('verifications?checkpoint_id=%s' % uuid.uuid4()
                   ).json_body['verifications'] == []
    assert api.get('verifications?status=bogus').status_code == 400
    bob = api.as_user('bob', 'other')
    assert bob.get('/v1/other/verifications', project_prefix=False
                   ).json_body['verifications'] == []
    assert bob.get('/v1/other/verifications/%s' % result['id'],
                   project_prefix=False).status_code == 404


def _bank_file(data_root, *parts):
    (path,) = [p for p in _bank_files_under(data_root, 'checkpoints')
               if p.endswith('/'.join(('',) + parts))]
    return path


def _bank_files_under(data_root, top):
    found = []
    for dirpath, _, filenames in os.walk(str(data_root / 'bank' / top)):
        found.extend(os.path.join(dirpath, name) for name in filenames)
    return sorted(found)


def _verify_log(api, verification_id):
    (log,) = [log for log in api.get(
        'operation_logs?operation_type=verify').json_body['operation_logs']
        if log['verification_id'] == verification_id]
    return log


def test_truncated_chunk_is_caught_by_both_modes(api, checkpoint,
                                                 data_root):
    victim = max(_bank_chunks(data_root), key=os.path.getsize)
    os.truncate(victim, os.path.getsize(victim) - 1)
    for mode in ('full', 'quick'):
        result = verify(api, checkpoint['id'], {DIRECTORY: {'mode': mode}})
        assert result['status'] == 'error', result
        (key, reason), = result['resources_reason'].items()
        assert key.startswith(DIRECTORY + '#')
        assert 'wrong-size chunk %s' % os.path.basename(victim) in reason
        log = _verify_log(api, result['id'])
        assert log['status'] == 'error'
        assert os.path.basename(victim) in log['error_info']
        assert log['extra_info']['chunks_wrong_size'] == 1


def test_corrupt_manifest_is_an_error_naming_it(api, checkpoint,
                                                data_root):
    manifest = _bank_file(data_root, 'manifest')
    with open(manifest, 'r+b') as f:
        f.seek(os.path.getsize(manifest) // 2)
        f.write(b'\xff')
    for mode in ('full', 'quick'):
        result = verify(api, checkpoint['id'], {DIRECTORY: {'mode': mode}})
        assert result['status'] == 'error', result
        (reason,) = result['resources_reason'].values()
        assert 'the manifest checkpoints/%s/resources/' % checkpoint['id'] \
            in reason
        assert 'is corrupt' in reason
        assert _verify_log(api, result['id'])['status'] == 'error'


def test_corrupt_checkpoint_metadata_is_an_error_naming_it(api, checkpoint,
                                                           data_root):
    metadata = str(data_root / 'bank' / 'checkpoints' / checkpoint['id'] /
                   'metadata')
    with open(metadata, 'r+b') as f:
        f.truncate(os.path.getsize(metadata) // 2)
    result = verify(api, checkpoint['id'])
    assert result['status'] == 'error', result
    (reason,) = result['resources_reason'].values()
    assert 'checkpoints/%s/metadata' % checkpoint['id'] in reason
    assert 'is corrupt' in reason
    log = _verify_log(api, result['id'])
    assert log['status'] == 'error'
    assert 'checkpoints/%s/metadata' % checkpoint['id'] in log['error_info']


def _checkpoint_view(api, checkpoint_id):
    return api.get('providers/%s/checkpoints/%s' % (
        PROVIDER, checkpoint_id)).json_body['checkpoint']


def test_checkpoint_shows_its_last_verification(api, checkpoint, data_root):
    fresh = _checkpoint_view(api, checkpoint['id'])
    assert (fresh['last_verified_at'], fresh['last_verification_id'],
            fresh['last_verification_status']) == (None, None, None)
    passed = verify(api, checkpoint['id'])
    shown = _checkpoint_view(api, checkpoint['id'])
    assert shown['last_verification_id'] == passed['id']
    assert shown['last_verification_status'] == 'success'
    assert shown['last_verification_scope'] == 'full'
    assert shown['last_verified_at'] is not None
    # The list shows it too.
    (listed,) = [c for c in api.get('providers/%s/checkpoints' % PROVIDER)
                 .json_body['checkpoints'] if c['id'] == checkpoint['id']]
    assert (listed['last_verification_id'],
            listed['last_verification_scope']) == (passed['id'], 'full')
    log = api.get('operation_logs?operation_type=verify').json_body[
        'operation_logs'][0]
    info = log['extra_info']
    (figures,) = info['resources'].values()
    # Bytes and chunks add up over the resources; the duration and the
    # throughput are the verification's own.
    assert info['bytes_read'] == figures['bytes_read'] > 0
    assert info['chunks_read'] == figures['chunks_read'] > 0
    assert info['chunks_damaged'] == 0 and info['chunks_left'] == 0
    assert info['duration_seconds'] > 0
    # (Within the rounding of both figures.)
    assert info['throughput_mb_s'] == pytest.approx(
        info['bytes_read'] / 1e6 / info['duration_seconds'], rel=0.1,
        abs=0.2)
    os.unlink(_bank_chunks(data_root)[0])
    failed = verify(api, checkpoint['id'])
    assert failed['status'] == 'error'
    again = _checkpoint_view(api, checkpoint['id'])
    assert again['last_verification_id'] == failed['id']
    assert again['last_verification_status'] == 'error'
    assert again['last_verified_at'] >= shown['last_verified_at']
    log = api.get('operation_logs?operation_type=verify').json_body[
        'operation_logs'][0]
    assert log['verification_id'] == failed['id']
    assert log['extra_info']['chunks_missing'] == 1
    assert log['extra_info']['chunks_damaged'] == 1
    # A subset reads part of it, and the checkpoint says so.
    subset = verify(api, checkpoint['id'], {DIRECTORY: {
        'mode': 'subset', 'subset': '1/4'}})
    shown = _checkpoint_view(api, checkpoint['id'])
    assert (shown['last_verification_id'],
            shown['last_verification_scope']) == (subset['id'], 'subset 1/4')


def test_an_older_verification_does_not_replace_a_newer(api, checkpoint):
    ctx = context.get_admin_context()
    later = datetime.datetime(2030, 1, 2)
    assert objects.Checkpoint.record_verification(
        ctx, checkpoint['id'], 'v-new', 'success', at=later)
    assert not objects.Checkpoint.record_verification(
        ctx, checkpoint['id'], 'v-old', 'error',
        at=later - datetime.timedelta(seconds=1))
    row = objects.Checkpoint.get_by_id(ctx, checkpoint['id'])
    assert (row.last_verification_id, row.last_verification_status,
            row.last_verified_at.replace(tzinfo=None)) == (
        'v-new', 'success', later)
    assert not objects.Checkpoint.record_verification(
        ctx, str(uuid.uuid4()), 'v-x', 'success')


def _flip_keeping_metadata(path, offset):
    st = os.stat(path)
    with open(path, 'r+b') as f:
        f.seek(offset)
        old = f.read(1)
        f.seek(offset)
        f.write(bytes([old[0] ^ 0x01]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_compare_with_the_source(api, checkpoint):
    top = os.path.join(project_root('demo'), 'docs')
    parameters = {DIRECTORY: {'mode': 'compare'}}
    result = verify(api, checkpoint['id'], parameters)
    assert result['status'] == 'success', result
    (reason,) = result['resources_reason'].values()
    assert reason == ('compared with the source: 0 added, 0 removed, 0 '
                      'changed since the checkpoint')
    # An ordinary edit: success, reported.
    with open(os.path.join(top, 'a.txt'), 'ab') as f:
        f.write(b'more\n')
    result = verify(api, checkpoint['id'], parameters)
    assert result['status'] == 'success', result
    (reason,) = result['resources_reason'].values()
    assert 'changed: file a.txt' in reason
    log = api.get('operation_logs?operation_type=verify').json_body[
        'operation_logs'][0]
    assert log['status'] == 'success'
    assert log['extra_info']['source_changed'] == 1
    (figures,) = log['extra_info']['resources'].values()
    assert figures['source_report'] == {'changed': ['a.txt']}
    # A byte flipped under unchanged size and mtime: error, named.
    _flip_keeping_metadata(os.path.join(top, 'sub', 'b.bin'), 12345)
    result = verify(api, checkpoint['id'], parameters)
    assert result['status'] == 'error', result
    (reason,) = result['resources_reason'].values()
    assert '1 file of unchanged size and mtime no longer matches the ' \
        'checkpoint' in reason and 'file sub/b.bin' in reason
    assert 'changed: file a.txt' in reason
    log = api.get('operation_logs?operation_type=verify').json_body[
        'operation_logs'][0]
    assert log['status'] == 'error'
    assert 'sub/b.bin' in log['error_info']
    assert log['extra_info']['source_corrupt'] == 1
    shown = _checkpoint_view(api, checkpoint['id'])
    assert shown['last_verification_status'] == 'error'
    assert shown['last_verification_id'] == result['id']


def test_ten_damaged_chunks_are_counted_ten(api, protection, data_root,
                                            monkeypatch):
    """The issue's case: a verification counts every damaged chunk, not
    only the first, and names the first few with their files."""
    monkeypatch.setattr(backup, 'CHUNK_SIZE', 64 * 1024)
    monkeypatch.setattr(backup, 'SMALL_FILE_LIMIT', 16 * 1024)
    monkeypatch.setattr(backup, 'PACK_SIZE', 64 * 1024)
    rng = random.Random(10)
    make_tree('demo', 'many', {
        'a.txt': b'alpha\n',
        **{'f%02d.bin' % i: rng.randbytes(2 * 64 * 1024)
           for i in range(8)}})
    plan = create_plan(api, ['many'])
    checkpoint = protect(api, plan['id'])
    chunks = _bank_chunks(data_root)
    assert len(chunks) == 17
    damaged = chunks[:10]
    for path in damaged[:4]:
        os.unlink(path)
    for path in damaged[4:]:
        with open(path, 'r+b') as f:
            old = f.read(1)
            f.seek(0)
            f.write(bytes([old[0] ^ 0xff]))
    result = verify(api, checkpoint['id'])
    assert result['status'] == 'error'
    (reason,) = result['resources_reason'].values()
    assert reason.startswith('10 chunks of 17 damaged (4 missing, 6 '
                             'corrupt): ')
    assert 'and 5 more damaged chunks' in reason
    assert 'file f' in reason
    (log,) = api.get('operation_logs?operation_type=verify').json_body[
        'operation_logs']
    info = log['extra_info']
    assert (info['chunks_damaged'], info['chunks_missing'],
            info['chunks_corrupt'], info['chunks_checked']) == (10, 4, 6, 17)
    assert info['bytes_read'] > 0 and 'throughput_mb_s' in info
