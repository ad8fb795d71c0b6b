"""OpenAI's batch input lines, pure: the `/v1/chat/completions` and `/v1/responses` bodies and
their bytes as sent. No SDK here: planning sizes requests without importing one (issue 13)."""

from __future__ import annotations

from typing import Any

from corthex.domain.capabilities import OpenAIEndpoint, openai_endpoint, unsent_temperature
from corthex.domain.requests import LLMRequest
from corthex.domain.structured import strict_form
from corthex.domain.wire_bytes import orjson_size
from corthex.providers.base import WireItem

SCHEMA_NAME = "output"  #: the name of the response format (^[a-zA-Z0-9_-]{1,64}$)

# --- requests -------------------------------------------------------------------------------


def chat_body(request: LLMRequest) -> dict[str, Any]:
    """The `/v1/chat/completions` body, for batch lines and realtime calls alike."""
    messages = [{"role": "system", "content": request.system}] if request.system else []
    messages += [{"role": m.role, "content": m.content} for m in request.messages]
    body: dict[str, Any] = {"model": request.model, "messages": messages}
    # GPT-5 and o-series refuse `max_tokens` (LESSONS W5); every chat model takes this one.
    if request.max_output_tokens is not None:
        body["max_completion_tokens"] = request.max_output_tokens
    _add_temperature(body, request)
    if request.json_schema is not None:
        body["response_format"] = {"type": "json_schema", "json_schema": _schema_format(request.json_schema)}
    return body


def responses_body(request: LLMRequest) -> dict[str, Any]:
    """The `/v1/responses` body: `instructions` for the system prompt, `input` for the turns,
    `text.format` for a schema (flat: name, schema, strict beside `type`)."""
    body: dict[str, Any] = {
        "model": request.model,
        "input": [{"role": m.role, "content": m.content} for m in request.messages],
    }
    if request.system:
        body["instructions"] = request.system
    if request.max_output_tokens is not None:
        body["max_output_tokens"] = request.max_output_tokens
    _add_temperature(body, request)
    if request.json_schema is not None:
        body["text"] = {"format": {"type": "json_schema", **_schema_format(request.json_schema)}}
    return body


def _add_temperature(body: dict[str, Any], request: LLMRequest) -> None:
    # A model that refuses it is not sent it; submission warned the user (capabilities.py).
    if request.temperature is not None and not unsent_temperature(request):
        body["temperature"] = request.temperature


def _schema_format(schema: dict[str, Any]) -> dict[str, Any]:
    form = strict_form(schema)
    return {"name": SCHEMA_NAME, "schema": form.schema, "strict": form.strict}


def request_body(request: LLMRequest, endpoint: OpenAIEndpoint) -> dict[str, Any]:
    return responses_body(request) if endpoint is OpenAIEndpoint.RESPONSES else chat_body(request)


def to_wire(item: WireItem, endpoint: OpenAIEndpoint | None = None) -> dict[str, Any]:
    """One line of the batch input file (every line of a file has the file's endpoint)."""
    endpoint = endpoint or openai_endpoint(item.request.model)
    return {
        "custom_id": item.wire_id,
        "method": "POST",
        "url": endpoint.value,
        "body": request_body(item.request, endpoint),
    }


def wire_size(item: WireItem) -> int:
    """Bytes of the item's line in the input file (orjson, as `write_jsonl` writes it), newline included."""
    return orjson_size(to_wire(item)) + 1
