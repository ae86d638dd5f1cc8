"""Protecting and restoring a directory through the released clients.

The whole life of an ``OS::Karbor::Directory`` checkpoint, driven the way
an operator would drive it: the ``karbor`` CLI (and a few ``openstack data
protection`` commands) against the session's karbor-all. The tree to
protect is made under the server's data root (``<state_path>/data/
<project>/<name>``); what the server did is judged from the CLIs' output,
from the restored tree and from the file-system bank (``<state_path>/
bank``), whose layout is::

    checkpoints/<checkpoint id>/...            metadata and manifests
    chunks/<project id>/<2 hex digits>/<sha256> file data, per project
    locks/<project id>/...                      leases of running work

The tests of this module share their objects through module-scoped
fixtures and run in file order: the deletions come last, because they
check that the bank goes back to what it held before the first
checkpoint.
"""

import ast
import functools
import hashlib
import json
import os
import pathlib
import random
import stat
import types

import pytest

from karbor.tests.e2e import helpers
from karbor.tests.e2e.helpers import failed
from karbor.tests.e2e.helpers import ok
from karbor.tests.e2e.helpers import parse_show
from karbor.tests.e2e.helpers import parse_table

PROVIDER = helpers.LOCAL_PROVIDER_ID
DIRECTORY = 'OS::Karbor::Directory'

DEMO = 'demo'
ALICE = 'alice'        # a plain member of DEMO
OTHER = 'other'
BOB = 'bob'            # a plain member of OTHER

SOURCE = 'photos'
RESTORED = 'restored'

PROTECT_TIMEOUT = 120
RESTORE_TIMEOUT = 120
DELETE_TIMEOUT = 120

NOT_FOUND = 'could not be found'

MIB = 1 << 20
BIG_SIZE = 6 * MIB + 12345      # more than one 4 MiB chunk
MEDIUM_SIZE = 300 * 1024 + 7    # packed with the small files
SEED = 20240229

# Fixed, distinct timestamps (ns) with a non-zero sub-second part.
BASE_MTIME_NS = 1500000000 * 10 ** 9 + 123456789
MTIME_STEP_NS = 86400 * 10 ** 9 + 1001


# ------------------------------------------------------------- the tree

def make_tree(top):
    """Build the tree to protect under ``top``; return its byte counts.

    The content is generated from a fixed seed, so the trees of two calls
    are equal (and so are the chunks a protect makes of them). Returns
    ``(total bytes of the files, bytes of their distinct contents, size
    of the big file)``.
    """
    rng = random.Random(SEED)
    top = pathlib.Path(top)
    big = rng.randbytes(BIG_SIZE)
    readme = b'Karbor end-to-end test tree.\n' * 40
    files = {
        # path: (content, mode)
        'big.bin': (big, 0o640),
        'docs/big-copy.bin': (big, 0o644),
        'medium.bin': (rng.randbytes(MEDIUM_SIZE), 0o600),
        'empty': (b'', 0o644),
        'docs/empty-too': (b'', 0o400),
        'run.sh': (b'#!/bin/sh\necho protected\n', 0o755),
        'docs/readme.txt': (readme, 0o644),
        'docs/readme-copy.txt': (readme, 0o664),
        'docs/notes/deep/deeper/leaf.txt': (b'a leaf\n', 0o444),
        'private/secret.key': (rng.randbytes(2048), 0o600),
        'caf\u00e9 & space.txt': ('na\u00efve text\n'.encode(), 0o640),
    }
    for index in range(12):
        files['docs/many/file-%02d.dat' % index] = (
            rng.randbytes(rng.randrange(1, 64 * 1024)), 0o644)
    directories = {
        # path: mode; parents are made by the files or listed before
        '': 0o751,
        'docs': 0o755,
        'docs/notes': 0o750,
        'docs/notes/deep': 0o755,
        'docs/notes/deep/deeper': 0o700,
        'docs/many': 0o755,
        'private': 0o700,
        'empty-dir': 0o750,
        'docs/notes/empty-nested': 0o711,
    }
    symlinks = {
        'link-to-readme': 'docs/readme.txt',
        'docs/notes/up-link': '../../run.sh',
        'dir-link': 'docs/many',
        'dangling': 'nowhere/at/all',
        'absolute-link': '/etc/hostname',
    }

    top.mkdir(parents=True)
    for path in sorted(directories):
        if path:
            (top / path).mkdir(parents=True, exist_ok=True)
    stamp = BASE_MTIME_NS
    for path, (content, mode) in sorted(files.items()):
        target = top / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        os.chmod(target, mode)
        os.utime(target, ns=(stamp, stamp))
        stamp += MTIME_STEP_NS
    for path, target in sorted(symlinks.items()):
        os.symlink(target, top / path)
        os.utime(top / path, ns=(stamp, stamp), follow_symlinks=False)
        stamp += MTIME_STEP_NS
    # Directories last and deepest first: filling one changes its mtime.
    for path in sorted(directories, key=lambda p: (-p.count('/'), p)):
        if path == '':
            continue
        os.chmod(top / path, directories[path])
        os.utime(top / path, ns=(stamp, stamp))
        stamp += MTIME_STEP_NS
    os.chmod(top, directories[''])
    os.utime(top, ns=(stamp, stamp))

    total = sum(len(content) for content, _mode in files.values())
    distinct = sum(len(content) for content in
                   {content for content, _mode in files.values()})
    return total, distinct, len(big)


def snapshot(top):
    """{relative path: what a restore must reproduce} of the tree at top.

    The root is ``'.'``. Files: type, permission bits, mtime (ns), size
    and SHA-256; directories: type, permission bits and mtime; symlinks:
    type, target and mtime.
    """
    top = pathlib.Path(top)
    found = {}

    def describe(path):
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            return ('symlink', os.readlink(path), st.st_mtime_ns)
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISDIR(st.st_mode):
            return ('dir', oct(mode), st.st_mtime_ns)
        if stat.S_ISREG(st.st_mode):
            digest = hashlib.sha256(pathlib.Path(path).read_bytes())
            return ('file', oct(mode), st.st_mtime_ns, st.st_size,
                    digest.hexdigest())
        return ('other', oct(st.st_mode))

    def walk(directory, prefix):
        for entry in os.scandir(directory):
            relative = prefix + entry.name
            found[relative] = describe(entry.path)
            if entry.is_dir(follow_symlinks=False):
                walk(entry.path, relative + '/')

    # Describe the root last: reading it must not be what changes it.
    walk(top, '')
    found['.'] = describe(top)
    return found


def tree_differences(expected, actual):
    """Readable lines for every entry that differs, is missing or extra."""
    lines = []
    for path in sorted(set(expected) | set(actual)):
        want = expected.get(path)
        got = actual.get(path)
        if want != got:
            lines.append('%s: expected %r, got %r' % (path, want, got))
    return lines


def hidden_entries(directory):
    """Names starting with a dot in ``directory`` (restores' work dirs)."""
    return sorted(name for name in os.listdir(directory)
                  if name.startswith('.'))


# ------------------------------------------------------------- the bank

def bank_files(server):
    """{relative path: size} of every file under the bank (may be empty)."""
    bank = pathlib.Path(server.state_path) / 'bank'
    files = {}
    if not bank.exists():
        return files
    for dirpath, _dirnames, filenames in os.walk(bank):
        for name in filenames:
            path = pathlib.Path(dirpath) / name
            files[path.relative_to(bank).as_posix()] = path.lstat().st_size
    return files


def bank_path(server, relative):
    return pathlib.Path(server.state_path) / 'bank' / relative


def under(files, prefix):
    return {path: size for path, size in files.items()
            if path.startswith(prefix)}


def chunk_digests(files, project):
    """The digests of ``project``'s chunk files among bank ``files``."""
    return {path.rpartition('/')[2]
            for path in under(files, 'chunks/%s/' % project)}


def describe_files(files):
    return '\n'.join('  %s (%d bytes)' % (path, files[path])
                     for path in sorted(files)) or '  (none)'


# -------------------------------------------------------------- the CLIs

def failure_with_log(server, text):
    return '%s\nthe end of the server output:\n%s' % (
        text, server.output(last_lines=60))


def wait_for_status(server, show, settled, timeout, what):
    """Call ``show()`` (a parsed *-show) until its status is in ``settled``.

    Returns ``(shown, statuses seen in order)``.
    """
    history = []

    def check():
        shown = show()
        if not history or history[-1] != shown['status']:
            history.append(shown['status'])
        return shown if shown['status'] in settled else None

    shown, waited = helpers.poll(check, timeout)
    assert shown, failure_with_log(server, '%s still not %s after %.0f s; '
                                   'statuses seen: %s' % (
                                       what, '/'.join(settled), waited,
                                       history))
    return shown, history


def make_plan(cli, name, instance_id):
    shown = parse_show(ok(cli('plan-create', name, PROVIDER,
                              '%s=%s=%s' % (instance_id, DIRECTORY,
                                            SOURCE))))
    return shown


def protect(server, cli, plan_id):
    """checkpoint-create, then wait until it is available."""
    created = parse_show(ok(cli('checkpoint-create', PROVIDER, plan_id)))
    assert created['status'] in ('protecting', 'available'), created
    checkpoint_id = created['id']
    shown, history = wait_for_status(
        server,
        lambda: parse_show(ok(cli('checkpoint-show', PROVIDER,
                                  checkpoint_id))),
        ('available', 'error'), PROTECT_TIMEOUT,
        'checkpoint %s' % checkpoint_id)
    assert shown['status'] == 'available', failure_with_log(
        server, 'checkpoint %s ended %s (statuses seen %s): %r' % (
            checkpoint_id, shown['status'], history, shown))
    assert set(history) <= {'protecting', 'available'}, history
    return created, shown


def restore(server, cli, checkpoint_id, *parameters):
    """restore-create, then wait until it settles; returns (created, shown)."""
    argv = ['restore-create', PROVIDER, checkpoint_id]
    if parameters:
        argv += ['--parameters', ','.join(
            ('resource_type=%s' % DIRECTORY,) + parameters)]
    created = parse_show(ok(cli(*argv)))
    shown, history = wait_for_status(
        server, lambda: parse_show(ok(cli('restore-show', created['id']))),
        ('success', 'error'), RESTORE_TIMEOUT, 'restore %s' % created['id'])
    assert set(history) <= {'in_progress', 'success', 'error'}, history
    return created, shown


def wait_until_gone(server, cli, checkpoint_id):
    """Poll checkpoint-show until the checkpoint is not found.

    Returns the statuses seen before it went.
    """
    history = []

    def gone():
        result = cli('checkpoint-show', PROVIDER, checkpoint_id)
        if result.rc != 0:
            message = result.stdout + result.stderr
            assert NOT_FOUND in message, message
            assert checkpoint_id in message, message
            return True
        status = parse_show(result.stdout)['status']
        assert status in ('deleting', 'deleted'), failure_with_log(
            server, 'checkpoint %s is %s after checkpoint-delete' % (
                checkpoint_id, status))
        if not history or history[-1] != status:
            history.append(status)
        return False

    went, waited = helpers.poll(gone, DELETE_TIMEOUT)
    assert went, failure_with_log(server, 'checkpoint %s still shown %.0f s '
                                  'after checkpoint-delete; statuses %s' % (
                                      checkpoint_id, waited, history))
    return history


def resources_of(shown, key):
    """A ``resources_status``-like value of a *-show: the client prints
    the dict with str(), so it comes back as a Python literal."""
    return ast.literal_eval(shown[key])


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope='module')
def demo_cli(karbor_cli):
    return functools.partial(karbor_cli, user=ALICE, project=DEMO)


@pytest.fixture(scope='module')
def other_cli(karbor_cli):
    return functools.partial(karbor_cli, user=BOB, project=OTHER)


@pytest.fixture(scope='module')
def data_root(karbor_server):
    return pathlib.Path(karbor_server.state_path) / 'data'


@pytest.fixture(scope='module')
def bank_baseline(karbor_server):
    """The bank's files before any checkpoint of this module."""
    return bank_files(karbor_server)


@pytest.fixture(scope='module')
def demo_tree(data_root):
    top = data_root / DEMO / SOURCE
    total, distinct, big = make_tree(top)
    return types.SimpleNamespace(path=top, snapshot=snapshot(top),
                                 total_bytes=total, distinct_bytes=distinct,
                                 big_bytes=big)


def _instance_id(cli, name):
    rows = parse_table(ok(cli('protectable-list-instances', DIRECTORY)))
    matching = [row for row in rows if row['Name'] == name]
    assert len(matching) == 1, rows
    assert matching[0]['Type'] == DIRECTORY, rows
    return matching[0]['Id']


@pytest.fixture(scope='module')
def demo_instance(demo_cli, demo_tree):
    return _instance_id(demo_cli, SOURCE)


@pytest.fixture(scope='module')
def demo_plan(demo_cli, demo_instance):
    return make_plan(demo_cli, 'demo-photos', demo_instance)


@pytest.fixture(scope='module')
def first_checkpoint(karbor_server, demo_cli, demo_plan, bank_baseline):
    """The first checkpoint of the demo plan, with the bank around it."""
    before = bank_files(karbor_server)
    created, shown = protect(karbor_server, demo_cli, demo_plan['id'])
    return types.SimpleNamespace(id=created['id'], created=created,
                                 shown=shown, bank_before=before,
                                 bank_after=bank_files(karbor_server))


@pytest.fixture(scope='module')
def demo_restore(karbor_server, demo_cli, first_checkpoint):
    created, shown = restore(karbor_server, demo_cli, first_checkpoint.id,
                             'restore_name=%s' % RESTORED)
    return types.SimpleNamespace(id=created['id'], created=created,
                                 shown=shown)


@pytest.fixture(scope='module')
def second_checkpoint(karbor_server, demo_cli, demo_plan, first_checkpoint):
    before = bank_files(karbor_server)
    created, shown = protect(karbor_server, demo_cli, demo_plan['id'])
    return types.SimpleNamespace(id=created['id'], shown=shown,
                                 bank_before=before,
                                 bank_after=bank_files(karbor_server))


@pytest.fixture(scope='module')
def other_tree(data_root):
    top = data_root / OTHER / SOURCE
    make_tree(top)
    return top


@pytest.fixture(scope='module')
def other_checkpoint(karbor_server, other_cli, other_tree, bank_baseline,
                     first_checkpoint, second_checkpoint):
    """OTHER's own plan and checkpoint of an identical tree.

    Made once DEMO's checkpoints exist, so that DEMO's chunks are there
    to be (wrongly) shared.
    """
    instance_id = _instance_id(other_cli, SOURCE)
    plan = make_plan(other_cli, 'other-photos', instance_id)
    before = bank_files(karbor_server)
    created, shown = protect(karbor_server, other_cli, plan['id'])
    after = bank_files(karbor_server)
    added = {path: size for path, size in after.items()
             if path not in before}
    return types.SimpleNamespace(id=created['id'], plan=plan,
                                 instance_id=instance_id, shown=shown,
                                 bank_before=before, bank_after=after,
                                 added=added)


# ------------------------------------------------ protectables and plans

def test_protectable_list_shows_directory_type(demo_cli):
    rows = parse_table(ok(demo_cli('protectable-list')))
    assert DIRECTORY in [row['Protectable type'] for row in rows], rows


def test_protectable_instances_list_and_show(demo_cli, demo_tree,
                                             demo_instance):
    rows = parse_table(ok(demo_cli('protectable-list-instances',
                                   DIRECTORY)))
    row = {r['Id']: r for r in rows}[demo_instance]
    assert row['Name'] == SOURCE, rows
    assert row['Dependent resources'] == '[]', rows

    shown = parse_show(ok(demo_cli('protectable-show-instance', DIRECTORY,
                                   demo_instance)))
    assert shown['id'] == demo_instance, shown
    assert shown['name'] == SOURCE, shown
    assert shown['type'] == DIRECTORY, shown
    assert json.loads(shown['dependent_resources']) == [], shown


def test_plan_create_show_and_list(demo_cli, demo_plan, demo_instance):
    assert demo_plan['provider_id'] == PROVIDER, demo_plan
    assert demo_plan['project_id'] == DEMO, demo_plan
    assert demo_plan['status'] == 'suspended', demo_plan
    expected_resources = [{'id': demo_instance, 'name': SOURCE,
                           'type': DIRECTORY}]
    assert json.loads(demo_plan['resources']) == expected_resources

    shown = parse_show(ok(demo_cli('plan-show', demo_plan['id'])))
    assert shown['name'] == 'demo-photos', shown
    assert json.loads(shown['resources']) == expected_resources, shown

    rows = parse_table(ok(demo_cli('plan-list')))
    listed = {row['Id']: row for row in rows}
    assert demo_plan['id'] in listed, rows
    assert listed[demo_plan['id']]['Name'] == 'demo-photos', rows
    assert listed[demo_plan['id']]['Provider id'] == PROVIDER, rows


# ------------------------------------------------------------ checkpoints

def test_checkpoint_becomes_available_and_is_listed(
        demo_cli, demo_plan, demo_instance, first_checkpoint):
    shown = first_checkpoint.shown
    assert shown['id'] == first_checkpoint.id
    assert shown['project_id'] == DEMO, shown
    assert shown['provider_id'] == PROVIDER, shown
    plan = json.loads(shown['protection_plan'])
    assert (plan['id'], plan['name']) == (demo_plan['id'], 'demo-photos')
    # The resource graph comes as a JSON text the client pretty-prints.
    graph = json.loads(shown['resource_graph'])
    assert [(node['id'], node['name'], node['type'])
            for node in graph] == [(demo_instance, SOURCE, DIRECTORY)], graph
    status = resources_of(shown, 'resources_status')
    assert status[demo_instance]['status'] == 'available', status

    rows = parse_table(ok(demo_cli('checkpoint-list', PROVIDER)))
    listed = {row['Id']: row for row in rows}
    assert first_checkpoint.id in listed, rows
    row = listed[first_checkpoint.id]
    assert row['Status'] == 'available', rows
    assert row['Project id'] == DEMO, rows
    assert demo_plan['id'] in row['Protection plan'], rows

    rows = parse_table(ok(demo_cli('checkpoint-list', PROVIDER,
                                   '--plan_id', demo_plan['id'])))
    assert first_checkpoint.id in [row['Id'] for row in rows], rows


def test_checkpoint_stores_chunks_and_a_manifest(
        karbor_server, demo_tree, demo_plan, demo_instance,
        first_checkpoint):
    before, after = first_checkpoint.bank_before, first_checkpoint.bank_after
    assert set(before) <= set(after)
    added = {path: after[path] for path in set(after) - set(before)}
    prefix = 'checkpoints/%s/' % first_checkpoint.id
    manifest = '%sresources/%s/manifest' % (prefix, demo_instance)
    assert manifest in added, describe_files(added)
    chunks = under(added, 'chunks/%s/' % DEMO)
    # The hint naming the checkpoint, where the next protect of the plan
    # finds its file cache.
    hint = 'latest/%s/%s/%s' % (DEMO, demo_plan['id'], demo_instance)
    assert json.loads(bank_path(karbor_server, hint).read_text()) == {
        'checkpoint_id': first_checkpoint.id}
    others = set(added) - set(chunks) - set(under(added, prefix)) - {hint}
    assert not others, 'files outside the checkpoint and its chunks:\n' + \
        describe_files({path: added[path] for path in others})
    for path in chunks:
        _chunks, _project, fanout, digest = path.split('/')
        assert len(digest) == 64 and digest.startswith(fanout), path
    # No compression: every distinct byte is stored once, the copy of the
    # big file not at all.
    chunk_bytes = sum(chunks.values())
    assert demo_tree.distinct_bytes <= chunk_bytes, describe_files(chunks)
    assert chunk_bytes <= demo_tree.total_bytes - demo_tree.big_bytes, \
        describe_files(chunks)
    # Nothing transient left behind.
    assert not under(after, 'locks/'), describe_files(after)
    # Protecting did not touch the source.
    assert tree_differences(demo_tree.snapshot,
                            snapshot(demo_tree.path)) == []


# ---------------------------------------------------------------- restore

def test_restore_rebuilds_the_tree(karbor_server, demo_cli, demo_tree,
                                   demo_instance, first_checkpoint,
                                   demo_restore, data_root):
    shown = demo_restore.shown
    assert shown['status'] == 'success', failure_with_log(
        karbor_server, 'restore ended %r' % (shown,))
    assert shown['checkpoint_id'] == first_checkpoint.id, shown
    assert shown['provider_id'] == PROVIDER, shown
    assert shown['project_id'] == DEMO, shown
    assert json.loads(shown['parameters']) == {
        DIRECTORY: {'restore_name': RESTORED}}, shown
    assert resources_of(shown, 'resources_status') == {
        '%s#%s' % (DIRECTORY, demo_instance): 'restored'}, shown

    restored = data_root / DEMO / RESTORED
    differences = tree_differences(demo_tree.snapshot, snapshot(restored))
    assert differences == [], '\n'.join(differences)
    # No working directory of the restore is left next to it.
    assert hidden_entries(data_root / DEMO) == []


def test_restore_list_and_show(demo_cli, first_checkpoint, demo_restore):
    rows = parse_table(ok(demo_cli('restore-list')))
    listed = {row['Id']: row for row in rows}
    assert demo_restore.id in listed, rows
    row = listed[demo_restore.id]
    assert row['Status'] == 'success', rows
    assert row['Checkpoint id'] == first_checkpoint.id, rows
    assert row['Provider id'] == PROVIDER, rows
    assert json.loads(row['Parameters']) == {
        DIRECTORY: {'restore_name': RESTORED}}, rows

    rows = parse_table(ok(demo_cli('restore-list', '--status', 'success')))
    assert demo_restore.id in [row['Id'] for row in rows], rows


def test_restore_onto_an_existing_name_fails(karbor_server, demo_cli,
                                             demo_tree, demo_instance,
                                             first_checkpoint, demo_restore,
                                             data_root):
    before = snapshot(data_root / DEMO / RESTORED)
    _created, shown = restore(karbor_server, demo_cli, first_checkpoint.id,
                              'restore_name=%s' % RESTORED)
    assert shown['status'] == 'error', shown
    key = '%s#%s' % (DIRECTORY, demo_instance)
    assert resources_of(shown, 'resources_status') == {key: 'error'}, shown
    reason = resources_of(shown, 'resources_reason')[key]
    assert RESTORED in reason and 'exists' in reason, shown
    # The existing tree is left alone.
    assert tree_differences(before, snapshot(data_root / DEMO / RESTORED)) \
        == []
    assert hidden_entries(data_root / DEMO) == []


def test_restore_without_a_name_uses_the_default(karbor_server, demo_cli,
                                                 demo_tree, first_checkpoint,
                                                 data_root):
    created, shown = restore(karbor_server, demo_cli, first_checkpoint.id)
    assert shown['status'] == 'success', failure_with_log(
        karbor_server, 'restore ended %r' % (shown,))
    name = '%s-restore-%s' % (SOURCE, created['id'][:8])
    differences = tree_differences(demo_tree.snapshot,
                                   snapshot(data_root / DEMO / name))
    assert differences == [], '\n'.join(differences)


def test_restore_name_escaping_the_project_is_refused(
        karbor_server, demo_cli, first_checkpoint, data_root):
    rows_before = parse_table(ok(demo_cli('restore-list')))
    entries_before = sorted(os.listdir(data_root))
    result = demo_cli('restore-create', PROVIDER, first_checkpoint.id,
                      '--parameters', 'resource_type=%s,restore_name=../'
                      'escape' % DIRECTORY)
    message = failed(result)
    assert 'restore_name' in message, message
    assert '400' in message, message
    assert sorted(os.listdir(data_root)) == entries_before
    rows_after = parse_table(ok(demo_cli('restore-list')))
    assert [row['Id'] for row in rows_after] == \
        [row['Id'] for row in rows_before]


# ---------------------------------------------------- deduplication

def test_second_checkpoint_of_unchanged_data_adds_only_metadata(
        karbor_server, demo_cli, demo_tree, first_checkpoint,
        second_checkpoint):
    before, after = second_checkpoint.bank_before, \
        second_checkpoint.bank_after
    assert second_checkpoint.id != first_checkpoint.id
    added = {path: after[path] for path in set(after) - set(before)}
    removed = set(before) - set(after)
    assert not removed, sorted(removed)
    prefix = 'checkpoints/%s/' % second_checkpoint.id
    assert added and set(added) == set(under(added, prefix)), (
        'the second checkpoint added files outside %s:\n%s' % (
            prefix, describe_files(added)))
    assert under(after, 'chunks/') == under(before, 'chunks/')
    assert not under(after, 'locks/'), describe_files(after)

    rows = parse_table(ok(demo_cli('checkpoint-list', PROVIDER)))
    statuses = {row['Id']: row['Status'] for row in rows}
    assert statuses.get(first_checkpoint.id) == 'available', rows
    assert statuses.get(second_checkpoint.id) == 'available', rows


# -------------------------------------------------------------- isolation

def test_other_project_sees_nothing_of_demo(other_cli, demo_plan,
                                            demo_instance, first_checkpoint,
                                            second_checkpoint, demo_restore,
                                            other_tree):
    rows = parse_table(ok(other_cli('protectable-list-instances',
                                    DIRECTORY)))
    assert demo_instance not in [row['Id'] for row in rows], rows
    assert [row['Name'] for row in rows] == [SOURCE], rows

    listings = [('plan-list',), ('checkpoint-list', PROVIDER),
                ('restore-list',)]
    for argv in listings:
        # Only OTHER's objects, if any (its own checkpoint may exist).
        ids = [row['Id'] for row in parse_table(ok(other_cli(*argv)))]
        for foreign in (demo_plan['id'], first_checkpoint.id,
                        second_checkpoint.id, demo_restore.id):
            assert foreign not in ids, (argv, ids)

    for argv, missing in [
            (('plan-show', demo_plan['id']), demo_plan['id']),
            (('checkpoint-show', PROVIDER, first_checkpoint.id),
             first_checkpoint.id),
            (('restore-show', demo_restore.id), demo_restore.id),
            (('protectable-show-instance', DIRECTORY, demo_instance),
             demo_instance)]:
        message = failed(other_cli(*argv))
        assert 'not found' in message.lower() or NOT_FOUND in message, (
            argv, message)
        assert missing in message, (argv, message)

    # Nor can OTHER use DEMO's checkpoint or delete it.
    message = failed(other_cli('restore-create', PROVIDER,
                               first_checkpoint.id))
    assert NOT_FOUND in message or '404' in message, message
    message = failed(other_cli('checkpoint-delete', PROVIDER,
                               first_checkpoint.id))
    assert 'not found' in message.lower(), message


def test_other_project_protects_into_its_own_chunks(
        karbor_server, demo_cli, other_cli, first_checkpoint,
        second_checkpoint, other_checkpoint, demo_instance):
    assert other_checkpoint.instance_id != demo_instance
    added = other_checkpoint.added
    assert not set(other_checkpoint.bank_before) - set(
        other_checkpoint.bank_after)
    other_chunks = under(added, 'chunks/%s/' % OTHER)
    assert other_chunks, describe_files(added)
    prefix = 'checkpoints/%s/' % other_checkpoint.id
    hint = 'latest/%s/%s/%s' % (OTHER, other_checkpoint.plan['id'],
                                other_checkpoint.instance_id)
    assert set(added) == (set(other_chunks) | set(under(added, prefix)) |
                          {hint}), describe_files(added)

    # The manifest (JSON, see the plugin) only names OTHER's chunks, and
    # each of them exists under chunks/other/.
    manifest_key = '%sresources/%s/manifest' % (prefix,
                                                other_checkpoint.instance_id)
    assert manifest_key in added, describe_files(added)
    manifest = json.loads(bank_path(karbor_server, manifest_key).read_text())
    assert manifest['project_id'] == OTHER, manifest_key
    referenced = {ref[0] for entry in manifest['entries']
                  if entry['type'] == 'file' for ref in entry['chunks']}
    after = other_checkpoint.bank_after
    assert referenced == chunk_digests(after, OTHER)

    # The same content was stored twice, once per project, as separate
    # files: nothing is shared between chunks/demo/ and chunks/other/.
    demo_digests = chunk_digests(after, DEMO)
    common = demo_digests & chunk_digests(after, OTHER)
    assert common, (sorted(demo_digests), sorted(referenced))
    for digest in common:
        demo_chunk = bank_path(karbor_server, 'chunks/%s/%s/%s' % (
            DEMO, digest[:2], digest)).stat()
        other_chunk = bank_path(karbor_server, 'chunks/%s/%s/%s' % (
            OTHER, digest[:2], digest)).stat()
        assert (demo_chunk.st_dev, demo_chunk.st_ino) != \
            (other_chunk.st_dev, other_chunk.st_ino), digest
        assert demo_chunk.st_nlink == 1 and other_chunk.st_nlink == 1
    # DEMO's part of the bank did not change.
    before = other_checkpoint.bank_before
    assert under(after, 'chunks/%s/' % DEMO) == \
        under(before, 'chunks/%s/' % DEMO)

    # And DEMO does not see OTHER's checkpoint.
    rows = parse_table(ok(demo_cli('checkpoint-list', PROVIDER)))
    assert other_checkpoint.id not in [row['Id'] for row in rows], rows
    message = failed(demo_cli('checkpoint-show', PROVIDER,
                              other_checkpoint.id))
    assert NOT_FOUND in message, message
    rows = parse_table(ok(other_cli('checkpoint-list', PROVIDER)))
    assert [row['Id'] for row in rows] == [other_checkpoint.id], rows


# ---------------------------------------------------------- OpenStack CLI

def test_osc_lists_plans_checkpoints_and_restores(
        openstack_json, demo_plan, first_checkpoint, second_checkpoint,
        demo_restore):
    as_demo = functools.partial(openstack_json, user=ALICE, project=DEMO)

    plans = {row['Id']: row for row in as_demo('plan', 'list')}
    assert demo_plan['id'] in plans, plans
    assert plans[demo_plan['id']]['Name'] == 'demo-photos', plans
    assert plans[demo_plan['id']]['Provider id'] == PROVIDER, plans

    checkpoints = {row['Id']: row for row in
                   as_demo('checkpoint', 'list', PROVIDER)}
    for checkpoint in (first_checkpoint, second_checkpoint):
        row = checkpoints.get(checkpoint.id)
        assert row is not None, checkpoints
        assert row['Status'] == 'available', row
        assert row['Project id'] == DEMO, row
        assert demo_plan['id'] in row['Protection plan'], row

    restores = {row['Id']: row for row in as_demo('restore', 'list')}
    row = restores.get(demo_restore.id)
    assert row is not None, restores
    assert row['Status'] == 'success', row
    assert row['Checkpoint id'] == first_checkpoint.id, row
    assert json.loads(row['Parameters']) == {
        DIRECTORY: {'restore_name': RESTORED}}, row


def test_osc_shows_other_project_nothing_of_demo(openstack_json,
                                                 demo_plan, demo_restore,
                                                 first_checkpoint):
    as_other = functools.partial(openstack_json, user=BOB, project=OTHER)
    for argv, foreign in [(('plan', 'list'), demo_plan['id']),
                          (('checkpoint', 'list', PROVIDER),
                           first_checkpoint.id),
                          (('restore', 'list'), demo_restore.id)]:
        ids = [row['Id'] for row in as_other(*argv)]
        assert foreign not in ids, (argv, ids)


# --------------------------------------------------------------- deletion

def test_deleting_checkpoints_gives_the_bank_back(
        karbor_server, demo_cli, other_cli, bank_baseline, demo_plan,
        first_checkpoint, second_checkpoint, other_checkpoint, demo_restore,
        data_root):
    """Runs last: afterwards the bank holds what it held at the start."""
    ok(demo_cli('checkpoint-delete', PROVIDER, first_checkpoint.id,
                second_checkpoint.id))
    for checkpoint_id in (first_checkpoint.id, second_checkpoint.id):
        wait_until_gone(karbor_server, demo_cli, checkpoint_id)
    rows = parse_table(ok(demo_cli('checkpoint-list', PROVIDER)))
    ids = [row['Id'] for row in rows]
    assert first_checkpoint.id not in ids and \
        second_checkpoint.id not in ids, rows

    # DEMO's checkpoints and chunks are gone; OTHER's objects are intact.
    expected = dict(bank_baseline)
    expected.update(other_checkpoint.added)
    now = bank_files(karbor_server)
    assert now == expected, (
        'after deleting demo\'s checkpoints the bank holds\n%s\n'
        'expected\n%s' % (describe_files(now), describe_files(expected)))

    # OTHER's checkpoint still restores after DEMO's garbage collection.
    _created, shown = restore(karbor_server, other_cli, other_checkpoint.id,
                              'restore_name=%s' % RESTORED)
    assert shown['status'] == 'success', failure_with_log(
        karbor_server, 'restore ended %r' % (shown,))
    differences = tree_differences(snapshot(data_root / OTHER / SOURCE),
                                   snapshot(data_root / OTHER / RESTORED))
    assert differences == [], '\n'.join(differences)

    ok(other_cli('checkpoint-delete', PROVIDER, other_checkpoint.id))
    wait_until_gone(karbor_server, other_cli, other_checkpoint.id)
    now = bank_files(karbor_server)
    assert now == bank_baseline, (
        'after deleting every checkpoint the bank holds\n%s\nexpected\n%s'
        % (describe_files(now), describe_files(bank_baseline)))
    assert sum(now.values()) == sum(bank_baseline.values())

    # Deleting checkpoints leaves plans, restores and restored data alone.
    shown = parse_show(ok(demo_cli('restore-show', demo_restore.id)))
    assert shown['status'] == 'success', shown
    assert (data_root / DEMO / RESTORED).is_dir()
    rows = parse_table(ok(demo_cli('plan-list')))
    assert demo_plan['id'] in [row['Id'] for row in rows], rows
