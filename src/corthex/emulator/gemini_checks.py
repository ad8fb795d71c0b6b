"""What Gemini checks in a GenerateContentRequest beyond its contents being there (issue 14):
parts, function declarations, the function-calling config and the thinking config; and which
tool the emulated model calls. A problem becomes a per-request error row (400 INVALID_ARGUMENT).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from corthex.domain.admission_gemini import needs_thought_signatures
from corthex.domain.capabilities import capabilities
from corthex.domain.requests import ProviderName
from corthex.emulator.answers import last_user_text

_PREFIX = "* GenerateContentRequest"
_DATA_FIELDS = ("text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode")
_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$")
_MODES = {"MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"}
_LEVELS = {"MINIMAL", "LOW", "MEDIUM", "HIGH", "XHIGH"}
_MEDIA = re.compile(r"^(image/(png|jpeg|webp|heic|heif)|application/pdf|text/\w+|audio/\S+|video/\S+)$")


def _get(data: Any, camel: str) -> Any:
    if not isinstance(data, dict):
        return None
    snake = re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()
    return data.get(camel, data.get(snake))


def request_problem(model: str, request: dict[str, Any]) -> str | None:
    """The first thing Gemini would refuse in `request`, as its error message; None when none."""
    for index, content in enumerate(request.get("contents") or []):
        if (found := _content_problem(content, f"contents[{index}]")) is not None:
            return found
    found = _tools_problem(request) or _thinking_problem(model, _get(request, "generationConfig") or {})
    return found or _signature_problem(model, request.get("contents") or [])


def _signature_problem(model: str, contents: list[Any]) -> str | None:
    """Gemini 3: the first functionCall part of each model step in the current turn (after the
    last user content that is not only function responses) must carry its thoughtSignature."""
    if not needs_thought_signatures(model):
        return None
    starts = [i for i, c in enumerate(contents) if _get(c, "role") in (None, "user") and _standard(c)]
    for index in range(starts[-1] + 1 if starts else 0, len(contents)):
        calls = [p for p in _get(contents[index], "parts") or [] if _get(p, "functionCall") is not None]
        if calls and not _get(calls[0], "thoughtSignature"):
            name = _get(_get(calls[0], "functionCall"), "name")
            return (
                "Function call is missing a thought_signature in functionCall parts. This is required for "
                "tools to work correctly, and missing thought_signature may lead to degraded model performance. "
                f"Additional data, function call `default_api:{name}`, position {index + 1}. Please refer to "
                "https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
            )
    return None


def _standard(content: Any) -> bool:
    return any(_get(p, "functionResponse") is None for p in _get(content, "parts") or [])


def _content_problem(content: Any, where: str) -> str | None:
    parts = _get(content, "parts")
    if not isinstance(parts, list) or not parts:
        return f"{_PREFIX}.{where}.parts: contents.parts must not be empty."
    if _get(content, "role") not in (None, "user", "model"):
        return f"{_PREFIX}.{where}.role: Please use a valid role: user, model."
    for index, part in enumerate(parts):
        if (found := _part_problem(part, f"{where}.parts[{index}]")) is not None:
            return found
    return None


def _part_problem(part: Any, where: str) -> str | None:
    present = [f for f in _DATA_FIELDS if _get(part, f) is not None]
    if len(present) != 1:
        return f"{_PREFIX}.{where}.data: required oneof field 'data' must have one initialized field"
    field = present[0]
    value = _get(part, field)
    if field in ("inlineData", "fileData"):
        return _media_problem(field, value, f"{where}.{_snake(field)}")
    if field in ("functionCall", "functionResponse") and not _get(value, "name"):
        return f"{_PREFIX}.{where}.{_snake(field)}.name: Name cannot be empty."
    if field == "functionResponse" and not isinstance(_get(value, "response"), dict):
        return f"{_PREFIX}.{where}.function_response.response: must be a JSON object."
    return None


def _media_problem(field: str, value: Any, where: str) -> str | None:
    mime = _get(value, "mimeType")
    if not isinstance(mime, str) or not mime:
        return f"{_PREFIX}.{where}.mime_type: a mime type is required."
    if not _MEDIA.match(mime):
        return f"Unsupported MIME type: {mime}"
    if field == "fileData":
        return None if _get(value, "fileUri") else f"{_PREFIX}.{where}.file_uri: a file URI is required."
    data = _get(value, "data")
    try:
        base64.b64decode(_padded(str(data or "")), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return f"Invalid value at '{where}.data' (TYPE_BYTES), Base64 decoding failed"
    return None if data else f"{_PREFIX}.{where}.data: inline data is required."


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()


def declarations(request: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for tool in request.get("tools") or []:
        found += [d for d in _get(tool, "functionDeclarations") or [] if isinstance(d, dict)]
    return found


def _tools_problem(request: dict[str, Any]) -> str | None:
    names = []
    for index, declared in enumerate(declarations(request)):
        where = f"{_PREFIX}.tools[0].function_declarations[{index}]"
        name = declared.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            return f"{where}.name: Invalid function name. Must start with a letter or an underscore."
        if _get(declared, "parametersJsonSchema") is not None and declared.get("parameters") is not None:
            return f"{where}.parameters: parameters and parameters_json_schema are mutually exclusive."
        names.append(name)
    calling = _get(_get(request, "toolConfig") or {}, "functionCallingConfig") or {}
    mode = str(_get(calling, "mode") or "AUTO").upper()
    if mode not in _MODES:
        return f"{_PREFIX}.tool_config.function_calling_config.mode: invalid value {mode!r}."
    allowed = _get(calling, "allowedFunctionNames") or []
    if allowed and mode != "ANY":
        return f"{_PREFIX}.tool_config.function_calling_config: allowed_function_names is only taken with mode ANY."
    unknown = [n for n in allowed if n not in names]
    if unknown:
        return f"{_PREFIX}.tool_config.function_calling_config.allowed_function_names: unknown function {unknown[0]!r}."
    return None


def _thinking_problem(model: str, config: Any) -> str | None:
    thinking = _get(config, "thinkingConfig")
    if not isinstance(thinking, dict):
        return None
    level, budget = _get(thinking, "thinkingLevel"), _get(thinking, "thinkingBudget")
    if level is not None and budget is not None:
        return "You cannot use both thinking_level and thinking_budget in the same request."
    caps = capabilities(ProviderName.GEMINI, model)
    if level is not None and (str(level).upper() not in _LEVELS or (caps.known and not caps.thinking_levels)):
        return f"Thinking level {level} is not supported for this model."
    if budget is not None and caps.known and caps.thinking_budget is None and not caps.thinking_levels:
        return "Thinking is not supported for this model."
    if isinstance(budget, int) and caps.thinking_budget is not None and budget not in (0, -1):
        low, high = caps.thinking_budget
        if not low <= budget <= high:
            return f"The thinking budget {budget} is invalid. Please choose a value between {low} and {high}."
    return None


def called_tool(request: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """(name, parameters schema) of the function the emulated model calls, or (None, None) for a
    text answer: with tools and mode ANY, always (the first allowed function); with AUTO (the
    default), when the last user text names a tool; never right after a function's answer."""
    declared = declarations(request)
    contents = request.get("contents") or []
    calling = _get(_get(request, "toolConfig") or {}, "functionCallingConfig") or {}
    mode = str(_get(calling, "mode") or "AUTO").upper()
    if not declared or mode in ("NONE", "MODE_UNSPECIFIED") or _answered_by_tool(contents):
        return None, None
    if mode == "ANY":
        allowed = _get(calling, "allowedFunctionNames") or []
        chosen = next((d for d in declared if not allowed or d.get("name") in allowed), declared[0])
    else:
        prompt = last_user_text(contents, content_key="parts")
        chosen = next((d for d in declared if str(d.get("name")) in prompt), {})
        if not chosen:
            return None, None
    schema = _get(chosen, "parametersJsonSchema") or chosen.get("parameters")
    return chosen.get("name"), schema if isinstance(schema, dict) else None


def _answered_by_tool(contents: list[Any]) -> bool:
    last = contents[-1] if contents else None
    parts = _get(last, "parts") or []
    return any(_get(p, "functionResponse") is not None for p in parts if isinstance(p, dict))


def _padded(data: str) -> str:
    """Base64 with its padding (a line may leave it out; the decoder wants it)."""
    return data + "=" * (-len(data) % 4)
