"""Provider-native batch lines (issue 14): a file may hold the lines a user already has, in each
provider's own form, mixed with ours. They go out as written, come back mapped as usual, and
carry the provider's own result object as `raw`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from corthex.engine.engine import Engine
from corthex.errors import InvalidInput

OPENAI_CHAT = {
    "custom_id": "oa-chat",
    "method": "POST",
    "url": "/v1/chat/completions",
    "body": {"model": "gpt-5-mini", "messages": [{"role": "user", "content": "서울의 인구는?"}]},
}
OPENAI_RESPONSES = {  # gpt-5-mini's own lines go to chat completions: this one names /v1/responses
    "custom_id": "oa-resp",
    "method": "POST",
    "url": "/v1/responses",
    "body": {"model": "gpt-5-mini", "input": "부산의 인구는?"},
}
ANTHROPIC = {
    "custom_id": "an-1",
    "params": {
        "model": "claude-haiku-4-5",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": "대구의 인구는?"}],
    },
}
GEMINI = {
    "key": "ge-1",
    "model": "gemini-2.5-flash",
    "request": {"contents": [{"role": "user", "parts": [{"text": "광주의 인구는?"}]}]},
}
OURS = {"custom_id": "ours", "model": "gpt-5-mini", "prompt": "인천의 인구는?"}


def jsonl(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


async def test_a_mixed_file_of_native_and_our_lines_comes_back_whole(engine: Engine, tmp_path: Path) -> None:
    source = jsonl(tmp_path / "mixed.jsonl", [OPENAI_CHAT, OPENAI_RESPONSES, ANTHROPIC, GEMINI, OURS])
    report = await engine.submit_file(source)
    await engine.wait(report.job_id, timeout=60)
    lines = {line["custom_id"]: line async for line in engine.results(report.job_id)}
    assert {k: v["status"] for k, v in lines.items()} == dict.fromkeys(lines, "succeeded") and len(lines) == 5
    assert all(lines[k]["content"] for k in lines)  # mapped as usual
    # the provider's own result object rides along for native lines only
    assert lines["oa-chat"]["raw"]["response"]["body"]["object"] == "chat.completion"
    assert lines["oa-resp"]["raw"]["response"]["body"]["object"] == "response"
    assert lines["an-1"]["raw"]["result"]["type"] == "succeeded"
    assert "response" in lines["ge-1"]["raw"]
    assert "raw" not in lines["ours"]
    # one endpoint per OpenAI file: the /v1/responses line went in a batch of its own
    openai_batches = [b for b in await engine.batches(report.job_id) if b.provider.value == "openai"]
    assert len(openai_batches) == 3  # chat native, responses native, ours


async def test_only_native_answers_carry_the_providers_object_into_the_writer(engine: Engine, tmp_path: Path) -> None:
    """Issue 18: a row's `raw` (the provider's whole parsed answer) is stored for native lines
    only; held on every row of a chunk it was most of collection's memory. Our own lines'
    answers reach the store without it, the native ones with it."""
    store = engine._ctx.store
    record = store.record_results
    raws: dict[str, bool] = {}

    async def spied(batch_id: str, finals: Any, *args: Any, **kwargs: Any) -> int:
        raws.update((f.request_id, f.raw is not None) for f in finals)
        return await record(batch_id, finals, *args, **kwargs)

    store.record_results = spied  # type: ignore[method-assign]
    ours = [{**OURS, "custom_id": f"ours-{i}", "prompt": f"인천 {i}"} for i in range(3)]
    report = await engine.submit_file(jsonl(tmp_path / "mixed.jsonl", [OPENAI_CHAT, ANTHROPIC, *ours]))
    await engine.wait(report.job_id, timeout=60)
    kept = sorted(r for r, has_raw in raws.items() if has_raw)
    assert len(raws) == 5 and len(kept) == 2  # the two native lines', not our three
    lines = {line["custom_id"]: line async for line in engine.results(report.job_id)}
    assert lines["oa-chat"]["raw"]["response"]["body"]["object"] == "chat.completion"
    assert lines["an-1"]["raw"]["result"]["type"] == "succeeded"


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        ({**OPENAI_CHAT, "url": "/v1/images"}, "url", "Batch API's endpoints"),
        ({**OPENAI_CHAT, "body": {"messages": []}}, "body.model", "non-empty string"),
        (
            {**OPENAI_CHAT, "body": {**OPENAI_CHAT["body"], "model": "claude-haiku-4-5"}},
            "body.model",
            "served by anthropic",
        ),
        (
            {**ANTHROPIC, "params": {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "x"}]}},
            "params.max_tokens",
            "max_tokens",
        ),
        ({k: v for k, v in GEMINI.items() if k != "model"}, "model", "names the model per batch"),
        ({"custom_id": "x", "model": "gpt-5-mini", "prompt": "x", "body": {}}, "model", "an OpenAI batch line has"),
        ({"custom_id": "x", "model": "gpt-5-mini", "promt": "오타"}, "promt", "a provider's batch line"),
    ],
)
async def test_a_bad_native_line_is_refused_naming_its_field(
    engine: Engine, tmp_path: Path, line: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await engine.submit_file(jsonl(tmp_path / "bad.jsonl", [OURS, line]))
    assert f"line 2, field '{field}'" in str(refused.value) and words in str(refused.value)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (
            {"model": "gpt-5-mini", "messages": [{"role": "bot", "content": "서울의 인구는?"}]},
            "body.messages[0].role",
            "'bot' is not one of ['developer', 'system', 'user', 'assistant', 'tool', 'function']",
        ),
        ({"model": "gpt-5-mini"}, "body.messages", "'messages' is required"),
        (
            {"model": "gpt-5-mini", "messages": [{"role": "user", "content": "서울"}], "max_completion_tokens": "많이"},
            "body.max_completion_tokens",
            "'많이' is not of type 'integer' or 'null'",
        ),
    ],
)
async def test_a_native_openai_body_the_spec_refuses_names_line_and_field_and_stores_nothing(
    engine: Engine, emulator: object, tmp_path: Path, body: dict[str, object], field: str, words: str
) -> None:
    """The body is checked against the official OpenAPI spec's request schema for its url."""
    bad = {**OPENAI_CHAT, "custom_id": "bad", "body": body}
    with pytest.raises(InvalidInput) as refused:
        await engine.submit_file(jsonl(tmp_path / "bad.jsonl", [OURS, OPENAI_CHAT, bad]))
    assert f"line 3, field '{field}'" in str(refused.value) and words in str(refused.value)
    assert await engine.jobs() == []


async def test_native_responses_and_embeddings_bodies_are_checked_too(engine: Engine, tmp_path: Path) -> None:
    embed = {
        "custom_id": "emb",
        "method": "POST",
        "url": "/v1/embeddings",
        "body": {"model": "text-embedding-3-small", "input": ["가나다", "라마바"], "dimensions": "넓게"},
    }
    with pytest.raises(InvalidInput) as refused:
        await engine.submit_file(jsonl(tmp_path / "emb.jsonl", [embed]))
    assert "line 1, field 'body.dimensions'" in str(refused.value) and "is not of type 'integer'" in str(refused.value)
    wrong = {**OPENAI_RESPONSES, "body": {"model": "gpt-5-mini", "input": [{"role": "로봇", "content": "안녕"}]}}
    with pytest.raises(InvalidInput) as refused:
        await engine.submit_file(jsonl(tmp_path / "resp.jsonl", [wrong]))
    assert "line 1, field 'body.input[0].role'" in str(refused.value) and "'로봇' is not one of" in str(refused.value)
    assert await engine.jobs() == []
