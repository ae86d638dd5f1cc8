import pytest

from karbor import exception
from karbor.services.protection import provider

PID = '11111111-1111-4111-8111-111111111111'


def _write(directory, name, text):
    (directory / name).write_text('[provider]\n' + text)


def test_shipped_local_directory_provider():
    registry = provider.get_registry()
    local = registry.get('b766f37c-d011-4026-8228-28730d734a3f')
    assert local.name == 'Local Directory'
    assert local.bank_name == 'file-system'


def test_reads_definitions(tmp_path):
    _write(tmp_path, 'a.conf', 'name = A\nid = %s\nbank = file-system\n'
                               'description = first\n' % PID)
    _write(tmp_path, 'ignored.txt', 'name = B\n')
    registry = provider.ProviderRegistry(str(tmp_path))
    (only,) = registry.list()
    assert (only.id, only.name, only.description) == (PID, 'A', 'first')
    assert only.to_dict()['extended_info_schema'] == {
        'options_schema': {}, 'restore_schema': {},
        'saved_info_schema': {}, 'verify_schema': {}}
    with pytest.raises(exception.ProviderNotFound):
        registry.get('22222222-2222-4222-8222-222222222222')


@pytest.mark.parametrize('text,reason', [
    ('name = A\nid = not-a-uuid\nbank = file-system\n', 'UUID'),
    ('name = A\nid = %s\nbank = no-such-bank\n' % PID, 'no-such-bank'),
    ('name = A\nid = %s\nbank = file-system\nplugin = nope\n' % PID,
     'nope'),
    ('id = %s\nbank = file-system\n' % PID, 'name'),
    ('name = A\nid = %s\nbank = file-system\nenabled = maybe\n' % PID,
     'enabled'),
])
def test_bad_definitions_are_refused_with_a_reason(tmp_path, text, reason):
    _write(tmp_path, 'bad.conf', text)
    with pytest.raises(exception.ProviderConfigError) as error:
        provider.ProviderRegistry(str(tmp_path))
    assert reason in error.value.message
    assert 'bad.conf' in error.value.message


def test_duplicate_ids_are_refused(tmp_path):
    for name in ('a.conf', 'b.conf'):
        _write(tmp_path, name, 'name = X\nid = %s\nbank = file-system\n'
               % PID)
    with pytest.raises(exception.ProviderConfigError):
        provider.ProviderRegistry(str(tmp_path))


def test_disabled_provider_is_skipped(tmp_path):
    _write(tmp_path, 'a.conf', 'name = A\nid = %s\nbank = file-system\n'
                               'enabled = false\n' % PID)
    assert provider.ProviderRegistry(str(tmp_path)).list() == []
