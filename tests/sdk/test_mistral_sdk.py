"""Mistral batch through the official `mistralai` SDK against the emulator's `/mistral` routes:
the SDK's own calls (upload, create, poll, list, output file, cancel, a refused key), then our
adapter (`MistralProvider`) over the same SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from mistralai.client import Mistral
from mistralai.client.errors import MistralError
from sdk_support import collect, wait_ended

from corthex.domain.batches import RemoteState
from corthex.domain.registry import ProviderName
from corthex.domain.requests import LLMRequest, Message
from corthex.domain.results import FinishReason, ResultStatus
from corthex.emulator import EmulatorServer, Fault
from corthex.errors import ProviderError
from corthex.providers import WireItem
from corthex.providers.mistral import MistralProvider
from corthex.providers.wire.mistral import to_wire, wire_size
from corthex.testing import wait_until

MISTRAL = ProviderName("mistral")
MODEL = "mistral-small-latest"
KOREAN = "이 리뷰를 긍정 또는 부정으로 분류해 주세요: 배송이 빨라서 좋았어요"


@pytest.fixture
async def client(emulator: EmulatorServer) -> AsyncIterator[Mistral]:
    emulator.state.reset()
    async with Mistral(api_key="emulator-mistral-key", server_url=f"{emulator.url}/mistral") as sdk:
        yield sdk


@pytest.fixture
async def provider(tmp_path, client: Mistral) -> MistralProvider:
    return MistralProvider(tmp_path, client=client)


def korean_items(n: int, prefix: str = "m") -> list[WireItem]:
    first = {"system": "짧게 답하세요.", "temperature": 0.2, "max_output_tokens": 200, "seed": 7}
    return [
        WireItem(
            f"{prefix}-{i}",
            LLMRequest(f"q{i}", MODEL, MISTRAL, (Message("user", f"{KOREAN} {i}"),), **(first if i == 0 else {})),
        )
        for i in range(n)
    ]


def jsonl(rows: list[dict[str, object]]) -> bytes:
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)


async def job_ended(client: Mistral, job_id: str) -> str:
    async def ended() -> str | None:
        job = await client.batch.jobs.get_async(job_id=job_id)
        return None if job.status in ("QUEUED", "RUNNING", "CANCELLATION_REQUESTED") else str(job.status)

    status: str = await wait_until(ended, within=15, what=f"job {job_id} to end")
    return status


# --- the SDK on its own ------------------------------------------------------------------------


async def test_the_sdk_uploads_creates_polls_and_downloads_the_output_file(client: Mistral) -> None:
    lines = [{"custom_id": "0", "body": {"max_tokens": 50, "messages": [{"role": "user", "content": KOREAN}]}}]
    upload = await client.files.upload_async(file={"file_name": "b.jsonl", "content": jsonl(lines)}, purpose="batch")
    assert upload.purpose == "batch" and upload.num_lines == 1
    job = await client.batch.jobs.create_async(
        input_files=[upload.id], model=MODEL, endpoint="/v1/chat/completions", metadata={"k": "v"}, timeout_hours=24
    )
    assert job.status == "QUEUED" and job.metadata == {"k": "v"} and job.input_files == [upload.id]
    assert await job_ended(client, job.id) == "SUCCESS"
    done = await client.batch.jobs.get_async(job_id=job.id)
    assert (done.total_requests, done.succeeded_requests, done.failed_requests) == (1, 1, 0)
    assert done.output_file and done.error_file is None
    listed = await client.batch.jobs.list_async(page=0, page_size=10)
    assert [j.id for j in listed.data] == [job.id] and listed.total == 1
    response = await client.files.download_async(file_id=done.output_file)
    row = orjson.loads((await response.aread()).splitlines()[0])
    assert row["custom_id"] == "0" and row["response"]["status_code"] == 200
    body = row["response"]["body"]
    assert body["object"] == "chat.completion" and body["model"] == MODEL and body["choices"][0]["message"]["content"]
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}


async def test_the_sdk_cancels_a_running_job(client: Mistral, emulator: EmulatorServer) -> None:
    emulator.state.add_fault(Fault("mistral", "create", "never_end", times=1))
    lines = [{"custom_id": str(i), "body": {"messages": [{"role": "user", "content": KOREAN}]}} for i in range(3)]
    upload = await client.files.upload_async(file={"file_name": "c.jsonl", "content": jsonl(lines)}, purpose="batch")
    job = await client.batch.jobs.create_async(input_files=[upload.id], model=MODEL, endpoint="/v1/chat/completions")
    cancelling = await client.batch.jobs.cancel_async(job_id=job.id)
    assert cancelling.status in ("CANCELLATION_REQUESTED", "CANCELLED")
    assert await job_ended(client, job.id) == "CANCELLED"
    emulator.state.clear_faults()


async def test_a_refused_key_is_a_401_from_the_sdk(emulator: EmulatorServer) -> None:
    async with Mistral(api_key="bad-key", server_url=f"{emulator.url}/mistral") as sdk:
        with pytest.raises(MistralError) as caught:
            await sdk.batch.jobs.list_async()
    assert caught.value.status_code == 401 and "Unauthorized" in caught.value.body


async def test_openai_names_in_a_line_are_refused_per_request(client: Mistral) -> None:
    """Mistral's chat body takes `max_tokens` and `random_seed`, not OpenAI's names (422 in the error file)."""
    good = {"max_tokens": 20, "random_seed": 1, "messages": [{"role": "user", "content": KOREAN}]}
    bad = {"max_completion_tokens": 20, "messages": [{"role": "user", "content": KOREAN}]}
    lines = [{"custom_id": "good", "body": good}, {"custom_id": "bad", "body": bad}]
    upload = await client.files.upload_async(file={"file_name": "d.jsonl", "content": jsonl(lines)}, purpose="batch")
    job = await client.batch.jobs.create_async(input_files=[upload.id], model=MODEL, endpoint="/v1/chat/completions")
    await job_ended(client, job.id)
    done = await client.batch.jobs.get_async(job_id=job.id)
    assert (done.succeeded_requests, done.failed_requests) == (1, 1) and done.error_file
    errors = await client.files.download_async(file_id=done.error_file)
    row = orjson.loads(await errors.aread())
    assert row["custom_id"] == "bad" and row["response"]["status_code"] == 422


# --- the adapter -------------------------------------------------------------------------------


async def test_the_adapter_round_trip_in_korean(provider: MistralProvider, emulator: EmulatorServer, tmp_path) -> None:
    batch = korean_items(4)
    ref = await provider.submit("mi-round-trip", MODEL, batch)
    assert ref.extra["input_file_id"] and ref.extra["wire_bytes"] == sum(wire_size(i) for i in batch)
    status = await wait_ended(provider, ref)
    assert status.state is RemoteState.ENDED and status.raw_status == "SUCCESS" and status.total == 4
    rows = await collect(provider, ref)
    assert set(rows) == {item.wire_id for item in batch}
    assert all(r.status is ResultStatus.SUCCEEDED and r.content for r in rows.values())
    assert all(r.finish_reason is FinishReason.STOP and r.model == MODEL for r in rows.values())
    assert all(r.usage.input_tokens > 0 and r.usage.output_tokens > 0 for r in rows.values())
    created = emulator.state.counters.snapshot()["mistral"]["batches"]
    assert created[-1]["metadata"] == {"corthex_key": "mi-round-trip"}
    assert list(tmp_path.iterdir()) == []  # the upload and the downloads are gone


def test_a_line_is_custom_id_and_a_mistral_chat_body() -> None:
    line = to_wire(korean_items(1)[0])
    assert set(line) == {"custom_id", "body"}
    body = line["body"]
    assert "model" not in body and body["max_tokens"] == 200 and body["random_seed"] == 7
    assert "max_completion_tokens" not in body and "seed" not in body
    assert body["messages"] == [
        {"role": "system", "content": "짧게 답하세요."},
        {"role": "user", "content": f"{KOREAN} 0"},
    ]


async def test_find_adopts_the_job_created_with_the_key(provider: MistralProvider) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    ref = await provider.submit("mi-find", MODEL, korean_items(1))
    await provider.submit("mi-other", MODEL, korean_items(1))
    found = await provider.find("mi-find", before)
    assert found is not None and found.remote_id == ref.remote_id
    assert await provider.find("mi-never-created", before) is None


async def test_cancel_ends_the_job_as_canceled(provider: MistralProvider, emulator: EmulatorServer) -> None:
    emulator.state.add_fault(Fault("mistral", "create", "never_end", times=1))
    ref = await provider.submit("mi-cancel", MODEL, korean_items(3))
    await provider.cancel(ref)
    status = await wait_ended(provider, ref)  # the fault holds it until then (cleared after the test)
    assert status.raw_status == "CANCELLED" and status.ended_as is ResultStatus.CANCELED


async def test_a_refused_key_is_a_setup_error_naming_the_variable(tmp_path, emulator: EmulatorServer) -> None:
    async with Mistral(api_key="bad-key", server_url=f"{emulator.url}/mistral") as sdk:
        provider = MistralProvider(tmp_path, client=sdk)
        with pytest.raises(ProviderError) as caught:
            await provider.submit("mi-bad-key", MODEL, korean_items(1))
    assert caught.value.setup and not caught.value.retryable
    assert caught.value.status_code == 401 and "MISTRAL_API_KEY" in str(caught.value)


async def test_complete_answers_through_the_realtime_chat(provider: MistralProvider) -> None:
    result = await provider.complete(korean_items(1)[0].request)
    assert result.status is ResultStatus.SUCCEEDED and result.content and result.usage.output_tokens > 0
