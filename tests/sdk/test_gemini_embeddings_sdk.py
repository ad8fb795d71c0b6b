"""Gemini batch embeddings through `google.genai.Client(...).aio` against the emulator (issue 14):
an uploaded file of `{"key", "request": {"content", "output_dimensionality"?}}` lines sent with the
SDK's `batches.create_embeddings` (experimental: its warning silenced at the call), the batch's
lifecycle and output file, and the adapter's lines and regrouping (one result per request)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import orjson
import pytest
from google.genai import errors as genai_errors
from google.genai import types
from google.genai._common import ExperimentalWarning
from sdk_support import collect, make_gemini_client, wait_ended

from corthex.domain.batches import RemoteState
from corthex.domain.requests import LLMRequest, ProviderName
from corthex.domain.results import ResultStatus
from corthex.providers import GeminiProvider, WireItem
from corthex.providers.gemini_embeddings import Regrouper, from_embedding
from corthex.testing import wait_until

MODEL = "gemini-embedding-001"
SEOUL, BUSAN = "서울은 한국의 수도입니다", "부산은 항구 도시입니다"


def embed(wire_id: str, texts: str | list[str], dimensions: int | None = None) -> WireItem:
    single = isinstance(texts, str)
    inputs = (texts,) if isinstance(texts, str) else tuple(texts)
    request = LLMRequest(
        wire_id, MODEL, ProviderName.GEMINI, (), embed_input=inputs, embed_single=single, dimensions=dimensions
    )
    return WireItem(wire_id, request)


def norm(vector: list[float]) -> float:
    return math.sqrt(math.fsum(v * v for v in vector))


async def create_embeddings(client, file_name: str, model: str = MODEL) -> types.BatchJob:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        return await client.aio.batches.create_embeddings(
            model=model, src={"file_name": file_name}, config={"display_name": "ko-embed"}
        )


async def test_an_sdk_embeddings_batch_answers_keyed_unit_vectors_of_the_asked_length(
    gemini_client, tmp_path: Path
) -> None:
    lines = [
        {"key": "a", "request": {"content": {"parts": [{"text": SEOUL}]}, "output_dimensionality": 256}},
        {"key": "b", "request": {"content": {"parts": [{"text": BUSAN}]}}},
        {"key": "bad", "request": {"content": {"parts": [{"text": SEOUL}]}, "output_dimensionality": 5000}},
    ]
    path = tmp_path / "embed.jsonl"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    upload = await gemini_client.aio.files.upload(file=path, config={"mime_type": "application/jsonl"})
    job = await create_embeddings(gemini_client, upload.name)
    assert job.name.startswith("batches/") and job.display_name == "ko-embed"

    async def ended():
        current = await gemini_client.aio.batches.get(name=job.name)
        return current if current.done else None

    done = await wait_until(ended, within=15, what="the embeddings batch to end")
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED and done.dest.file_name
    text = (await gemini_client.aio.files.download(file=done.dest.file_name)).decode()
    rows = {row["key"]: row for row in map(orjson.loads, text.splitlines())}
    a, b = rows["a"]["response"]["embedding"]["values"], rows["b"]["response"]["embedding"]["values"]
    assert (len(a), len(b)) == (256, 3072)  # output_dimensionality honoured; else the default
    assert math.isclose(norm(a), 1.0, rel_tol=1e-9) and math.isclose(norm(b), 1.0, rel_tol=1e-9)
    assert "output_dimensionality" in rows["bad"]["error"]["message"] and "response" not in rows["bad"]


async def test_a_model_that_does_not_embed_is_refused(gemini_client, tmp_path: Path) -> None:
    path = tmp_path / "embed.jsonl"
    path.write_bytes(orjson.dumps({"key": "a", "request": {"content": {"parts": [{"text": SEOUL}]}}}) + b"\n")
    upload = await gemini_client.aio.files.upload(file=path, config={"mime_type": "application/jsonl"})
    with pytest.raises(genai_errors.ClientError) as caught:
        await create_embeddings(gemini_client, upload.name, model="gemini-2.5-flash")
    assert caught.value.code == 404 and "asyncBatchEmbedContent" in str(caught.value.message)


async def test_the_adapter_sends_one_line_per_text_and_regroups_after_a_restart(
    gemini_client, emulator, tmp_path: Path
) -> None:
    batch = [embed("w-1", SEOUL), embed("w-2", [SEOUL, BUSAN, SEOUL], dimensions=128)]
    ref = await GeminiProvider(tmp_path, client=gemini_client, inline=True).submit("gm-embed", MODEL, batch)
    assert ref.extra["mode"] == "file" and ref.extra["lines"] == 4  # never inline: its answers have no key
    sent = emulator.state.gemini.requests(ref.remote_id)
    assert sent[1] == {"content": {"parts": [{"text": SEOUL}]}, "output_dimensionality": 128}
    # a new process (new client, new adapter) regroups from the keys alone
    client = make_gemini_client(emulator, gemini_client._api_client._http_options.api_version)
    try:
        fresh = GeminiProvider(tmp_path, client=client)
        assert (await wait_ended(fresh, ref)).state is RemoteState.ENDED
        rows = await collect(fresh, ref)
    finally:
        await client.aio.aclose()
        client.close()
    assert set(rows) == {"w-1", "w-2"} and all(r.status is ResultStatus.SUCCEEDED for r in rows.values())
    assert [len(v) for v in rows["w-1"].embedding] == [3072]
    vectors = rows["w-2"].embedding
    assert [len(v) for v in vectors] == [128, 128, 128] and vectors[0] == vectors[2] != vectors[1]
    assert rows["w-1"].usage is None  # the rows carry no count: the collector estimates it


def test_a_list_input_with_a_missing_row_fails_retryable_and_a_failed_row_fails_it_whole() -> None:
    regroup = Regrouper()
    row = {"embedding": {"values": [0.6, 0.8]}, "tokenCount": 7}
    assert regroup.add(from_embedding("w-1#0/2", row)) is None
    whole = regroup.add(from_embedding("w-1#1/2", row))
    assert whole is not None and whole.embedding == [[0.6, 0.8], [0.6, 0.8]] and whole.usage.input_tokens == 14
    assert regroup.add(from_embedding("w-2#1/3", row)) is None
    bad = regroup.add(from_embedding("w-2#0/3", {"embedding": {}}))
    assert bad is None
    [lost] = regroup.missing()
    assert lost.wire_id == "w-2" and lost.retryable and "1 of the request's 3 texts" in lost.error.message
