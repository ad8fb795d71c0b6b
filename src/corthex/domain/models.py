"""Is a model name one we know? An unknown name is most often a typo (`gpt-5-mnii`), which the
provider would refuse only after the batch was sent: said at intake, with "did you mean …"
from the price table (genai-prices) and the capability table."""

from __future__ import annotations

import difflib
from functools import lru_cache

from corthex.domain.capabilities import family_name, family_names
from corthex.domain.pricing import has_price, price_name, priced_models
from corthex.domain.requests import ProviderName


@lru_cache(maxsize=1024)
def known_model(provider: ProviderName, model: str) -> bool:
    """Priced (by genai-prices, or by the user's CORTHEX_MODEL_PRICES), or a family of the
    capability table by its exact name (a dated snapshot counts: `claude-sonnet-4-20250514`)."""
    return has_price(provider, model) or family_name(model) in family_names(provider)


def suggestions(provider: ProviderName, model: str, n: int = 3) -> list[str]:
    """The known names closest to `model`, best first."""
    candidates = sorted(set(priced_models(provider)) | set(family_names(provider)))
    return difflib.get_close_matches(price_name(model), candidates, n=n, cutoff=0.75)


def unknown_model_warning(provider: ProviderName, model: str) -> str | None:
    """A one-line warning for a model we do not know, or None."""
    if known_model(provider, model):
        return None
    close = suggestions(provider, model)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else "check the name"
    return f"model {model!r} is not a known {provider.value} model: {hint}"


def forget() -> None:
    """Ask again (after the user's prices change)."""
    known_model.cache_clear()
