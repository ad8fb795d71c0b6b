"""The daily budget: the day's start in the configured time zone, and cost estimates (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from corthex.domain.pricing import batch_cost, has_price, realtime_cost
from corthex.domain.requests import LLMRequest
from corthex.domain.results import Usage

CHARS_PER_TOKEN = 3  # conservative for mixed Korean/English text: estimates err high
OUTPUT_SHARE = 0.5  # expected share of max_output_tokens actually written


def day_start(now: float, timezone: str) -> float:
    """Unix time of today's midnight in `timezone` (e.g. Asia/Seoul, not the server's UTC)."""
    local = datetime.fromtimestamp(now, ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


@dataclass(frozen=True)
class Estimate:
    usd: float  #: of the requests whose model has a price
    unpriced: frozenset[str]  #: "provider model" of each model without a known price


def estimate(requests: Iterable[LLMRequest], *, realtime: bool = False) -> Estimate:
    """Estimated cost of sending `requests`, and the models it could not price."""
    total = 0.0
    unpriced: set[str] = set()
    for request in requests:
        if not has_price(request.provider, request.model):
            unpriced.add(f"{request.provider} model {request.model!r}")
            continue
        chars = len(request.system or "") + sum(len(m.content) for m in request.messages)
        usage = Usage(
            input_tokens=chars // CHARS_PER_TOKEN + 1,
            output_tokens=int((request.max_output_tokens or 1024) * OUTPUT_SHARE),
        )
        price = realtime_cost if realtime else batch_cost
        total += price(request.provider, request.model, usage) or 0.0
    return Estimate(total, frozenset(unpriced))
