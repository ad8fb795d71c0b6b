"""Sizes on the wire: the UTF-8 bytes a JSON value takes as each SDK serializes it (pure).

Every size limit of the three Batch APIs is on bytes as sent (docs/wire/sizes.md). Two
serializations matter:
- orjson (our JSONL files, the Anthropic body): compact, non-ASCII written as raw UTF-8, so a
  Hangul syllable costs 3 bytes;
- `json.dumps(value)` with its defaults (`ensure_ascii=True`, separators `", "` and `": "`), which
  google-genai uses for every request body (`_api_client.py`): each non-ASCII character becomes a
  `\\uXXXX` escape of 6 bytes (12 for a character outside the BMP, written as a surrogate pair).
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def orjson_size(value: Any) -> int:
    """Bytes of `value` as orjson writes it (compact, raw UTF-8)."""
    return len(orjson.dumps(value))


def ascii_json_size(value: Any) -> int:
    """Bytes of `value` as `json.dumps(value)` writes it (ASCII only, so characters = bytes)."""
    return len(json.dumps(value))


__all__ = ["ascii_json_size", "orjson_size"]
