"""Learned turnaround (issue 17): when will an open batch end? (pure)

The engine keeps every batch it ran: its provider, model, size and how long it took from
creation at the provider to its end. For an open batch the prediction is a high quantile of the
similar past batches (same provider and model, else same provider, else a prior per provider),
each scaled to the open batch's size, among those that were still running at the open batch's
age (a batch already running for an hour is not going to be one of the five-minute ones), and
pulled toward the rate its own progress shows when the provider reports one.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: the quantile predicted: deadlines want the late side of the spread, not the middle
QUANTILE = 0.9
#: past batches of the same provider and model needed before they count alone
MIN_SAMPLES = 3
#: duration grows with size, but less than in proportion (providers run a batch's requests in
#: parallel): a batch 4 times larger is expected to take twice as long
SIZE_EXPONENT = 0.5
#: the size ratio is held to [1/8, 8]: history of 10-request batches says little about 100,000
MAX_SIZE_RATIO = 8.0
#: a batch running past everything seen: expected to need half its age again
OVERDUE_FACTOR = 1.5

#: Priors, seconds to the end of a batch of PRIOR_SIZE requests or fewer (quantile QUANTILE), used
#: until a provider has history. From published runs (issue 17): OpenAI batches slowed from 14 to 84
#: minutes over one day; Claude took 2 h 44 min for 100,000 requests (most end within the hour,
#: Anthropic's docs); Gemini's target is 24 h and batches were seen stuck past it.
PRIORS: dict[str, float] = {
    "openai": 84 * 60.0,
    "azure": 84 * 60.0,
    "anthropic": 3600.0,
    "bedrock": 3 * 3600.0,
    "gemini": 6 * 3600.0,
    "vertex": 6 * 3600.0,
    "mistral": 3600.0,
}
DEFAULT_PRIOR = 24 * 3600.0  #: the providers' common completion window
PRIOR_SIZE = 1000


@dataclass(frozen=True, slots=True)
class PastBatch:
    """A batch that ended on its own (not canceled, not given up)."""

    provider: str
    model: str | None
    size: int
    seconds: float  #: from creation at the provider to its end
    #: from creation to the first poll that found it running (None: never seen running)
    start_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class OpenBatch:
    provider: str
    model: str | None
    size: int
    age: float  #: seconds since it was created at the provider (0 for one not created yet)
    done: int = 0  #: requests the provider reports done so far


@dataclass(frozen=True, slots=True)
class Prediction:
    seconds: float  #: expected duration in all, from creation to end
    left: float  #: of which still to come
    basis: str  #: "history" (same model), "provider" (same provider), "prior"
    samples: int  #: past batches it rests on

    def end(self, created_at: float) -> float:
        return created_at + self.seconds


@dataclass(frozen=True, slots=True)
class Spread:
    """The turnaround of past batches of one provider and model."""

    count: int
    median: float
    p90: float
    low: float
    high: float
    median_start: float | None = None  #: the median time to start, of those seen running


def predict(history: Sequence[PastBatch], batch: OpenBatch, *, quantile: float = QUANTILE) -> Prediction:
    """When `batch` will end, from `history` (see the module's docstring)."""
    similar, basis = _similar(history, batch)
    if similar:
        scaled = [_scaled(p.seconds, p.size, batch.size) for p in similar]
    else:
        # a prior grows for a batch larger than PRIOR_SIZE but never shrinks for a smaller one: the
        # published figures are turnarounds whatever the size (a small batch waits in the same queue)
        scaled = [_scaled(PRIORS.get(batch.provider, DEFAULT_PRIOR), PRIOR_SIZE, max(batch.size, PRIOR_SIZE))]
    total = _conditional(scaled, batch.age, quantile)
    total = _with_progress(total, batch)
    return Prediction(seconds=total, left=max(total - batch.age, 0.0), basis=basis, samples=len(similar))


def _similar(history: Sequence[PastBatch], batch: OpenBatch) -> tuple[list[PastBatch], str]:
    same_model = [p for p in history if p.provider == batch.provider and p.model == batch.model]
    if len(same_model) >= MIN_SAMPLES:
        return same_model, "history"
    same_provider = [p for p in history if p.provider == batch.provider]
    if same_provider:
        return same_provider, "provider"
    return [], "prior"


def _scaled(seconds: float, size: int, to_size: int) -> float:
    ratio = max(to_size, 1) / max(size, 1)
    ratio = min(max(ratio, 1 / MAX_SIZE_RATIO), MAX_SIZE_RATIO)
    return float(seconds * ratio**SIZE_EXPONENT)


def _conditional(durations: list[float], age: float, q: float) -> float:
    """The quantile of the durations longer than `age`: the batch is still running."""
    alive = [d for d in durations if d > age]
    if not alive:
        return age * OVERDUE_FACTOR
    return quantile(alive, q)


def _with_progress(total: float, batch: OpenBatch) -> float:
    """Blend in the batch's own pace (age / share done), weighted by the share done: early
    progress says little, late progress says most."""
    if batch.size <= 0 or batch.done <= 0 or batch.age <= 0:
        return total
    share = min(batch.done / batch.size, 1.0)
    paced = batch.age / share
    return (1 - share) * total + share * paced


def quantile(values: Sequence[float], q: float) -> float:
    """The `q` quantile (linear between order statistics) of non-empty `values`."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def spreads(history: Iterable[PastBatch]) -> dict[tuple[str, str | None], Spread]:
    """Per provider and model: how many batches, the median and 90th percentile of their
    turnaround, the fastest and the slowest, and their median time to start."""
    grouped: dict[tuple[str, str | None], list[PastBatch]] = {}
    for past in history:
        grouped.setdefault((past.provider, past.model), []).append(past)
    return {key: _spread(group) for key, group in grouped.items()}


def _spread(group: list[PastBatch]) -> Spread:
    xs = [p.seconds for p in group]
    starts = [p.start_seconds for p in group if p.start_seconds is not None]
    start = statistics.median(starts) if starts else None
    return Spread(len(xs), statistics.median(xs), quantile(xs, 0.9), min(xs), max(xs), median_start=start)
