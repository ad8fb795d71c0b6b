"""One vocabulary across providers (issue 16 item 5), through each official SDK.

The same fault injected on each provider (a per-request 400 with `[[emulator:error]]`, a server
error row with the `row_errors` fault) comes back in three different raw codes and must read as
the same neutral `error.type`; batch statuses (`completed`, `ended`, `JOB_STATE_SUCCEEDED`, …)
map to one `BatchState`, the raw word kept beside it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sdk_support import ERROR_HOOK, MODELS, collect, items, wait_ended

from corthex.domain.batches import BatchState, RemoteState
from corthex.domain.requests import Message, ProviderName
from corthex.domain.results import ResultStatus
from corthex.emulator import Fault
from corthex.providers import WireItem, batch_state

ONE_MODEL = {ProviderName.OPENAI: MODELS[ProviderName.OPENAI], ProviderName.GEMINI: MODELS[ProviderName.GEMINI]}


@pytest.fixture
def providers(openai_provider, anthropic_provider, gemini_provider):
    return {
        ProviderName.OPENAI: openai_provider,
        ProviderName.ANTHROPIC: anthropic_provider,
        ProviderName.GEMINI: gemini_provider,
    }


@pytest.mark.parametrize("provider", list(MODELS))
async def test_the_same_faults_read_the_same_on_every_provider(providers, emulator, provider):
    adapter = providers[provider]
    emulator.state.add_fault(Fault(provider.value, "create", "row_errors", every=3, times=1))
    batch = items(provider, 4)
    batch[0] = WireItem("w-bad", replace(batch[0].request, messages=(Message("user", f"잘못된 요청 {ERROR_HOOK}"),)))
    ref = await adapter.submit(f"vocab-{provider}", ONE_MODEL.get(provider), batch)
    status = await wait_ended(adapter, ref)
    assert status.state is RemoteState.ENDED
    assert batch_state(provider, status.raw_status, status.ended_as) is BatchState.COMPLETED, status.raw_status
    rows = await collect(adapter, ref)

    bad = rows["w-bad"]
    assert bad.status is ResultStatus.FAILED and not bad.retryable
    assert bad.error.type == "invalid_request", bad.error
    assert bad.error.code and bad.error.code != "invalid_request"  # the provider's own code, kept
    server = [r for r in rows.values() if r.status is ResultStatus.FAILED and r.retryable]
    assert server and {r.error.type for r in server} == {"server_error"}, [r.error for r in server]


@pytest.mark.parametrize("provider", list(MODELS))
async def test_a_canceled_batch_reads_canceled_on_every_provider(providers, emulator, provider):
    adapter = providers[provider]
    emulator.state.add_fault(Fault(provider.value, "create", "never_end", times=1))
    ref = await adapter.submit(f"vocab-cancel-{provider}", ONE_MODEL.get(provider), items(provider, 3))
    running = await adapter.poll(ref)
    assert batch_state(provider, running.raw_status) in (
        BatchState.QUEUED,
        BatchState.VALIDATING,
        BatchState.IN_PROGRESS,
    )
    await adapter.cancel(ref)
    status = await wait_ended(adapter, ref)
    assert batch_state(provider, status.raw_status, status.ended_as) is BatchState.CANCELED, status.raw_status
    rows = await collect(adapter, ref)
    not_run = [r for r in rows.values() if r.status is ResultStatus.CANCELED]
    assert not_run and {r.error.type for r in not_run} == {"canceled"}
