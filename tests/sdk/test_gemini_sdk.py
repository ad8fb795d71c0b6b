"""GeminiProvider through `google.genai.Client(...).aio` against the emulator, on v1 and v1beta
(the `gemini_client` fixture runs each test on both)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sdk_support import ERROR_HOOK, collect, items, make_gemini_client, wait_ended

from corthex.domain.batches import RemoteState
from corthex.domain.requests import Message, ProviderName
from corthex.domain.results import ResultStatus
from corthex.emulator import Fault
from corthex.errors import ProviderError
from corthex.providers import GeminiProvider, WireItem

GEMINI = ProviderName.GEMINI
MODEL = "gemini-2.5-flash"


@pytest.fixture
def file_provider(tmp_path, gemini_client) -> GeminiProvider:
    """Every batch goes as an uploaded file (the default)."""
    return GeminiProvider(tmp_path, client=gemini_client)


@pytest.fixture
def inline_provider(tmp_path, gemini_client) -> GeminiProvider:
    """Batches that fit go inline (the opt-in)."""
    return GeminiProvider(tmp_path, client=gemini_client, inline=True)


@pytest.mark.parametrize("mode", ["inline", "file"])
async def test_round_trip(gemini_client, tmp_path, mode):
    provider = GeminiProvider(tmp_path, client=gemini_client, inline=mode == "inline")
    batch = items(GEMINI, 5)
    ref = await provider.submit(f"gm-round-trip-{mode}", MODEL, batch)
    assert ref.extra["mode"] == mode and ref.remote_id.startswith("batches/")
    status = await wait_ended(provider, ref)
    assert status.state is RemoteState.ENDED and status.ended_as is None and status.total == 5
    rows = await collect(provider, ref)
    assert set(rows) == {item.wire_id for item in batch}
    assert all(r.status is ResultStatus.SUCCEEDED and r.content for r in rows.values())
    assert all(r.usage.input_tokens > 0 for r in rows.values())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mode", ["inline", "file"])
async def test_results_after_a_restart_W9(gemini_client, emulator, tmp_path, mode):
    first = GeminiProvider(tmp_path, client=gemini_client, inline=mode == "inline")
    batch = items(GEMINI, 6)
    ref = await first.submit(f"gm-restart-{mode}", MODEL, batch)
    # A new process: a new client and a new provider that never saw the submission.
    version = gemini_client._api_client._http_options.api_version
    client = make_gemini_client(emulator, version)
    try:
        fresh = GeminiProvider(tmp_path, client=client)
        await wait_ended(fresh, ref)
        rows = await collect(fresh, ref)
    finally:
        await client.aio.aclose()
        client.close()
    # Each answer lands on its own request: the emulator echoes the question.
    assert {k: r.content.split("] ")[-1] for k, r in rows.items()} == {
        f"w-{i}": f"question number {i}" for i in range(6)
    }


async def test_row_errors(file_provider, emulator):
    emulator.state.add_fault(Fault("gemini", "create", "row_errors", every=2, times=1))
    batch = items(GEMINI, 4)
    batch[0] = WireItem("w-bad", replace(batch[0].request, messages=(Message("user", ERROR_HOOK),)))
    ref = await file_provider.submit("gm-row-errors", MODEL, batch)
    await wait_ended(file_provider, ref)
    rows = await collect(file_provider, ref)
    assert rows["w-bad"].status is ResultStatus.FAILED and not rows["w-bad"].retryable
    assert any(r.status is ResultStatus.FAILED and r.retryable for r in rows.values())
    assert any(r.status is ResultStatus.SUCCEEDED for r in rows.values())


async def test_inline_row_errors(inline_provider, emulator):
    emulator.state.add_fault(Fault("gemini", "create", "row_errors", every=2, times=1))
    ref = await inline_provider.submit("gm-inline-errors", MODEL, items(GEMINI, 4))
    assert ref.extra["mode"] == "inline"
    await wait_ended(inline_provider, ref)
    rows = await collect(inline_provider, ref)
    assert {r.status for r in rows.values()} == {ResultStatus.SUCCEEDED, ResultStatus.FAILED}


async def test_expired_batch(file_provider, emulator):
    emulator.state.add_fault(Fault("gemini", "create", "expire", fraction=0.5, times=1))
    ref = await file_provider.submit("gm-expired", MODEL, items(GEMINI, 6))
    status = await wait_ended(file_provider, ref)
    assert status.state is RemoteState.ENDED and status.ended_as is ResultStatus.EXPIRED
    rows = await collect(file_provider, ref)
    assert ResultStatus.SUCCEEDED in {r.status for r in rows.values()}
    assert all(r.retryable for r in rows.values() if r.status is not ResultStatus.SUCCEEDED)


async def test_cancel(gemini_provider, emulator):
    emulator.state.add_fault(Fault("gemini", "create", "never_end", times=1))
    ref = await gemini_provider.submit("gm-cancel", MODEL, items(GEMINI, 4))
    assert (await gemini_provider.poll(ref)).state is RemoteState.RUNNING
    await gemini_provider.cancel(ref)
    status = await wait_ended(gemini_provider, ref)
    assert status.ended_as is ResultStatus.CANCELED
    rows = await collect(gemini_provider, ref)
    assert all(r.retryable for r in rows.values() if r.status is not ResultStatus.SUCCEEDED)


async def test_results_of_a_running_batch_are_refused(gemini_provider, emulator):
    emulator.state.add_fault(Fault("gemini", "create", "never_end", times=1))
    ref = await gemini_provider.submit("gm-early", MODEL, items(GEMINI, 2))
    with pytest.raises(ProviderError, match="still") as info:
        await collect(gemini_provider, ref)
    assert info.value.retryable


async def test_failed_batch_reports_the_operation_error(gemini_provider, emulator):
    emulator.state.add_fault(Fault("gemini", "create", "fail_batch", times=1))
    ref = await gemini_provider.submit("gm-failed", MODEL, items(GEMINI, 2))
    status = await wait_ended(gemini_provider, ref)
    assert status.state is RemoteState.FAILED and status.retryable  # quota: RESOURCE_EXHAUSTED
    assert "quota" in status.error


@pytest.mark.parametrize(("op", "status"), [("create", 429), ("retrieve", 500)])
async def test_http_faults_become_retryable_provider_errors(gemini_provider, emulator, op, status):
    emulator.state.add_fault(Fault("gemini", op, "http", status=status))
    with pytest.raises(ProviderError) as info:
        ref = await gemini_provider.submit(f"gm-fault-{op}", MODEL, items(GEMINI, 1))
        await gemini_provider.poll(ref)
    assert info.value.retryable and info.value.status_code == status


async def test_retry_options_ride_out_a_passing_fault(gemini_provider, emulator):
    ref = await gemini_provider.submit("gm-retried", MODEL, items(GEMINI, 1))
    before = emulator.state.stats()["gemini"]["calls"].get("retrieve", 0)
    emulator.state.add_fault(Fault("gemini", "retrieve", "http", status=503, times=2))
    assert (await gemini_provider.poll(ref)).raw_status
    assert emulator.state.stats()["gemini"]["calls"]["retrieve"] == before + 3  # two 503s, then the answer


async def test_create_is_never_retried_by_the_sdk(gemini_provider, emulator):
    # a retried create after a timeout or a 5xx may be a second, paid batch: the engine looks first
    before = emulator.state.stats()["gemini"]["calls"].get("create", 0)
    emulator.state.add_fault(Fault("gemini", "create", "http", status=503, times=2))
    with pytest.raises(ProviderError) as info:
        await gemini_provider.submit("gm-once", MODEL, items(GEMINI, 1))
    emulator.state.clear_faults()
    assert info.value.op == "create" and info.value.status_code == 503
    assert emulator.state.stats()["gemini"]["calls"]["create"] == before + 1


async def test_find_adopts_a_batch_by_display_name(gemini_provider):
    before = datetime.now(UTC)
    ref = await gemini_provider.submit("gm-find-me", MODEL, items(GEMINI, 1))
    found = await gemini_provider.find("gm-find-me", before)
    assert found is not None and found.remote_id == ref.remote_id
    assert await gemini_provider.find("gm-not-there", before) is None


async def test_complete(gemini_provider):
    row = await gemini_provider.complete(items(GEMINI, 1)[0].request)
    assert row.wire_id == "q0" and row.status is ResultStatus.SUCCEEDED and row.content


async def test_malformed_answer_is_a_retryable_provider_error(gemini_provider, emulator):
    ref = await gemini_provider.submit("gm-malformed", MODEL, items(GEMINI, 1))
    emulator.state.add_fault(Fault("gemini", "retrieve", "malformed"))
    with pytest.raises(ProviderError) as info:
        await gemini_provider.poll(ref)
    assert info.value.retryable
