"""Fingerprints of every versioned object.

A failure here means an object's fields or remotable methods changed:
bump its VERSION, note why in its docstring's history, and update the
fingerprint below.
"""

from oslo_versionedobjects import fixture

from karbor.objects import base
from karbor.objects import checkpoint
from karbor.objects import verification

EXPECTED_FINGERPRINTS = {
    'Checkpoint': '1.1-151f795ef12317ed3d32b736ee8574b1',
    'OperationLog': '1.0-37aeb34f79e9712dccbfbd251448d086',
    'Plan': '1.0-9d0d4fc0239495b7f2d5182fd8e3745d',
    'QuotaSet': '1.0-8a71c4d92bb296f7a34bd8709b147fa0',
    'Restore': '1.0-5e09f29246a3547c5bd39227e0cc7f64',
    'ScheduledOperation': '1.0-87139fcaee6874b152e835a2a39b3b60',
    'ScheduledOperationRun': '1.1-6bee7b6887f809120d912180af1bf4c0',
    'Service': '1.0-4837d1814f40021b49fc58023af058f3',
    'Trigger': '1.0-c4dba4ec3d33b3c0588a4e4d91c940b1',
    'Verification': '1.1-54f19fcc82c1c262fdfc8827edf939b8',
    'VerifyCycle': '1.0-29020bba58084b4cb7c485e4eef1d8ae',
}


def test_fingerprints():
    checker = fixture.ObjectVersionChecker(
        base.KarborObjectRegistry.obj_classes())
    expected, actual = checker.test_hashes(EXPECTED_FINGERPRINTS)
    assert expected == actual, (
        'Object fields changed without a version bump: %s' % actual)


def test_every_object_is_covered():
    assert set(base.KarborObjectRegistry.obj_classes()) == set(
        EXPECTED_FINGERPRINTS)


def test_checkpoint_1_0_has_no_last_verification():
    obj = checkpoint.Checkpoint(
        id='c', project_id='p', provider_id='v', status='available',
        protection_plan={}, last_verification_id='x',
        last_verification_status='success', last_verified_at=None)
    old = obj.obj_to_primitive(target_version='1.0')['karbor_object.data']
    assert not {'last_verification_id', 'last_verification_status',
                'last_verified_at'} & set(old)
    new = obj.obj_to_primitive()['karbor_object.data']
    assert new['last_verification_id'] == 'x'


def test_verification_1_0_has_no_scope():
    obj = verification.Verification(id='v', project_id='p', scope={
        'parts': []})
    old = obj.obj_to_primitive(target_version='1.0')['karbor_object.data']
    assert 'scope' not in old
    assert obj.obj_to_primitive()['karbor_object.data']['scope'] == {
        'parts': []}


def test_described_scope_names_what_a_verification_read():
    described = verification.described_scope
    directory = 'OS::Karbor::Directory'
    assert described({}, None) == 'full'
    assert described({directory: {'mode': 'quick'}}, None) == 'quick'
    assert described({directory: {'mode': 'subset', 'subset': '1/4'}},
                     None) == 'subset 1/4'
    # One resource named: the others are read in the default mode.
    assert described({directory + '#r1': {'mode': 'compare'}},
                     None) == 'compare, full'
    assert described({directory: {'mode': 'quick'}}, {'parts': []}) == (
        'cycle')
