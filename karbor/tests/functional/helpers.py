"""Helpers of the functional tests of protection, restore and logs."""

import os
import time

from karbor.conf import CONF

PROVIDER = 'b766f37c-d011-4026-8228-28730d734a3f'
DIRECTORY = 'OS::Karbor::Directory'


def project_root(project):
    return os.path.join(CONF.directory.root_path, project)


def make_tree(project, name, files=None):
    """A small directory tree under the project's root; returns its path."""
    base = os.path.join(project_root(project), name)
    os.makedirs(base)
    files = files or {'a.txt': b'alpha\n', 'sub/b.bin': os.urandom(70000),
                      'sub/empty': b''}
    for rel, data in files.items():
        path = os.path.join(base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data)
    os.makedirs(os.path.join(base, 'empty-dir'))
    os.symlink('a.txt', os.path.join(base, 'link'))
    os.chmod(os.path.join(base, 'a.txt'), 0o640)
    os.utime(os.path.join(base, 'a.txt'), ns=(1_500_000_000_123_456_789,
                                              1_500_000_000_123_456_789))
    return base


def snapshot(root):
    """Everything a restore must reproduce, keyed by relative path."""
    entries = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                entries[rel] = ('link', os.readlink(path))
            elif os.path.isdir(path):
                entries[rel] = ('dir', st.st_mode, st.st_mtime_ns)
            else:
                with open(path, 'rb') as f:
                    entries[rel] = ('file', st.st_mode, st.st_mtime_ns,
                                    f.read())
    return entries


def wait_for(fetch, done, timeout=30):
    deadline = time.time() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        assert time.time() < deadline, 'still %r' % (value,)
        time.sleep(0.05)


def instance_of(api, name):
    res = api.get('protectables/%s/instances' % DIRECTORY)
    assert res.status_code == 200, res.json_body
    (found,) = [i for i in res.json_body['instances'] if i['name'] == name]
    return found


def create_plan(api, names, parameters=None):
    resources = [{'id': instance_of(api, n)['id'], 'type': DIRECTORY,
                  'name': n} for n in names]
    res = api.post('plans', {'plan': {
        'name': 'plan-' + '-'.join(names), 'provider_id': PROVIDER,
        'resources': resources, 'parameters': parameters or {}}})
    assert res.status_code == 200, res.json_body
    return res.json_body['plan']


def protect(api, plan_id, extra_info=None):
    res = api.post('providers/%s/checkpoints' % PROVIDER,
                   {'checkpoint': {'plan_id': plan_id,
                                   'extra-info': extra_info}})
    assert res.status_code == 202, res.json_body
    assert res.json_body['checkpoint']['status'] == 'protecting'
    checkpoint_id = res.json_body['checkpoint']['id']
    return wait_for(
        lambda: api.get('providers/%s/checkpoints/%s' % (
            PROVIDER, checkpoint_id)).json_body['checkpoint'],
        lambda c: c['status'] != 'protecting')


def restore(api, checkpoint_id, parameters=None):
    res = api.post('restores', {'restore': {
        'provider_id': PROVIDER, 'checkpoint_id': checkpoint_id,
        'restore_target': None, 'restore_auth': None,
        'parameters': parameters or {}}})
    assert res.status_code == 202, res.json_body
    restore_id = res.json_body['restore']['id']
    return wait_for(
        lambda: api.get('restores/%s' % restore_id).json_body['restore'],
        lambda r: r['status'] != 'in_progress')


def bank_files(data_root):
    found = set()
    for dirpath, _, filenames in os.walk(str(data_root / 'bank')):
        for name in filenames:
            found.add(os.path.relpath(os.path.join(dirpath, name),
                                      str(data_root / 'bank')))
    return found


def refuse_reading(monkeypatch, suffix):
    """Make opening a path that ends with ``suffix`` fail with EACCES.

    Tests run as root, whom file modes do not stop.
    """
    real_open = os.open

    def refusing_open(path, *args, **kwargs):
        if os.fspath(path).endswith(suffix):
            raise PermissionError(13, 'Permission denied', path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, 'open', refusing_open)
