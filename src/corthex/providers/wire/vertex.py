"""Vertex AI batch prediction lines, pure: `{"request": <GenerateContentRequest>}` (the Gemini
wire's REST request) with our wire id in the request's `labels` (docs/providers.md, Vertex).

A Vertex input line has no key field: the output line echoes the whole `request`, so the id
must live inside it. Labels are a GenerateContentRequest field Vertex keeps, but a label value
takes only lowercase letters, digits, `_` and `-`, at most 63 characters, while a wire id may hold
capitals and be 64 long: the id goes base32-encoded (lowercase, no padding) in chunks,
`corthex_id`, `corthex_id_1`, … — the way LiteLLM (`litellm/llms/vertex_ai/files/transformation.py`)
and Bifrost (maximhq/bifrost#4152) carry theirs. Whether Vertex also echoes an extra top-level
field in JSONL output is UNVERIFIED (docs/wire/platforms.md §3.3), so none is relied on.
"""

from __future__ import annotations

import base64
from typing import Any

from corthex.domain.requests import LLMRequest
from corthex.domain.wire_bytes import orjson_size
from corthex.providers.base import WireItem
from corthex.providers.wire.gemini import request_json

LABEL = "corthex_id"
LABEL_VALUE_MAX = 63  #: a Google Cloud label value's length limit
#: Vertex's model ids for Google's own models; a neutral id is written under it
PUBLISHER_PREFIX = "publishers/google/models/"


def id_labels(wire_id: str) -> dict[str, str]:
    encoded = base64.b32encode(wire_id.encode()).decode("ascii").rstrip("=").lower()
    chunks = [encoded[i : i + LABEL_VALUE_MAX] for i in range(0, len(encoded), LABEL_VALUE_MAX)] or [""]
    return {(LABEL if i == 0 else f"{LABEL}_{i}"): chunk for i, chunk in enumerate(chunks)}


def wire_id_of(labels: Any) -> str | None:
    """The wire id `id_labels` wrote, or None when the labels do not hold one."""
    if not isinstance(labels, dict) or not isinstance(labels.get(LABEL), str):
        return None
    chunks, index = [labels[LABEL]], 1
    while isinstance(labels.get(f"{LABEL}_{index}"), str):
        chunks.append(labels[f"{LABEL}_{index}"])
        index += 1
    encoded = "".join(chunks).upper()
    try:
        return base64.b32decode(encoded + "=" * (-len(encoded) % 8)).decode() or None
    except (ValueError, UnicodeDecodeError):
        return None


def request_body(request: LLMRequest, wire_id: str) -> dict[str, Any]:
    body = request_json(request)
    body["labels"] = {**(body.get("labels") or {}), **id_labels(wire_id)}
    return body


def to_line(item: WireItem) -> dict[str, Any]:
    """A line of the input file."""
    return {"request": request_body(item.request, item.wire_id)}


def row_wire_id(row: dict[str, Any]) -> str | None:
    request = row.get("request")
    return wire_id_of(request.get("labels")) if isinstance(request, dict) else None


def vertex_model(model: str) -> str:
    """The model id as Vertex names it: a neutral `gemini-2.5-flash` (or the Developer API's
    `models/gemini-2.5-flash`) under `publishers/google/models/`; a full resource name as given."""
    if model.startswith(("publishers/", "projects/")):
        return model
    return PUBLISHER_PREFIX + model.removeprefix("models/")


def wire_size(item: WireItem) -> int:
    """Bytes of the item's line in the input file (orjson, as written), newline included."""
    return orjson_size(to_line(item)) + 1
