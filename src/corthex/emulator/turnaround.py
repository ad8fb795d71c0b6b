"""How long an emulated batch takes to run: a lognormal per provider and model (a median and a
spread), with presets from published runs (docs/providers.md, turnaround presets).

`spread` is the sigma of ln(seconds): 0.5 puts 90% of batches within 0.44x..2.3x the median.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Turnaround:
    median_seconds: float
    spread: float

    def sample(self, rng: random.Random) -> float:
        return self.median_seconds * math.exp(self.spread * rng.gauss(0.0, 1.0))

    @classmethod
    def from_value(cls, key: str, value: Any) -> Turnaround:
        """ "published" (the provider's preset) or {"median_seconds", "spread"}; else a ValueError
        naming the key."""
        if value == "published":
            provider = key.split("/", 1)[0]
            if provider not in PUBLISHED:
                raise ValueError(f"turnaround[{key!r}]: no published preset for {provider!r} ({', '.join(PUBLISHED)})")
            return PUBLISHED[provider]
        if not isinstance(value, dict) or set(value) - {"median_seconds", "spread"} or "median_seconds" not in value:
            shape = '"published" or {"median_seconds": s, "spread": sigma}'
            raise ValueError(f"turnaround[{key!r}] must be {shape}")
        median, spread = value["median_seconds"], value.get("spread", 0.0)
        if not isinstance(median, int | float) or median <= 0 or not isinstance(spread, int | float) or spread < 0:
            raise ValueError(f"turnaround[{key!r}]: median_seconds must be > 0 and spread >= 0")
        return cls(float(median), float(spread))


#: The published figures as lognormals (the calibration is ours; the figures' sources and what is
#: UNVERIFIED are in docs/providers.md):
#: - OpenAI: batches slowing from 14 to 84 minutes over one day: 14 and 84 as the 5th and 95th
#:   percentiles: median sqrt(14 * 84) = 34 min, sigma ln(84 / 14) / (2 * 1.645) = 0.54.
#: - Anthropic: "most batches finish in less than 1 hour", and 100,000 requests took 2 h 44 min:
#:   median 45 min, sigma 0.9 (62% under an hour; 164 min is the 92nd percentile).
#: - Gemini: batches stuck past 24 hours: median 6 h, sigma 1.2 (12% past 24 h).
PUBLISHED: dict[str, Turnaround] = {
    "openai": Turnaround(34 * 60.0, 0.54),
    "anthropic": Turnaround(45 * 60.0, 0.9),
    "gemini": Turnaround(6 * 3600.0, 1.2),
}


def parse_turnarounds(table: Any) -> dict[str, Turnaround]:
    """The config's `turnaround` table: "provider" or "provider/model" -> a Turnaround."""
    if not isinstance(table, dict):
        raise ValueError('turnaround must map "provider" or "provider/model" to a distribution')
    return {str(key): Turnaround.from_value(str(key), value) for key, value in table.items()}


def turnaround_of(table: dict[str, Turnaround], provider: str | None, model: str | None) -> Turnaround | None:
    """The model's own entry, else its provider's, else None (the fixed base + per-request time)."""
    if provider is None:
        return None
    name = (model or "").removeprefix("models/")
    return table.get(f"{provider}/{name}") or table.get(provider)
