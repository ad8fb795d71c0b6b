"""Batch planning: grouping by provider/model and splitting by limits (seed bug 3)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from corthex.domain.limits import LIMITS, ProviderLimits
from corthex.domain.planning import PlanItem, plan_batches
from corthex.domain.requests import ProviderName

OPENAI, ANTHROPIC, GEMINI = ProviderName.OPENAI, ProviderName.ANTHROPIC, ProviderName.GEMINI


def item(i: int, provider: ProviderName, model: str, size: int = 100) -> PlanItem:
    return PlanItem(f"r{i}", provider, model, size)


def test_mixed_queue_goes_to_each_provider_seed_bug_3() -> None:
    items = [
        item(0, ANTHROPIC, "claude-sonnet-4-6"),
        item(1, OPENAI, "gpt-5-mini"),
        item(2, GEMINI, "gemini-2.5-flash"),
        item(3, ANTHROPIC, "claude-haiku-4-5"),
    ]
    plans = {p.provider: p for p in plan_batches(items)}
    assert set(plans) == {OPENAI, ANTHROPIC, GEMINI}
    assert plans[ANTHROPIC].request_ids == ["r0", "r3"] and plans[ANTHROPIC].model is None
    assert plans[OPENAI].request_ids == ["r1"] and plans[OPENAI].model == "gpt-5-mini"


def test_openai_and_gemini_get_one_model_per_batch() -> None:
    items = [
        item(0, OPENAI, "gpt-5-mini"),
        item(1, OPENAI, "gpt-5.2"),
        item(2, OPENAI, "gpt-5-mini"),
        item(3, GEMINI, "gemini-2.5-flash"),
        item(4, GEMINI, "gemini-2.5-pro"),
    ]
    plans = plan_batches(items)
    assert sorted((p.provider.value, p.model, tuple(p.request_ids)) for p in plans) == [
        ("gemini", "gemini-2.5-flash", ("r3",)),
        ("gemini", "gemini-2.5-pro", ("r4",)),
        ("openai", "gpt-5-mini", ("r0", "r2")),
        ("openai", "gpt-5.2", ("r1",)),
    ]


def test_splits_at_the_request_count_limit() -> None:
    items = [item(i, OPENAI, "gpt-5-mini", 10) for i in range(120_001)]
    sizes = [len(p.request_ids) for p in plan_batches(items)]
    assert sizes == [50_000, 50_000, 20_001]


def test_splits_at_the_byte_limit() -> None:
    limits = {**LIMITS, ANTHROPIC: ProviderLimits(100, 1000, False, 1000)}
    items = [item(i, ANTHROPIC, "claude-sonnet-4-6", 300) for i in range(7)]
    plans = plan_batches(items, limits)
    assert [len(p.request_ids) for p in plans] == [3, 3, 1]
    assert all(p.size <= 1000 for p in plans)


providers = st.sampled_from([OPENAI, ANTHROPIC, GEMINI])
models = st.sampled_from(["m1", "m2", "m3"])
small_limits = {p: ProviderLimits(5, 1000, p is not ANTHROPIC, 1000) for p in (OPENAI, ANTHROPIC, GEMINI)}


@given(st.lists(st.tuples(providers, models, st.integers(1, 1000)), max_size=200))
def test_every_request_lands_in_exactly_one_batch_within_limits(spec: list[tuple[ProviderName, str, int]]) -> None:
    items = [PlanItem(f"r{i}", p, m, s) for i, (p, m, s) in enumerate(spec)]
    plans = plan_batches(items, small_limits)
    placed = [rid for plan in plans for rid in plan.request_ids]
    assert sorted(placed) == sorted(i.request_id for i in items)
    by_id = {i.request_id: i for i in items}
    for plan in plans:
        limit = small_limits[plan.provider]
        assert len(plan.request_ids) <= limit.max_requests and plan.size <= limit.max_bytes
        assert all(by_id[r].provider is plan.provider for r in plan.request_ids)
        if limit.one_model_per_batch:
            assert {by_id[r].model for r in plan.request_ids} == {plan.model}


def test_openai_embedding_batches_hold_at_most_50000_inputs() -> None:
    """OpenAI: "`/v1/embeddings` batches are also restricted to a maximum of 50,000 embedding inputs
    across all requests in the batch": three requests of 20,000 texts cannot share one batch."""
    items = [PlanItem(f"r{i}", OPENAI, "text-embedding-3-small", 100, inputs=20_000) for i in range(3)]
    plans = plan_batches(items)
    assert [p.request_ids for p in plans] == [["r0", "r1"], ["r2"]]
    assert [p.inputs for p in plans] == [40_000, 20_000]


def test_one_text_requests_still_split_at_50000() -> None:
    items = [PlanItem(f"r{i}", OPENAI, "text-embedding-3-small", 10) for i in range(49_999)]
    items.append(PlanItem("list", OPENAI, "text-embedding-3-small", 10, inputs=2))
    plans = plan_batches(items)
    assert [len(p.request_ids) for p in plans] == [49_999, 1]
    assert all(p.inputs <= 50_000 for p in plans)


def test_other_providers_count_no_embedding_inputs() -> None:
    items = [PlanItem(f"r{i}", ANTHROPIC, "claude-sonnet-4-6", 10, inputs=40_000) for i in range(3)]
    assert [len(p.request_ids) for p in plan_batches(items)] == [3]


def test_gemini_batches_hold_at_most_100000_lines_counting_each_text() -> None:
    """Gemini embeddings go as one file line per text, so a batch's 100,000 requests are lines: three
    list inputs of 40,000 texts go out as two batches; a chat request counts one line."""
    items = [PlanItem(f"e{i}", GEMINI, "gemini-embedding-001", 100, inputs=40_000) for i in range(3)]
    plans = plan_batches(items)
    assert [p.request_ids for p in plans] == [["e0", "e1"], ["e2"]]
    chats = [PlanItem(f"c{i}", GEMINI, "gemini-2.5-flash", 10) for i in range(100_001)]
    assert [len(p.request_ids) for p in plan_batches(chats)] == [100_000, 1]
