"""Single calls (realtime and flex) as the providers serve them under load: a rate limit per model
answering 429 with each provider's retry-after, flex slower than realtime and sometimes refused
(429 resource unavailable), and the calls in flight counted (docs/providers.md, tiers and rate
limits). Settings in EmulatorConfig: rate_limits, rate_window_seconds, realtime_seconds,
flex_seconds, flex_unavailable.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import Response

from corthex.emulator.config import EmulatorConfig
from corthex.emulator.errors import EmulatorError, RawResponse

REALTIME, FLEX = "realtime", "flex"


class SingleCalls:
    """The calls seen per (provider, model) in the current window, and what tests read back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], deque[float]] = {}
        self.in_flight: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.answered: dict[str, dict[str, int]] = {}  #: provider -> tier -> answers
        self.refused: dict[str, int] = {}  #: provider -> 429s for the rate limit
        self.unavailable: dict[str, int] = {}  #: provider -> flex calls refused (resource unavailable)

    @asynccontextmanager
    async def serving(
        self, config: EmulatorConfig, provider: str, model: str, tier: str, now: float
    ) -> AsyncIterator[None]:
        """Admit one call (or raise its 429), hold it for its tier's latency, count it in flight."""
        self._admit(config, provider, model, tier, now)
        with self._lock:
            self.in_flight[provider] = self.in_flight.get(provider, 0) + 1
            self.peak[provider] = max(self.peak.get(provider, 0), self.in_flight[provider])
        try:
            delay = config.flex_seconds if tier == FLEX else config.realtime_seconds
            if delay > 0:
                await asyncio.sleep(delay)
            yield
            with self._lock:
                tiers = self.answered.setdefault(provider, {})
                tiers[tier] = tiers.get(tier, 0) + 1
        finally:
            with self._lock:
                self.in_flight[provider] -= 1

    def _admit(self, config: EmulatorConfig, provider: str, model: str, tier: str, now: float) -> None:
        if tier == FLEX and config.flex_unavailable > 0 and config.rng.random() < config.flex_unavailable:
            with self._lock:
                self.unavailable[provider] = self.unavailable.get(provider, 0) + 1
            raise flex_unavailable(provider)
        limit = rate_limit(config, provider, model)
        if limit is None:
            return
        window = config.rate_window_seconds
        with self._lock:
            seen = self._seen.setdefault((provider, model), deque())
            while seen and seen[0] <= now - window:
                seen.popleft()
            if len(seen) < limit:
                seen.append(now)
                return
            wait = max(seen[0] + window - now, 0.001)
            self.refused[provider] = self.refused.get(provider, 0) + 1
        raise rate_limited(provider, model, limit, window, wait, now)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "in_flight": dict(self.in_flight),
                "peak": dict(self.peak),
                "answered": {p: dict(t) for p, t in self.answered.items()},
                "refused": dict(self.refused),
                "unavailable": dict(self.unavailable),
            }


def rate_limit(config: EmulatorConfig, provider: str, model: str) -> int | None:
    name = model.removeprefix("models/")
    return config.rate_limits.get(f"{provider}/{name}", config.rate_limits.get(name))


def rate_limited(provider: str, model: str, limit: int, window: float, wait: float, now: float) -> Exception:
    """The provider's own 429 (docs/providers.md, rate limits)."""
    if provider in ("gemini", "vertex"):
        return RawResponse(_gemini_exhausted(model, limit, wait))
    if provider == "anthropic":
        seconds = math.ceil(wait)  # Anthropic's retry-after is whole seconds
        reset = datetime.fromtimestamp(now + wait, UTC).isoformat().replace("+00:00", "Z")
        headers = {
            "retry-after": str(seconds),
            "anthropic-ratelimit-requests-limit": str(limit),
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": reset,
        }
        message = f"This request would exceed the rate limit for your organization of {limit} requests per minute."
        return EmulatorError(provider, 429, message, headers=headers)
    headers = {
        "retry-after": f"{wait:.3f}",
        "retry-after-ms": str(math.ceil(wait * 1000)),
        "x-ratelimit-limit-requests": str(limit),
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": f"{wait:.3f}s",
    }
    message = (
        f"Rate limit reached for {model} in organization org-emulator on requests per min (RPM): "
        f"Limit {limit}, Used {limit}, Requested 1. Please try again in {wait:.3f}s."
    )
    return EmulatorError(provider, 429, message, code="rate_limit_exceeded", headers=headers)


def _gemini_exhausted(model: str, limit: int, wait: float) -> Response:
    """429 RESOURCE_EXHAUSTED with a QuotaFailure and a RetryInfo (no retry-after header)."""
    quota = {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [
            {
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_requests",
                "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                "quotaDimensions": {"model": model.removeprefix("models/")},
                "quotaValue": str(limit),
            }
        ],
    }
    retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{math.ceil(wait)}s"}
    message = f"You exceeded your current quota. Please retry in {wait:.3f}s."
    body = {"error": {"code": 429, "message": message, "status": "RESOURCE_EXHAUSTED", "details": [quota, retry]}}
    return Response(orjson.dumps(body), 429, media_type="application/json")


def flex_unavailable(provider: str) -> EmulatorError:
    """OpenAI's flex refusal: "429 Resource Unavailable", not charged (the body's wording and code
    are ours: UNVERIFIED)."""
    message = "Resource unavailable: flex processing has no capacity for this request now. Try again later."
    return EmulatorError(provider, 429, message, code="resource_unavailable")
