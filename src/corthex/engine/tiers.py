"""Single calls on a faster tier: many requests sent through the providers' realtime APIs (or
OpenAI's flex processing where the model takes it), bounded per provider, with 429 and retry-after
honoured by tenacity. The deadline work moves a late batch's requests here; realtime jobs and chain
steps run here too.

Each answer says which tier served it (`FinalResult.tier`) and is priced at that tier: flex at the
batch rates, realtime at the full price (docs/providers.md, tiers).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from corthex.domain.capabilities import tier_for
from corthex.domain.outcomes import Retry, settle
from corthex.domain.results import (
    ErrorType,
    FinalResult,
    ProviderResult,
    ResultError,
    ResultStatus,
    error_type_of_status,
)
from corthex.domain.tiers import Tier
from corthex.engine.context import EngineContext
from corthex.errors import ProviderError
from corthex.providers._common import told_wait
from corthex.providers.base import WireItem

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TierPolicy:
    """How single calls are retried. A 429 or a 5xx is asked again up to `call_attempts` times,
    waiting what the answer said (retry-after), else an exponential backoff with jitter; a
    retryable failed answer (a cut or invalid structured answer) goes out again while the
    request's attempts (`RetryPolicy.max_attempts`) remain."""

    call_attempts: int = 8
    backoff: float = 0.5  #: the first wait when the answer says none (doubles, with jitter)
    backoff_max: float = 30.0
    #: the longest wait taken from a retry-after (a longer one is capped: the call is asked again then)
    told_max: float = 120.0
    #: a flex call still refused after its attempts (429 resource unavailable) goes realtime
    flex_then_realtime: bool = True


DEFAULT_POLICY = TierPolicy()


async def send_on_tier(
    ctx: EngineContext, items: Iterable[WireItem], tier: Tier, *, policy: TierPolicy = DEFAULT_POLICY
) -> AsyncIterator[FinalResult]:
    """Send every item as a single call on `tier` (flex or realtime) and yield each final result
    as soon as it is in, in any order (`request_id` is the item's `wire_id`). At most
    `settings.provider_concurrency` calls are in flight per provider (`ctx.limit`). Never raises
    for a request: a call that cannot be made is a failed result."""
    if tier is Tier.BATCH:
        raise ValueError("send_on_tier sends single calls: tier must be flex or realtime")
    tasks = [asyncio.ensure_future(answer_on_tier(ctx, item, tier, policy=policy)) for item in items]
    try:
        for next_done in asyncio.as_completed(tasks):
            yield await next_done
    finally:
        for task in tasks:
            task.cancel()  # the consumer stopped early: calls not yet answered are not sent


async def answer_on_tier(
    ctx: EngineContext, item: WireItem, tier: Tier, *, policy: TierPolicy = DEFAULT_POLICY
) -> FinalResult:
    """One request's final result on `tier` (flex falls back to realtime where the model has no
    flex, or, with `policy.flex_then_realtime`, when flex stays unavailable)."""
    request = item.request
    for attempt in range(1, ctx.retry_policy.max_attempts + 1):
        row = await _answered_row(ctx, item, tier, policy)
        outcome = settle(
            row,
            provider=request.provider,
            model=request.model,
            attempts=attempt,
            job_canceled=False,
            policy=ctx.retry_policy,
            realtime=row.tier is not Tier.FLEX,  # flex is priced at the batch rates
            schema=request.json_schema,
            one_vector=request.embed_single,
        )
        if not isinstance(outcome, Retry):
            return dataclasses.replace(outcome, tier=row.tier or Tier.REALTIME)
        log.warning("%s call for %s asked again: %s", tier, item.wire_id, outcome.reason)
        await asyncio.sleep(min(ctx.retry_policy.submit_backoff * attempt, 10))
    raise AssertionError("settle() returns a final result once attempts run out")


async def _answered_row(ctx: EngineContext, item: WireItem, tier: Tier, policy: TierPolicy) -> ProviderResult:
    asked = tier_for(item.request.provider, item.request.model, tier)
    row = await call_with_retries(ctx, item, asked, policy)
    if asked is Tier.FLEX and policy.flex_then_realtime and _refused(row):
        log.warning("flex stayed unavailable for %s: sent realtime", item.wire_id)
        row = await call_with_retries(ctx, item, Tier.REALTIME, policy)
    return row


def _refused(row: ProviderResult) -> bool:
    """Flex refused: no capacity (429), overloaded or timed out (5xx: Gemini's flex is "sheddable"), or not for
    this model (400: which Gemini models take flex is UNVERIFIED). Realtime answers the same
    request or fails it the same way: at worst one call more."""
    return row.status is ResultStatus.FAILED and row.error is not None and row.error.type in _FLEX_REFUSALS


_FLEX_REFUSALS = (
    ErrorType.RATE_LIMIT,
    ErrorType.OVERLOADED,
    ErrorType.TIMEOUT,
    ErrorType.SERVER_ERROR,
    ErrorType.INVALID_REQUEST,
)


async def call_with_retries(ctx: EngineContext, item: WireItem, tier: Tier, policy: TierPolicy) -> ProviderResult:
    """One call, asked again on a 429, a 5xx or a dropped connection as tenacity decides, waiting
    what the answer said. The provider's slot (`ctx.limit`) is held only while a call is out, not
    while waiting. Once the attempts are used, the last failure is a failed row."""
    provider = ctx.provider(item.request.provider)
    retrying = AsyncRetrying(
        retry=retry_if_exception(_worth_again),
        wait=_wait_as_told(policy),
        stop=stop_after_attempt(policy.call_attempts),
        reraise=True,
        before_sleep=_log_wait,
    )
    try:
        async for attempt in retrying:
            with attempt:
                async with ctx.limit(item.request.provider.value):
                    row = await provider.complete(item.request, tier=tier)
    except ProviderError as exc:
        kind = error_type_of_status(exc.status_code) if exc.status_code else ErrorType.SERVER_ERROR
        error = ResultError(kind, str(exc), exc.retryable and not exc.setup, code="provider_error")
        return ProviderResult(item.wire_id, ResultStatus.FAILED, error=error, tier=tier)
    return dataclasses.replace(row, wire_id=item.wire_id, tier=row.tier or tier)


def _worth_again(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.retryable and not exc.setup


def _wait_as_told(policy: TierPolicy) -> Callable[[RetryCallState], float]:
    """retry-after when the answer gave one (waited once: never added to a backoff), else an
    exponential backoff with jitter."""
    backoff = wait_exponential_jitter(initial=policy.backoff, max=policy.backoff_max)

    def wait(retry_state: RetryCallState) -> float:
        failed = retry_state.outcome.exception() if retry_state.outcome else None
        told = told_wait(failed) if failed is not None else None
        return min(told, policy.told_max) if told is not None else backoff(retry_state)

    return wait


def _log_wait(retry_state: RetryCallState) -> None:
    failed = retry_state.outcome.exception() if retry_state.outcome else None
    wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
    log.info("single call refused (%s): asked again in %.2fs", failed, wait)
