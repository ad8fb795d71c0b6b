"""Anthropic's batch request rows, pure: the Messages API parameters, the rows of a create body
with the batch key on the first custom_id, and their bytes as sent. No SDK here (issue 13)."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from corthex.domain.capabilities import capabilities, family_name, for_request
from corthex.domain.content import Effort, Part, PartType, ToolChoice, ToolMode, ToolSpec
from corthex.domain.registry import WireFamily
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.wire_bytes import orjson_size
from corthex.providers.base import WireItem
from corthex.providers.wire.native import native_line

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
    """Messages API parameters, for batch rows and realtime calls alike (the mapping table:
    docs/wire/requests-anthropic.md).

    `request.temperature` is not sent: SDK 2.16.0's Messages API has no sampling parameters, and
    `messages.create` refuses unknown keywords (`top_p` and `seed` are refused at intake:
    domain/admission_anthropic.py). `provider_options["anthropic"]` goes in last, over what the
    mapping wrote, except `model`.
    """
    thinking = _thinking(request)
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": _max_tokens(request, thinking, realtime=realtime),
        "messages": messages(request.messages),
    }
    if request.system:
        body["system"] = _system(request)
    output_config = _output_config(request)
    if output_config:
        body["output_config"] = output_config
    if request.tools:
        body["tools"] = [tool(t) for t in request.tools]
    if request.tool_choice is not None:
        body["tool_choice"] = tool_choice(request.tool_choice)
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if thinking is not None:
        body["thinking"] = thinking
    options = {k: v for k, v in (request.provider_options.get("anthropic") or {}).items() if k != "model"}
    return body | options


# --- reasoning --------------------------------------------------------------------------------

#: Thinking budgets for an `effort` on a model that takes no `output_config.effort` (our choice, the
#: scale LiteLLM uses stretched upwards; 1,024 is the API's least budget, thinking_config_enabled_param.py).
EFFORT_BUDGET = {Effort.MINIMAL: 1_024, Effort.LOW: 2_048, Effort.MEDIUM: 8_192, Effort.HIGH: 16_384}
#: Anthropic has no `minimal` effort (output_config_param.py: low, medium, high, xhigh, max).
_EFFORT_WORD = {Effort.MINIMAL: "low", Effort.LOW: "low", Effort.MEDIUM: "medium", Effort.HIGH: "high"}
#: What the answer itself may spend beyond the thinking budget, when the request sets no max_tokens.
ANSWER_ROOM = 4_096


def _thinking(request: LLMRequest) -> dict[str, Any] | None:
    """`budget_tokens` → manual thinking with that budget; `effort` alone → adaptive thinking
    (its level in `output_config.effort`) on the models that take it, else a budget for it."""
    reasoning = request.reasoning
    if reasoning is None:
        return None
    if reasoning.budget_tokens is not None:
        return {"type": "enabled", "budget_tokens": reasoning.budget_tokens}
    if reasoning.effort is None:
        return None
    if for_request(request).adaptive_thinking:
        return {"type": "adaptive"}
    return {"type": "enabled", "budget_tokens": EFFORT_BUDGET[reasoning.effort]}


def _max_tokens(request: LLMRequest, thinking: dict[str, Any] | None, *, realtime: bool) -> int:
    """The request's cap, or the model's default; with a thinking budget and no cap, room for the
    answer beyond the budget (max_tokens must exceed it: a larger budget is refused at intake)."""
    if request.max_output_tokens:
        return request.max_output_tokens
    default = default_max_tokens(request.model, realtime=realtime)
    budget = (thinking or {}).get("budget_tokens")
    return max(default, budget + ANSWER_ROOM) if isinstance(budget, int) else default


def _output_config(request: LLMRequest) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if request.json_schema is not None:
        # SDK 2.16.0's structured output: `output_config.format` (types/output_config_param.py).
        config["format"] = {"type": "json_schema", "schema": request.json_schema}
    effort = request.reasoning.effort if request.reasoning else None
    if effort is not None and for_request(request).adaptive_thinking:
        config["effort"] = _EFFORT_WORD[effort]
    return config


# --- tools ------------------------------------------------------------------------------------


def tool(spec: ToolSpec) -> dict[str, Any]:
    """A tool definition (tool_param.py); `cache` → `cache_control` on it, which caches every tool
    up to this one (tools come first in the prefix: tools, system, messages)."""
    described = {"description": spec.description} if spec.description else {}
    out = {"name": spec.name, **described, "input_schema": spec.parameters}
    return out | {"cache_control": CACHE_CONTROL} if spec.cache else out


def tool_choice(choice: ToolChoice) -> dict[str, Any]:
    """auto → auto, none → none, required → any, one tool → tool + name (tool_choice_*_param.py)."""
    if choice.mode is ToolMode.TOOL:
        return {"type": "tool", "name": choice.name}
    return {"type": "any" if choice.mode is ToolMode.REQUIRED else choice.mode.value}


# --- messages ---------------------------------------------------------------------------------


def messages(turns: Sequence[Message]) -> list[dict[str, Any]]:
    """The turns as Messages API messages: a "tool" turn becomes a user turn of `tool_result`
    blocks, consecutive ones merged into one (every result of an assistant turn's calls must be in
    the one user turn that follows it)."""
    out: list[dict[str, Any]] = []
    for turn in turns:
        wire = _turn(turn)
        if turn.role == "tool" and out and _holds_tool_results(out[-1]):
            out[-1]["content"].extend(wire["content"])
        else:
            out.append(wire)
    return out


def _holds_tool_results(message: dict[str, Any]) -> bool:
    content = message["content"]
    return isinstance(content, list) and bool(content) and content[-1].get("type") == "tool_result"


def _turn(turn: Message) -> dict[str, Any]:
    if turn.role == "tool":
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": turn.tool_call_id}
        said = _content(turn)
        if said:
            result["content"] = said
        return {"role": "user", "content": [result]}
    if turn.tool_calls:
        said = _content(turn)
        blocks = said if isinstance(said, list) else ([{"type": "text", "text": said}] if said else [])
        calls = [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in turn.tool_calls]
        return {"role": turn.role, "content": blocks + calls}
    return {"role": turn.role, "content": _content(turn)}


def _content(turn: Message) -> str | list[dict[str, Any]]:
    return [block(p) for p in turn.parts] if turn.parts else turn.content


def block(part: Part) -> dict[str, Any]:
    """One part as a content block (text_block_param.py, image_block_param.py, document_block_param.py)."""
    out: dict[str, Any]
    if part.type is PartType.TEXT:
        out = {"type": "text", "text": part.text or ""}
    else:
        out = {"type": part.type.value, "source": _source(part)}
    if part.cache:
        out["cache_control"] = CACHE_CONTROL
    return out


def _source(part: Part) -> dict[str, Any]:
    if part.url is not None:  # an image, or a PDF (url_pdf_source_param.py: PDFs only)
        return {"type": "url", "url": part.url}
    if part.media_type == "text/plain":  # plain_text_source_param.py: the text itself, not base64
        text = base64.b64decode(part.data or "").decode("utf-8", errors="replace")
        return {"type": "text", "media_type": "text/plain", "data": text}
    return {"type": "base64", "media_type": part.media_type, "data": part.data}


#: A batch runs for minutes to hours: the 1-hour cache lets its requests hit the entries its first
#: requests wrote (the 5-minute default would mostly expire between them; docs/wire/costs.md).
#: 1-hour writes are priced higher (2x base input, vs 1.25x): see `usage_from`.
CACHE_CONTROL = {"type": "ephemeral", "ttl": "1h"}


def _system(request: LLMRequest) -> str | list[dict[str, Any]]:
    if not request.cache_system:
        return request.system or ""
    return [{"type": "text", "text": request.system, "cache_control": CACHE_CONTROL}]


def to_wire(item: WireItem) -> dict[str, Any]:
    if item.request.native is not None:  # a native line: its params as the user wrote them
        return native_line(WireFamily.ANTHROPIC, item)
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
