"""What each model family takes on the wire, in one table (pure; evidence: docs/wire/model-table.md).

Adapters ask this table, never the model name: which OpenAI endpoint serves a model, whether it
takes a non-default `temperature`, its largest output, whether it thinks.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache

from corthex.domain.requests import LLMRequest, ProviderName
from corthex.domain.structured import strict_form


class OpenAIEndpoint(enum.StrEnum):
    CHAT = "/v1/chat/completions"
    RESPONSES = "/v1/responses"  #: the only endpoint of the `-pro` and codex reasoning models


class Temperature(enum.Enum):
    ANY = "any"  #: any value in 0..2
    DEFAULT_ONLY = "default_only"  #: reasoning models: any other value is refused (400 unsupported_value)
    EFFORT_NONE = "effort_none"  #: taken only at reasoning effort "none" (gpt-5.1 and later)


@dataclass(frozen=True, slots=True)
class ModelCapabilities:
    family: str
    endpoint: OpenAIEndpoint | None = None  #: OpenAI only
    temperature: Temperature = Temperature.ANY
    max_output_tokens: int | None = None  #: the model's largest output; None when unknown
    thinks: bool = False  #: reasons before answering at its default effort (spends output tokens)
    default_effort: str | None = None  #: the reasoning effort used when the request sets none
    prefill: bool = True  #: Anthropic: takes a conversation that ends with an assistant turn

    @property
    def known(self) -> bool:
        """Whether the table has a row for the model (an unknown model's limits are guesses)."""
        return self.family != "unknown"

    @property
    def accepts_temperature(self) -> bool:
        """Whether a non-default temperature may be sent (we never send a reasoning effort,
        so the model's default effort decides)."""
        if self.temperature is Temperature.EFFORT_NONE:
            return self.default_effort == "none"
        return self.temperature is Temperature.ANY


_CHAT, _RESPONSES = OpenAIEndpoint.CHAT, OpenAIEndpoint.RESPONSES
_NO_TEMP, _EFFORT_NONE = Temperature.DEFAULT_ONLY, Temperature.EFFORT_NONE


def _reasoning(family: str, max_out: int, endpoint: OpenAIEndpoint = _CHAT) -> ModelCapabilities:
    return ModelCapabilities(family, endpoint, _NO_TEMP, max_out, thinks=True)


#: OpenAI families, matched on the longest key that starts the normalized model name.
_OPENAI: tuple[ModelCapabilities, ...] = (
    ModelCapabilities("gpt-3.5-turbo", _CHAT, max_output_tokens=4_096),
    ModelCapabilities("gpt-4", _CHAT, max_output_tokens=8_192),
    ModelCapabilities("gpt-4-turbo", _CHAT, max_output_tokens=4_096),
    ModelCapabilities("gpt-4o", _CHAT, max_output_tokens=16_384),
    ModelCapabilities("gpt-4.1", _CHAT, max_output_tokens=32_768),
    ModelCapabilities("chatgpt-4o", _CHAT, max_output_tokens=16_384),
    _reasoning("o1", 100_000),
    _reasoning("o1-mini", 65_536),
    _reasoning("o1-pro", 100_000, _RESPONSES),
    _reasoning("o3", 100_000),
    _reasoning("o3-pro", 100_000, _RESPONSES),
    _reasoning("o3-deep-research", 100_000, _RESPONSES),
    _reasoning("o4-mini", 100_000),
    _reasoning("o4-mini-deep-research", 100_000, _RESPONSES),
    _reasoning("gpt-5", 128_000),  # gpt-5, -mini, -nano: reasoning effort minimal..high, no temperature
    _reasoning("gpt-5-pro", 272_000, _RESPONSES),
    _reasoning("gpt-5-codex", 128_000, _RESPONSES),
    ModelCapabilities("gpt-5-chat", _CHAT, Temperature.ANY, 16_384),
    # gpt-5.1 and later: effort "none" is the default (no thinking unless asked), and temperature
    # is taken at effort none
    ModelCapabilities("gpt-5.x", _CHAT, _EFFORT_NONE, 128_000, thinks=False, default_effort="none"),
    _reasoning("gpt-5.x-pro", 128_000, _RESPONSES),
    _reasoning("gpt-5.x-codex", 128_000, _RESPONSES),
    ModelCapabilities("gpt-5.x-chat", _CHAT, _NO_TEMP, 16_384, thinks=True),
)

#: Anthropic families: `max_tokens` is required, and the largest output differs per model.
_ANTHROPIC: tuple[ModelCapabilities, ...] = (
    ModelCapabilities("claude-3-haiku", max_output_tokens=4_096),
    ModelCapabilities("claude-3-opus", max_output_tokens=4_096),
    ModelCapabilities("claude-3-5-haiku", max_output_tokens=8_192),
    ModelCapabilities("claude-3-5-sonnet", max_output_tokens=8_192),
    ModelCapabilities("claude-3-7-sonnet", max_output_tokens=64_000, thinks=True),
    ModelCapabilities("claude-sonnet-4", max_output_tokens=64_000, thinks=True),
    # "Prefilling assistant messages returns a 400 error on Claude 4.6 models" (docs/wire/request-limits.md)
    ModelCapabilities("claude-sonnet-4-6", max_output_tokens=128_000, thinks=True, prefill=False),
    ModelCapabilities("claude-opus-4", max_output_tokens=32_000, thinks=True),
    ModelCapabilities("claude-opus-4-5", max_output_tokens=64_000, thinks=True),
    ModelCapabilities("claude-opus-4-6", max_output_tokens=128_000, thinks=True, prefill=False),
    ModelCapabilities("claude-opus-4-7", max_output_tokens=128_000, thinks=True),
    ModelCapabilities("claude-haiku-4-5", max_output_tokens=64_000, thinks=True),
    ModelCapabilities("claude-sonnet-5", max_output_tokens=128_000, thinks=True),
    ModelCapabilities("claude-opus-5", max_output_tokens=128_000, thinks=True),
    ModelCapabilities("claude-fable-5", max_output_tokens=128_000, thinks=True),
)

_TABLES: dict[ProviderName, tuple[ModelCapabilities, ...]] = {
    ProviderName.OPENAI: _OPENAI,
    ProviderName.ANTHROPIC: _ANTHROPIC,
}

#: What an unknown model of each provider is taken to be: a chat model that takes temperature.
_UNKNOWN = {
    ProviderName.OPENAI: ModelCapabilities("unknown", _CHAT),
    ProviderName.ANTHROPIC: ModelCapabilities("unknown", max_output_tokens=8_192),
    ProviderName.GEMINI: ModelCapabilities("unknown"),
}

_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")  # a snapshot date: gpt-5-2025-08-07, claude-…-20250514
_GPT5_POINT = re.compile(r"^gpt-5\.\d+")  # gpt-5.1, gpt-5.2, …: one family "gpt-5.x"


def family_name(model: str) -> str:
    """The name the table is keyed on: no `models/` prefix, no snapshot date, gpt-5.N as gpt-5.x."""
    name = _DATED.sub("", model.removeprefix("models/"))
    return _GPT5_POINT.sub("gpt-5.x", name)


@lru_cache(maxsize=1024)
def capabilities(provider: ProviderName, model: str) -> ModelCapabilities:
    """The row for `model`: the longest family that starts its normalized name (a family
    matches whole dash-separated parts only: `o3` is not `o3x`)."""
    name = family_name(model)
    rows = [r for r in _TABLES.get(provider, ()) if name == r.family or name.startswith(r.family + "-")]
    return max(rows, key=lambda r: len(r.family)) if rows else _UNKNOWN[provider]


def for_request(request: LLMRequest) -> ModelCapabilities:
    return capabilities(request.provider, request.model)


def openai_endpoint(model: str) -> OpenAIEndpoint:
    """The batch endpoint that serves `model` (one endpoint per batch file)."""
    return capabilities(ProviderName.OPENAI, model).endpoint or OpenAIEndpoint.CHAT


def unsent_temperature(request: LLMRequest) -> bool:
    """Whether the request's temperature must be left out: the model refuses it."""
    return request.temperature is not None and not for_request(request).accepts_temperature


def request_warnings(request: LLMRequest) -> list[str]:
    """What will not go out as the user wrote it (the submit report shows these)."""
    if request.provider is ProviderName.ANTHROPIC and request.temperature is not None:
        return [
            f"'temperature' is not sent to {request.model}: the Messages API version the anthropic SDK "
            "speaks takes no sampling parameters (docs/wire/request-limits.md)"
        ]
    if request.provider is not ProviderName.OPENAI:
        return []
    warnings = []
    if unsent_temperature(request):
        warnings.append(
            f"'temperature' is not sent to {request.model}: the model accepts only its default "
            "temperature (it reasons before answering)"
        )
    if request.json_schema is not None:
        form = strict_form(request.json_schema)
        if not form.strict:
            warnings.append(
                f"'json_schema' goes to {request.model} without strict mode ({form.why_not}); "
                "answers are still validated against it"
            )
    return warnings


def family_names(provider: ProviderName) -> tuple[str, ...]:
    """The table's families for `provider` that are model names as written (not `gpt-5.x`)."""
    return tuple(r.family for r in _TABLES.get(provider, ()) if ".x" not in r.family)
