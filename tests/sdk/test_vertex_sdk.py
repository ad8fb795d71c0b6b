"""Vertex AI batch prediction through google-genai (`vertexai=True`) against the emulator under
/vertex, its input and output in a local Cloud Storage (gcp-storage-emulator): the SDK's own
calls on v1 and v1beta1, and the adapter's whole round trip (docs/wire/platforms.md §3)."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from google import genai
from google.genai import types
from google.oauth2.credentials import Credentials

from corthex.domain.batches import RemoteState
from corthex.domain.registry import ProviderName
from corthex.domain.requests import LLMRequest, Message
from corthex.domain.results import ResultStatus
from corthex.emulator import EmulatorServer
from corthex.emulator.storage import BUCKET
from corthex.errors import ProviderError
from corthex.providers.base import WireItem
from corthex.providers.gcs import GcsClient, GsUri
from corthex.providers.vertex import VertexProvider
from corthex.providers.wire.vertex import id_labels, wire_id_of

pytestmark = pytest.mark.usefixtures("vertex_env")
VERTEX = ProviderName("vertex")
PROJECT, LOCATION = "corthex-emulator", "us-central1"


def sdk_client(emulator: EmulatorServer, version: str, token: str = "emulator-vertex-token") -> genai.Client:
    """As a user writes it in a test: a static token (AnonymousCredentials cannot be refreshed)."""
    return genai.Client(
        vertexai=True,
        project=PROJECT,
        location=LOCATION,
        credentials=Credentials(token=token),  # type: ignore[no-untyped-call]
        http_options=types.HttpOptions(base_url=f"{emulator.url}/vertex", api_version=version),
    )


def item(index: int, text: str, wire_id: str | None = None) -> WireItem:
    request = LLMRequest(
        custom_id=f"r{index}", provider=VERTEX, model="gemini-2.5-flash", messages=(Message("user", text),)
    )
    return WireItem(wire_id or f"w{index}", request)


async def put_input(lines: list[dict[str, object]], name: str) -> str:
    storage = GcsClient(os.environ["STORAGE_EMULATOR_HOST"])
    try:
        await storage.upload(GsUri(BUCKET, name), b"".join(orjson.dumps(line) + b"\n" for line in lines))
    finally:
        await storage.aclose()
    return f"gs://{BUCKET}/{name}"


async def wait_ended(client: genai.Client, name: str) -> types.BatchJob:
    for _ in range(200):
        job = await client.aio.batches.get(name=name)
        if job.state in (types.JobState.JOB_STATE_SUCCEEDED, types.JobState.JOB_STATE_CANCELLED):
            return job
        await asyncio.sleep(0.02)
    raise AssertionError(f"{name} did not end")


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
async def test_the_sdk_creates_gets_lists_and_reads_predictions_from_cloud_storage(
    emulator: EmulatorServer, version: str
) -> None:
    line = {"request": {"contents": [{"role": "user", "parts": [{"text": "서울의 날씨를 알려 주세요"}]}]}}
    source = await put_input([line], f"sdk-{version}/input.jsonl")
    client = sdk_client(emulator, version)
    dest = f"gs://{BUCKET}/sdk-{version}/out"
    job = await client.aio.batches.create(
        model="gemini-2.5-flash", src=source, config={"dest": dest, "display_name": "키"}
    )
    assert job.name and job.name.startswith(f"projects/{PROJECT}/locations/{LOCATION}/batchPredictionJobs/")
    assert job.model == "publishers/google/models/gemini-2.5-flash"  # the SDK expands a neutral id
    ended = await wait_ended(client, job.name)
    assert ended.output_info is not None and ended.output_info.gcs_output_directory
    out_dir = ended.output_info.gcs_output_directory
    assert out_dir.startswith(f"{dest}/prediction-model-")
    storage = GcsClient(os.environ["STORAGE_EMULATOR_HOST"])
    try:
        rows = (await storage.read(GsUri.parse(f"{out_dir}/predictions.jsonl"))).splitlines()
    finally:
        await storage.aclose()
    row = orjson.loads(rows[0])
    assert row["status"] == "" and row["request"] == line["request"]  # the request is echoed
    assert row["response"]["candidates"][0]["content"]["parts"][0]["text"]
    listed = [j.name async for j in await client.aio.batches.list(config={"page_size": 5})]
    assert job.name in listed


async def test_the_sdk_cancels_a_running_job(emulator: EmulatorServer) -> None:
    emulator.state.config.update({"base_seconds": 60.0})
    try:
        line = {"request": {"contents": [{"role": "user", "parts": [{"text": "취소될 요청"}]}]}}
        source = await put_input([line], "cancel/input.jsonl")
        client = sdk_client(emulator, "v1")
        job = await client.aio.batches.create(model="gemini-2.5-flash", src=source, config={"dest": f"gs://{BUCKET}/c"})
        assert job.name
        await client.aio.batches.cancel(name=job.name)
        ended = await wait_ended(client, job.name)
        assert ended.state == types.JobState.JOB_STATE_CANCELLED
    finally:
        emulator.state.config.update({"base_seconds": 0.5})


async def test_the_adapter_round_trips_korean_requests_keyed_by_labels(tmp_path: Path) -> None:
    provider = VertexProvider(tmp_path)
    long_id = "Ab" * 32  # 64 characters with capitals: more than one label value can hold
    items = [item(0, "안녕하세요, 첫 번째 질문입니다"), item(1, "두 번째 질문", long_id), item(2, "세 번째")]
    try:
        ref = await provider.submit("vertex-key-1", "gemini-2.5-flash", items)
        assert ref.extra["input_file"] == f"gs://{BUCKET}/vertex/vertex-key-1/input.jsonl"
        for _ in range(200):
            status = await provider.poll(ref)
            if status.state is not RemoteState.RUNNING:
                break
            await asyncio.sleep(0.02)
        assert status.state is RemoteState.ENDED and status.raw_status == "JOB_STATE_SUCCEEDED"
        results = {r.wire_id: r async for r in provider.results(ref)}
        assert set(results) == {"w0", long_id, "w2"}  # out of input order, mapped by the labels alone
        assert all(r.status is ResultStatus.SUCCEEDED and r.content and r.usage for r in results.values())
        found = await provider.find("vertex-key-1", datetime.now(UTC))
        assert found is not None and found.remote_id == ref.remote_id
    finally:
        await provider.aclose()


async def test_a_refused_token_is_a_setup_error_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORTHEX_VERTEX_ACCESS_TOKEN", "bad-key")  # the emulator refuses it: 401
    provider = VertexProvider(tmp_path)
    try:
        with pytest.raises(ProviderError) as refused:
            await provider.submit("vertex-key-2", "gemini-2.5-flash", [item(0, "거절될 요청")])
    finally:
        await provider.aclose()
    assert refused.value.setup and refused.value.status_code == 401
    assert "CORTHEX_VERTEX_ACCESS_TOKEN" in str(refused.value)


def test_a_wire_id_survives_the_label_rules() -> None:
    for wire_id in ("w0", "Ab" * 32, "a-b_C-9"):
        labels = id_labels(wire_id)
        assert all(len(v) <= 63 and v == v.lower() for v in labels.values())
        assert all(ch.isalnum() or ch in "_-" for v in labels.values() for ch in v)
        assert wire_id_of({"user": "x", **labels}) == wire_id
    assert wire_id_of({"user": "x"}) is None
