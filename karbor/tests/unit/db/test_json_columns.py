"""Decoding JSON columns (karbor.db.session.load_json)."""

import math

from karbor.db import session


def test_decodes_what_the_json_module_wrote():
    assert session.load_json('{"a": [1, 2.5, null, "é"]}') == {
        'a': [1, 2.5, None, 'é']}


def test_nan_and_infinity_take_the_json_module():
    # json.dumps writes NaN and Infinity, which orjson refuses to read.
    decoded = session.load_json('{"x": NaN, "y": Infinity}')
    assert math.isnan(decoded['x']) and decoded['y'] == math.inf
