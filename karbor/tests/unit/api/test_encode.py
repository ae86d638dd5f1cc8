"""The JSON encoding of response bodies (karbor.api.router.encode)."""

import datetime
import json

import orjson

from karbor.api import router


def test_datetimes_keep_the_api_format_with_or_without_a_zone():
    naive = datetime.datetime(2026, 1, 2, 3, 4, 5)
    aware = datetime.datetime(2026, 1, 2, 3, 4, 5, 42,
                              tzinfo=datetime.timezone.utc)
    decoded = json.loads(router.encode({'a': naive, 'b': aware}))
    assert decoded == {'a': '2026-01-02T03:04:05.000000',
                       'b': '2026-01-02T03:04:05.000042'}


def test_non_string_keys_sets_and_nested_values():
    body = {'ids': {1: 'one'}, 'tags': {'x'}, 'rows': [{'n': None}]}
    assert json.loads(router.encode(body)) == {
        'ids': {'1': 'one'}, 'tags': ['x'], 'rows': [{'n': None}]}


def test_what_orjson_refuses_goes_through_the_json_module():
    # Integers beyond 64 bits are valid JSON numbers; orjson refuses them.
    assert json.loads(router.encode({'big': 2 ** 70})) == {'big': 2 ** 70}


def test_unicode_is_written_as_utf8():
    assert router.encode({'name': 'café ☃'}) == (
        '{"name":"café ☃"}'.encode('utf-8'))


def test_unparsed_json_text_is_embedded_as_it_is():
    body = {'rows': [{'extra_info': orjson.Fragment('{"a": [1, null]}')}]}
    assert router.encode(body) == b'{"rows":[{"extra_info":{"a": [1, null]}}]}'
    # The json module's fallback parses it instead.
    body['big'] = 2 ** 70
    assert json.loads(router.encode(body)) == {
        'rows': [{'extra_info': {'a': [1, None]}}], 'big': 2 ** 70}
