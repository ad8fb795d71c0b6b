"""Gemini's batch input lines, pure: the REST (camelCase) GenerateContentRequest of a file line,
and the bytes each takes in a file or inline. No SDK here (issue 13)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from corthex.domain.wire_bytes import ascii_json_size, orjson_size
from corthex.providers.base import WireItem

ROLES = {"user": "user", "assistant": "model"}


def to_file_line(item: WireItem) -> dict[str, Any]:
    """A line of the input file: the REST (camelCase) GenerateContentRequest, sent as is."""
    request = item.request
    body: dict[str, Any] = {
        "contents": [{"role": ROLES[m.role], "parts": [{"text": m.content}]} for m in request.messages]
    }
    if request.system:
        body["systemInstruction"] = {"parts": [{"text": request.system}]}
    config = {
        "temperature": request.temperature,
        "maxOutputTokens": request.max_output_tokens,
        "responseMimeType": "application/json" if request.json_schema is not None else None,
        "responseJsonSchema": request.json_schema,
    }
    if config := {k: v for k, v in config.items() if v is not None}:
        body["generationConfig"] = config
    return {"key": item.wire_id, "request": body}


def wire_size(item: WireItem) -> int:
    """Bytes of the item's line in an input file (orjson, as `write_jsonl` writes it), newline
    included: what batches are planned on (files take up to 2 GB)."""
    return orjson_size(to_file_line(item)) + 1


def inline_size(item: WireItem) -> int:
    """Bytes of the item's entry in an inline create body, as google-genai writes it: `json.dumps`
    with its defaults (`_api_client.py`), so each non-ASCII character costs 6 bytes; the SDK's entry
    (`batches._InlinedRequest_to_mldev`) holds the file line's request, and `generationConfig`
    always, empty or not (`to_wire` always passes a config)."""
    line = to_file_line(item)
    request = {"generationConfig": {}, **line["request"]}  # key order leaves the size unchanged
    return ascii_json_size({"request": request, "metadata": {"key": line["key"]}}) + len(", ")


def inline_bytes(items: Sequence[WireItem], max_bytes: int) -> int | None:
    """The inline entries' bytes, or None once they reach `max_bytes` (counting stops there)."""
    total = 0
    for item in items:
        total += inline_size(item)
        if total >= max_bytes:
            return None
    return total
