"""Byte sizes of JSON values as the SDKs write them (domain/wire_bytes.py)."""

from __future__ import annotations

import json

import orjson
import pytest

from corthex.domain.wire_bytes import ascii_json_size, orjson_size


@pytest.mark.parametrize(
    ("value", "utf8", "ascii"),
    [
        ("a", 3, 3),
        ("한", 5, 8),  # 3 bytes in UTF-8; `\ud55c` (6) as json.dumps writes it
        ("😀", 6, 14),  # 4 bytes in UTF-8; a surrogate pair `\ud83d\ude00` (12)
        ({"k": ["한국어", 1]}, len('{"k":["한국어",1]}'.encode()), len('{"k": ["\\ud55c\\uad6d\\uc5b4", 1]}')),
    ],
)
def test_sizes_are_bytes_not_characters(value: object, utf8: int, ascii: int) -> None:
    assert orjson_size(value) == utf8 == len(orjson.dumps(value))
    assert ascii_json_size(value) == ascii == len(json.dumps(value).encode())
