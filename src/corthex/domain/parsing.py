"""Parsing and validation of request lines (JSONL files, API bodies, queue items).

Pure: lines in, requests or problems out. Every problem names its line and field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import orjson

from corthex.domain import embeddings
from corthex.domain import parsing_content as carried
from corthex.domain.admission import refusals
from corthex.domain.limits import LIMITS
from corthex.domain.native import native_provider, parse_native
from corthex.domain.parsing_content import Bad as _Bad
from corthex.domain.registry import is_known, provider_for_model
from corthex.domain.registry import provider_names as registered_names
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.seen_ids import SeenIds
from corthex.domain.storable import nul_refusal
from corthex.domain.structured import SchemaProblem, schema_problem
from corthex.errors import InputProblem

_KNOWN_FIELDS = frozenset(
    {
        "custom_id",
        "model",
        "provider",
        "prompt",
        "messages",
        "system",
        "max_output_tokens",
        "max_tokens",
        "temperature",
        "json_schema",
        "cache_system",
        "cache_key",
        "metadata",
        "tools",
        "tool_choice",
        "reasoning",
        "top_p",
        "stop",
        "seed",
        "provider_options",
        "input",
        "dimensions",
    }
)


LINE_FORMS = (
    "a line is either ours, {custom_id, model, prompt | messages, …}, or a provider's batch line: "
    "OpenAI {custom_id, method, url, body}, Anthropic {custom_id, params}, Gemini {key, request, model}"
)


@dataclass(frozen=True, slots=True)
class LineTooLong:
    """A line the reader measured and did not hold: longer than any provider takes."""

    size: int
    limit: int
    unit: str = "bytes"  #: "characters" when read as text in another encoding

    def problem(self, number: int) -> InputProblem:
        return InputProblem(
            number,
            f"the line is {self.size:,} {self.unit} long, over the largest request any provider takes "
            f"({self.limit:,} bytes): refused unread",
        )


UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def parse_lines(
    lines: Iterable[str | bytes | LineTooLong],
    *,
    seen: SeenIds | None = None,
    first_line: int = 1,
    unique: bool = True,
    unit: str = "line",
) -> Iterator[LLMRequest | InputProblem]:
    """Yield one request or one problem per non-blank line, in order. Bytes must be UTF-8
    (a leading byte order mark is dropped): a line that is not is a problem, never guessed at —
    a mangled Korean prompt would still be sent and billed.

    `seen` collects custom_ids so duplicates are caught across calls (pass the same one); with
    `unique=False` the caller checks them itself (`duplicate`). `unit` names a line in the problem.
    """
    seen = (SeenIds() if seen is None else seen) if unique else None
    for number, raw in enumerate(lines, start=first_line):
        if isinstance(raw, LineTooLong):
            yield raw.problem(number)
            continue
        if isinstance(raw, bytes) and number == first_line:
            if raw.startswith(UTF16_BOMS):  # every line would be garbage: one problem says it all
                yield InputProblem(
                    number, "the file is UTF-16: save it as UTF-8, or give its encoding (--encoding utf-16)"
                )
                return
            raw = raw.removeprefix(UTF8_BOM)
        text = decoded(raw) if isinstance(raw, bytes) else raw.removeprefix("\ufeff")
        if isinstance(text, InputProblem):
            yield replace(text, line=number)
        elif text.strip():
            yield _parse_one(number, text, seen, len(raw) if isinstance(raw, bytes) else None, unit)


def decoded(raw: bytes) -> str | InputProblem:
    """The line as UTF-8 text, or the problem (line number filled in by the caller)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1].hex()
        return InputProblem(
            0,
            f"not UTF-8 text (byte 0x{bad} at byte {exc.start + 1}): give the file's encoding, e.g. --encoding cp949",
        )


def duplicate(request: LLMRequest, number: int, seen: SeenIds, unit: str = "line") -> InputProblem | None:
    """The problem of a request whose custom_id an earlier line (row, item) gave, naming both."""
    first = seen.first(request.custom_id, number)
    if first is None:
        return None
    reason = f"duplicate custom_id {request.custom_id!r}, first on {unit} {first}"
    return InputProblem(number, reason, "custom_id", unit)


def _parse_one(number: int, text: str, seen: SeenIds | None, size: int | None, unit: str) -> LLMRequest | InputProblem:
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return InputProblem(number, f"invalid JSON ({exc.args[0].split(':')[0]})")
    try:
        request = parse_request(data)
    except _Bad as bad:
        return InputProblem(number, bad.reason, bad.field)
    if seen is not None and (twice := duplicate(request, number, seen, unit)) is not None:
        return twice
    size = len(text.encode()) if size is None else size  # UTF-8 bytes (a line read as bytes is its size)
    limit = LIMITS[request.provider].max_request_bytes
    if size > limit:
        return InputProblem(number, f"request is {size} bytes, over {request.provider}'s limit of {limit}")
    return request


def parse_request(data: Any) -> LLMRequest:
    """Build a request from one decoded JSON value; raises _Bad naming the field."""
    if not isinstance(data, dict):
        raise _Bad("a request must be a JSON object")
    if (native := native_provider(data)) is not None:
        return parse_native(data, native)  # the provider's own form, sent as given
    unknown = sorted(set(data) - _KNOWN_FIELDS)
    if unknown:
        raise _Bad(f"unknown field {unknown[0]!r} ({LINE_FORMS})", unknown[0])
    custom_id = _required_str(data, "custom_id")
    model = _required_str(data, "model")
    provider = _provider(data, model)
    if (mixed := embeddings.prompt_problem(data, model, provider)) is not None:
        raise mixed
    if embeddings.wants_embedding(data):
        return _embedding(data, custom_id, model, provider)
    tools = carried.tools(data.get("tools"))
    request = LLMRequest(
        custom_id=custom_id,
        model=model,
        provider=provider,
        messages=_messages(data),
        system=_optional_str(data, "system"),
        max_output_tokens=_max_tokens(data),
        temperature=_temperature(data),
        json_schema=_json_schema(data, provider),
        cache_system=_optional_bool(data, "cache_system"),
        cache_key=carried.cache_key(data.get("cache_key")),
        metadata=_metadata(data),
        tools=tools,
        tool_choice=carried.tool_choice(data.get("tool_choice"), tools),
        reasoning=carried.reasoning(data.get("reasoning")),
        top_p=carried.top_p(data.get("top_p")),
        stop=carried.stop(data.get("stop")),
        seed=carried.seed(data.get("seed")),
        provider_options=carried.provider_options(data.get("provider_options")),
    )
    _admit(request, data)
    return request


def _embedding(data: dict[str, Any], custom_id: str, model: str, provider: ProviderName) -> LLMRequest:
    texts, single = embeddings.embedding_texts(data.get("input"))
    request = LLMRequest(
        custom_id,
        model,
        provider,
        (),
        metadata=_metadata(data),
        embed_input=texts,
        embed_single=single,
        dimensions=embeddings.dimensions_of(data.get("dimensions")),
    )
    _admit(request, data)
    return request


def _admit(request: LLMRequest, data: dict[str, Any]) -> None:
    """Refuse what the provider would refuse (the first reason, under the field name the line used)."""
    found = refusals(request)
    if found:
        field = found[0].field
        if field == "max_output_tokens" and "max_output_tokens" not in data:
            field = "max_tokens"
        raise _Bad(found[0].reason, field)


def _required_str(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None:
        raise _Bad(f"missing '{name}'", name)
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"'{name}' must be a non-empty string", name)
    if refusal := nul_refusal(f"'{name}'", value):  # refused here, not by the database
        raise _Bad(refusal, name)
    return value


def _optional_str(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise _Bad(f"'{name}' must be a string", name)
    return value


def _optional_obj(data: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = data.get(name)
    if value is not None and not isinstance(value, dict):
        raise _Bad(f"'{name}' must be an object", name)
    return value


def checked_request(request: LLMRequest, number: int) -> LLMRequest | InputProblem:
    """A request built in code (a chain step, the Python API), held to a parsed line's rules."""
    if request.json_schema is not None:
        problem = schema_problem(request.json_schema, request.provider)
        if problem is not None:
            return InputProblem(number, _schema_reason(request.provider, problem), "json_schema")
    found = refusals(request)
    return InputProblem(number, found[0].reason, found[0].field) if found else request


def _schema_reason(provider: ProviderName, problem: SchemaProblem) -> str:
    return f"not a schema {provider} takes: {problem.reason} (at {problem.where or '/'})"


def _json_schema(data: dict[str, Any], provider: ProviderName) -> dict[str, Any] | None:
    """The schema, refused here when the provider could not take it (every request would fail)."""
    schema = _optional_obj(data, "json_schema")
    if schema is not None:
        problem = schema_problem(schema, provider)
        if problem is not None:
            raise _Bad(_schema_reason(provider, problem), "json_schema")
    return schema


def _optional_bool(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise _Bad(f"'{name}' must be true or false", name)
    return value


def _provider(data: dict[str, Any], model: str) -> ProviderName:
    explicit = data.get("provider")
    if explicit is not None:
        if not isinstance(explicit, str) or not is_known(explicit):
            names = ", ".join(provider_names())
            raise _Bad(f"unknown provider {explicit!r} (one of {names})", "provider")
        return ProviderName(explicit)
    provider = provider_for_model(model)
    if provider is None:
        raise _Bad(f"no provider serves model {model!r}; set 'provider' explicitly", "model")
    return provider


def _messages(data: dict[str, Any]) -> tuple[Message, ...]:
    prompt, messages = data.get("prompt"), data.get("messages")
    if (prompt is None) == (messages is None):
        raise _Bad("give exactly one of 'prompt' or 'messages'", "prompt")
    if prompt is not None:
        if not isinstance(prompt, str) or not prompt:
            raise _Bad("'prompt' must be a non-empty string", "prompt")
        return (Message("user", prompt),)
    if not isinstance(messages, list) or not messages:
        raise _Bad("'messages' must be a non-empty list", "messages")
    return tuple(_message(i, m) for i, m in enumerate(messages))


def _message(index: int, item: Any) -> Message:
    where = f"messages[{index}]"
    if not isinstance(item, dict):
        raise _Bad("must be an object with 'role' and 'content'", where)
    unknown = sorted(set(item) - {"role", "content", "tool_calls", "tool_call_id"})
    if unknown:
        raise _Bad(f"unknown field {unknown[0]!r} in a message", f"{where}.{unknown[0]}")
    role = item.get("role")
    if role not in ("user", "assistant", "tool"):
        raise _Bad("'role' must be 'user', 'assistant' or 'tool' (put system prompts in 'system')", where)
    calls = carried.tool_calls(item.get("tool_calls"), f"{where}.tool_calls")
    if calls and role != "assistant":
        raise _Bad("only an assistant turn carries 'tool_calls'", f"{where}.tool_calls")
    text, parts = carried.content(item.get("content"), f"{where}.content", may_be_empty=bool(calls))
    return Message(role, text, parts, calls, _tool_call_id(role, item, where))


def _tool_call_id(role: str, item: dict[str, Any], where: str) -> str | None:
    """A "tool" turn answers one call, named by its id (and only a tool turn has one)."""
    call_id = item.get("tool_call_id")
    if role != "tool":
        if call_id is not None:
            raise _Bad("only a 'tool' turn carries 'tool_call_id'", f"{where}.tool_call_id")
        return None
    if not isinstance(call_id, str) or not call_id:
        raise _Bad("a 'tool' turn needs the 'tool_call_id' it answers", f"{where}.tool_call_id")
    return call_id


def _max_tokens(data: dict[str, Any]) -> int | None:
    name = "max_output_tokens" if "max_output_tokens" in data else "max_tokens"
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Bad(f"'{name}' must be a positive integer", name)
    return value


def _temperature(data: dict[str, Any]) -> float | None:
    value = data.get("temperature")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Bad("'temperature' must be a number", "temperature")
    return float(value)  # its range is the provider's: `admission.temperature_out_of_range`


def _metadata(data: dict[str, Any]) -> dict[str, str]:
    value = data.get("metadata") or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _Bad("'metadata' must be an object of string values", "metadata")
    return value


def provider_names() -> list[str]:
    return [p.value for p in registered_names()]
