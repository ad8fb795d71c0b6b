"""OpenAI's batch input lines, pure: the `/v1/chat/completions` and `/v1/responses` bodies and
their bytes as sent. No SDK here: planning sizes requests without importing one (issue 13)."""

from __future__ import annotations

from typing import Any

import orjson

from corthex.domain.cache_groups import marked_prefix, prefix_digest
from corthex.domain.capabilities import OpenAIEndpoint, for_request, openai_endpoint, unsent_temperature, unsent_top_p
from corthex.domain.content import Part, PartType, ToolCall, ToolChoice, ToolMode, ToolSpec
from corthex.domain.requests import LLMRequest, Message
from corthex.domain.structured import strict_form
from corthex.domain.wire_bytes import orjson_size
from corthex.providers.base import WireItem

SCHEMA_NAME = "output"  #: the name of the response format (^[a-zA-Z0-9_-]{1,64}$)

# --- requests -------------------------------------------------------------------------------


def chat_body(request: LLMRequest) -> dict[str, Any]:
    """The `/v1/chat/completions` body, for batch lines and realtime calls alike."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": request.system}] if request.system else []
    messages += [chat_message(m) for m in request.messages]
    body: dict[str, Any] = {"model": request.model, "messages": messages}
    # GPT-5 and o-series refuse `max_tokens` (LESSONS W5); every chat model takes this one.
    if request.max_output_tokens is not None:
        body["max_completion_tokens"] = request.max_output_tokens
    _add_temperature(body, request)
    if request.json_schema is not None:
        body["response_format"] = {"type": "json_schema", "json_schema": _schema_format(request.json_schema)}
    if request.tools:
        body["tools"] = [{"type": "function", "function": t.declaration()} for t in request.tools]
    if request.tool_choice is not None:
        body["tool_choice"] = _chat_tool_choice(request.tool_choice)
    if (effort := reasoning_effort(request)) is not None:
        body["reasoning_effort"] = effort
    if (key := prompt_cache_key(request)) is not None:
        body["prompt_cache_key"] = key
    _add_sampling(body, request, chat=True)
    return _merge_options(body, request)


def responses_body(request: LLMRequest) -> dict[str, Any]:
    """The `/v1/responses` body: `instructions` for the system prompt, `input` for the turns,
    `text.format` for a schema (flat: name, schema, strict beside `type`)."""
    body: dict[str, Any] = {
        "model": request.model,
        "input": [item for m in request.messages for item in responses_items(m)],
    }
    if request.system:
        body["instructions"] = request.system
    if request.max_output_tokens is not None:
        body["max_output_tokens"] = request.max_output_tokens
    _add_temperature(body, request)
    if request.json_schema is not None:
        body["text"] = {"format": {"type": "json_schema", **_schema_format(request.json_schema)}}
    if request.tools:
        body["tools"] = [_responses_tool(t) for t in request.tools]
    if request.tool_choice is not None:
        body["tool_choice"] = _responses_tool_choice(request.tool_choice)
    if (effort := reasoning_effort(request)) is not None:
        body["reasoning"] = {"effort": effort}
    if (key := prompt_cache_key(request)) is not None:
        body["prompt_cache_key"] = key
    _add_sampling(body, request, chat=False)
    return _merge_options(body, request)


# --- turns and parts ------------------------------------------------------------------------

#: file names OpenAI's `file` / `input_file` parts carry with base64 data (the name tells the type)
_EXTENSIONS = {"application/pdf": "pdf", "text/plain": "txt"}


def chat_message(message: Message) -> dict[str, Any]:
    """One turn as chat completions take it: parts as `text` / `image_url` / `file` content
    parts; an assistant turn's calls as `tool_calls`; a tool result as a `tool` message."""
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.text}
    if message.role == "assistant":
        turn: dict[str, Any] = {"role": "assistant", "content": message.text or None}
        if message.tool_calls:
            turn["tool_calls"] = [_chat_call(c) for c in message.tool_calls]
        return turn
    if not message.parts:
        return {"role": message.role, "content": message.content}
    return {"role": message.role, "content": [_chat_part(p, i) for i, p in enumerate(message.parts)]}


def _chat_part(part: Part, index: int) -> dict[str, Any]:
    if part.type is PartType.TEXT:
        return {"type": "text", "text": part.text or ""}
    if part.type is PartType.IMAGE:
        return {"type": "image_url", "image_url": {"url": _url_or_data(part)}}
    if part.data is None:  # refused at intake (admission_openai): chat takes no file URL
        raise ValueError("chat completions take a document only as base64 data")
    return {"type": "file", "file": {"filename": _filename(part, index), "file_data": _data_url(part)}}


def _chat_call(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": _arguments(call)}}


def responses_items(message: Message) -> list[dict[str, Any]]:
    """One turn as `/v1/responses` input items: a message (`input_text` / `input_image` /
    `input_file` parts), an assistant's calls as `function_call` items, a tool result as a
    `function_call_output` item."""
    if message.role == "tool":
        output: str | list[dict[str, Any]] = message.content
        if message.parts:
            output = [_responses_part(p, i) for i, p in enumerate(message.parts)]
        return [{"type": "function_call_output", "call_id": message.tool_call_id, "output": output}]
    if message.role == "assistant":
        said = [{"role": "assistant", "content": message.text}] if message.text else []
        calls = [
            {"type": "function_call", "call_id": c.id, "name": c.name, "arguments": _arguments(c)}
            for c in message.tool_calls
        ]
        return said + calls
    if not message.parts:
        return [{"role": message.role, "content": message.content}]
    return [{"role": message.role, "content": [_responses_part(p, i) for i, p in enumerate(message.parts)]}]


def _responses_part(part: Part, index: int) -> dict[str, Any]:
    if part.type is PartType.TEXT:
        return {"type": "input_text", "text": part.text or ""}
    if part.type is PartType.IMAGE:
        # `detail` is a required key of the SDK's ResponseInputImageParam
        return {"type": "input_image", "image_url": _url_or_data(part), "detail": "auto"}
    if part.url is not None:
        return {"type": "input_file", "file_url": part.url}
    return {"type": "input_file", "filename": _filename(part, index), "file_data": _data_url(part)}


def _url_or_data(part: Part) -> str:
    return part.url if part.url is not None else _data_url(part)


def _data_url(part: Part) -> str:
    return f"data:{part.media_type};base64,{part.data}"


def _filename(part: Part, index: int) -> str:
    return f"document-{index + 1}.{_EXTENSIONS.get(part.media_type or '', 'bin')}"


def _arguments(call: ToolCall) -> str:
    """OpenAI carries a call's arguments as a JSON string (orjson: compact, raw UTF-8)."""
    return orjson.dumps(call.arguments).decode()


# --- tools, reasoning, sampling, options -----------------------------------------------------


def _chat_tool_choice(choice: ToolChoice) -> str | dict[str, Any]:
    if choice.mode is ToolMode.TOOL:
        return {"type": "function", "function": {"name": choice.name}}
    return choice.mode.value


def _responses_tool(tool: ToolSpec) -> dict[str, Any]:
    # `strict` is a required (nullable) key here; False keeps the schema as the user wrote it
    # (strict mode would make every property required), the same as chat's default.
    return {"type": "function", **tool.declaration(), "strict": False}


def _responses_tool_choice(choice: ToolChoice) -> str | dict[str, Any]:
    if choice.mode is ToolMode.TOOL:
        return {"type": "function", "name": choice.name}
    return choice.mode.value


#: the effort a `budget_tokens` stands for, when the request gives no effort: OpenAI takes no
#: token budget for thinking, only a level (up to this many tokens → this level)
BUDGET_EFFORTS: tuple[tuple[int, str], ...] = ((0, "minimal"), (4_096, "low"), (16_384, "medium"))


def reasoning_effort(request: LLMRequest) -> str | None:
    """The `reasoning_effort` (chat) / `reasoning.effort` (responses) for the request: its
    effort, or the level its `budget_tokens` stands for (`BUDGET_EFFORTS`; a budget of 0 is the
    model's lowest level: "none" on gpt-5.1 and later, else "minimal")."""
    reasoning = request.reasoning
    if reasoning is None:
        return None
    if reasoning.effort is not None:
        return reasoning.effort.value
    budget = reasoning.budget_tokens or 0
    effort = next((level for most, level in BUDGET_EFFORTS if budget <= most), "high")
    if effort == "minimal" and "none" in for_request(request).efforts:
        return "none"
    return effort


#: a derived `prompt_cache_key`: this prefix + 32 hex digits (the field takes up to 64 characters)
DERIVED_KEY_PREFIX = "corthex-"


def prompt_cache_key(request: LLMRequest) -> str | None:
    """`prompt_cache_key` (chat and responses alike): the request's `cache_key`, else, when a `cache`
    marker is set, one derived from what the markers mark (the tools, the system prompt and the
    parts up to the last marker), so requests sharing that prefix are routed to the same cache.
    OpenAI caches prefixes by itself; the key only keeps them together (docs/wire/requests-openai.md)."""
    if request.cache_key is not None:
        return request.cache_key
    prefix = marked_prefix(request)
    return None if prefix is None else DERIVED_KEY_PREFIX + prefix_digest(prefix)


def _add_sampling(body: dict[str, Any], request: LLMRequest, *, chat: bool) -> None:
    """`top_p` on both endpoints (not to a model that refuses sampling); `stop` and `seed` only on
    chat (`/v1/responses` has neither: such requests are refused at intake, admission_openai)."""
    if request.top_p is not None and not unsent_top_p(request):  # warned at submission, like temperature
        body["top_p"] = request.top_p
    if chat and request.stop:
        body["stop"] = list(request.stop)
    if chat and request.seed is not None:
        body["seed"] = request.seed


def _merge_options(body: dict[str, Any], request: LLMRequest) -> dict[str, Any]:
    """`provider_options["openai"]` merged last, as given: the user's escape hatch for what no
    neutral field covers. It never replaces `model` (the batch file holds one model)."""
    options = request.provider_options.get("openai") or {}
    body.update({key: value for key, value in options.items() if key != "model"})
    return body


def _add_temperature(body: dict[str, Any], request: LLMRequest) -> None:
    # A model that refuses it is not sent it; submission warned the user (capabilities.py).
    if request.temperature is not None and not unsent_temperature(request):
        body["temperature"] = request.temperature


def _schema_format(schema: dict[str, Any]) -> dict[str, Any]:
    form = strict_form(schema)
    return {"name": SCHEMA_NAME, "schema": form.schema, "strict": form.strict}


def embeddings_body(request: LLMRequest) -> dict[str, Any]:
    """The `/v1/embeddings` body: the input as given (one string, or a list), floats back."""
    body: dict[str, Any] = {"model": request.model, "input": request.embed_value}
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    return body


def request_body(request: LLMRequest, endpoint: OpenAIEndpoint) -> dict[str, Any]:
    if request.is_embedding:
        return embeddings_body(request)
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
