"""Gemini's batch input lines, pure: the REST (camelCase) GenerateContentRequest of a file line,
and the bytes each takes in a file or inline. No SDK here (issue 13).

The whole neutral request is carried (docs/wire/requests-gemini.md): content parts as `text`,
`inlineData` or `fileData`; tools as `functionDeclarations` with `parametersJsonSchema`; the
tool choice as `toolConfig.functionCallingConfig`; an assistant turn's calls as `functionCall`
parts and "tool" turns as one user turn of `functionResponse` parts; reasoning as
`generationConfig.thinkingConfig`; top_p/stop/seed; then `provider_options["gemini"]` merged last.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from corthex.domain.admission_gemini import media_type
from corthex.domain.capabilities import capabilities
from corthex.domain.content import Effort, Part, PartType, Reasoning, ToolCall, ToolChoice, ToolMode, ToolSpec
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.wire_bytes import ascii_json_size, orjson_size
from corthex.providers.base import WireItem

_SNAKE = re.compile(r"(?<!^)([A-Z])")
#: objects google-genai sends with snake_case keys, and values it sends as given
_SNAKE_CASED = frozenset({"inlineData", "fileData", "functionDeclarations", "thinkingConfig"})
_OPAQUE = frozenset({"parametersJsonSchema", "responseJsonSchema", "args", "response"})
ROLES = {"user": "user", "assistant": "model", "tool": "user"}
#: neutral tool modes as Gemini's `functionCallingConfig.mode` (one tool: ANY + its name allowed)
TOOL_MODES = {ToolMode.AUTO: "AUTO", ToolMode.NONE: "NONE", ToolMode.REQUIRED: "ANY", ToolMode.TOOL: "ANY"}
LEVELS = ("MINIMAL", "LOW", "MEDIUM", "HIGH")
#: effort as a 2.5 `thinkingBudget` (inside every 2.5 model's range: Pro 128–32,768, Flash
#: 0–24,576, Flash-Lite 512–24,576)
EFFORT_BUDGET = {Effort.MINIMAL: 512, Effort.LOW: 1_024, Effort.MEDIUM: 8_192, Effort.HIGH: 24_576}
#: request fields `provider_options["gemini"]` may not set: the adapter owns them
OWNED_FIELDS = frozenset({"model", "contents"})


def part_json(part: Part) -> dict[str, Any]:
    if part.type is PartType.TEXT:
        return {"text": part.text or ""}
    mime = media_type(part) or "application/octet-stream"  # refused at intake (admission_gemini)
    if part.data is not None:
        return {"inlineData": {"mimeType": mime, "data": part.data}}
    return {"fileData": {"mimeType": mime, "fileUri": part.url or ""}}


def tool_response(text: str) -> dict[str, Any]:
    """A tool's answer as `functionResponse.response`, which must be an object: a JSON object as
    given, anything else under "output" (the key the SDK's `FunctionResponse` docstring names)."""
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {"output": text}


def _turn_parts(message: Message) -> list[dict[str, Any]]:
    parts = [part_json(p) for p in message.parts]
    if not message.parts and (message.content or not message.tool_calls):
        parts.append({"text": message.content})
    # no `id` sent: Gemini's ids are optional and ours may be synthesized (call_0, …); a call's
    # thought signature goes back on its part, as received (Gemini 3 refuses a call without it)
    parts += [_call_part(c) for c in message.tool_calls]
    return parts


def _call_part(call: ToolCall) -> dict[str, Any]:
    part: dict[str, Any] = {"functionCall": {"name": call.name, "args": call.arguments}}
    if call.signature:
        part["thoughtSignature"] = call.signature
    return part


def contents(request: LLMRequest) -> list[dict[str, Any]]:
    """The turns; consecutive "tool" turns go in one user turn (Gemini pairs a model turn's calls
    with the next turn's `functionResponse` parts, in order), each named after the call it answers."""
    names = {c.id: c.name for m in request.messages for c in m.tool_calls}
    turns: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role != "tool":
            turns.append({"role": ROLES[message.role], "parts": _turn_parts(message)})
            continue
        answer = {"name": names.get(message.tool_call_id or "", ""), "response": tool_response(message.text)}
        previous = turns[-1] if turns else None
        if previous is not None and previous["parts"] and "functionResponse" in previous["parts"][-1]:
            previous["parts"].append({"functionResponse": answer})
        else:
            turns.append({"role": "user", "parts": [{"functionResponse": answer}]})
    return turns


def tool_json(tool: ToolSpec) -> dict[str, Any]:
    declared: dict[str, Any] = {"name": tool.name}
    if tool.description:
        declared["description"] = tool.description
    if tool.parameters.get("properties") or set(tool.parameters) - {"type", "properties"}:
        # a no-argument tool goes without parameters (an empty `properties` was refused)
        declared["parametersJsonSchema"] = tool.parameters
    return declared


def tool_config(choice: ToolChoice) -> dict[str, Any]:
    calling: dict[str, Any] = {"mode": TOOL_MODES[choice.mode]}
    if choice.mode is ToolMode.TOOL and choice.name:
        calling["allowedFunctionNames"] = [choice.name]
    return {"functionCallingConfig": calling}


def thinking_config(model: str, reasoning: Reasoning) -> dict[str, Any]:
    """`thinkingLevel` for a model that takes levels (3.x), `thinkingBudget` for one that takes a
    budget (2.5), each derived from the other field when only that one is given; never both
    (Gemini refuses both in one request). An unknown model gets the form the request gave."""
    caps = capabilities(ProviderName.GEMINI, model)
    if caps.thinking_levels or (not caps.thinking_budget and reasoning.budget_tokens is None):
        return {"thinkingLevel": _level(reasoning, caps.thinking_levels or LEVELS)}
    budget = reasoning.budget_tokens
    return {"thinkingBudget": budget if budget is not None else EFFORT_BUDGET[reasoning.effort or Effort.MEDIUM]}


def _level(reasoning: Reasoning, allowed: tuple[str, ...]) -> str:
    """The effort upper-cased, or the budget as a level (≤1,024 LOW, ≤8,192 MEDIUM, else HIGH),
    raised to the lowest level the model takes at or above it (its highest when none is)."""
    if reasoning.effort is not None:
        wanted = reasoning.effort.value.upper()
    else:
        budget = reasoning.budget_tokens or 0
        wanted = "LOW" if budget <= 1_024 else "MEDIUM" if budget <= 8_192 else "HIGH"
    at_least = [level for level in allowed if LEVELS.index(level) >= LEVELS.index(wanted)]
    return at_least[0] if at_least else allowed[-1]


def generation_config(request: LLMRequest) -> dict[str, Any]:
    config = {
        "temperature": request.temperature,
        "topP": request.top_p,
        "maxOutputTokens": request.max_output_tokens,
        "stopSequences": list(request.stop) or None,
        "seed": request.seed,
        "responseMimeType": "application/json" if request.json_schema is not None else None,
        "responseJsonSchema": request.json_schema,
        "thinkingConfig": thinking_config(request.model, request.reasoning) if request.reasoning else None,
    }
    return {k: v for k, v in config.items() if v is not None}


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` over `base`, objects merged key by key (so `{"generationConfig": {"topK": 5}}` adds
    to the generation settings rather than replacing them)."""
    out = dict(base)
    for key, value in extra.items():
        old = out.get(key)
        out[key] = merged(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    return out


def request_json(request: LLMRequest) -> dict[str, Any]:
    """The REST GenerateContentRequest (without `model`: it is in the URL)."""
    body: dict[str, Any] = {"contents": contents(request)}
    if request.system:
        body["systemInstruction"] = {"parts": [{"text": request.system}]}
    if request.tools:
        body["tools"] = [{"functionDeclarations": [tool_json(t) for t in request.tools]}]
    if request.tool_choice is not None:
        body["toolConfig"] = tool_config(request.tool_choice)
    if config := generation_config(request):
        body["generationConfig"] = config
    options = {k: v for k, v in (request.provider_options.get("gemini") or {}).items() if k not in OWNED_FIELDS}
    return merged(body, options)


def to_file_line(item: WireItem) -> dict[str, Any]:
    """A line of the input file: the REST (camelCase) GenerateContentRequest, sent as is."""
    return {"key": item.wire_id, "request": request_json(item.request)}


def embed_key(wire_id: str, index: int, count: int, single: bool) -> str:
    """A text's key: the wire id for a string input, `<wire id>#<i>/<n>` for a list input's i-th
    of n texts, so its rows regroup from the answer alone (providers/gemini_embeddings.py)."""
    return wire_id if single else f"{wire_id}#{index}/{count}"


def embed_file_lines(item: WireItem) -> list[dict[str, Any]]:
    """An embedding request as batch embedding file lines, one per text (one EmbedContentRequest
    embeds one content; several parts would fuse into one vector): `{"key", "request": {"content":
    {"parts": [{"text"}]}, "output_dimensionality"?}}`, as Google's announcement writes them
    (docs/wire/embeddings.md)."""
    request = item.request
    texts = request.embed_input or ()
    lines = []
    for index, text in enumerate(texts):
        body: dict[str, Any] = {"content": {"parts": [{"text": text}]}}
        if request.dimensions is not None:
            body["output_dimensionality"] = request.dimensions
        key = embed_key(item.wire_id, index, len(texts), request.embed_single)
        lines.append({"key": key, "request": body})
    return lines


def wire_size(item: WireItem) -> int:
    """Bytes of the item's line(s) in an input file (orjson, as `write_jsonl` writes it), newlines
    included: what batches are planned on (files take up to 2 GB)."""
    if item.request.is_embedding:
        return sum(orjson_size(line) + 1 for line in embed_file_lines(item))
    return orjson_size(to_file_line(item)) + 1


def inline_size(item: WireItem) -> int:
    """Bytes of the item's entry in an inline create body, as google-genai writes it: `json.dumps`
    with its defaults (`_api_client.py`), so each non-ASCII character costs 6 bytes; the SDK's entry
    (`batches._InlinedRequest_to_mldev`) holds the file line's request, and `generationConfig`
    always, empty or not (`to_wire` always passes a config). Parts' base64 data goes back out at
    the same length (the SDK re-encodes the decoded bytes, URL-safe alphabet, padded)."""
    line = to_file_line(item)
    request = {"generationConfig": {}, **line["request"]}  # key order leaves the size unchanged
    request = _sdk_spelling(request)
    return ascii_json_size({"request": request, "metadata": {"key": line["key"]}}) + len(", ")


def _snake_keys(value: dict[str, Any]) -> dict[str, Any]:
    return {_SNAKE.sub(r"_\1", k).lower(): v for k, v in value.items()}


def _sdk_spelling(value: Any, key: str = "") -> Any:
    """The request as google-genai writes it: the objects it passes through from its pydantic
    types keep their snake_case keys (`inlineData.mime_type`, `fileData.file_uri`, a function
    declaration's `parameters_json_schema`, `thinkingConfig.thinking_budget`); the API takes both
    spellings. A schema's own keys are left alone."""
    if isinstance(value, list):
        return [_sdk_spelling(v, key) for v in value]
    if not isinstance(value, dict) or key in _OPAQUE:
        return value
    out = {k: _sdk_spelling(v, k) for k, v in value.items()}
    return _snake_keys(out) if key in _SNAKE_CASED else out


def inline_bytes(items: Sequence[WireItem], max_bytes: int) -> int | None:
    """The inline entries' bytes, or None once they reach `max_bytes` (counting stops there)."""
    total = 0
    for item in items:
        total += inline_size(item)
        if total >= max_bytes:
            return None
    return total
