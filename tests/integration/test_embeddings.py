"""Embeddings jobs (issue 14) through the engine with the real OpenAI adapter and the emulator:
`{"custom_id", "model", "input": "…" | ["…"], "dimensions"?}` lines come back with `embedding`
(one vector for a string, a list of them for a list), usage and the batch cost; refusals name the
field. The CLI writes them to Parquet (list<float> columns) and CSV (JSON text) as a real process."""

from __future__ import annotations

import math
import re
import sqlite3
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from test_cli import emulator_process, run, write  # noqa: F401 - the CLI's fixtures, reused

from corthex.domain.limits import LIMITS
from corthex.domain.requests import ProviderName
from corthex.emulator import openai_batches
from corthex.engine.engine import Engine
from corthex.errors import InvalidInput

SEOUL, BUSAN = "서울은 한국의 수도입니다", "부산은 항구 도시입니다"
EMBED_LINES = [
    {"custom_id": "one", "model": "text-embedding-3-small", "input": SEOUL, "dimensions": 256},
    {"custom_id": "list", "model": "text-embedding-3-small", "input": [SEOUL, BUSAN], "dimensions": 256},
    {"custom_id": "full", "model": "text-embedding-3-small", "input": BUSAN, "metadata": {"doc": "부산"}},
]
CHAT = {"custom_id": "chat", "model": "gpt-5-mini", "prompt": "서울의 인구는?"}
#: text-embedding-3-small, batch: $0.01 per million tokens (half the realtime $0.02)
BATCH_PRICE_PER_TOKEN = 0.01 / 1_000_000
#: gemini-embedding-001, batch: $0.075 per million tokens (half the realtime $0.15)
GEMINI_BATCH_PRICE_PER_TOKEN = 0.075 / 1_000_000


def jsonl(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


async def test_a_korean_embeddings_job_comes_back_as_vectors_with_usage_and_cost(
    engine: Engine, tmp_path: Path
) -> None:
    report = await engine.submit_file(jsonl(tmp_path / "embed.jsonl", [*EMBED_LINES, CHAT]))
    await engine.wait(report.job_id, timeout=60)
    lines = {line["custom_id"]: line async for line in engine.results(report.job_id)}
    assert {k: v["status"] for k, v in lines.items()} == dict.fromkeys(["one", "list", "full", "chat"], "succeeded")
    one, both, full = lines["one"]["embedding"], lines["list"]["embedding"], lines["full"]["embedding"]
    assert len(one) == 256 and isinstance(one[0], float)  # a string: one vector
    assert [len(v) for v in both] == [256, 256]  # a list: one vector per text
    assert len(full) == 1536  # the model's default length
    assert both[0] == one  # deterministic: the same text, the same vector (float32 as stored)
    assert math.isclose(math.fsum(v * v for v in full), 1.0, rel_tol=1e-5)
    usage = lines["list"]["usage"]
    assert usage["input_tokens"] > 0 and usage["output_tokens"] == 0
    assert lines["list"]["cost_usd"] == pytest.approx(usage["input_tokens"] * BATCH_PRICE_PER_TOKEN)
    assert lines["full"]["metadata"] == {"doc": "부산"} and "raw" not in lines["one"]
    assert "embedding" not in lines["chat"] and lines["chat"]["content"]
    # an OpenAI file has one endpoint: the embedding requests and the chat one went apart
    assert len(await engine.batches(report.job_id)) == 2


async def test_a_mixed_korean_job_of_openai_and_gemini_embeddings_comes_back_whole(
    engine: Engine, tmp_path: Path
) -> None:
    """Gemini embeddings go as one file line per text and come back as one result per request; the
    answer carries no token count, so the usage is estimated from the texts (a UTF-8 byte in four)."""
    gemini = [
        {"custom_id": "g-one", "model": "gemini-embedding-001", "input": SEOUL},
        {"custom_id": "g-list", "model": "gemini-embedding-001", "input": [SEOUL, BUSAN], "dimensions": 256},
    ]
    report = await engine.submit_file(jsonl(tmp_path / "mixed.jsonl", [*gemini, EMBED_LINES[0]]))
    await engine.wait(report.job_id, timeout=60)
    lines = {line["custom_id"]: line async for line in engine.results(report.job_id)}
    assert {k: v["status"] for k, v in lines.items()} == dict.fromkeys(["g-one", "g-list", "one"], "succeeded")
    one, both = lines["g-one"]["embedding"], lines["g-list"]["embedding"]
    assert len(one) == 3072 and isinstance(one[0], float)  # a string: one vector, the model's default length
    assert [len(v) for v in both] == [256, 256] and both[0] != both[1]
    assert math.isclose(math.fsum(v * v for v in both[1]), 1.0, rel_tol=1e-5)
    estimate = sum(-(-len(text.encode()) // 4) for text in (SEOUL, BUSAN))
    assert lines["g-list"]["usage"]["input_tokens"] == estimate and lines["g-list"]["provider"] == "gemini"
    assert lines["g-list"]["cost_usd"] == pytest.approx(estimate * GEMINI_BATCH_PRICE_PER_TOKEN)
    assert len(lines["one"]["embedding"]) == 256  # the OpenAI line, in its own batch
    assert len(await engine.batches(report.job_id)) == 2


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        ({"input": ""}, "input", "non-empty string"),
        ({"input": [SEOUL, 3]}, "input[1]", "non-empty string"),
        ({"input": []}, "input", "non-empty"),
        ({"dimensions": 0}, "dimensions", "positive integer"),
        ({"dimensions": 5000}, "dimensions", "at most 1536"),
        ({"model": "text-embedding-ada-002", "dimensions": 8}, "dimensions", "does not take 'dimensions'"),
        ({"model": "gpt-5-mini"}, "input", "not an embedding model"),
        ({"prompt": "안녕"}, "input", "not both"),
        ({"temperature": 0.2}, "temperature", "does not apply to an embedding"),
        ({"input": [SEOUL] * 2049}, "input", "over the 2048 one request takes"),
        ({"model": "gemini-embedding-001", "dimensions": 4000}, "dimensions", "at most 3072 for gemini-embedding-001"),
    ],
)
async def test_a_bad_embedding_line_is_refused_naming_the_field(
    engine: Engine, tmp_path: Path, line: dict[str, object], field: str, words: str
) -> None:
    bad = {"custom_id": "bad", "model": "text-embedding-3-small", "input": SEOUL, **line}
    with pytest.raises(InvalidInput) as refused:
        await engine.submit_file(jsonl(tmp_path / "bad.jsonl", [CHAT, bad]))
    assert f"line 2, field '{field}'" in str(refused.value) and words in str(refused.value)


async def test_a_prompt_to_an_embedding_model_is_refused(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as refused:
        await engine.submit_file(jsonl(tmp_path / "bad.jsonl", [{**CHAT, "model": "text-embedding-3-large"}]))
    assert "field 'input'" in str(refused.value) and "is an embedding model" in str(refused.value)


def test_the_cli_writes_embeddings_to_parquet_as_float_lists(run, tmp_path: Path) -> None:  # noqa: F811
    import pyarrow as pa
    import pyarrow.csv as pv
    import pyarrow.parquet as pq

    gemini = {"custom_id": "g", "model": "gemini-embedding-001", "input": [BUSAN], "dimensions": 8}
    source = write(tmp_path / "embed.jsonl", [*EMBED_LINES, CHAT, gemini])
    out = run("submit", str(source), "--wait", "--out", str(tmp_path / "vectors.parquet"))
    assert "5 results written" in out.stdout, out.stdout
    table = pq.read_table(tmp_path / "vectors.parquet")
    assert table.schema.field("embedding").type == pa.list_(pa.float32())
    assert table.schema.field("embeddings").type == pa.list_(pa.list_(pa.float32()))
    rows = {r["custom_id"]: r for r in table.to_pylist()}
    assert len(rows["one"]["embedding"]) == 256 and rows["one"]["embeddings"] is None
    assert [len(v) for v in rows["list"]["embeddings"]] == [256, 256] and rows["list"]["embedding"] is None
    assert rows["chat"]["embedding"] is None and rows["chat"]["content"]
    assert [len(v) for v in rows["g"]["embeddings"]] == [8] and rows["g"]["provider"] == "gemini"
    assert rows["one"]["cost_usd"] > 0
    # stored compactly: float32 bytes behind a 4-byte count, not JSON text
    with sqlite3.connect(tmp_path / "c.db") as db:
        sizes = dict(db.execute("select custom_id, length(embedding) from results").fetchall())
    assert sizes == {"one": 4 + 256 * 4, "list": 4 + 2 * 256 * 4, "full": 4 + 1536 * 4, "chat": None, "g": 4 + 8 * 4}
    job = re.search(r"job_[0-9a-f]+", out.stdout)
    assert job is not None, out.stdout
    run("results", job.group(), "--out", str(tmp_path / "vectors.csv"))  # the same job as CSV: JSON text
    csv_rows = {r["custom_id"]: r for r in pv.read_csv(tmp_path / "vectors.csv").to_pylist()}
    assert len(orjson.loads(csv_rows["one"]["embedding"])) == 256
    assert [len(v) for v in orjson.loads(csv_rows["list"]["embeddings"])] == [256, 256]


async def test_a_native_embeddings_line_over_2048_inputs_is_refused(engine: Engine, tmp_path: Path) -> None:
    body = {"model": "text-embedding-3-small", "input": [SEOUL] * 2049}
    native = {"custom_id": "native", "method": "POST", "url": "/v1/embeddings", "body": body}
    with pytest.raises(InvalidInput) as refused:
        await engine.submit_file(jsonl(tmp_path / "bad.jsonl", [CHAT, native]))
    assert "line 2, field 'body.input'" in str(refused.value) and "2049 inputs" in str(refused.value)


async def test_embedding_requests_are_split_at_the_batch_inputs_limit(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenAI's 50,000 embedding inputs per batch (lowered to 3 on both sides: the planner's and the
    emulator's): three requests of two texts each go out as three batches, and all come back."""
    monkeypatch.setitem(LIMITS, ProviderName.OPENAI, replace(LIMITS[ProviderName.OPENAI], max_inputs=3))
    monkeypatch.setattr(openai_batches, "MAX_EMBEDDING_INPUTS", 3)
    lines = [
        {"custom_id": f"pair{i}", "model": "text-embedding-3-small", "input": [SEOUL, BUSAN], "dimensions": 8}
        for i in range(3)
    ]
    report = await engine.submit_file(jsonl(tmp_path / "pairs.jsonl", lines))
    await engine.wait(report.job_id, timeout=60)
    results = {line["custom_id"]: line async for line in engine.results(report.job_id)}
    assert {k: v["status"] for k, v in results.items()} == dict.fromkeys(["pair0", "pair1", "pair2"], "succeeded")
    assert all(len(v["embedding"]) == 2 for v in results.values())
    assert len(await engine.batches(report.job_id)) == 3
