"""Structured output end to end (issue 11 item 6): answers validated against the user's schema into
`parsed`, invalid answers failed as `invalid_output` after the normal attempts, schemas the provider
cannot take refused at submission, pydantic classes as schemas, warnings in the submit report."""

from __future__ import annotations

import json
from pathlib import Path

import pydantic
import pytest

from corthex.emulator import EmulatorServer
from corthex.engine.engine import Engine
from corthex.errors import InvalidInput

SCHEMA = {
    "type": "object",
    "properties": {"제목": {"type": "string"}, "점수": {"type": "integer"}},
    "required": ["제목", "점수"],
}
MODELS = ["gpt-5-mini", "o3-pro", "claude-sonnet-4-6", "gemini-2.5-flash"]


def ask(custom_id: str, model: str, prompt: str = "이 글을 요약하라", **extra: object) -> dict[str, object]:
    return {"custom_id": custom_id, "model": model, "prompt": prompt, "json_schema": SCHEMA, **extra}


async def lines_of(engine: Engine, job_id: str) -> dict[str, dict]:
    await engine.wait(job_id, timeout=60)
    return {line["custom_id"]: line async for line in engine.results(job_id)}


async def test_every_structured_answer_is_validated_into_parsed(engine: Engine) -> None:
    report = await engine.submit([ask(f"q{i}", model) for i, model in enumerate(MODELS)])
    lines = await lines_of(engine, report.job_id)
    assert {line["status"] for line in lines.values()} == {"succeeded"}
    for line in lines.values():
        assert line["parsed"] == json.loads(line["content"])
        assert set(line["parsed"]) == {"제목", "점수"} and isinstance(line["parsed"]["점수"], int)


@pytest.mark.parametrize("model", ["gpt-5-mini", "claude-sonnet-4-6", "gemini-2.5-flash"])
async def test_an_answer_that_is_not_json_fails_invalid_output_after_the_attempts(engine: Engine, model: str) -> None:
    report = await engine.submit([ask("bad", model, "[[emulator:invalid_json]] 요약하라"), ask("good", model)])
    lines = await lines_of(engine, report.job_id)
    bad = lines["bad"]
    assert bad["status"] == "failed" and bad["error"]["type"] == "invalid_output"
    assert "not JSON" in bad["error"]["message"] and bad["parsed"] is None
    assert bad["attempts"] == engine._ctx.retry_policy.max_attempts  # retried, as any retryable failure
    assert lines["good"]["status"] == "succeeded" and lines["good"]["attempts"] == 1


async def test_an_answer_that_breaks_the_schema_names_the_field(engine: Engine) -> None:
    wrong = '[[emulator:reply={\\"제목\\": 3, \\"점수\\": 1}]]'
    report = await engine.submit([ask("wrong", "claude-haiku-4-5", wrong)])
    line = (await lines_of(engine, report.job_id))["wrong"]
    assert line["status"] == "failed" and line["error"]["type"] == "invalid_output"
    assert "/제목" in line["error"]["message"] and "is not of type 'string'" in line["error"]["message"]


async def test_a_schema_the_provider_cannot_take_is_refused_naming_line_and_field(
    engine: Engine, tmp_path: Path, emulator: EmulatorServer
) -> None:
    array_root = {"type": "array", "items": {"type": "string"}}
    bad_type = {"type": "object", "properties": {"a": {"type": "strng"}}}
    rows = [
        ask("ok", "gpt-5-mini"),
        ask("root", "gpt-5-mini", json_schema=array_root),
        ask("t", "o3", json_schema=bad_type),
    ]
    path = tmp_path / "jobs.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    before = emulator.state.stats()["openai"]["batches_created"]
    with pytest.raises(InvalidInput) as caught:
        await engine.submit_file(path)
    problems = {(p.line, p.field) for p in caught.value.problems}
    assert problems == {(2, "json_schema"), (3, "json_schema")}
    text = str(caught.value)
    assert "root is an object" in text and "(at /properties/a/type)" in text
    assert await engine.jobs() == []  # nothing stored
    assert emulator.state.stats()["openai"]["batches_created"] == before


class Review(pydantic.BaseModel):
    제목: str
    점수: int
    tags: list[str]


async def test_a_pydantic_class_is_taken_as_the_schema(engine: Engine, emulator: EmulatorServer) -> None:
    report = await engine.submit(
        [{"custom_id": "p", "model": "gpt-4.1-mini", "prompt": "평가하라", "json_schema": Review}]
    )
    assert report.warnings == []  # every field required: strict mode narrows nothing
    line = (await lines_of(engine, report.job_id))["p"]
    assert line["status"] == "succeeded"
    assert Review.model_validate(line["parsed"])
    (sent,) = [body for _, body in emulator.state.openai.input_lines() if body["custom_id"] == _wire_id(engine, report)]
    fmt = sent["body"]["response_format"]["json_schema"]
    assert fmt["strict"] is True and fmt["schema"]["additionalProperties"] is False


def _wire_id(engine: Engine, report) -> str:  # noqa: ANN001
    return report.job_id.removeprefix("job_") + "-0"


async def test_warnings_name_the_field_and_the_model(engine: Engine) -> None:
    optional = {"type": "object", "properties": {"a": {"type": "string"}}}
    report = await engine.submit(
        [
            {"custom_id": "t1", "model": "o3", "prompt": "안녕", "temperature": 0.2},
            {"custom_id": "t2", "model": "o3", "prompt": "안녕", "temperature": 0.7},
            {"custom_id": "s", "model": "gpt-4o", "prompt": "안녕", "json_schema": optional},
            {"custom_id": "c", "model": "gpt-4o", "prompt": "안녕", "temperature": 0.2},
        ]
    )
    assert len(report.warnings) == 2
    temperature, schema = report.warnings
    assert temperature.startswith("request 't1' and 1 more: 'temperature' is not sent to o3")
    assert schema.startswith("request 's': 'json_schema' goes to gpt-4o without strict mode")
    assert "property 'a' at / is optional" in schema
    lines = await lines_of(engine, report.job_id)
    assert {line["status"] for line in lines.values()} == {"succeeded"}
