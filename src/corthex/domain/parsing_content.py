"""Validation of what a request line carries beyond text (issue 14): content parts, tools,
tool choice, reasoning, the common sampling settings and the per-provider escape hatch.

Pure, like `parsing`: each function takes the decoded JSON value and returns domain values, or
raises `Bad` naming the field as the line wrote it (`messages[1].content[0].data`). What one
provider cannot take is refused in `admission`, not here.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from corthex.domain.content import Effort, Part, PartType, Reasoning, ToolCall, ToolChoice, ToolMode, ToolSpec
from corthex.domain.registry import provider_names
from corthex.domain.storable import nul_refusal


class Bad(Exception):
    def __init__(self, reason: str, field: str | None = None) -> None:
        self.reason, self.field = reason, field


#: media types a part may declare, by part type (what at least one provider takes; `admission`
#: refuses what the request's provider does not)
MEDIA_TYPES = {
    PartType.IMAGE: frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}),
    PartType.DOCUMENT: frozenset({"application/pdf", "text/plain"}),
}
#: a tool's name, as all three providers accept it (OpenAI's rule, the strictest)
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_URL = re.compile(r"^(https?|gs)://\S+$")


def content(value: Any, where: str, *, may_be_empty: bool = False) -> tuple[str, tuple[Part, ...]]:
    """A message's `content`: a string, or a list of parts. Returns (text, parts)."""
    if isinstance(value, str):
        if not value and not may_be_empty:
            raise Bad("'content' must be a non-empty string or a list of parts", where)
        _no_nul(value, where)
        return value, ()
    if value is None and may_be_empty:
        return "", ()
    if not isinstance(value, list) or not value:
        raise Bad("'content' must be a non-empty string or a list of parts", where)
    return "", tuple(part(item, f"{where}[{i}]") for i, item in enumerate(value))


def part(value: Any, where: str) -> Part:
    if not isinstance(value, dict):
        raise Bad("a part must be an object with a 'type'", where)
    unknown = sorted(set(value) - {"type", "text", "url", "data", "media_type", "cache"})
    if unknown:
        raise Bad(f"unknown field {unknown[0]!r} in a part", f"{where}.{unknown[0]}")
    try:
        kind = PartType(str(value.get("type")))
    except ValueError:
        raise Bad("'type' must be 'text', 'image' or 'document'", f"{where}.type") from None
    cache = value.get("cache", False)
    if not isinstance(cache, bool):
        raise Bad("'cache' must be true or false", f"{where}.cache")
    if kind is PartType.TEXT:
        text = value.get("text")
        if not isinstance(text, str) or not text:
            raise Bad("a text part needs a non-empty 'text'", f"{where}.text")
        _no_nul(text, f"{where}.text")
        return Part(kind, text=text, cache=cache)
    return _media_part(kind, value, where, cache)


def _media_part(kind: PartType, value: dict[str, Any], where: str, cache: bool) -> Part:
    url, data, media_type = value.get("url"), value.get("data"), value.get("media_type")
    if (url is None) == (data is None):
        raise Bad(f"an {kind} part needs exactly one of 'url' or 'data' (base64)", where)
    if media_type is not None and media_type not in MEDIA_TYPES[kind]:
        allowed = ", ".join(sorted(MEDIA_TYPES[kind]))
        raise Bad(f"media_type {media_type!r} is not one of {allowed}", f"{where}.media_type")
    if url is not None:
        if not isinstance(url, str) or not _URL.match(url):
            raise Bad("'url' must be an http(s):// or gs:// address", f"{where}.url")
        return Part(kind, url=url, media_type=media_type, cache=cache)
    if media_type is None:
        raise Bad("base64 'data' needs its 'media_type' (e.g. image/png, application/pdf)", f"{where}.media_type")
    if not isinstance(data, str) or not data or not _is_base64(data):
        raise Bad("'data' must be base64 (standard alphabet, no data: prefix)", f"{where}.data")
    return Part(kind, data=data, media_type=media_type, cache=cache)


def _is_base64(data: str) -> bool:
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def tool_calls(value: Any, where: str) -> tuple[ToolCall, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise Bad("'tool_calls' must be a non-empty list", where)
    return tuple(_tool_call(item, f"{where}[{i}]") for i, item in enumerate(value))


def _tool_call(value: Any, where: str) -> ToolCall:
    if not isinstance(value, dict):
        raise Bad("a tool call must be an object with 'id', 'name' and 'arguments'", where)
    call_id, name, arguments = value.get("id"), value.get("name"), value.get("arguments", {})
    signature = value.get("signature")
    if not isinstance(call_id, str) or not call_id:
        raise Bad("a tool call needs a non-empty 'id'", f"{where}.id")
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        raise Bad("a tool call needs the tool's 'name'", f"{where}.name")
    if not isinstance(arguments, dict):
        raise Bad("'arguments' must be an object", f"{where}.arguments")
    if signature is not None and (not isinstance(signature, str) or not signature):
        raise Bad("'signature' must be the non-empty string a result gave", f"{where}.signature")
    return ToolCall(call_id, name, arguments, signature)


def tools(value: Any) -> tuple[ToolSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise Bad("'tools' must be a non-empty list", "tools")
    specs = tuple(_tool(item, f"tools[{i}]") for i, item in enumerate(value))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise Bad(f"two tools are named {twice!r}", "tools")
    return specs


def _tool(value: Any, where: str) -> ToolSpec:
    if not isinstance(value, dict):
        raise Bad("a tool must be an object with 'name' and 'parameters'", where)
    unknown = sorted(set(value) - {"name", "description", "parameters", "cache"})
    if unknown:
        raise Bad(f"unknown field {unknown[0]!r} in a tool", f"{where}.{unknown[0]}")
    cache = value.get("cache", False)
    if not isinstance(cache, bool):
        raise Bad("'cache' must be true or false", f"{where}.cache")
    name, description = value.get("name"), value.get("description")
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        raise Bad("a tool's 'name' must be 1 to 64 letters, digits, '_' or '-'", f"{where}.name")
    if description is not None and not isinstance(description, str):
        raise Bad("'description' must be a string", f"{where}.description")
    parameters = value.get("parameters", {"type": "object", "properties": {}})
    if not isinstance(parameters, dict) or parameters.get("type") != "object":
        raise Bad("'parameters' must be a JSON schema of type 'object'", f"{where}.parameters")
    return ToolSpec(name, description, parameters, cache)


def tool_choice(value: Any, specs: tuple[ToolSpec, ...]) -> ToolChoice | None:
    if value is None:
        return None
    try:
        choice = ToolChoice.from_json(value) if isinstance(value, str | dict) else None
    except (ValueError, KeyError):
        choice = None
    if choice is None or (isinstance(value, dict) and set(value) != {"name"}):
        raise Bad("'tool_choice' must be 'auto', 'none', 'required' or {\"name\": TOOL}", "tool_choice")
    if choice.mode is not ToolMode.NONE and not specs:
        raise Bad("'tool_choice' needs 'tools'", "tool_choice")
    if choice.mode is ToolMode.TOOL and choice.name not in {s.name for s in specs}:
        raise Bad(f"'tool_choice' names {choice.name!r}, which is not in 'tools'", "tool_choice")
    return choice


def reasoning(value: Any) -> Reasoning | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not value or set(value) - {"effort", "budget_tokens"}:
        raise Bad("'reasoning' must be an object with 'effort' and/or 'budget_tokens'", "reasoning")
    effort, budget = value.get("effort"), value.get("budget_tokens")
    if effort is not None and effort not in {e.value for e in Effort}:
        raise Bad("'effort' must be 'minimal', 'low', 'medium' or 'high'", "reasoning.effort")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 0):
        raise Bad("'budget_tokens' must be a non-negative integer", "reasoning.budget_tokens")
    return Reasoning(Effort(effort) if effort else None, budget)


#: OpenAI's `prompt_cache_key` (CreateChatCompletionRequest, CreateResponse: maxLength 64)
CACHE_KEY_MAX = 64


def cache_key(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > CACHE_KEY_MAX:
        raise Bad(f"'cache_key' must be a string of 1 to {CACHE_KEY_MAX} characters", "cache_key")
    return value


def top_p(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise Bad("'top_p' must be a number from 0 to 1", "top_p")
    return float(value)


def stop(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    sequences = [value] if isinstance(value, str) else value
    if not isinstance(sequences, list) or not sequences or not all(isinstance(s, str) and s for s in sequences):
        raise Bad("'stop' must be a non-empty string or a list of them", "stop")
    return tuple(sequences)


def seed(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
        raise Bad("'seed' must be an integer", "seed")
    return value


def provider_options(value: Any) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    names = {p.value for p in provider_names()}
    if not isinstance(value, dict):
        raise Bad("'provider_options' must be an object keyed by provider", "provider_options")
    for key, options in value.items():
        if key not in names:
            raise Bad(f"unknown provider {key!r} (one of {', '.join(sorted(names))})", f"provider_options.{key}")
        if not isinstance(options, dict):
            raise Bad("must be an object of body fields", f"provider_options.{key}")
    return value


def _no_nul(text: str, where: str) -> None:
    if refusal := nul_refusal("'content'", text):
        raise Bad(refusal, where)
