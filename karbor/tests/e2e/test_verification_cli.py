"""Verifying directory checkpoints through the released clients.

A verification must say ``success`` only when every byte a restore would
need is in the bank and intact, and ``error`` naming the resource and the
damage otherwise. Checkpoints of one ``OS::Karbor::Directory`` tree are
protected with the ``karbor`` CLI, damaged by hand in the file-system
bank (``<state_path>/bank``)::

    checkpoints/<checkpoint id>/resources/<resource id>/manifest
    chunks/<project id>/<2 hex digits>/<sha256>

and verified with ``karbor verification-create`` (and ``openstack data
protection verification create``). Chunks are shared by all the
checkpoints of a project, so every damage is undone once its
verifications ran (and a last verification proves the repair): each case
starts from a fresh, intact checkpoint. The project (``verify``) is this
module's own; ``bob`` of ``other`` only tries to reach it.
"""

import functools
import json
import os
import pathlib
import time
import types
import uuid

import pytest

from karbor.tests.e2e import helpers
from karbor.tests.e2e.helpers import failed
from karbor.tests.e2e.helpers import ok
from karbor.tests.e2e.helpers import parse_show
from karbor.tests.e2e.helpers import parse_table
from karbor.tests.e2e import test_protection_cli as protection

PROVIDER = helpers.LOCAL_PROVIDER_ID
DIRECTORY = 'OS::Karbor::Directory'

PROJECT = 'verify'
DAVE = 'dave'           # a plain member of PROJECT
OTHER = 'other'
BOB = 'bob'             # a plain member of OTHER

SOURCE = 'album'

VERIFY_TIMEOUT = 120
LOG_TIMEOUT = 30
HOLD_TIMEOUT = 30

QUICK = 'resource_type=%s,mode=quick' % DIRECTORY
FULL = 'resource_type=%s,mode=full' % DIRECTORY

# How much of a digest a reason must show at least.
DIGEST_PREFIX = 16


# ---------------------------------------------------------------- helpers

def bank_path(server, relative):
    return pathlib.Path(server.state_path) / 'bank' / relative


def manifest_path(server, checkpoint_id, resource_id):
    return bank_path(server, 'checkpoints/%s/resources/%s/manifest' % (
        checkpoint_id, resource_id))


def chunk_path(server, digest):
    return bank_path(server, 'chunks/%s/%s/%s' % (PROJECT, digest[:2],
                                                  digest))


def read_manifest(server, checkpoint_id, resource_id):
    return json.loads(manifest_path(server, checkpoint_id,
                                    resource_id).read_bytes())


def files_using(manifest, digest):
    """The paths of the manifest's files that read from chunk ``digest``."""
    return [entry['path'] for entry in manifest['entries']
            if entry['type'] == 'file' and
            any(ref[0] == digest for ref in entry['chunks'])]


class Damage(object):
    """A change to one bank file that ``repair()`` undoes byte for byte."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.original = self.path.read_bytes()
        self.mode = self.path.stat().st_mode & 0o7777
        self.description = None

    def _write(self, data):
        os.chmod(self.path, self.mode | 0o200)
        with open(self.path, 'wb') as out:
            out.write(data)
        os.chmod(self.path, self.mode)

    def flip_byte(self):
        offset = len(self.original) // 2
        changed = bytearray(self.original)
        changed[offset] ^= 0xFF
        self._write(bytes(changed))
        self.description = 'byte %d of %s flipped' % (offset, self.path)

    def replace_character(self):
        """Put another printable character in the middle of a text."""
        offset = len(self.original) // 2
        old = self.original[offset:offset + 1]
        if old.isdigit():
            new = b'7' if old != b'7' else b'3'
        else:
            new = b'X' if old != b'X' else b'Y'
        self._write(self.original[:offset] + new +
                    self.original[offset + 1:])
        self.description = 'byte %d of %s changed from %r to %r' % (
            offset, self.path, old, new)

    def truncate(self):
        self._write(self.original[:len(self.original) // 2])
        self.description = '%s truncated to %d of %d bytes' % (
            self.path, len(self.original) // 2, len(self.original))

    def delete(self):
        self.path.unlink()
        self.description = '%s deleted' % self.path

    def repair(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            self.path.touch(mode=0o600)
        self._write(self.original)
        assert self.path.read_bytes() == self.original


def run_verification(server, cli, checkpoint_id, *parameters):
    """verification-create, then wait for the outcome.

    Returns (created, shown) as parsed ``verification-show`` tables.
    """
    argv = ['verification-create', PROVIDER, checkpoint_id]
    for value in parameters:
        argv += ['--parameters', value]
    created = parse_show(ok(cli(*argv)))
    assert created['status'] in ('verifying', 'success', 'error'), created
    assert created['checkpoint_id'] == checkpoint_id, created
    shown, history = protection.wait_for_status(
        server, lambda: parse_show(ok(cli('verification-show',
                                          created['id']))),
        ('success', 'error'), VERIFY_TIMEOUT,
        'verification %s' % created['id'])
    assert set(history) <= {'verifying', 'success', 'error'}, history
    return created, shown


def outcome(shown):
    """(status, resources_status, resources_reason) of a parsed show."""
    return (shown['status'],
            protection.resources_of(shown, 'resources_status'),
            protection.resources_of(shown, 'resources_reason'))


def admin_get(api, path):
    return helpers.api_ok(api('GET', path, user=helpers.ADMIN,
                              project=PROJECT))


def verify_log(server, api, verification_id):
    """The verify operation log of a verification, once it has ended."""
    def ended():
        rows = admin_get(api, '/operation_logs?all_tenants=1&'
                              'verification_id=%s' % verification_id)
        rows = rows['operation_logs']
        if rows and rows[0]['status'] in ('success', 'error'):
            return rows
        return None

    rows, waited = helpers.poll(ended, LOG_TIMEOUT)
    assert rows, protection.failure_with_log(
        server, 'no ended verify log of verification %s after %.0f s' % (
            verification_id, waited))
    assert len(rows) == 1, rows
    row = rows[0]
    assert row['operation_type'] == 'verify', row
    assert row['verification_id'] == verification_id, row
    assert row['started_at'] and row['ended_at'], row
    assert isinstance(row['extra_info'], dict), row
    return row


def written_by_verifications(api):
    """Every verification and every verify log, of every project."""
    verifications = admin_get(api, '/verifications?all_tenants=1')
    logs = admin_get(api, '/operation_logs?all_tenants=1&'
                          'operation_type=verify')
    return (sorted(row['id'] for row in verifications['verifications']),
            sorted(row['id'] for row in logs['operation_logs']))


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope='module')
def cli(karbor_cli):
    return functools.partial(karbor_cli, user=DAVE, project=PROJECT)


@pytest.fixture(scope='module')
def admin_cli(karbor_cli):
    return functools.partial(karbor_cli, user=helpers.ADMIN, project=PROJECT)


@pytest.fixture(scope='module')
def other_cli(karbor_cli):
    return functools.partial(karbor_cli, user=BOB, project=OTHER)


@pytest.fixture(scope='module')
def api(karbor_server):
    def call(method, path, user=DAVE, project=PROJECT, body=None):
        return helpers.api_call(karbor_server, method, path, user=user,
                                project=project, body=body)
    return call


@pytest.fixture(scope='module')
def source(karbor_server, cli):
    """The tree, its instance id and a plan protecting it."""
    top = pathlib.Path(karbor_server.state_path) / 'data' / PROJECT / SOURCE
    protection.make_tree(top)
    rows = parse_table(ok(cli('protectable-list-instances', DIRECTORY)))
    instance_id = {row['Name']: row['Id'] for row in rows}[SOURCE]
    plan = protection.make_plan(cli, 'verify-album', instance_id)
    return types.SimpleNamespace(path=top, instance_id=instance_id,
                                 plan_id=plan['id'],
                                 key='%s#%s' % (DIRECTORY, instance_id))


@pytest.fixture
def fresh_checkpoint(karbor_server, cli, source):
    """A new available checkpoint of the tree, and its manifest."""
    created, _shown = protection.protect(karbor_server, cli, source.plan_id)
    manifest = read_manifest(karbor_server, created['id'],
                             source.instance_id)
    return types.SimpleNamespace(id=created['id'], manifest=manifest)


@pytest.fixture(scope='module')
def first_checkpoint(karbor_server, cli, source):
    created, _shown = protection.protect(karbor_server, cli, source.plan_id)
    return created['id']


@pytest.fixture(scope='module')
def first_full(karbor_server, cli, first_checkpoint):
    """The first verification (no parameters: full) of the first
    checkpoint."""
    created, shown = run_verification(karbor_server, cli, first_checkpoint)
    return types.SimpleNamespace(id=created['id'], shown=shown)


# ------------------------------------------------------------ intact data

def test_fresh_checkpoint_verifies(karbor_server, cli, api, source,
                                   first_checkpoint, first_full):
    status, statuses, reasons = outcome(first_full.shown)
    assert status == 'success', protection.failure_with_log(
        karbor_server, 'verification ended %r' % (first_full.shown,))
    assert statuses == {source.key: 'success'}, first_full.shown
    assert not reasons.get(source.key), first_full.shown
    assert first_full.shown['checkpoint_id'] == first_checkpoint
    assert first_full.shown['provider_id'] == PROVIDER
    assert first_full.shown['project_id'] == PROJECT
    # The spec's spelling too.
    assert protection.resources_of(first_full.shown, 'resource_status') == \
        statuses

    log = verify_log(karbor_server, api, first_full.id)
    assert log['status'] == 'success', log
    assert log['checkpoint_id'] == first_checkpoint, log
    assert log['plan_id'] == source.plan_id, log
    assert log['provider_id'] == PROVIDER, log
    assert log['project_id'] == PROJECT, log
    assert not log['error_info'], log
    # Full mode read every chunk the manifest uses.
    manifest = read_manifest(karbor_server, first_checkpoint,
                             source.instance_id)
    digests = {ref[0] for entry in manifest['entries']
               if entry['type'] == 'file' for ref in entry['chunks']}
    chunk_bytes = sum(chunk_path(karbor_server, digest).stat().st_size
                      for digest in digests)
    assert log['extra_info']['bytes_read'] >= chunk_bytes, log


def test_quick_verification_succeeds(karbor_server, cli, api, source,
                                     first_checkpoint):
    created, shown = run_verification(karbor_server, cli, first_checkpoint,
                                      QUICK)
    assert outcome(shown) == ('success', {source.key: 'success'}, {}), shown
    assert json.loads(shown['parameters']) == {
        DIRECTORY: {'mode': 'quick'}}, shown
    log = verify_log(karbor_server, api, created['id'])
    assert log['status'] == 'success', log
    # Quick mode does not read the chunks.
    manifest = read_manifest(karbor_server, first_checkpoint,
                             source.instance_id)
    digests = {ref[0] for entry in manifest['entries']
               if entry['type'] == 'file' for ref in entry['chunks']}
    chunk_bytes = sum(chunk_path(karbor_server, digest).stat().st_size
                      for digest in digests)
    assert log['extra_info']['bytes_read'] < chunk_bytes, log


def test_verification_list_and_show(cli, first_checkpoint, first_full):
    rows = parse_table(ok(cli('verification-list')))
    listed = {row['Id']: row for row in rows}
    row = listed.get(first_full.id)
    assert row is not None, rows
    assert row['Status'] == 'success', row
    assert row['Checkpoint id'] == first_checkpoint, row
    assert row['Provider id'] == PROVIDER, row
    assert row['Project id'] == PROJECT, row
    assert json.loads(row['Parameters']) == {}, row
    rows = parse_table(ok(cli('verification-list', '--status', 'success')))
    assert first_full.id in [row['Id'] for row in rows], rows


def test_osc_verification_create_list_and_show(
        karbor_server, openstack_json, cli, source, first_checkpoint,
        first_full):
    as_dave = functools.partial(openstack_json, user=DAVE, project=PROJECT)
    created = as_dave('verification', 'create', PROVIDER, first_checkpoint,
                      '--parameters', QUICK)
    assert created['checkpoint_id'] == first_checkpoint, created
    _shown, _history = protection.wait_for_status(
        karbor_server, lambda: parse_show(ok(cli('verification-show',
                                                 created['id']))),
        ('success', 'error'), VERIFY_TIMEOUT,
        'verification %s' % created['id'])

    rows = {row['Id']: row for row in as_dave('verification', 'list')}
    for verification_id, parameters in ((first_full.id, {}),
                                        (created['id'],
                                         {DIRECTORY: {'mode': 'quick'}})):
        row = rows.get(verification_id)
        assert row is not None, rows
        assert row['Status'] == 'success', row
        assert row['Checkpoint id'] == first_checkpoint, row
        assert row['Provider id'] == PROVIDER, row
        assert json.loads(row['Parameters']) == parameters, row

    shown = as_dave('verification', 'show', created['id'])
    assert shown['status'] == 'success', shown
    assert json.loads(shown['resources_status']) == {
        source.key: 'success'}, shown


# ------------------------------------------------------------------ damage

# name: (what is damaged, how, what a quick verification says,
#        words one of which the reason must use)
DAMAGES = {
    'flipped-chunk-byte': ('big-head', 'flip_byte', 'success',
                           ('corrupt', 'mismatch', 'sha-256', 'sha256')),
    'missing-chunk': ('packed', 'delete', 'error', ('missing',)),
    'truncated-chunk': ('big-tail', 'truncate', 'error',
                        ('size', 'short', 'truncat')),
    'manifest-character': ('manifest', 'replace_character', 'error',
                           ('corrupt',)),
    'truncated-manifest': ('manifest', 'truncate', 'error',
                           ('corrupt',)),
}


def targets(manifest):
    """{'big-head'|'big-tail'|'packed': chunk digest} of the tree.

    big.bin (also docs/big-copy.bin) fills a 4 MiB chunk and a shorter
    one of its own; medium.bin is packed with the small files.
    """
    files = {entry['path']: entry for entry in manifest['entries']
             if entry['type'] == 'file'}
    big = [ref[0] for ref in files['big.bin']['chunks']]
    packed = [ref[0] for ref in files['medium.bin']['chunks']]
    assert len(big) == 2 and len(packed) == 1, (big, packed)
    found = {'big-head': big[0], 'big-tail': big[1], 'packed': packed[0]}
    assert len(set(found.values())) == 3, found
    return found


@pytest.mark.parametrize('case', sorted(DAMAGES))
def test_damage_is_found(karbor_server, cli, api, source, fresh_checkpoint,
                         case):
    target, how, quick_status, words = DAMAGES[case]
    if target == 'manifest':
        path = manifest_path(karbor_server, fresh_checkpoint.id,
                             source.instance_id)
        digest = None
        users = []
    else:
        digest = targets(fresh_checkpoint.manifest)[target]
        path = chunk_path(karbor_server, digest)
        users = files_using(fresh_checkpoint.manifest, digest)
        assert users, digest
    damage = Damage(path)
    getattr(damage, how)()
    try:
        # Quick first: a full verification moves a corrupt chunk to the
        # quarantine, after which quick finds it missing.
        created, shown = run_verification(karbor_server, cli,
                                          fresh_checkpoint.id, QUICK)
        status, statuses, reasons = outcome(shown)
        what = 'quick, %s: %s; verification %r' % (
            case, damage.description, shown)
        assert status == quick_status, what
        assert statuses == {source.key: quick_status}, what
        if quick_status == 'error':
            reason = reasons.get(source.key) or ''
            assert (digest or 'manifest')[:DIGEST_PREFIX] in reason, what
            assert verify_log(karbor_server, api,
                              created['id'])['status'] == 'error'

        created, shown = run_verification(karbor_server, cli,
                                          fresh_checkpoint.id, FULL)
        status, statuses, reasons = outcome(shown)
        what = '%s: %s; verification %r' % (case, damage.description, shown)
        assert status == 'error', what
        assert statuses == {source.key: 'error'}, what
        reason = reasons.get(source.key) or ''
        if digest is None:
            assert 'manifest' in reason, what
        else:
            assert digest[:DIGEST_PREFIX] in reason, what
            assert any(user in reason for user in users), what
        assert any(word in reason.lower() for word in words), what

        log = verify_log(karbor_server, api, created['id'])
        assert log['status'] == 'error', (what, log)
        assert log['checkpoint_id'] == fresh_checkpoint.id, log
        error_info = log['error_info'] or ''
        assert source.instance_id in error_info, (what, log)
        if digest is None:
            assert 'manifest' in error_info, (what, log)
        else:
            assert digest[:DIGEST_PREFIX] in error_info, (what, log)
    finally:
        damage.repair()

    # Undone, the same checkpoint verifies again: the damage alone was
    # the error.
    _created, shown = run_verification(karbor_server, cli,
                                       fresh_checkpoint.id)
    assert outcome(shown)[:2] == ('success', {source.key: 'success'}), shown


# -------------------------------------------------------- refused requests

def assert_refused(karbor_server, cli, api, checkpoint_id, status,
                   words, user=DAVE, project=PROJECT):
    """Both the CLI and the API refuse to verify ``checkpoint_id``, with
    ``status`` and a message using one of ``words``; nothing is written.
    """
    before = written_by_verifications(api)
    listed = parse_table(ok(cli('verification-list')))
    message = failed(cli('verification-create', PROVIDER, checkpoint_id))
    assert str(status) in message or any(
        word in message for word in words), message
    result = api('POST', '/verifications', user=user, project=project,
                 body={'verification': {'provider_id': PROVIDER,
                                        'checkpoint_id': checkpoint_id,
                                        'parameters': {}}})
    assert result.status == status, result
    assert 'application/json' in result.content_type, result
    fault = list(result.body.values())[0]
    assert fault['code'] == status, result
    assert any(word in fault['message'] for word in words), result
    # A moment for anything a refused request might have started.
    time.sleep(1)
    assert written_by_verifications(api) == before
    assert parse_table(ok(cli('verification-list'))) == listed


@pytest.fixture
def collection_marker(karbor_server):
    """Makes protects of PROJECT wait (a fresh garbage collection marker,
    see the directory plugin's gc module) until the test removes it."""
    path = bank_path(karbor_server, 'locks/%s/gc-e2e-%s' % (
        PROJECT, uuid.uuid4().hex))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({'kind': 'gc', 'host': 'e2e-test',
                                'updated_at': time.time()}))
    try:
        yield path
    finally:
        if path.exists():
            path.unlink()


def test_protecting_checkpoint_is_refused(karbor_server, cli, api, source,
                                          collection_marker):
    created = parse_show(ok(cli('checkpoint-create', PROVIDER,
                                source.plan_id)))
    checkpoint_id = created['id']
    lease = bank_path(karbor_server, 'locks/%s/protect-%s-%s' % (
        PROJECT, checkpoint_id, source.instance_id))
    started, waited = helpers.poll(lease.exists, HOLD_TIMEOUT)
    assert started, protection.failure_with_log(
        karbor_server, 'the protect of %s did not start in %.0f s' % (
            checkpoint_id, waited))
    shown = parse_show(ok(cli('checkpoint-show', PROVIDER, checkpoint_id)))
    assert shown['status'] == 'protecting', shown

    assert_refused(karbor_server, cli, api, checkpoint_id, 400,
                   ('protecting',))

    collection_marker.unlink()
    shown, _history = protection.wait_for_status(
        karbor_server, lambda: parse_show(ok(cli(
            'checkpoint-show', PROVIDER, checkpoint_id))),
        ('available', 'error'), protection.PROTECT_TIMEOUT,
        'checkpoint %s' % checkpoint_id)
    assert shown['status'] == 'available', shown


def test_error_checkpoint_is_refused(karbor_server, cli, admin_cli, api,
                                     source, fresh_checkpoint):
    ok(admin_cli('checkpoint-reset-state', PROVIDER, fresh_checkpoint.id))
    shown = parse_show(ok(cli('checkpoint-show', PROVIDER,
                              fresh_checkpoint.id)))
    assert shown['status'] == 'error', shown

    assert_refused(karbor_server, cli, api, fresh_checkpoint.id, 400,
                   ('error',))

    # Available again, it verifies.
    ok(admin_cli('checkpoint-reset-state', PROVIDER, fresh_checkpoint.id,
                 '--available'))
    _created, shown = run_verification(karbor_server, cli,
                                       fresh_checkpoint.id)
    assert outcome(shown)[0] == 'success', shown


def test_deleted_checkpoint_is_refused(karbor_server, cli, api,
                                       fresh_checkpoint):
    ok(cli('checkpoint-delete', PROVIDER, fresh_checkpoint.id))
    protection.wait_until_gone(karbor_server, cli, fresh_checkpoint.id)
    assert_refused(karbor_server, cli, api, fresh_checkpoint.id, 404,
                   (fresh_checkpoint.id, 'not found', 'could not be found'))


def test_other_tenants_checkpoint_is_refused(karbor_server, cli, other_cli,
                                             api, first_checkpoint,
                                             first_full):
    assert_refused(karbor_server, other_cli, api, first_checkpoint, 404,
                   (first_checkpoint, 'not found', 'could not be found'),
                   user=BOB, project=OTHER)
    # Nor does OTHER see PROJECT's verifications.
    rows = parse_table(ok(other_cli('verification-list')))
    assert first_full.id not in [row['Id'] for row in rows], rows
    message = failed(other_cli('verification-show', first_full.id))
    assert protection.NOT_FOUND in message and '404' in message, message
    result = api('GET', '/verifications/%s' % first_full.id, user=BOB,
                 project=OTHER)
    assert result.status == 404, result
    body = helpers.api_ok(api('GET', '/verifications?checkpoint_id=%s'
                              % first_checkpoint, user=BOB, project=OTHER))
    assert body['verifications'] == [], body


def test_invalid_mode_is_refused(karbor_server, cli, api, first_checkpoint):
    before = written_by_verifications(api)
    message = failed(cli('verification-create', PROVIDER, first_checkpoint,
                         '--parameters', 'resource_type=%s,mode=thorough'
                         % DIRECTORY))
    assert 'mode' in message and '400' in message, message
    time.sleep(1)
    assert written_by_verifications(api) == before
