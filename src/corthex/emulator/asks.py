"""Each provider's request body reduced to an `Ask`, and its per-request validation.

Validation here is what the real services check per request (the batch then holds an error row
for that request, the rest of the batch still runs). A problem is a `RowProblem`; each provider
module renders it in its own row-error shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from corthex.domain.capabilities import OpenAIEndpoint, capabilities
from corthex.domain.requests import ProviderName
from corthex.emulator import anthropic_cache, anthropic_checks, gemini_checks
from corthex.emulator.answers import (
    ERROR_HOOK,
    Ask,
    all_words,
    last_user_text,
    prefix_key,
    text_of,
)

REASONING_MODEL = re.compile(r"^(o\d|gpt-5)")
_GEMINI_THINKING = re.compile(r"^(models/)?gemini-(2\.5|3)")
JSON_OBJECT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
}
HOOK_MESSAGE = "Emulated failure requested by [[emulator:error]] in the prompt."
OPENAI_URLS = ("/v1/chat/completions", "/v1/responses")


@dataclass(frozen=True)
class RowProblem:
    message: str
    param: str | None = None
    code: str | None = None
    status: int = 400
    server: bool = False  # a server-side failure (500) rather than a bad request


SERVER_PROBLEM = RowProblem(
    "The server had an error while processing your request. Sorry about that! (emulated)",
    status=500,
    server=True,
)


def pick(data: Any, camel: str, default: Any = None) -> Any:
    """`data[camel]`, or its snake_case spelling: the Gemini SDK and users mix both."""
    if not isinstance(data, dict):
        return default
    if camel in data:
        return data[camel]
    snake = re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()
    return data.get(snake, default)


# --- OpenAI ------------------------------------------------------------------------------


def openai_problem(url: str, body: Any) -> RowProblem | None:
    if not isinstance(body, dict):
        return RowProblem("'body' must be a JSON object.", "body", "invalid_type")
    if url not in OPENAI_URLS:
        return RowProblem(f"The emulator does not implement the endpoint '{url}'.", None, None)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return RowProblem("You must provide a model parameter.", "model", None)
    problem = _openai_model_problem(url, model, body)
    if problem is None and url == "/v1/chat/completions":
        problem = _openai_chat_problem(body)
    if problem is not None:
        return problem
    ask = openai_ask(url, body)
    if ERROR_HOOK in ask.prompt:
        return RowProblem(HOOK_MESSAGE, None, "emulated_error")
    return None


#: What the real API answers a Responses-only model (o1-pro, o3-pro) on chat completions
#: (docs/wire/openai-endpoints.md): 404, param "model".
NOT_A_CHAT_MODEL = (
    "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
    "Did you mean to use v1/completions?"
)


def _openai_model_problem(url: str, model: str, body: dict[str, Any]) -> RowProblem | None:
    """The model's own refusals: the wrong endpoint, a temperature it does not take."""
    caps = capabilities(ProviderName.OPENAI, model)
    if url == OpenAIEndpoint.CHAT.value and caps.endpoint is OpenAIEndpoint.RESPONSES:
        return RowProblem(NOT_A_CHAT_MODEL, "model", None, status=404)
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1 and not caps.accepts_temperature:
        return RowProblem(
            f"Unsupported value: 'temperature' does not support {temperature} with this model. "
            "Only the default (1) value is supported.",
            "temperature",
            "unsupported_value",
        )
    return None


def _openai_chat_problem(body: dict[str, Any]) -> RowProblem | None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return RowProblem("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    if "max_tokens" in body and REASONING_MODEL.match(str(body.get("model"))):
        return RowProblem(
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        )
    return None


def openai_ask(url: str, body: dict[str, Any]) -> Ask:
    if url == "/v1/responses":
        return _responses_ask(body)
    messages = body.get("messages") or []
    system = [
        text_of(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") in ("system", "developer")
    ]
    every = [text_of(m.get("content")) for m in messages if isinstance(m, dict)]
    tool_name, tool_schema = _openai_forced_tool(body)
    return Ask(
        model=str(body.get("model", "")),
        prompt=last_user_text(messages),
        input_text_words=all_words(*every),
        max_tokens=_int_or_none(body.get("max_completion_tokens", body.get("max_tokens"))),
        schema=_openai_schema(body.get("response_format")),
        tool_name=tool_name,
        tool_schema=tool_schema,
        cached_words=all_words(*system),
        cache_key=openai_cache_key(body, *system),
        thinks=openai_thinks(body.get("model"), body.get("reasoning_effort")),
    )


def openai_cache_key(body: dict[str, Any], *prefix: str) -> str | None:
    """The cached prefix's identity: its text, and the `prompt_cache_key` it was sent with (OpenAI
    routes requests by prefix hash and key together, so the same prefix under another key lands on
    another machine: a miss). Deterministic: the same key and prefix always hit after the first."""
    key = prefix_key(*prefix)
    routed = body.get("prompt_cache_key")
    return prefix_key(routed, key) if key is not None and isinstance(routed, str) and routed else key


def openai_thinks(model: Any, effort: Any) -> bool:
    """OpenAI's reasoning models (gpt-5*, o1/o3/o4*) always reason, unless told `none`."""
    name = str(model or "")
    return bool(REASONING_MODEL.match(name)) and "-chat" not in name and effort != "none"


def _responses_ask(body: dict[str, Any]) -> Ask:
    items = body.get("input")
    instructions = body.get("instructions")
    instructions = instructions if isinstance(instructions, str) else ""
    every = (
        [text_of(i.get("content")) for i in items if isinstance(i, dict)]
        if isinstance(items, list)
        else [text_of(items)]
    )
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    schema = None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = fmt.get("schema") or {}
    elif isinstance(fmt, dict) and fmt.get("type") == "json_object":
        schema = JSON_OBJECT_SCHEMA
    return Ask(
        model=str(body.get("model", "")),
        prompt=last_user_text(items),
        input_text_words=all_words(instructions, *every),
        max_tokens=_int_or_none(body.get("max_output_tokens")),
        schema=schema,
        cached_words=all_words(instructions),
        cache_key=openai_cache_key(body, instructions),
        thinks=openai_thinks(body.get("model"), (body.get("reasoning") or {}).get("effort")),
    )


def _openai_schema(fmt: Any) -> dict[str, Any] | None:
    if not isinstance(fmt, dict):
        return None
    if fmt.get("type") == "json_schema":
        return (fmt.get("json_schema") or {}).get("schema") or {"type": "object"}
    if fmt.get("type") == "json_object":
        return JSON_OBJECT_SCHEMA
    return None


def _openai_forced_tool(body: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    functions = [t.get("function") for t in body.get("tools") or [] if isinstance(t, dict)]
    tools = [t for t in functions if isinstance(t, dict) and t.get("name")]
    choice = body.get("tool_choice")
    if not tools or choice in (None, "auto", "none"):
        return None, None
    if choice == "required":
        return tools[0]["name"], tools[0].get("parameters")
    name = ((choice or {}).get("function") or {}).get("name") if isinstance(choice, dict) else None
    return _named_tool(tools, name, "parameters")


# --- Anthropic ---------------------------------------------------------------------------


def anthropic_problem(params: Any) -> RowProblem | None:
    if not isinstance(params, dict):
        return RowProblem("params: Input should be a valid dictionary")
    if not isinstance(params.get("model"), str) or not params["model"]:
        return RowProblem("model: Field required")
    max_tokens = params.get("max_tokens")
    if max_tokens is None:
        return RowProblem("max_tokens: Field required")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        return RowProblem("max_tokens: Input should be greater than or equal to 1")
    messages = params.get("messages")
    if not isinstance(messages, list) or not messages:
        return RowProblem(
            "messages: Field required"
            if messages is None
            else "messages: List should have at least 1 item after validation, not 0"
        )
    if params.get("stream"):
        return RowProblem("stream: Streaming is not supported for requests in a message batch")
    found = anthropic_checks.problem(params)
    if found is not None:
        return RowProblem(found)
    if ERROR_HOOK in last_user_text(messages):
        return RowProblem(HOOK_MESSAGE)
    return None


def anthropic_ask(params: dict[str, Any]) -> Ask:
    messages = params.get("messages") or []
    system = params.get("system")
    every = [text_of(m.get("content")) for m in messages if isinstance(m, dict)]
    tool_name, tool_schema = anthropic_checks.chosen_tool(params)
    cached_words, cache_key, _ = anthropic_cache.cached_prefix(params)
    return Ask(
        model=str(params.get("model", "")),
        prompt=last_user_text(messages),
        input_text_words=all_words(text_of(system), *every),
        max_tokens=_int_or_none(params.get("max_tokens")),
        schema=_anthropic_schema(params),
        tool_name=tool_name,
        tool_schema=tool_schema,
        cached_words=cached_words,
        cache_key=cache_key,
        thinks=anthropic_thinks(params),
    )


def anthropic_thinks(params: dict[str, Any]) -> bool:
    """Claude thinks when the request turns thinking on (`enabled` or `adaptive`)."""
    thinking = params.get("thinking")
    return isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")


def _anthropic_schema(params: dict[str, Any]) -> dict[str, Any] | None:
    for fmt in (params.get("output_format"), (params.get("output_config") or {}).get("format")):
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            return fmt.get("schema") or {"type": "object"}
    return None


# --- Gemini ------------------------------------------------------------------------------


def gemini_problem(request: Any, model: str = "") -> RowProblem | None:
    if not isinstance(request, dict):
        return RowProblem("Invalid JSON payload: 'request' must be an object.")
    contents = request.get("contents")
    if not isinstance(contents, list) or not contents:
        return RowProblem("* GenerateContentRequest.contents: contents is not specified")
    if (found := gemini_checks.request_problem(model.removeprefix("models/"), request)) is not None:
        return RowProblem(found)
    if ERROR_HOOK in last_user_text(contents, content_key="parts"):
        return RowProblem(HOOK_MESSAGE)
    return None


def gemini_ask(model: str, request: dict[str, Any]) -> Ask:
    contents = request.get("contents") or []
    system = text_of(pick(request, "systemInstruction") or "")
    every = [text_of(c) for c in contents if isinstance(c, dict)]
    config = pick(request, "generationConfig") or {}
    tool_name, tool_schema = _gemini_forced_tool(request)
    return Ask(
        model=model,
        prompt=last_user_text(contents, content_key="parts"),
        input_text_words=all_words(system, *every),
        max_tokens=_int_or_none(pick(config, "maxOutputTokens")),
        schema=_gemini_schema(config),
        tool_name=tool_name,
        tool_schema=tool_schema,
        cached_words=all_words(system),
        cache_key=prefix_key(system),
        thinks=gemini_thinks(model, config),
    )


def gemini_thinks(model: str, config: dict[str, Any]) -> bool:
    """Gemini 2.5 and 3 think by default (2.5 Flash-Lite does not); a budget of 0 turns it off."""
    thinking = pick(config, "thinkingConfig") or {}
    budget = pick(thinking, "thinkingBudget") if isinstance(thinking, dict) else None
    if budget is not None:
        return bool(budget != 0)
    return bool(_GEMINI_THINKING.match(model)) and "flash-lite" not in model


def _gemini_schema(config: dict[str, Any]) -> dict[str, Any] | None:
    if pick(config, "responseMimeType") != "application/json":
        return None
    schema = pick(config, "responseJsonSchema") or pick(config, "responseSchema")
    return schema if isinstance(schema, dict) else {"type": "object"}


def _gemini_forced_tool(request: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    return gemini_checks.called_tool(request)


# --- helpers -----------------------------------------------------------------------------


def _named_tool(
    tools: list[dict[str, Any]], name: str | None, schema_key: str
) -> tuple[str | None, dict[str, Any] | None]:
    for tool in tools:
        if name is None or tool.get("name") == name:
            return tool.get("name"), tool.get(schema_key)
    return None, None


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
