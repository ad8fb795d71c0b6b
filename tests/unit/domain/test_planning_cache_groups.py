"""Batch-aware prompt caching in planning (issue 17): requests sharing a cacheable prefix are
planned into the same batch, limits kept; an Anthropic cache group big enough primes one request
and holds the rest (pure)."""

from __future__ import annotations

from dataclasses import replace

from corthex.domain.cache_groups import CACHE_MIN_TOKENS, cache_group
from corthex.domain.limits import LIMITS, ProviderLimits
from corthex.domain.planning import PlanItem, plan_batches, priming
from corthex.domain.requests import LLMRequest, Message, ProviderName

ANTHROPIC, OPENAI = ProviderName.ANTHROPIC, ProviderName.OPENAI
SYSTEM = "너는 한국 법률 문서를 검토하는 전문가다. You review Korean legal documents carefully. " * 60


def request(n: int, system: str = SYSTEM, *, cache: bool = True, model: str = "claude-sonnet-4-6") -> LLMRequest:
    return LLMRequest(
        custom_id=f"문서-{n}",
        provider=ANTHROPIC,
        model=model,
        system=system,
        cache_system=cache,
        messages=(Message("user", f"계약서 {n}번을 요약하라"),),
    )


def test_the_cache_group_is_what_the_markers_mark_and_long_enough() -> None:
    first, second = cache_group(request(1)), cache_group(request(2))
    assert first is not None and first == second  # the same marked prefix, whatever the question
    assert cache_group(request(3, SYSTEM + " v2")) not in (None, first)
    assert cache_group(request(4, cache=False)) is None  # nothing marked
    assert cache_group(request(5, "짧은 지시")) is None  # shorter than any provider caches
    assert cache_group(request(6, model="claude-haiku-4-5")) != first  # a cache is per model
    assert len(SYSTEM.encode()) // 4 >= CACHE_MIN_TOKENS


def test_requests_sharing_a_prefix_land_in_the_same_batch() -> None:
    # interleaved groups a and b on a provider holding 4 requests a batch: a fills batches of its own
    four = {ANTHROPIC: ProviderLimits(4, 10**9, False, 10**9)}
    items = [PlanItem(f"r{i}", ANTHROPIC, "claude-sonnet-4-6", 10, cache_group="ab"[i % 2]) for i in range(8)]
    plans = plan_batches(items, four)
    groups = [{items[int(rid[1:])].cache_group for rid in plan.request_ids} for plan in plans]
    assert groups == [{"a"}, {"b"}]
    assert sorted(rid for plan in plans for rid in plan.request_ids) == sorted(i.request_id for i in items)
    assert all(len(plan.request_ids) <= 4 for plan in plans)


def test_a_large_anthropic_group_primes_one_request_and_holds_the_rest() -> None:
    items = [PlanItem(f"r{i}", ANTHROPIC, "claude-sonnet-4-6", 10, cache_group="g") for i in range(30)]
    items += [PlanItem(f"s{i}", ANTHROPIC, "claude-sonnet-4-6", 10, cache_group="small") for i in range(3)]
    items += [PlanItem(f"o{i}", OPENAI, "gpt-5-mini", 10, cache_group="g") for i in range(30)]
    primed = priming(items, lambda provider: provider == ANTHROPIC, min_requests=20)
    assert [p.request_id for p in primed.primers] == ["r0"]  # one per group; OpenAI and the small group do not
    assert primed.held == {"r0": [f"r{i}" for i in range(1, 30)]}


def test_a_group_that_waited_for_a_primer_once_is_never_primed_again() -> None:
    items = [PlanItem(f"r{i}", ANTHROPIC, "claude-sonnet-4-6", 10, cache_group="g") for i in range(30)]
    items[5] = replace(items[5], primed=True)
    assert not priming(items, lambda provider: True, min_requests=20).primers


def test_grouping_keeps_every_provider_limit() -> None:
    items = [PlanItem(f"r{i}", OPENAI, "gpt-5-mini", 1000, cache_group=str(i % 3)) for i in range(200)]
    for plan in plan_batches(items, LIMITS):
        assert LIMITS[OPENAI].fits(len(plan.request_ids), plan.size, plan.inputs)
