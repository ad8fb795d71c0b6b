"""Cost of a result: list prices from genai-prices, batch prices decided here only.

Batch prices are the providers' published batch rates where genai-prices has them (its
`processing: batch` price variants), since the discount is not uniform: Gemini halves input and
output but keeps cache reads at the standard rate; Anthropic halves cache reads and writes too
(docs/wire/costs.md). A model without batch rates there gets the realtime price less
its provider profile's discount.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from genai_prices import Usage as PriceUsage
from genai_prices import calc_price
from genai_prices.types import TieredPrices

from corthex.domain.bedrock_models import price_id as bedrock_price_id
from corthex.domain.registry import ProviderName, profile_of
from corthex.domain.results import Usage

log = logging.getLogger(__name__)


def _price_id(provider: ProviderName) -> str:
    """genai-prices' id for the provider (its profile says).

    :raises LookupError: the provider is unknown or genai-prices does not price it."""
    provider_id = profile_of(provider).price_provider
    if provider_id is None:
        raise LookupError(f"no price list for provider {provider}")
    return provider_id


#: genai-prices' price context for the providers' batch rates.
_BATCH = {"processing": "batch"}


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """A realtime price the user gives (CORTHEX_MODEL_PRICES), in USD per million tokens."""

    input: float
    output: float
    cache_read: float | None = None  #: default: the input price
    cache_write: float | None = None  #: default: the input price

    def price(self, usage: Usage) -> float:
        uncached = usage.input_tokens - usage.cached_tokens - usage.cache_write_tokens
        cache_read = self.input if self.cache_read is None else self.cache_read
        cache_write = self.input if self.cache_write is None else self.cache_write
        total = (
            self.input * max(uncached, 0)
            + self.output * usage.output_tokens
            + cache_read * usage.cached_tokens
            + cache_write * usage.cache_write_tokens
        )
        return total / 1_000_000


#: the user's prices, by model name; they win over the library's (a negotiated price)
_given_prices: dict[str, ModelPrice] = {}


def use_prices(prices: dict[str, ModelPrice]) -> None:
    """Price these models so (process-wide, like the redaction of secrets: set by the Engine)."""
    _given_prices.clear()
    _given_prices.update({price_name(model): price for model, price in prices.items()})


def price_name(model: str, provider: ProviderName | None = None) -> str:
    """The name a model is priced under: the router takes Gemini's resource form
    `models/gemini-2.5-pro` too, which the price table knows as `gemini-2.5-pro`; the `aws` table
    knows Claude by its Bedrock id (`claude-haiku-4-5` → `anthropic.claude-haiku-4-5-20251001-v1:0`)."""
    if provider is not None and profile_of(provider).price_provider == "aws":
        return bedrock_price_id(model)
    return model.removeprefix("models/")


def has_price(provider: ProviderName, model: str) -> bool:
    name = price_name(model, provider)
    return name in _given_prices or _has_price(provider, name)


def realtime_cost(provider: ProviderName, model: str, usage: Usage) -> float | None:
    """The realtime list price of `usage`, or None for a model with no known price."""
    model = price_name(model, provider)
    if model in _given_prices:
        return _given_prices[model].price(usage)
    if not _has_price(provider, model):
        return None
    return float(_price(provider, model, usage, batch=False))


def batch_cost(provider: ProviderName, model: str, usage: Usage) -> float | None:
    """What the Batch API bills for `usage`: the provider's batch rates, else (a price the
    user gives, or a model without batch rates) the realtime price less the batch discount;
    None for a model with no known price."""
    model = price_name(model, provider)
    if model in _given_prices:
        return discounted(provider, _given_prices[model].price(usage))
    if not _has_price(provider, model):
        return None
    if _has_batch_prices(provider, model):
        return float(_price(provider, model, usage, batch=True))
    return discounted(provider, float(_price(provider, model, usage, batch=False)))


def discounted(provider: ProviderName, full: float) -> float:
    """The batch price of a realtime price `full`, for a model without published batch rates."""
    return full * (1 - profile_of(provider).discount)


def _price(provider: ProviderName, model: str, usage: Usage, *, batch: bool) -> Decimal:
    rates = _rates(provider, model, batch, int(time.time() // _RATES_TTL))
    return rates.price(usage) if rates is not None else _exact(provider, model, usage, batch=batch)


def _exact(provider: ProviderName, model: str, usage: Usage, *, batch: bool = False) -> Decimal:
    price_usage = PriceUsage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cached_tokens or None,
        cache_write_tokens=usage.cache_write_tokens or None,
        cache_write_1h_tokens=usage.cache_write_1h_tokens or None,
    )
    provider_id = _price_id(provider)
    context = _BATCH if batch else None
    return calc_price(price_usage, model_ref=model, provider_id=provider_id, price_context=context).total_price


# genai-prices takes ~60 us a call, which at 100,000 results is seconds of the engine's time.
# A price that is flat per token (no tiers) is linear in the token counts, so four calls give
# its per-token rates and each result is then four multiplications, in Decimal like the
# library. The rates are re-read every _RATES_TTL seconds, since a model's price may change
# with the date (genai-prices' conditional prices); tiered prices always take the exact path.
_RATES_TTL = 300
_PROBE = 1_000_000


@dataclass(frozen=True, slots=True)
class _Rates:
    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal
    cache_write_1h: Decimal  #: on top of `cache_write`, for the 1-hour writes among them

    def price(self, usage: Usage) -> Decimal:
        return (
            self.input * usage.input_tokens
            + self.output * usage.output_tokens
            + self.cache_read * usage.cached_tokens
            + self.cache_write * usage.cache_write_tokens
            + self.cache_write_1h * usage.cache_write_1h_tokens
        )


@lru_cache(maxsize=256)
def _rates(provider: ProviderName, model: str, batch: bool, _period: int) -> _Rates | None:
    """The per-token rates of a flat price, checked against the library; None if not linear."""
    try:
        provider_id = _price_id(provider)
        context = _BATCH if batch else None
        calc = calc_price(
            PriceUsage(input_tokens=_PROBE), model_ref=model, provider_id=provider_id, price_context=context
        )
        if any(isinstance(value, TieredPrices) for value in vars(calc.model_price).values()):
            return None
        base = calc.total_price

        def rate(usage: Usage, minus: Decimal = base) -> Decimal:
            return (_exact(provider, model, usage, batch=batch) - minus) / _PROBE

        write = rate(Usage(_PROBE, cache_write_tokens=_PROBE))
        rates = _Rates(
            input=base / _PROBE,
            output=rate(Usage(_PROBE, _PROBE)),
            cache_read=rate(Usage(_PROBE, cached_tokens=_PROBE)),
            cache_write=write,
            cache_write_1h=rate(
                Usage(_PROBE, cache_write_tokens=_PROBE, cache_write_1h_tokens=_PROBE), base + write * _PROBE
            ),
        )
        check = Usage(
            input_tokens=123_457,
            output_tokens=6_791,
            cached_tokens=20_011,
            cache_write_tokens=3_001,
            cache_write_1h_tokens=1_009,
        )
        if rates.price(check) != _exact(provider, model, check, batch=batch):
            return None
    except (LookupError, ValueError, ArithmeticError):
        return None
    return rates


@lru_cache(maxsize=512)
def _has_batch_prices(provider: ProviderName, model: str) -> bool:
    """Whether genai-prices lists the model's own batch rates for this provider. It answers a
    platform's model from the model's owner (Azure's gpt-5-mini from OpenAI's list) with the
    variant listed but without applying it: batch rates no lower than realtime are not batch rates."""
    calc = calc_price(PriceUsage(input_tokens=1), model_ref=model, provider_id=_price_id(provider))
    if not any(variant.when == _BATCH for variant in calc.model.price_variants or ()):
        return False
    probe = Usage(_PROBE, _PROBE)
    return _exact(provider, model, probe, batch=True) < _exact(provider, model, probe)


@lru_cache(maxsize=512)
def _has_price(provider: ProviderName, model: str) -> bool:
    try:
        calc_price(PriceUsage(input_tokens=1), model_ref=model, provider_id=_price_id(provider))
    except LookupError:
        log.warning("no price known for %s model %r: its cost is left empty", provider, model)
        return False
    return True


@lru_cache(maxsize=8)
def priced_models(provider: ProviderName) -> tuple[str, ...]:
    """The model names genai-prices lists for `provider` (what "did you mean" suggests from)."""
    from genai_prices.data_snapshot import get_snapshot

    try:
        provider_id = _price_id(provider)
    except LookupError:
        return ()
    found = [p for p in get_snapshot().providers if p.id == provider_id]
    names = {model.id for p in found for model in p.models if not model.id.endswith(("-", ":"))}
    return tuple(sorted(names))
