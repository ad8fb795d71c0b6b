"""The daily budget, checked before every submission (jobs and chain steps alike).

What is left today is the budget less what today's results cost (in the budget's time zone) and
less what open jobs are still expected to cost (`BudgetStatus`, the same reading Telegram's
/budget and the REST /costs show); a submission is refused when its estimate exceeds it. The
estimate is recorded with the job, so a second submission sees the first one even before any
result has landed; as results land, actual cost replaces the estimate.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from corthex import clock
from corthex.domain.budget import BudgetStatus, day_start, estimate
from corthex.domain.requests import LLMRequest
from corthex.engine.context import EngineContext
from corthex.errors import UnpricedModel


@dataclass(frozen=True)
class BudgetCheck:
    status: BudgetStatus
    needed: float  #: the estimate of this submission

    @property
    def exceeded(self) -> bool:
        return self.status.refuses(self.needed)

    def explain(self, what: str) -> str:
        status = self.status
        return (
            f"the daily budget of {_usd(status.budget or 0.0)} ({status.timezone}) would be exceeded "
            f"(spent today ${status.spent:.4f}, still to come from open jobs ~${status.held:.4f}, "
            f"{what} ~${self.needed:.4f})"
        )


def _usd(amount: float) -> str:
    """Dollars and cents, or as many digits as a budget below a cent needs (not "$0.00")."""
    return f"${amount:.2f}" if amount >= 0.01 or amount == 0 else f"${amount:.6f}".rstrip("0")


async def check_budget(
    ctx: EngineContext, requests: Iterable[LLMRequest], *, realtime: bool = False
) -> BudgetCheck | None:
    """None when no budget is set. Call it inside `budget_guard` and record the job there."""
    settings = ctx.settings
    if settings.daily_budget_usd is None:
        return None
    expected = estimate(requests, realtime=realtime)
    if expected.unpriced:  # it would cost an unknown amount, counted as $0: the budget would not hold
        raise UnpricedModel(sorted(expected.unpriced))
    return BudgetCheck(await budget_status(ctx), expected.usd)


async def budget_status(ctx: EngineContext) -> BudgetStatus:
    """Today's spending, what open jobs hold, and what is left of the daily budget."""
    settings = ctx.settings
    return BudgetStatus(
        timezone=settings.timezone,
        budget=settings.daily_budget_usd,
        spent=await ctx.store.chains.spent_since(day_start(clock.now(), settings.timezone)),
        held=await ctx.store.chains.outstanding_estimate(),
    )


@contextlib.asynccontextmanager
async def budget_guard(ctx: EngineContext) -> AsyncIterator[None]:
    """Held from the check until the job is recorded, so submissions side by side see each other:
    in this process (a lock) and in every process on the same PostgreSQL (an advisory lock).
    Without a budget there is nothing to guard."""
    if ctx.settings.daily_budget_usd is None:
        yield
        return
    async with ctx.budget_lock, ctx.store.held("corthex.budget"):
        yield
