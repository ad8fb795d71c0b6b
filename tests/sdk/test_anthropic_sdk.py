"""AnthropicProvider through `anthropic.AsyncAnthropic` against the emulator."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sdk_support import ERROR_HOOK, collect, items, wait_ended

from corthex.domain.batches import RemoteState
from corthex.domain.pricing import batch_cost
from corthex.domain.requests import Message, ProviderName
from corthex.domain.results import ResultStatus
from corthex.emulator import Fault
from corthex.errors import ProviderError
from corthex.providers import AnthropicProvider, WireItem

ANTHROPIC = ProviderName.ANTHROPIC


async def test_round_trip_with_mixed_models(anthropic_provider, tmp_path):
    batch = items(ANTHROPIC, 4)
    batch[1] = WireItem("w-haiku", replace(batch[1].request, model="claude-haiku-4-5"))
    ref = await anthropic_provider.submit("an-round-trip", None, batch)
    status = await wait_ended(anthropic_provider, ref)
    assert status.state is RemoteState.ENDED and status.ended_as is None
    assert (status.total, status.done) == (4, 4)
    rows = await collect(anthropic_provider, ref)
    assert {k: r.content.split("] ")[-1] for k, r in rows.items()} == {
        item.wire_id: item.request.messages[-1].content for item in batch
    }  # results come back shuffled; each lands on its own request
    assert all(r.status is ResultStatus.SUCCEEDED and r.content for r in rows.values())
    assert rows["w-haiku"].model == "claude-haiku-4-5"
    assert list(tmp_path.iterdir()) == []


async def test_longest_wire_id_is_accepted_W4(anthropic_provider):
    # The emulator enforces Anthropic's ^[a-zA-Z0-9_-]{1,64}$ on custom_id.
    longest = "x" * 64
    ref = await anthropic_provider.submit("an-long-id", None, [replace(items(ANTHROPIC, 1)[0], wire_id=longest)])
    await wait_ended(anthropic_provider, ref)
    assert list(await collect(anthropic_provider, ref)) == [longest]


async def test_cached_system_prompt_counts_cache_tokens_in_input(anthropic_provider):
    system = "You are a careful analyst. " * 400
    request = replace(items(ANTHROPIC, 1)[0].request, system=system, cache_system=True)
    batch = [WireItem(f"w-{i}", replace(request, custom_id=f"q{i}")) for i in range(3)]
    ref = await anthropic_provider.submit("an-cache", None, batch)
    await wait_ended(anthropic_provider, ref)
    usages = [r.usage for r in (await collect(anthropic_provider, ref)).values()]
    assert sum(u.cache_write_tokens for u in usages) > 0 and sum(u.cached_tokens for u in usages) > 0
    assert all(u.input_tokens >= u.cached_tokens + u.cache_write_tokens for u in usages)


async def test_batch_cache_writes_use_the_1_hour_ttl_and_its_price(anthropic_provider):
    # a batch outlives the 5-minute cache: cache_control goes with ttl "1h", the API reports those
    # writes under cache_creation.ephemeral_1h_input_tokens, and they cost the 1-hour write price
    system = "당신은 신중한 분석가입니다. " * 400
    request = replace(items(ANTHROPIC, 1)[0].request, system=system, cache_system=True)
    batch = [WireItem(f"w-{i}", replace(request, custom_id=f"q{i}")) for i in range(2)]
    ref = await anthropic_provider.submit("an-cache-1h", None, batch)
    await wait_ended(anthropic_provider, ref)
    usages = [r.usage for r in (await collect(anthropic_provider, ref)).values()]
    writes = sum(u.cache_write_tokens for u in usages)
    assert writes > 0 and sum(u.cache_write_1h_tokens for u in usages) == writes
    written = next(u for u in usages if u.cache_write_tokens)
    five_minute = replace(written, cache_write_1h_tokens=0)
    one_hour = batch_cost(ANTHROPIC, request.model, written)
    assert one_hour > batch_cost(ANTHROPIC, request.model, five_minute)


async def test_row_errors(anthropic_provider, emulator):
    emulator.state.add_fault(Fault("anthropic", "create", "row_errors", every=2, times=1))
    batch = items(ANTHROPIC, 4)
    batch[0] = WireItem("w-bad", replace(batch[0].request, messages=(Message("user", ERROR_HOOK),)))
    ref = await anthropic_provider.submit("an-row-errors", None, batch)
    await wait_ended(anthropic_provider, ref)
    rows = await collect(anthropic_provider, ref)
    assert rows["w-bad"].status is ResultStatus.FAILED and not rows["w-bad"].retryable
    assert (rows["w-bad"].error.type, rows["w-bad"].error.code) == ("invalid_request", "invalid_request_error")
    assert any(r.status is ResultStatus.FAILED and r.retryable for r in rows.values())
    assert any(r.status is ResultStatus.SUCCEEDED for r in rows.values())


async def test_expired_batch_keeps_partial_results(anthropic_provider, emulator):
    emulator.state.add_fault(Fault("anthropic", "create", "expire", fraction=0.5, times=1))
    ref = await anthropic_provider.submit("an-expired", None, items(ANTHROPIC, 6))
    status = await wait_ended(anthropic_provider, ref)
    assert status.ended_as is ResultStatus.EXPIRED
    kinds = [r.status for r in (await collect(anthropic_provider, ref)).values()]
    assert ResultStatus.SUCCEEDED in kinds and ResultStatus.EXPIRED in kinds and len(kinds) == 6


async def test_cancel(anthropic_provider, emulator):
    emulator.state.add_fault(Fault("anthropic", "create", "never_end", times=1))
    ref = await anthropic_provider.submit("an-cancel", None, items(ANTHROPIC, 4))
    assert (await anthropic_provider.poll(ref)).state is RemoteState.RUNNING
    await anthropic_provider.cancel(ref)
    status = await wait_ended(anthropic_provider, ref)
    assert status.ended_as is ResultStatus.CANCELED
    rows = await collect(anthropic_provider, ref)
    assert len(rows) == 4 and ResultStatus.CANCELED in {r.status for r in rows.values()}
    assert all(r.retryable for r in rows.values() if r.status is ResultStatus.CANCELED)


@pytest.mark.parametrize(("op", "status"), [("create", 429), ("retrieve", 500)])
async def test_http_faults_become_retryable_provider_errors(anthropic_provider, emulator, op, status):
    emulator.state.add_fault(Fault("anthropic", op, "http", status=status))
    with pytest.raises(ProviderError) as info:
        ref = await anthropic_provider.submit(f"an-fault-{op}", None, items(ANTHROPIC, 1))
        await anthropic_provider.poll(ref)
    assert info.value.retryable and info.value.status_code == status


async def test_results_fault_is_retryable(anthropic_provider, emulator):
    ref = await anthropic_provider.submit("an-results-fault", None, items(ANTHROPIC, 2))
    await wait_ended(anthropic_provider, ref)
    emulator.state.add_fault(Fault("anthropic", "results", "http", status=500))
    with pytest.raises(ProviderError) as info:
        await collect(anthropic_provider, ref)
    assert info.value.retryable


async def test_find_adopts_by_creation_window_and_count(anthropic_provider):
    before = datetime.now(UTC)
    ref = await anthropic_provider.submit("an-find", None, items(ANTHROPIC, 7))
    found = await anthropic_provider.find("an-find", before, expected_count=7)
    assert found is not None and found.remote_id == ref.remote_id
    assert await anthropic_provider.find("an-find", before, expected_count=8) is None


async def test_find_refuses_to_guess_between_two_fits_and_leaves_out_recorded_ones(anthropic_provider):
    """The list call shows no custom_id: two batches of the same size in the window are
    ambiguous (neither adopted); leaving out the one already recorded settles it."""
    before = datetime.now(UTC)
    first = await anthropic_provider.submit("an-twin-1", None, items(ANTHROPIC, 9))
    second = await anthropic_provider.submit("an-twin-2", None, items(ANTHROPIC, 9))
    assert await anthropic_provider.find("an-twin-2", before, expected_count=9) is None
    found = await anthropic_provider.find("an-twin-2", before, expected_count=9, exclude={first.remote_id})
    assert found is not None and found.remote_id == second.remote_id


async def test_results_after_a_restart(anthropic_client, tmp_path):
    ref = await AnthropicProvider(tmp_path, client=anthropic_client).submit("an-restart", None, items(ANTHROPIC, 3))
    fresh = AnthropicProvider(tmp_path, client=anthropic_client)
    await wait_ended(fresh, ref)
    assert set(await collect(fresh, ref)) == {"w-0", "w-1", "w-2"}


async def test_complete(anthropic_provider):
    row = await anthropic_provider.complete(items(ANTHROPIC, 1)[0].request)
    assert row.wire_id == "q0" and row.status is ResultStatus.SUCCEEDED and row.content


async def test_complete_with_json_schema(anthropic_provider):
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    request = replace(items(ANTHROPIC, 1)[0].request, json_schema=schema)
    row = await anthropic_provider.complete(request)
    assert row.status is ResultStatus.SUCCEEDED and row.content.lstrip().startswith("{")


async def test_malformed_answer_is_a_retryable_provider_error(anthropic_provider, emulator):
    ref = await anthropic_provider.submit("an-malformed", None, items(ANTHROPIC, 1))
    emulator.state.add_fault(Fault("anthropic", "retrieve", "malformed"))
    with pytest.raises(ProviderError) as info:
        await anthropic_provider.poll(ref)
    assert info.value.retryable


async def test_results_of_a_running_batch_are_refused(anthropic_provider, emulator):
    emulator.state.add_fault(Fault("anthropic", "create", "never_end", times=1))
    ref = await anthropic_provider.submit("an-early", None, items(ANTHROPIC, 2))
    with pytest.raises(ProviderError, match="still") as info:
        await collect(anthropic_provider, ref)
    assert info.value.retryable
