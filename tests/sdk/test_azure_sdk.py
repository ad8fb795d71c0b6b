"""Azure OpenAI in the emulator through the openai SDK's own Azure client (`AsyncAzureOpenAI`, the
api-version form) and the v1 form, and the `azure` adapter over both (docs/wire/platforms.md §1)."""

from __future__ import annotations

import io
import json

import httpx
import openai
import pytest
from sdk_support import collect, wait_ended

from corthex.domain.batches import RemoteState
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.results import ResultStatus
from corthex.emulator import EmulatorServer, Fault
from corthex.errors import ProviderError
from corthex.providers import WireItem
from corthex.providers.azure import AzureProvider

VERSION = "2025-04-01-preview"
DEPLOYMENT = "gpt5mini-batch"


def _lines(n: int, model: str = DEPLOYMENT) -> bytes:
    rows = [
        {
            "custom_id": f"task-{i}",
            "method": "POST",
            "url": "/chat/completions",
            "body": {"model": model, "messages": [{"role": "user", "content": f"안녕하세요 {i}번"}]},
        }
        for i in range(n)
    ]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


@pytest.fixture
async def azure(emulator: EmulatorServer):
    client = openai.AsyncAzureOpenAI(
        azure_endpoint=f"{emulator.url}/azure", api_key="azure-test-key", api_version=VERSION, max_retries=0
    )
    yield client
    await client.close()


def _azure_requests(emulator: EmulatorServer) -> list[dict]:
    return emulator.state.compat["azure"].openai_requests


async def _wait(client: openai.AsyncOpenAI, batch_id: str) -> openai.types.Batch:
    for _ in range(300):
        batch = await client.batches.retrieve(batch_id)
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            return batch
        import asyncio

        await asyncio.sleep(0.05)
    raise AssertionError("the batch did not end")


async def test_the_azure_client_uploads_creates_polls_and_reads_results(azure, emulator):
    upload = await azure.files.create(file=("in.jsonl", io.BytesIO(_lines(3))), purpose="batch")
    batch = await azure.batches.create(input_file_id=upload.id, endpoint="/chat/completions", completion_window="24h")
    done = await _wait(azure, batch.id)
    assert done.status == "completed" and done.request_counts.completed == 3
    output = (await azure.files.content(done.output_file_id)).text
    rows = [json.loads(line) for line in output.splitlines()]
    assert {r["custom_id"] for r in rows} == {"task-0", "task-1", "task-2"}
    assert all("id" not in r for r in rows)  # Azure's lines carry no top-level id
    assert all("content_filter_results" in r["response"]["body"]["choices"][0] for r in rows)
    assert done.error_file_id and (await azure.files.content(done.error_file_id)).content == b""  # 0 bytes
    sent = _azure_requests(emulator)
    assert {r["key_header"] for r in sent} == {"api-key"}  # the SDK's Azure client sends `api-key`
    assert sent[0]["sent_path"] == "/azure/openai/files" and sent[0]["query"] == {"api-version": VERSION}
    assert not any(r["path"] == "/files" for r in emulator.state.openai_requests)  # Azure's state is its own


async def test_a_request_without_the_key_is_refused_as_azure_refuses_it(emulator):
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{emulator.url}/azure/openai/batches", params={"api-version": VERSION})
        wrong = await client.get(f"{emulator.url}/azure/openai/v1/batches", headers={"api-key": "bad-key"})
    assert answer.status_code == 401 and wrong.status_code == 401
    assert answer.json()["error"]["code"] == "401" and "Access denied" in answer.json()["error"]["message"]


async def test_more_requests_than_azure_takes_fail_with_too_many_tasks(azure, emulator):
    state = emulator.state.compat["azure"]
    assert state.config.openai_max_tasks == 100_000  # Azure's limit; a small one keeps the test cheap
    state.config.openai_max_tasks = 4
    try:
        upload = await azure.files.create(file=("big.jsonl", io.BytesIO(_lines(5))), purpose="batch")
        batch = await azure.batches.create(
            input_file_id=upload.id, endpoint="/chat/completions", completion_window="24h"
        )
        done = await _wait(azure, batch.id)
    finally:
        state.config.openai_max_tasks = 100_000
    assert done.status == "failed" and done.errors.data[0].code == "too_many_tasks"
    assert "limit is 4" in done.errors.data[0].message


async def test_only_the_24h_window_is_taken(azure):
    upload = await azure.files.create(file=("in.jsonl", io.BytesIO(_lines(1))), purpose="batch")
    with pytest.raises(openai.BadRequestError):
        await azure.batches.create(input_file_id=upload.id, endpoint="/chat/completions", completion_window="48h")


def _items(n: int) -> list[WireItem]:
    return [
        WireItem(
            f"w{i}", LLMRequest(f"c{i}", "gpt-5-mini", ProviderName.AZURE, (Message("user", f"요약해 주세요 {i}"),))
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("form", ["api-version", "v1"])
async def test_the_adapter_sends_the_deployment_and_reads_azure_lines(form, emulator, tmp_path, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", f"{emulator.url}/azure")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-test-key")
    monkeypatch.setenv("CORTHEX_AZURE_DEPLOYMENTS", json.dumps({"gpt-5-mini": DEPLOYMENT}))
    if form == "v1":
        monkeypatch.delenv("OPENAI_API_VERSION", raising=False)
    else:
        monkeypatch.setenv("OPENAI_API_VERSION", VERSION)
    _azure_requests(emulator).clear()
    provider = AzureProvider(tmp_path)
    try:
        ref = await provider.submit(f"az-{form}", "gpt-5-mini", _items(3))
        status = await wait_ended(provider, ref)
        assert status.state is RemoteState.ENDED
        rows = await collect(provider, ref)
    finally:
        await provider.aclose()
    assert {r.status for r in rows.values()} == {ResultStatus.SUCCEEDED} and len(rows) == 3
    sent = _azure_requests(emulator)
    create = [r for r in sent if r["path"] == "/batches" and r["method"] == "POST"][-1]
    assert create["json"]["completion_window"] == "24h"
    assert {r["key_header"] for r in sent} == ({"authorization"} if form == "v1" else {"api-key"})
    prefix = "/azure/openai/v1/" if form == "v1" else "/azure/openai/"
    assert create["sent_path"] == prefix + "batches"
    upload = emulator.state.compat["azure"].openai.batches[ref.remote_id].input_path.read_text(encoding="utf-8")
    assert {json.loads(line)["body"]["model"] for line in upload.splitlines()} == {DEPLOYMENT}


async def test_a_batch_over_the_token_quota_is_retried_later(emulator, tmp_path, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", f"{emulator.url}/azure")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-test-key")
    monkeypatch.setenv("CORTHEX_AZURE_DEPLOYMENTS", json.dumps({"gpt-5-mini": DEPLOYMENT}))
    emulator.state.compat["azure"].add_fault(Fault("openai", "create", "fail_batch", times=1))
    provider = AzureProvider(tmp_path)
    try:
        ref = await provider.submit("az-quota", "gpt-5-mini", _items(1))
        status = await wait_ended(provider, ref)
    finally:
        await provider.aclose()
    assert status.state is RemoteState.FAILED and status.retryable and "token_limit_exceeded" in status.error


async def test_a_create_refused_for_the_token_quota_is_retryable(emulator, tmp_path, monkeypatch):
    """Azure's "fail fast" regions answer the create itself 400 token_limit_exceeded."""
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", f"{emulator.url}/azure")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-test-key")
    provider = AzureProvider(tmp_path)
    request = httpx.Request("POST", "http://x/openai/batches")
    body = {"error": {"code": "token_limit_exceeded", "message": "enqueued tokens over the limit"}}
    exc = openai.BadRequestError("token_limit_exceeded", response=httpx.Response(400, request=request), body=body)
    error = provider._provider_error("create", exc)
    assert isinstance(error, ProviderError) and error.retryable and not error.setup
