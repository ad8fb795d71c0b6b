"""OpenAIProvider through `openai.AsyncOpenAI` against the emulator."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sdk_support import ERROR_HOOK, collect, items, wait_ended

from corthex.domain.batches import RemoteState
from corthex.domain.requests import Message, ProviderName
from corthex.domain.results import ResultStatus
from corthex.emulator import Fault
from corthex.errors import ProviderError
from corthex.providers import WireItem

OPENAI = ProviderName.OPENAI


async def test_round_trip(openai_provider, emulator, tmp_path):
    batch = items(OPENAI, 5)
    ref = await openai_provider.submit("oa-round-trip", "gpt-5-mini", batch)
    assert ref.extra["input_file_id"]
    status = await wait_ended(openai_provider, ref)
    assert status.state is RemoteState.ENDED and status.ended_as is None and status.total == 5
    rows = await collect(openai_provider, ref)
    assert {k: r.content.split("] ")[-1] for k, r in rows.items()} == {
        item.wire_id: item.request.messages[-1].content for item in batch
    }  # results come back shuffled; each lands on its own request
    assert all(r.status is ResultStatus.SUCCEEDED and r.content for r in rows.values())
    assert all(r.usage.input_tokens > 0 and r.usage.output_tokens > 0 for r in rows.values())
    assert list(tmp_path.iterdir()) == []  # the upload and the downloads are gone


async def test_upload_is_a_jsonl_file_named_for_the_key(openai_provider, emulator):
    await openai_provider.submit("oa-named", "gpt-5-mini", items(OPENAI, 1))
    uploads = [r for r in emulator.state.openai_requests if r["path"] == "/files"]
    assert uploads[-1]["multipart"]["filename"] == "oa-named.jsonl"


async def test_gpt5_batch_lines_are_accepted_W5(openai_provider):
    # The emulator refuses `max_tokens` for reasoning models, as the real API does.
    ref = await openai_provider.submit("oa-gpt5", "gpt-5-mini", items(OPENAI, 2))
    await wait_ended(openai_provider, ref)
    rows = await collect(openai_provider, ref)
    assert {r.status for r in rows.values()} == {ResultStatus.SUCCEEDED}


async def test_row_errors_come_from_the_error_file_W5(openai_provider, emulator):
    emulator.state.add_fault(Fault("openai", "create", "row_errors", every=2, times=1))
    batch = items(OPENAI, 4)
    bad = batch[0].request
    batch[0] = WireItem("w-bad", replace(bad, messages=(Message("user", ERROR_HOOK),)))
    ref = await openai_provider.submit("oa-row-errors", "gpt-5-mini", batch)
    await wait_ended(openai_provider, ref)
    rows = await collect(openai_provider, ref)
    assert len(rows) == 4
    assert rows["w-bad"].status is ResultStatus.FAILED and not rows["w-bad"].retryable
    server_errors = [r for r in rows.values() if r.retryable]
    assert server_errors and all(r.status is ResultStatus.FAILED for r in server_errors)
    assert any(r.status is ResultStatus.SUCCEEDED for r in rows.values())


async def test_expired_batch_keeps_partial_results(openai_provider, emulator):
    emulator.state.add_fault(Fault("openai", "create", "expire", fraction=0.5, times=1))
    ref = await openai_provider.submit("oa-expired", "gpt-5-mini", items(OPENAI, 6))
    status = await wait_ended(openai_provider, ref)
    assert status.state is RemoteState.ENDED and status.ended_as is ResultStatus.EXPIRED
    rows = await collect(openai_provider, ref)
    kinds = [r.status for r in rows.values()]
    assert ResultStatus.SUCCEEDED in kinds and ResultStatus.EXPIRED in kinds
    assert all(r.retryable for r in rows.values() if r.status is ResultStatus.EXPIRED)


async def test_cancel(openai_provider, emulator):
    emulator.state.add_fault(Fault("openai", "create", "never_end", times=1))
    ref = await openai_provider.submit("oa-cancel", "gpt-5-mini", items(OPENAI, 4))
    assert (await openai_provider.poll(ref)).state is RemoteState.RUNNING
    await openai_provider.cancel(ref)
    status = await wait_ended(openai_provider, ref)
    assert status.raw_status == "cancelled" and status.ended_as is ResultStatus.CANCELED
    rows = await collect(openai_provider, ref)
    assert len(rows) == 4
    assert ResultStatus.CANCELED in {r.status for r in rows.values()}


async def test_results_of_a_running_batch_are_refused(openai_provider, emulator):
    emulator.state.add_fault(Fault("openai", "create", "never_end", times=1))
    ref = await openai_provider.submit("oa-early", "gpt-5-mini", items(OPENAI, 2))
    with pytest.raises(ProviderError, match="still") as info:
        await collect(openai_provider, ref)
    assert info.value.retryable


async def test_failed_batch_over_the_token_limit_is_retryable(openai_provider, emulator):
    emulator.state.add_fault(Fault("openai", "create", "fail_batch", times=1))
    ref = await openai_provider.submit("oa-failed", "gpt-5-mini", items(OPENAI, 2))
    status = await wait_ended(openai_provider, ref)
    assert status.state is RemoteState.FAILED and status.retryable
    assert "token_limit_exceeded" in status.error


@pytest.mark.parametrize(("op", "status"), [("create", 429), ("upload", 500), ("retrieve", 503)])
async def test_http_faults_become_retryable_provider_errors(openai_provider, emulator, op, status):
    emulator.state.add_fault(Fault("openai", op, "http", status=status))
    with pytest.raises(ProviderError) as info:
        ref = await openai_provider.submit(f"oa-fault-{op}", "gpt-5-mini", items(OPENAI, 1))
        await openai_provider.poll(ref)
    assert info.value.retryable and info.value.status_code == status
    assert "emulator-test-key" not in str(info.value)


async def test_sdk_retries_a_passing_fault(openai_provider, emulator):
    ref = await openai_provider.submit("oa-retried", "gpt-5-mini", items(OPENAI, 1))
    before = emulator.state.stats()["openai"]["calls"].get("retrieve", 0)
    emulator.state.add_fault(Fault("openai", "retrieve", "http", status=429, retry_after=0.01, times=1))
    assert (await openai_provider.poll(ref)).raw_status
    assert emulator.state.stats()["openai"]["calls"]["retrieve"] == before + 2  # the 429, then the retry


async def test_create_is_never_retried_by_the_sdk(openai_provider, emulator):
    # a retried create after a timeout or a 5xx may be a second, paid batch: the engine looks first
    before = emulator.state.stats()["openai"]["calls"].get("create", 0)
    emulator.state.add_fault(Fault("openai", "create", "http", status=429, retry_after=0.01, times=1))
    with pytest.raises(ProviderError) as info:
        await openai_provider.submit("oa-once", "gpt-5-mini", items(OPENAI, 1))
    assert info.value.op == "create" and info.value.status_code == 429
    assert emulator.state.stats()["openai"]["calls"]["create"] == before + 1


async def test_find_adopts_a_batch_by_key(openai_provider):
    before = datetime.now(UTC)
    ref = await openai_provider.submit("oa-find-me", "gpt-5-mini", items(OPENAI, 1))
    found = await openai_provider.find("oa-find-me", before)
    assert found is not None and found.remote_id == ref.remote_id
    assert await openai_provider.find("oa-not-there", before) is None


async def test_one_model_per_batch(openai_provider):
    mixed = items(OPENAI, 2)
    mixed[1] = WireItem("w-x", replace(mixed[1].request, model="gpt-4o"))
    with pytest.raises(ValueError, match="batch model"):
        await openai_provider.submit("oa-mixed", "gpt-5-mini", mixed)


async def test_complete(openai_provider):
    row = await openai_provider.complete(items(OPENAI, 1)[0].request)
    assert row.wire_id == "q0" and row.status is ResultStatus.SUCCEEDED and row.content


async def test_complete_reports_a_refused_request_as_a_failed_result(openai_provider):
    request = replace(items(OPENAI, 1)[0].request, messages=(Message("user", ERROR_HOOK),))
    row = await openai_provider.complete(request)
    assert row.status is ResultStatus.FAILED and not row.retryable


async def test_malformed_answer_is_a_retryable_provider_error(openai_provider, emulator):
    ref = await openai_provider.submit("oa-malformed", "gpt-5-mini", items(OPENAI, 1))
    emulator.state.add_fault(Fault("openai", "retrieve", "malformed"))
    with pytest.raises(ProviderError) as info:
        await openai_provider.poll(ref)
    assert info.value.retryable
