"""Anthropic's batch request rows, pure: the Messages API parameters, the rows of a create body
with the batch key on the first custom_id, and their bytes as sent. No SDK here (issue 13)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from corthex.domain.capabilities import capabilities, family_name
from corthex.domain.requests import LLMRequest, ProviderName
from corthex.domain.wire_bytes import orjson_size
from corthex.providers.base import WireItem

#: The batch key rides on the first request's custom_id (`<wire id>__<key>`): Anthropic batches keep
#: no metadata, and this makes every created batch traceable to one intent (emulator records,
#: result rows). Wire ids never contain the separator.
KEY_SEP = "__"
_CUSTOM_ID_MAX = 64
#: Without streaming the SDK refuses a call it expects to last over 10 minutes: max_tokens over
#: 3,600 s × 128,000 tokens/h ÷ 600 s (anthropic/_base_client.py::_calculate_nonstreaming_timeout).
REALTIME_MAX_TOKENS = 21_333
#: …and, for some models, over its own lower figure (anthropic/_constants.py).
_REALTIME_MODEL_MAX = {"claude-opus-4": 8_192, "claude-opus-4-0": 8_192, "claude-opus-4-1": 8_192}

# --- requests -------------------------------------------------------------------------------


def default_max_tokens(model: str, *, realtime: bool = False) -> int:
    """`max_tokens` is required: when the request sets none, the model's largest output (a
    fixed 4,096 cut long answers short), bounded for realtime calls by what the SDK sends
    without streaming."""
    largest = capabilities(ProviderName.ANTHROPIC, model).max_output_tokens or 8_192
    if not realtime:
        return largest
    return min(largest, REALTIME_MAX_TOKENS, _REALTIME_MODEL_MAX.get(family_name(model), REALTIME_MAX_TOKENS))


def params(request: LLMRequest, *, realtime: bool = False) -> dict[str, Any]:
    """Messages API parameters, for batch rows and realtime calls alike.

    `request.temperature` is not sent: SDK 2.13.0's Messages API (version 2026-10-21) has no
    sampling parameters, and `messages.create` refuses unknown keywords.
    """
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_output_tokens or default_max_tokens(request.model, realtime=realtime),
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
    }
    if request.system:
        body["system"] = _system(request)
    if request.json_schema is not None:
        # SDK 2.13.0's structured output: `output_config.format` (types/output_config_param.py).
        body["output_config"] = {"format": {"type": "json_schema", "schema": request.json_schema}}
    return body


#: A batch runs for minutes to hours: the 1-hour cache lets its requests hit the entries its first
#: requests wrote (the 5-minute default would mostly expire between them; docs/wire/costs.md).
#: 1-hour writes are priced higher (2x base input, vs 1.25x): see `usage_from`.
CACHE_CONTROL = {"type": "ephemeral", "ttl": "1h"}


def _system(request: LLMRequest) -> str | list[dict[str, Any]]:
    if not request.cache_system:
        return request.system or ""
    return [{"type": "text", "text": request.system, "cache_control": CACHE_CONTROL}]


def to_wire(item: WireItem) -> dict[str, Any]:
    return {"custom_id": item.wire_id, "params": params(item.request)}


def wire_size(item: WireItem) -> int:
    """Bytes of the item's entry in the create body's `requests` (orjson, as `request_body` writes
    it), its separating comma included; the batch key on the first custom_id is in the envelope margin."""
    return orjson_size(to_wire(item)) + 1


def keyed_rows(key: str, items: Sequence[WireItem]) -> list[dict[str, Any]]:
    """The batch's rows, the first custom_id carrying `key` when it fits the 64-character rule."""
    return list(_keyed_rows(key, items))


def _keyed_rows(key: str, items: Sequence[WireItem]) -> Iterator[dict[str, Any]]:
    for n, item in enumerate(items):  # one pass: `items` may decode each request as it is read
        if KEY_SEP in item.wire_id:
            raise ValueError(f"wire ids must not contain {KEY_SEP!r}")
        row = to_wire(item)
        if n == 0:
            keyed = f"{row['custom_id']}{KEY_SEP}{key}"
            if len(keyed) <= _CUSTOM_ID_MAX and keyed.replace("-", "").replace("_", "").isalnum():
                row["custom_id"] = keyed
        yield row


def request_body(key: str, items: Sequence[WireItem]) -> bytes:
    """The create call's JSON body, `{"requests": [...]}`, one row at a time with orjson: no list
    of every row's dict, and no pass of the SDK's pure-Python JSON encoder over all of them.
    (Each `orjson.dumps` result holds a 4 KB buffer, so they are appended, never collected.)"""
    body = bytearray(b'{"requests":[')
    for n, row in enumerate(_keyed_rows(key, items)):
        if n:
            body += b","
        body += orjson.dumps(row)
    body += b"]}"
    return bytes(body)
