"""The daily budget: the day's start in the configured time zone, and cost estimates (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from corthex.domain.capabilities import for_request
from corthex.domain.content import Part, PartType
from corthex.domain.pricing import batch_cost, has_price, realtime_cost
from corthex.domain.requests import LLMRequest
from corthex.domain.results import Usage

CHARS_PER_TOKEN = 3  # conservative for mixed Korean/English text: estimates err high
OUTPUT_SHARE = 0.5  # expected share of max_output_tokens actually written
#: The output cap an estimate assumes when the request sets none. Not the model's maximum, which
#: the Anthropic adapter sends as `max_tokens` (64,000-128,000): an estimate on it would be
#: 60-125 times the answers' usual cost and refuse every job under a daily budget.
TYPICAL_OUTPUT_TOKENS = 1024


def day_start(now: float, timezone: str) -> float:
    """Unix time of today's midnight in `timezone` (e.g. Asia/Seoul, not the server's UTC)."""
    local = datetime.fromtimestamp(now, ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def expected_output_tokens(request: LLMRequest) -> int:
    """Output tokens an estimate counts: a share of the request's cap (a typical answer's when
    it sets none), never more than the model can write."""
    cap = request.max_output_tokens or TYPICAL_OUTPUT_TOKENS
    largest = for_request(request).max_output_tokens
    return int(min(cap, largest or cap) * OUTPUT_SHARE)


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
        usage = Usage(input_tokens=input_tokens_estimate(request), output_tokens=expected_output_tokens(request))
        price = realtime_cost if realtime else batch_cost
        total += price(request.provider, request.model, usage) or 0.0
    return Estimate(total, frozenset(unpriced))


#: an image costs up to ~1,600 input tokens (Anthropic: width x height / 750, resized to at most
#: 1.15 megapixels; OpenAI's high detail and Gemini's 258 per tile are in the same range)
IMAGE_TOKENS = 1_600
#: a PDF costs ~1,500-3,000 tokens a page (text and the page's image); a page of a typical PDF
#: takes ~60 KB: one token for every ~30 bytes, and 3,000 when only its URL is known
DOCUMENT_BYTES_PER_TOKEN = 30
DOCUMENT_URL_TOKENS = 3_000


def input_tokens_estimate(request: LLMRequest) -> int:
    """Input tokens a request is expected to take: its text, its tools' schemas, its media."""
    chars = len(request.system or "") + sum(len(m.text) for m in request.messages)
    chars += sum(len(str(t.to_json())) for t in request.tools)
    media = sum(_media_tokens(p) for m in request.messages for p in m.parts if p.type is not PartType.TEXT)
    return chars // CHARS_PER_TOKEN + media + 1


def _media_tokens(part: Part) -> int:
    if part.type is PartType.IMAGE:
        return IMAGE_TOKENS
    if part.data is None:
        return DOCUMENT_URL_TOKENS
    return len(part.data) * 3 // 4 // DOCUMENT_BYTES_PER_TOKEN  # base64: 4 characters per 3 bytes


@dataclass(frozen=True)
class BudgetStatus:
    """Today's money against the daily budget: the one reading behind Telegram's /budget, the
    REST /costs, the dashboard's meter and the check before every submission.

    left = budget - spent - held: what open jobs will still cost is held back, so a second
    submission sees the first before any of its results has landed. A submission is refused
    when its estimate exceeds what is left."""

    timezone: str
    budget: float | None  #: the daily budget (None: no budget set)
    spent: float  #: actual cost of today's results (today in `timezone`)
    held: float  #: the estimated cost still to come of open jobs

    @property
    def left(self) -> float | None:
        """What a new submission may still cost today (negative: over budget)."""
        return None if self.budget is None else self.budget - self.spent - self.held

    def refuses(self, needed: float) -> bool:
        """Whether a submission estimated at `needed` would go over the budget."""
        left = self.left
        return left is not None and needed > left


@dataclass(frozen=True)
class CostBreakdown:
    """What was spent in a time range, summed by provider, by model and by department (chain
    agents' department; "jobs" for requests outside chains), largest first."""

    by_provider: dict[str, float]
    by_model: dict[str, float]
    by_department: dict[str, float]


def cost_breakdown(groups: Iterable[tuple[str, str, str | None, float]]) -> CostBreakdown:
    """Sum (provider, model, department or None, cost) groups into a `CostBreakdown`."""
    sums: tuple[dict[str, float], dict[str, float], dict[str, float]] = ({}, {}, {})
    for provider, model, department, cost in groups:
        for table, key in zip(sums, (provider, model, department or "jobs"), strict=True):
            table[key] = table.get(key, 0.0) + cost

    def largest_first(table: dict[str, float]) -> dict[str, float]:
        return dict(sorted(table.items(), key=lambda kv: (-kv[1], kv[0])))

    return CostBreakdown(*(largest_first(t) for t in sums))
