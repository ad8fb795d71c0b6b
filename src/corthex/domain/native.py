"""Provider-native batch lines, as a user already has them (issue 14): OpenAI
`{"custom_id", "method", "url", "body"}`, Anthropic `{"custom_id", "params"}`, Gemini
`{"key", "request"}` (with a `model` beside them: Gemini names the model per batch, not per line).

Such a line is planned, tracked, retried and collected like any request; its body goes out as
given (an OpenAI body checked first against the official spec's schema: `openai_spec`). Pure: a
decoded line in, a request out, or `Bad` naming the field.
"""

from __future__ import annotations

from typing import Any

from corthex.domain.content import NativeBody
from corthex.domain.embeddings import EMBEDDINGS_URL, native_input_problem
from corthex.domain.openai_spec import body_problem
from corthex.domain.parsing_content import Bad
from corthex.domain.registry import provider_for_model
from corthex.domain.requests import LLMRequest, ProviderName
from corthex.domain.storable import nul_refusal

#: the endpoints OpenAI's Batch API takes (openai/types/batch_create_params.py `endpoint`)
OPENAI_BATCH_URLS = frozenset(
    {"/v1/chat/completions", "/v1/responses", "/v1/embeddings", "/v1/completions", "/v1/moderations"}
)
_OPENAI_KEYS = frozenset({"custom_id", "method", "url", "body"})
_ANTHROPIC_KEYS = frozenset({"custom_id", "params"})
_GEMINI_KEYS = frozenset({"key", "request", "model"})


def native_provider(data: dict[str, Any]) -> ProviderName | None:
    """Which provider's native form a line is in, judged by its keys; None for our own form."""
    if "params" in data:
        return ProviderName.ANTHROPIC
    if "body" in data or "url" in data or "method" in data:
        return ProviderName.OPENAI
    if "request" in data and "key" in data:
        return ProviderName.GEMINI
    return None


def parse_native(data: dict[str, Any], provider: ProviderName) -> LLMRequest:
    """A native line as a request (`messages` empty: the body is sent as given)."""
    if provider is ProviderName.OPENAI:
        return _openai(data)
    if provider is ProviderName.ANTHROPIC:
        return _anthropic(data)
    return _gemini(data)


def _openai(data: dict[str, Any]) -> LLMRequest:
    _only(data, _OPENAI_KEYS, "an OpenAI batch line has custom_id, method, url and body")
    custom_id = _text(data, "custom_id")
    if data.get("method", "POST") != "POST":
        raise Bad("'method' must be POST (the Batch API sends every line as a POST)", "method")
    url = data.get("url")
    if url not in OPENAI_BATCH_URLS:
        raise Bad(f"'url' must be one of the Batch API's endpoints: {', '.join(sorted(OPENAI_BATCH_URLS))}", "url")
    body = _object(data, "body")
    model = _text(body, "model", "body.model")
    _owned(model, ProviderName.OPENAI, "body.model")
    if body.get("stream"):
        raise Bad("a batch line cannot stream: leave out 'stream'", "body.stream")
    if url == EMBEDDINGS_URL and (too_many := native_input_problem(body)) is not None:
        raise too_many  # first: it says the limit, where the spec's maxItems says only "does not fit"
    if problem := body_problem(url, body):  # the official spec's request schema for the url
        raise Bad(problem.reason, problem.field)
    return LLMRequest(custom_id, model, ProviderName.OPENAI, (), native=NativeBody(body, url))


def _anthropic(data: dict[str, Any]) -> LLMRequest:
    _only(data, _ANTHROPIC_KEYS, "an Anthropic batch request has custom_id and params")
    custom_id = _text(data, "custom_id")
    params = _object(data, "params")
    model = _text(params, "model", "params.model")
    _owned(model, ProviderName.ANTHROPIC, "params.model")
    if not isinstance(params.get("max_tokens"), int) or isinstance(params.get("max_tokens"), bool):
        raise Bad("Anthropic requires 'max_tokens' (a positive integer)", "params.max_tokens")
    if not isinstance(params.get("messages"), list) or not params["messages"]:
        raise Bad("'messages' must be a non-empty list", "params.messages")
    if params.get("stream"):
        raise Bad("a batch request cannot stream: leave out 'stream'", "params.stream")
    return LLMRequest(custom_id, model, ProviderName.ANTHROPIC, (), native=NativeBody(params))


def _gemini(data: dict[str, Any]) -> LLMRequest:
    _only(data, _GEMINI_KEYS, "a Gemini batch line has key and request (and model beside them)")
    custom_id = _text(data, "key")
    request = _object(data, "request")
    if "model" not in data:
        raise Bad("a Gemini line {key, request} needs 'model' beside them: Gemini names the model per batch", "model")
    model = _text(data, "model")
    _owned(model, ProviderName.GEMINI, "model")
    if not isinstance(request.get("contents"), list) or not request["contents"]:
        raise Bad("'contents' must be a non-empty list", "request.contents")
    return LLMRequest(custom_id, model, ProviderName.GEMINI, (), native=NativeBody(request))


def _only(data: dict[str, Any], keys: frozenset[str], form: str) -> None:
    unknown = sorted(set(data) - keys)
    if unknown:
        raise Bad(f"unknown field {unknown[0]!r}: {form}", unknown[0])


def _text(data: dict[str, Any], name: str, field: str | None = None) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Bad(f"'{name}' must be a non-empty string", field or name)
    if refusal := nul_refusal(f"'{name}'", value):
        raise Bad(refusal, field or name)
    return value


def _object(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise Bad(f"'{name}' must be an object", name)
    return value


def _owned(model: str, provider: ProviderName, field: str) -> None:
    owner = provider_for_model(model)
    if owner is not None and owner is not provider:
        raise Bad(f"model {model!r} is served by {owner}, but the line is in {provider}'s form", field)


def route_of(request: LLMRequest) -> str | None:
    """What keeps a request apart from the others of its model in planning: a native line goes in
    batches of native lines (its result is kept whole), an OpenAI one with its endpoint's."""
    if request.native is None:
        return None
    return f"native:{request.native.url}" if request.native.url else "native"
