"""Amazon Bedrock batch inference records, pure: one JSONL line `{"recordId", "modelInput"}` per
request, `modelInput` being Anthropic's Messages body as Bedrock's InvokeModel takes it (no
`model`: the job names it; `anthropic_version` "bedrock-2023-05-31"), and their bytes as written
to S3. No SDK here (docs/wire/platforms.md §2.3).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from corthex.domain.wire_bytes import orjson_size
from corthex.providers.base import WireItem
from corthex.providers.wire.anthropic import params

#: batch-inference-example.html writes exactly this version for Claude
ANTHROPIC_VERSION = "bedrock-2023-05-31"


def model_input(item: WireItem) -> dict[str, Any]:
    """The Messages body without `model` (the job's modelId names it), with Bedrock's version."""
    native = item.request.native
    body = dict(native.body) if native is not None else params(item.request)
    body.pop("model", None)
    body.setdefault("anthropic_version", ANTHROPIC_VERSION)
    return body


def to_wire(item: WireItem) -> dict[str, Any]:
    return {"recordId": item.wire_id, "modelInput": model_input(item)}


def wire_size(item: WireItem) -> int:
    """Bytes of the record's line in the input file, its newline included."""
    return orjson_size(to_wire(item)) + 1


def input_file(items: Sequence[WireItem]) -> bytes:
    """The input file: one record a line (`.jsonl`, the extension Bedrock requires)."""
    out = bytearray()
    for item in items:
        out += orjson.dumps(to_wire(item))
        out += b"\n"
    return bytes(out)
