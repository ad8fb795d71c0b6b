"""What each model family takes on the wire, in one table (pure; evidence: docs/wire/model-table.md).

Adapters ask this table, never the model name: which OpenAI endpoint serves a model, whether it
takes a non-default `temperature`, its largest output, whether it thinks.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache

from corthex.domain.bedrock_models import neutral_name
from corthex.domain.registry import catalogue, family_of
from corthex.domain.requests import LLMRequest, ProviderName
from corthex.domain.structured import strict_form
from corthex.domain.tiers import Tier


class OpenAIEndpoint(enum.StrEnum):
    CHAT = "/v1/chat/completions"
    RESPONSES = "/v1/responses"  #: the only endpoint of the `-pro` and codex reasoning models
    EMBEDDINGS = "/v1/embeddings"  #: the embedding models' (docs/wire/embeddings.md)


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
    #: OpenAI: the reasoning efforts the model takes (empty: it takes no reasoning setting at all)
    efforts: frozenset[str] = frozenset()
    stop: bool = True  #: OpenAI: takes `stop` sequences (o3 and o4-mini do not)
    #: Anthropic: takes `thinking: {"type": "adaptive"}` with `output_config.effort` (the 4.6 models
    #: and later; older thinking models take only a manual `budget_tokens`)
    adaptive_thinking: bool = False
    #: Gemini: the thinking levels the model takes (3.x, `thinkingLevel`), lowest first
    thinking_levels: tuple[str, ...] = ()
    #: Gemini: the `thinkingBudget` range the model takes (2.5); 0 (off) only with `thinking_off`
    thinking_budget: tuple[int, int] | None = None
    thinking_off: bool = False  #: Gemini 2.5: a budget of 0 turns thinking off
    #: an embedding model: takes `input` (texts), answers vectors; `embedding_dimensions` is the
    #: default length, `shortens` whether it takes `dimensions` (text-embedding-3 and later)
    embedding: bool = False
    embedding_dimensions: int | None = None
    shortens: bool = False
    #: takes the flex tier (priced at the batch rates): OpenAI `service_tier: "flex"`, Gemini
    #: `serviceTier: "flex"` (docs/wire/tiers.md)
    flex: bool = False

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


#: Reasoning efforts per family (docs/wire/requests-openai.md: the SDK lists every value, "not all
#: reasoning models support every value"; the sets follow OpenAI's model pages and the community matrix)
_O_SERIES = frozenset({"low", "medium", "high"})
_GPT5 = frozenset({"minimal", "low", "medium", "high"})
_GPT5_POINT_EFFORTS = frozenset({"none", "low", "medium", "high"})
_HIGH_ONLY = frozenset({"high"})


def _reasoning(
    family: str,
    max_out: int,
    endpoint: OpenAIEndpoint = _CHAT,
    efforts: frozenset[str] = _O_SERIES,
    stop: bool = True,
    flex: bool = False,
) -> ModelCapabilities:
    return ModelCapabilities(family, endpoint, _NO_TEMP, max_out, thinks=True, efforts=efforts, stop=stop, flex=flex)


def _embedding(
    family: str, dimensions: int, endpoint: OpenAIEndpoint | None = None, shortens: bool = True
) -> ModelCapabilities:
    return ModelCapabilities(family, endpoint, embedding=True, embedding_dimensions=dimensions, shortens=shortens)


_EMBEDDINGS = OpenAIEndpoint.EMBEDDINGS


#: OpenAI families, matched on the longest key that starts the normalized model name.
_OPENAI: tuple[ModelCapabilities, ...] = (
    ModelCapabilities("gpt-3.5-turbo", _CHAT, max_output_tokens=4_096),
    ModelCapabilities("gpt-4", _CHAT, max_output_tokens=8_192),
    ModelCapabilities("gpt-4-turbo", _CHAT, max_output_tokens=4_096),
    ModelCapabilities("gpt-4o", _CHAT, max_output_tokens=16_384),
    ModelCapabilities("gpt-4.1", _CHAT, max_output_tokens=32_768),
    ModelCapabilities("chatgpt-4o", _CHAT, max_output_tokens=16_384),
    _reasoning("o1", 100_000),
    _reasoning("o1-mini", 65_536, efforts=frozenset()),  # o1-mini takes no reasoning_effort
    _reasoning("o1-pro", 100_000, _RESPONSES),
    _reasoning("o3", 100_000, stop=False, flex=True),  # SDK: `stop` "not supported with … o3 and o4-mini"
    _reasoning("o3-pro", 100_000, _RESPONSES),
    _reasoning("o3-deep-research", 100_000, _RESPONSES, _HIGH_ONLY),
    _reasoning("o4-mini", 100_000, stop=False, flex=True),
    _reasoning("o4-mini-deep-research", 100_000, _RESPONSES, _HIGH_ONLY),
    _reasoning("gpt-5", 128_000, efforts=_GPT5, flex=True),  # gpt-5, -mini, -nano: effort minimal..high, no temperature
    _reasoning("gpt-5-pro", 272_000, _RESPONSES, _HIGH_ONLY),
    _reasoning("gpt-5-codex", 128_000, _RESPONSES),
    ModelCapabilities("gpt-5-chat", _CHAT, Temperature.ANY, 16_384),
    # gpt-5.1 and later: effort "none" is the default (no thinking unless asked), and temperature
    # is taken at effort none
    ModelCapabilities(
        "gpt-5.x",
        _CHAT,
        _EFFORT_NONE,
        128_000,
        thinks=False,
        default_effort="none",
        efforts=_GPT5_POINT_EFFORTS,
        flex=True,
    ),
    _reasoning("gpt-5.x-pro", 128_000, _RESPONSES, frozenset({"medium", "high"})),
    _reasoning("gpt-5.x-codex", 128_000, _RESPONSES),
    ModelCapabilities("gpt-5.x-chat", _CHAT, _NO_TEMP, 16_384, thinks=True, efforts=frozenset({"medium"})),
    _embedding("text-embedding-3-small", 1536, _EMBEDDINGS),
    _embedding("text-embedding-3-large", 3072, _EMBEDDINGS),
    _embedding("text-embedding-ada-002", 1536, _EMBEDDINGS, shortens=False),
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
    ModelCapabilities(
        "claude-sonnet-4-6", max_output_tokens=128_000, thinks=True, prefill=False, adaptive_thinking=True
    ),
    ModelCapabilities("claude-opus-4", max_output_tokens=32_000, thinks=True),
    ModelCapabilities("claude-opus-4-5", max_output_tokens=64_000, thinks=True),
    ModelCapabilities("claude-opus-4-6", max_output_tokens=128_000, thinks=True, prefill=False, adaptive_thinking=True),
    ModelCapabilities("claude-opus-4-7", max_output_tokens=128_000, thinks=True, adaptive_thinking=True),
    ModelCapabilities("claude-haiku-4-5", max_output_tokens=64_000, thinks=True),
    ModelCapabilities("claude-sonnet-5", max_output_tokens=128_000, thinks=True, adaptive_thinking=True),
    ModelCapabilities("claude-opus-5", max_output_tokens=128_000, thinks=True, adaptive_thinking=True),
    ModelCapabilities("claude-fable-5", max_output_tokens=128_000, thinks=True, adaptive_thinking=True),
)

#: Gemini families (docs/wire/requests-gemini.md): 2.0 does not think; 2.5 takes a thinking
#: budget; 3.x takes a thinking level (each model its own set). gemini-3.N is the family gemini-3.N.
#: Flex (Preview) on the 3.x families: the flex guide's examples are 3.x models; which models take
#: it is UNVERIFIED, and a flex call refused for its model goes realtime (engine/tiers.py).
_GEMINI_LEVELS = ("MINIMAL", "LOW", "MEDIUM", "HIGH")
_GEMINI: tuple[ModelCapabilities, ...] = (
    ModelCapabilities("gemini-2.0-flash"),
    ModelCapabilities("gemini-2.0-flash-lite"),
    ModelCapabilities("gemini-2.5-pro", thinks=True, thinking_budget=(128, 32_768)),
    ModelCapabilities("gemini-2.5-flash", thinks=True, thinking_budget=(1, 24_576), thinking_off=True),
    ModelCapabilities("gemini-2.5-flash-lite", thinking_budget=(512, 24_576), thinking_off=True),
    ModelCapabilities("gemini-3-pro", thinks=True, thinking_levels=("LOW", "HIGH"), flex=True),
    ModelCapabilities("gemini-3-flash", thinks=True, thinking_levels=_GEMINI_LEVELS, flex=True),
    ModelCapabilities("gemini-3.1-pro", thinks=True, thinking_levels=("LOW", "MEDIUM", "HIGH"), flex=True),
    ModelCapabilities("gemini-3.1-flash-lite", thinks=True, thinking_levels=_GEMINI_LEVELS, flex=True),
    ModelCapabilities("gemini-3.5-flash", thinks=True, thinking_levels=_GEMINI_LEVELS, flex=True),
    _embedding("gemini-embedding-001", 3072),
)

_TABLES: dict[ProviderName, tuple[ModelCapabilities, ...]] = {
    ProviderName.OPENAI: _OPENAI,
    ProviderName.ANTHROPIC: _ANTHROPIC,
    ProviderName.GEMINI: _GEMINI,
}

#: What an unknown model of each provider is taken to be: a chat model that takes temperature.
_UNKNOWN = {
    ProviderName.OPENAI: ModelCapabilities("unknown", _CHAT),
    ProviderName.ANTHROPIC: ModelCapabilities("unknown", max_output_tokens=8_192),
    ProviderName.GEMINI: ModelCapabilities("unknown"),
}

_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")  # a snapshot date: gpt-5-2025-08-07, claude-…-20250514
_GPT5_POINT = re.compile(r"^gpt-5\.\d+")  # gpt-5.1, gpt-5.2, …: one family "gpt-5.x"


@lru_cache(maxsize=1024)  # asked several times per request at intake; a job names few models
def family_name(model: str) -> str:
    """The name the table is keyed on: no `models/` prefix, no snapshot date, gpt-5.N as gpt-5.x."""
    name = model.removeprefix("publishers/google/models/").removeprefix("models/")
    name = _DATED.sub("", neutral_name(name))  # Bedrock's ids too: us.anthropic.claude-…-v1:0
    return _GPT5_POINT.sub("gpt-5.x", name)


@lru_cache(maxsize=1024)
def capabilities(provider: ProviderName, model: str) -> ModelCapabilities:
    """The row for `model`: the longest family that starts its normalized name (a family
    matches whole dash-separated parts only: `o3` is not `o3x`)."""
    name = family_name(model)
    # a platform serving another's models reads that catalogue (Azure: OpenAI's), else its family's
    table = _TABLES.get(catalogue(provider)) or _TABLES[ProviderName(family_of(provider).value)]
    rows = [r for r in table if name == r.family or name.startswith(r.family + "-")]
    if rows:
        return max(rows, key=lambda r: len(r.family))
    # a provider other than the three (a compatible server, a plugin): its wire family's unknown
    return _UNKNOWN.get(provider) or _UNKNOWN[ProviderName(family_of(provider).value)]


def gemini_thinking(model: str) -> ModelCapabilities | None:
    """The row of a Gemini model that thinks (it takes a level or a budget); None for a model the
    table does not know (nothing refused on a guess) and for one that does not think."""
    caps = capabilities(ProviderName.GEMINI, model)
    return caps if caps.thinking_levels or caps.thinking_budget else None


def takes_flex(provider: ProviderName, model: str) -> bool:
    """Whether `model` answers on the flex tier: OpenAI's and the Gemini Developer API's own
    services only (no evidence that Azure, Vertex or a compatible server takes it;
    docs/wire/tiers.md)."""
    return provider in _FLEX_PROVIDERS and capabilities(provider, model).flex


_FLEX_PROVIDERS = (ProviderName.OPENAI, ProviderName.GEMINI)


def tier_for(provider: ProviderName, model: str, asked: Tier) -> Tier:
    """The tier a single call of `model` goes on when `asked`: flex where the model takes it, else
    realtime (the batch tier is not a single call)."""
    return Tier.FLEX if asked is Tier.FLEX and takes_flex(provider, model) else Tier.REALTIME


def for_request(request: LLMRequest) -> ModelCapabilities:
    return capabilities(request.provider, request.model)


def is_embedding_model(provider: ProviderName, model: str) -> bool:
    """Whether `model` embeds (by the table, or by name for an embedding model it does not list)."""
    return capabilities(provider, model).embedding or "embedding" in family_name(model)


def openai_endpoint(model: str) -> OpenAIEndpoint:
    """The batch endpoint that serves `model` (one endpoint per batch file)."""
    if is_embedding_model(ProviderName.OPENAI, model):
        return OpenAIEndpoint.EMBEDDINGS
    return capabilities(ProviderName.OPENAI, model).endpoint or OpenAIEndpoint.CHAT


def takes_sampling(request: LLMRequest) -> bool:
    """Whether the model takes a non-default `temperature` / `top_p` for this request: gpt-5.1 and
    later only at effort "none", so not when the request asks it to reason (an effort, or a budget)."""
    caps = for_request(request)
    reasoning = request.reasoning
    asks_to_reason = reasoning is not None and (reasoning.effort is not None or bool(reasoning.budget_tokens))
    if caps.temperature is Temperature.EFFORT_NONE and asks_to_reason:
        return False
    return caps.accepts_temperature


def unsent_temperature(request: LLMRequest) -> bool:
    """Whether the request's temperature must be left out: the model refuses it."""
    return request.temperature is not None and not takes_sampling(request)


def unsent_top_p(request: LLMRequest) -> bool:
    """Whether the request's `top_p` must be left out: the models that refuse temperature refuse it
    too ("reasoning models generally allow no sampling parameters", docs/wire/requests-openai.md)."""
    openai_rules = catalogue(request.provider) is ProviderName.OPENAI
    return openai_rules and request.top_p is not None and not takes_sampling(request)


def request_warnings(request: LLMRequest) -> list[str]:
    """What will not go out as the user wrote it (the submit report shows these)."""
    if speaks_anthropic(request.provider) and request.temperature is not None:
        return [
            f"'temperature' is not sent to {request.model}: the Messages API version the anthropic SDK "
            "speaks takes no sampling parameters (docs/wire/request-limits.md)"
        ]
    if catalogue(request.provider) is not ProviderName.OPENAI:
        return []
    warnings = []
    if unsent_temperature(request):
        warnings.append(
            f"'temperature' is not sent to {request.model}: the model accepts only its default "
            "temperature (it reasons before answering)"
        )
    if unsent_top_p(request):
        warnings.append(
            f"'top_p' is not sent to {request.model}: the model takes no sampling parameters when it reasons"
        )
    if request.json_schema is not None:
        form = strict_form(request.json_schema)
        if not form.strict:
            warnings.append(
                f"'json_schema' goes to {request.model} without strict mode ({form.why_not}); "
                "answers are still validated against it"
            )
    return warnings


def speaks_anthropic(provider: ProviderName) -> bool:
    """Anthropic itself, or a platform that serves its models in its Messages body (Bedrock)."""
    return catalogue(provider) is ProviderName.ANTHROPIC


def family_names(provider: ProviderName) -> tuple[str, ...]:
    """The table's families for `provider` that are model names as written (not `gpt-5.x`)."""
    return tuple(r.family for r in _TABLES.get(provider, ()) if ".x" not in r.family)
