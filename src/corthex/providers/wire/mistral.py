"""Mistral's batch input lines, pure (no SDK: planning sizes requests without importing one).

A line is `{"custom_id", "body"}`: no `method` or `url` (the job names the endpoint), and the body
is a `/v1/chat/completions` body (mistralai `CreateBatchJobRequest.input_files` docstring;
docs.mistral.ai/capabilities/batch). That body is OpenAI's chat body with a few names changed
(mistralai `models/chatcompletionrequest.py`): `max_tokens` (not `max_completion_tokens`),
`random_seed` (not `seed`); `response_format` json_schema, `tools`, `tool_choice`,
`reasoning_effort`, `prompt_cache_key`, `stop`, `top_p` are spelt as OpenAI spells them. The model
is the job's (`model` at creation), so the body leaves it out.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

from corthex.domain.requests import LLMRequest
from corthex.domain.wire_bytes import orjson_size
from corthex.providers.base import WireItem
from corthex.providers.wire.openai import chat_body

ENDPOINT: Final = "/v1/chat/completions"  #: the job's endpoint (mistralai `APIEndpoint`)

#: OpenAI's names for the fields Mistral names otherwise
_RENAMED = {"max_completion_tokens": "max_tokens", "seed": "random_seed"}


def mistral_body(request: LLMRequest) -> dict[str, Any]:
    """The chat body, for batch lines and realtime calls alike (with `model`; the batch line drops it).
    `provider_options["mistral"]` is merged last, as given (never `model`: one model per job)."""
    plain = dataclasses.replace(request, provider_options={})  # no `provider_options["openai"]` here
    body = {_RENAMED.get(key, key): value for key, value in chat_body(plain).items()}
    options = request.provider_options.get("mistral") or {}
    body.update({key: value for key, value in options.items() if key != "model"})
    return body


def to_wire(item: WireItem) -> dict[str, Any]:
    """One line of the batch input file."""
    body = mistral_body(item.request)
    body.pop("model", None)
    return {"custom_id": item.wire_id, "body": body}


def native_line(item: WireItem) -> dict[str, Any]:
    """A native line: the body the user wrote, under our wire id."""
    native = item.request.native
    if native is None:
        raise ValueError(f"{item.request.custom_id!r} is not a native line")
    body = {key: value for key, value in native.body.items() if key != "model"}
    return {"custom_id": item.wire_id, "body": body}


def wire_size(item: WireItem) -> int:
    """Bytes of the item's line in the input file (orjson, as written), newline included."""
    line = native_line(item) if item.request.native is not None else to_wire(item)
    return orjson_size(line) + 1
