"""What a provider would refuse in a well-formed request, found before anything is stored (pure;
evidence: docs/wire/request-limits.md).

Parsing checks the shape of a request (types, required fields); these checks ask the capability
table whether the provider would take it: the model belongs to the provider, the output budget
fits the model, the temperature is in the provider's range, the turns are in an order it takes.
Where the table does not know a model's limit, nothing is refused on a guess.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from corthex.domain import admission_gemini, admission_openai
from corthex.domain.capabilities import for_request
from corthex.domain.registry import catalogue, family_of, provider_for_model
from corthex.domain.requests import LLMRequest, ProviderName


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str
    field: str


#: The temperatures each provider takes (inclusive): OpenAI and Gemini 0..2, Anthropic 0..1.
TEMPERATURE_RANGE: dict[ProviderName, tuple[float, float]] = {
    ProviderName.OPENAI: (0.0, 2.0),
    ProviderName.ANTHROPIC: (0.0, 1.0),
    ProviderName.GEMINI: (0.0, 2.0),
}


def provider_mismatch(request: LLMRequest) -> Refusal | None:
    """A model another provider serves, sent to this one (`"provider": "anthropic"` with gpt-4o):
    the provider answers 404 for every request."""
    owner = provider_for_model(request.model)
    if owner is None or owner is request.provider or owner is catalogue(request.provider):
        return None
    if family_of(owner) is family_of(request.provider):  # a platform serving the same models (Vertex: Gemini's)
        return None
    return Refusal(
        f"model {request.model!r} is served by {owner}, not {request.provider}: "
        f"set 'provider' to {owner.value!r} or leave it out",
        "provider",
    )


def output_over_maximum(request: LLMRequest) -> Refusal | None:
    caps = for_request(request)
    largest = caps.max_output_tokens
    if request.max_output_tokens is None or largest is None or not caps.known:
        return None
    if request.max_output_tokens <= largest:
        return None
    return Refusal(
        f"{request.max_output_tokens:,} is over {request.model}'s largest output of {largest:,} tokens",
        "max_output_tokens",
    )


def temperature_out_of_range(request: LLMRequest) -> Refusal | None:
    if request.temperature is None:
        return None
    family = ProviderName(family_of(request.provider).value)
    low, high = TEMPERATURE_RANGE.get(catalogue(request.provider)) or TEMPERATURE_RANGE.get(family, (0.0, 2.0))
    if low <= request.temperature <= high:
        return None
    return Refusal(
        f"'temperature' must be between {low:g} and {high:g} for {request.provider}, not {request.temperature:g}",
        "temperature",
    )


def refused_turn_order(request: LLMRequest) -> Refusal | None:
    """Anthropic: the first turn must be the user's (400 "first message must use the user role");
    a last assistant turn (prefill) is refused by the models that do not take one. Consecutive
    turns of one role are merged by Anthropic, and taken by OpenAI and Gemini: not refused."""
    if request.provider is not ProviderName.ANTHROPIC:
        return None
    if request.messages[0].role != "user":
        return Refusal("Anthropic takes a conversation only when its first message is the user's", "messages[0]")
    last = len(request.messages) - 1
    if last and request.messages[last].role == "assistant" and not for_request(request).prefill:
        return Refusal(
            f"{request.model} does not take a last assistant message (prefill): end with the user's message",
            f"messages[{last}]",
        )
    return None


from corthex.domain import admission_anthropic  # noqa: E402 (it builds on Refusal, above)
from corthex.domain.embeddings import embedding_problem  # noqa: E402

_CHECKS: tuple[Callable[[LLMRequest], Refusal | None], ...] = (
    provider_mismatch,
    output_over_maximum,
    temperature_out_of_range,
    refused_turn_order,
    *admission_anthropic.CHECKS,
    *admission_gemini.CHECKS,
    *admission_openai.CHECKS,
)


def refusals(request: LLMRequest) -> list[Refusal]:
    """Every reason the request's provider would refuse it, in field order; [] when none."""
    if request.is_embedding:  # none of the prompt's checks apply to texts to embed
        problem = embedding_problem(request)
        return [Refusal(*problem)] if problem else []
    return [found for check in _CHECKS if (found := check(request)) is not None]
