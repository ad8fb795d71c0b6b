"""Embeddings through `openai.AsyncOpenAI` against the emulator (issue 14): `/v1/embeddings` batch
lines as the SDK uploads them and as the adapter writes them, their answers read back into vectors,
the realtime call, and the API's refusals (model, input, dimensions)."""

from __future__ import annotations

import math
from pathlib import Path

import openai
import orjson
from sdk_support import collect, wait_ended

from corthex.domain.requests import LLMRequest, ProviderName
from corthex.domain.results import ResultStatus
from corthex.emulator import openai_batches
from corthex.providers import WireItem
from corthex.testing import wait_until

OPENAI = ProviderName.OPENAI
KOREAN = ["서울은 한국의 수도입니다", "부산은 항구 도시입니다"]


def embed(custom_id: str, texts: str | list[str], model: str = "text-embedding-3-small", **kw) -> LLMRequest:
    single = isinstance(texts, str)
    inputs = (texts,) if isinstance(texts, str) else tuple(texts)
    return LLMRequest(custom_id, model, OPENAI, (), embed_input=inputs, embed_single=single, **kw)


def line(custom_id: str, body: dict) -> bytes:
    return orjson.dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/embeddings", "body": body}) + b"\n"


async def sdk_batch(client: openai.AsyncOpenAI, tmp_path: Path, lines: list[bytes]) -> dict[str, dict]:
    """Upload, create on /v1/embeddings, wait, and read both files: the rows by custom_id."""
    path = tmp_path / "embeddings.jsonl"
    path.write_bytes(b"".join(lines))
    upload = await client.files.create(file=path, purpose="batch")
    batch = await client.batches.create(input_file_id=upload.id, endpoint="/v1/embeddings", completion_window="24h")

    async def ended():
        current = await client.batches.retrieve(batch.id)
        return current if current.status in ("completed", "failed", "expired") else None

    done = await wait_until(ended, within=15, what="the embeddings batch to end")
    assert done.status == "completed", done.errors
    rows = {}
    for file_id in (done.output_file_id, done.error_file_id):
        if file_id:
            text = (await client.files.content(file_id)).text
            rows.update((row["custom_id"], row) for row in map(orjson.loads, text.splitlines()))
    return rows


async def test_an_sdk_embeddings_batch_answers_unit_vectors_of_the_asked_length(openai_client, tmp_path) -> None:
    rows = await sdk_batch(
        openai_client,
        tmp_path,
        [
            line("one", {"model": "text-embedding-3-small", "input": KOREAN[0]}),
            line("two", {"model": "text-embedding-3-small", "input": KOREAN, "dimensions": 256}),
            line("again", {"model": "text-embedding-3-small", "input": KOREAN[0]}),
        ],
    )
    one = rows["one"]["response"]["body"]
    assert one["object"] == "list" and len(one["data"]) == 1
    vector = one["data"][0]["embedding"]
    assert len(vector) == 1536  # text-embedding-3-small's default
    assert math.isclose(math.fsum(v * v for v in vector), 1.0, rel_tol=1e-9)
    assert one["usage"]["prompt_tokens"] > 0 and one["usage"]["total_tokens"] == one["usage"]["prompt_tokens"]
    two = rows["two"]["response"]["body"]["data"]
    assert [d["index"] for d in two] == [0, 1] and {len(d["embedding"]) for d in two} == {256}
    assert rows["again"]["response"]["body"]["data"][0]["embedding"] == vector  # deterministic


async def test_the_emulator_refuses_what_the_embeddings_api_refuses(openai_client, tmp_path) -> None:
    rows = await sdk_batch(
        openai_client,
        tmp_path,
        [
            line("empty", {"model": "text-embedding-3-small", "input": ""}),
            line("too-long", {"model": "text-embedding-3-small", "input": "가", "dimensions": 4096}),
            line("ok", {"model": "text-embedding-3-small", "input": "가"}),
        ],
    )
    assert rows["empty"]["response"]["status_code"] == 400
    assert rows["empty"]["response"]["body"]["error"]["param"] == "input"
    assert rows["too-long"]["response"]["body"]["error"]["param"] == "dimensions"
    assert rows["ok"]["response"]["status_code"] == 200
    ada = await sdk_batch(
        openai_client, tmp_path, [line("ada", {"model": "text-embedding-ada-002", "input": "가", "dimensions": 8})]
    )
    assert ada["ada"]["response"]["body"]["error"]["message"] == "This model does not support specifying dimensions."


async def test_the_adapter_sends_embedding_requests_on_the_embeddings_endpoint(openai_provider, emulator) -> None:
    batch = [
        WireItem("e-one", embed("one", KOREAN[0], dimensions=256)),
        WireItem("e-list", embed("list", KOREAN, dimensions=256)),
    ]
    ref = await openai_provider.submit("oa-embed", "text-embedding-3-small", batch)
    sent = [ln for file_id, ln in emulator.state.openai.input_lines() if file_id == ref.extra["input_file_id"]]
    assert {s["url"] for s in sent} == {"/v1/embeddings"}
    assert sent[0]["body"] == {"model": "text-embedding-3-small", "input": KOREAN[0], "dimensions": 256}
    assert sent[1]["body"]["input"] == KOREAN
    await wait_ended(openai_provider, ref)
    rows = await collect(openai_provider, ref)
    assert {r.status for r in rows.values()} == {ResultStatus.SUCCEEDED}
    one, both = rows["e-one"], rows["e-list"]
    assert one.embedding is not None and len(one.embedding) == 1 and len(one.embedding[0]) == 256
    assert both.embedding is not None and [len(v) for v in both.embedding] == [256, 256]
    assert both.embedding[0] == one.embedding[0]  # the same text, the same vector
    assert one.usage is not None and one.usage.input_tokens > 0 and one.usage.output_tokens == 0


async def test_a_realtime_embedding_goes_through_the_sdk(openai_provider, openai_client) -> None:
    result = await openai_provider.complete(embed("rt", KOREAN, model="text-embedding-3-large"))
    assert result.status is ResultStatus.SUCCEEDED and result.embedding is not None
    assert [len(v) for v in result.embedding] == [3072, 3072]
    answer = await openai_client.embeddings.create(model="text-embedding-3-small", input=KOREAN[1], dimensions=64)
    assert len(answer.data[0].embedding) == 64 and answer.usage.prompt_tokens > 0


async def test_a_batch_over_the_embedding_inputs_limit_fails_validation(openai_client, tmp_path, monkeypatch) -> None:
    """ "`/v1/embeddings` batches are also restricted to a maximum of 50,000 embedding inputs across
    all requests in the batch" (openai-openapi.yaml): the limit counts texts, not lines (lowered
    to 3 here so the test stays cheap)."""
    monkeypatch.setattr(openai_batches, "MAX_EMBEDDING_INPUTS", 3)
    path = tmp_path / "too_many.jsonl"
    body = {"model": "text-embedding-3-small", "input": KOREAN, "dimensions": 8}
    path.write_bytes(line("a", body) + line("b", body))  # 2 lines, 4 inputs
    upload = await openai_client.files.create(file=path, purpose="batch")
    batch = await openai_client.batches.create(
        input_file_id=upload.id, endpoint="/v1/embeddings", completion_window="24h"
    )

    async def ended():
        current = await openai_client.batches.retrieve(batch.id)
        return current if current.status in ("completed", "failed") else None

    done = await wait_until(ended, within=15, what="the batch to end")
    assert done.status == "failed"
    [error] = done.errors.data
    assert error.code == "too_many_embedding_inputs" and "4 embedding inputs" in (error.message or "")
