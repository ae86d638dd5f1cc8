import os
import types

import pytest

from karbor import exception
from karbor.services.protection.plugins.directory import protectable

TYPE = 'OS::Karbor::Directory'


@pytest.fixture
def root(tmp_path, override):
    root = tmp_path / 'data'
    root.mkdir()
    override('root_path', str(root), group='directory')
    return root


def ctx(project_id):
    return types.SimpleNamespace(project_id=project_id)


def make_dirs(root, project_id, *names):
    for name in names:
        (root / project_id / name).mkdir(parents=True)


def test_lists_immediate_subdirectories_sorted(root):
    make_dirs(root, 'p1', 'zeta', 'alpha', 'alpha/nested', 'mid')
    (root / 'p1' / 'a-file').write_text('not a directory')
    os.symlink(str(root / 'p1' / 'alpha'), str(root / 'p1' / 'link'))
    (root / 'p1' / '.karbor-restore-abc').mkdir()
    plugin = protectable.DirectoryProtectable()
    resources = plugin.list_resources(ctx('p1'))
    assert [r.name for r in resources] == ['alpha', 'mid', 'zeta']
    assert all(r.type == TYPE and r.extra_info is None for r in resources)
    assert plugin.get_resource_type() == TYPE


def test_ids_are_stable_and_differ_per_project(root):
    make_dirs(root, 'p1', 'docs')
    make_dirs(root, 'p2', 'docs')
    first = protectable.DirectoryProtectable().list_resources(ctx('p1'))
    again = protectable.DirectoryProtectable().list_resources(ctx('p1'))
    other = protectable.DirectoryProtectable().list_resources(ctx('p2'))
    assert first[0].id == again[0].id
    assert first[0].id != other[0].id
    assert first[0].id == protectable.resource_id('p1', 'docs')
    # A fixed namespace: the value never changes between releases.
    assert first[0].id == protectable.resource_id('p1', 'docs')


def test_missing_project_directory_has_no_instances(root):
    plugin = protectable.DirectoryProtectable()
    assert plugin.list_resources(ctx('nobody')) == []
    with pytest.raises(exception.ProtectableResourceNotFound):
        plugin.show_resource(ctx('nobody'),
                             protectable.resource_id('nobody', 'x'))


def test_show_resource(root):
    make_dirs(root, 'p1', 'docs')
    plugin = protectable.DirectoryProtectable()
    res_id = protectable.resource_id('p1', 'docs')
    shown = plugin.show_resource(ctx('p1'), res_id)
    assert (shown.type, shown.id, shown.name) == (TYPE, res_id, 'docs')


def test_show_refuses_unknown_and_foreign_ids(root):
    make_dirs(root, 'p1', 'docs')
    make_dirs(root, 'p2', 'secret')
    plugin = protectable.DirectoryProtectable()
    foreign = protectable.resource_id('p2', 'secret')
    with pytest.raises(exception.ProtectableResourceNotFound) as info:
        plugin.show_resource(ctx('p1'), foreign)
    assert foreign in str(info.value)
    with pytest.raises(exception.ProtectableResourceNotFound):
        plugin.show_resource(ctx('p1'), 'not-an-id')


def test_resolve_derives_the_path_from_the_id_only(root):
    make_dirs(root, 'p1', 'docs')
    make_dirs(root, 'p2', 'other')
    name, path = protectable.resolve('p1',
                                     protectable.resource_id('p1', 'docs'))
    assert name == 'docs'
    assert path == str(root / 'p1' / 'docs')
    # An id forged from a path-like name resolves to nothing.
    with pytest.raises(exception.ProtectableResourceNotFound):
        protectable.resolve('p1', protectable.resource_id('p1',
                                                          '../p2/other'))


@pytest.mark.parametrize('project_id', ['', '.', '..', 'a/b', '../x'])
def test_bad_project_ids(root, project_id):
    with pytest.raises(exception.Invalid):
        protectable.project_dir(project_id)
