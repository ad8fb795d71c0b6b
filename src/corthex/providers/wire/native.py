"""Provider-native lines as they go out (issue 14): the body the user wrote, under our wire id.
Pure, no SDK: planning sizes them here too."""

from __future__ import annotations

from typing import Any

from corthex.domain.registry import WireFamily
from corthex.domain.wire_bytes import orjson_size
from corthex.providers.base import WireItem


def native_line(family: WireFamily, item: WireItem) -> dict[str, Any]:
    """The batch line (OpenAI, Gemini file) or request entry (Anthropic) of a native request."""
    native = item.request.native
    if native is None:
        raise ValueError(f"{item.request.custom_id!r} is not a native line")
    if family is WireFamily.OPENAI:
        return {"custom_id": item.wire_id, "method": "POST", "url": native.url, "body": native.body}
    if family is WireFamily.ANTHROPIC:
        return {"custom_id": item.wire_id, "params": native.body}
    return {"key": item.wire_id, "request": native.body}


def native_size(family: WireFamily, item: WireItem) -> int:
    """Bytes of the line (or entry, with its separating comma) as written."""
    return orjson_size(native_line(family, item)) + 1
