"""Cost of a result: list prices from genai-prices, the batch discount applied here only."""

from __future__ import annotations

import logging
from functools import lru_cache

from genai_prices import Usage as PriceUsage
from genai_prices import calc_price

from corthex.domain.requests import ProviderName
from corthex.domain.results import Usage

log = logging.getLogger(__name__)

#: Every provider bills Batch API traffic at half the realtime price (PROVIDERS.md §0),
#: Anthropic's cache reads and writes included.
BATCH_DISCOUNT: dict[ProviderName, float] = {
    ProviderName.OPENAI: 0.5,
    ProviderName.ANTHROPIC: 0.5,
    ProviderName.GEMINI: 0.5,
}

_PRICE_PROVIDER_ID = {
    ProviderName.OPENAI: "openai",
    ProviderName.ANTHROPIC: "anthropic",
    ProviderName.GEMINI: "google",
}


def realtime_cost(provider: ProviderName, model: str, usage: Usage) -> float | None:
    """The realtime list price of `usage`, or None for a model with no known price."""
    if not _has_price(provider, model):
        return None
    price_usage = PriceUsage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cached_tokens or None,
        cache_write_tokens=usage.cache_write_tokens or None,
    )
    calc = calc_price(price_usage, model_ref=model, provider_id=_PRICE_PROVIDER_ID[provider])
    return float(calc.total_price)


def batch_cost(provider: ProviderName, model: str, usage: Usage) -> float | None:
    """What the Batch API bills for `usage`: the realtime price less the batch discount."""
    full = realtime_cost(provider, model, usage)
    return None if full is None else full * (1 - BATCH_DISCOUNT[provider])


@lru_cache(maxsize=512)
def _has_price(provider: ProviderName, model: str) -> bool:
    try:
        calc_price(PriceUsage(input_tokens=1), model_ref=model, provider_id=_PRICE_PROVIDER_ID[provider])
    except LookupError:
        log.warning("no price known for %s model %r: its cost is left empty", provider, model)
        return False
    return True
