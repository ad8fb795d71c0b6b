"""OpenAI Files + Batch API through the official SDK (PROVIDERS.md §1)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import openai
import pytest
from emu_helpers import chat_line, jsonl, parse_jsonl, wait_for
from openai.types import Batch

from corthex.emulator import EmulatorServer

ENDED = ("completed", "failed", "expired", "cancelled")


def upload(oai: openai.OpenAI, lines: list[object], name: str = "in.jsonl") -> str:
    return oai.files.create(file=(name, jsonl(lines)), purpose="batch").id


def run(oai: openai.OpenAI, lines: list[object], **kwargs: object) -> Batch:
    batch = oai.batches.create(
        input_file_id=upload(oai, lines),
        endpoint="/v1/chat/completions",
        completion_window="24h",
        **kwargs,  # type: ignore[arg-type]
    )
    return wait_for(lambda: oai.batches.retrieve(batch.id), lambda b: b.status in ENDED)


def test_upload_by_path_and_tuple_then_files_api(oai: openai.OpenAI, tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(jsonl([chat_line("a", "hi")]))
    by_path = oai.files.create(file=path, purpose="batch")
    by_tuple = oai.files.create(
        file=("named.jsonl", b'{"x":1}\n', "application/jsonl"),
        purpose="batch",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    assert (by_path.filename, by_path.bytes, by_path.purpose) == ("requests.jsonl", path.stat().st_size, "batch")
    assert by_path.status == "processed" and by_path.id.startswith("file-")
    assert by_tuple.expires_at == by_tuple.created_at + 3600
    assert oai.files.retrieve(by_path.id).filename == "requests.jsonl"
    assert oai.files.content(by_tuple.id).content == b'{"x":1}\n'
    assert [f.id for f in oai.files.list()] == [by_tuple.id, by_path.id]  # newest first
    assert [f.id for f in oai.files.list(order="asc", limit=1)] == [by_path.id, by_tuple.id]
    assert oai.files.delete(by_path.id).deleted
    with pytest.raises(openai.NotFoundError):
        oai.files.retrieve(by_path.id)


def test_bytes_upload_named_upload_is_taken(oai: openai.OpenAI) -> None:
    """The SDK names raw bytes `upload` (no extension); the real API takes them (curator uploads so)."""
    uploaded = oai.files.create(file=b'{"a":1}\n', purpose="batch")
    assert (uploaded.filename, uploaded.purpose, uploaded.bytes) == ("upload", "batch", 8)


@pytest.mark.parametrize("name", ["notes.txt", "requests.json", "batch.jsonl.txt"])
def test_upload_with_another_extension_is_refused(oai: openai.OpenAI, name: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        oai.files.create(file=(name, b'{"a":1}\n'), purpose="batch")
    assert caught.value.response.json() == {
        "error": {
            "message": "Invalid file format for Batch API. Must be .jsonl",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }


def test_batch_runs_to_completed_with_output_and_error_files(oai: openai.OpenAI) -> None:
    lines = [chat_line(f"r{i}", f"question {i} for the model") for i in range(30)]
    lines[7] = chat_line("r7", "please fail [[emulator:error]]")
    created = oai.batches.create(
        input_file_id=upload(oai, lines),
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"corthex_batch": "b-1"},
    )
    assert created.status == "validating" and created.request_counts.total == 0
    done = wait_for(lambda: oai.batches.retrieve(created.id), lambda b: b.status in ENDED)
    assert done.status == "completed" and done.model == "gpt-4o-mini"
    assert done.metadata == {"corthex_batch": "b-1"}
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (30, 29, 1)
    assert done.in_progress_at and done.finalizing_at and done.completed_at
    assert done.expires_at == done.created_at + 86_400
    assert done.usage.output_tokens > 0 and done.usage.total_tokens > done.usage.output_tokens

    out = parse_jsonl(oai.files.content(done.output_file_id).text)
    ids = [row["custom_id"] for row in out]
    assert sorted(ids) == sorted(f"r{i}" for i in range(30) if i != 7)
    assert ids != [f"r{i}" for i in range(30) if i != 7]  # not in input order
    row = next(r for r in out if r["custom_id"] == "r3")
    assert row["error"] is None and row["id"].startswith("batch_req_")
    body = row["response"]["body"]
    assert row["response"]["status_code"] == 200
    assert body["choices"][0]["message"]["content"] == "[emulated gpt-4o-mini] question 3 for the model"
    assert body["model"] == "gpt-4o-mini"
    assert set(body["usage"]) >= {"prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details"}

    (err,) = parse_jsonl(oai.files.content(done.error_file_id).text)
    assert err["custom_id"] == "r7" and err["response"]["status_code"] == 400
    assert err["response"]["body"]["error"]["type"] == "invalid_request_error"
    assert oai.files.retrieve(done.output_file_id).purpose == "batch_output"


def test_results_are_deterministic_and_error_file_is_null_without_failures(oai: openai.OpenAI) -> None:
    first = run(oai, [chat_line("a", "same prompt")])
    second = run(oai, [chat_line("a", "same prompt")])
    assert first.error_file_id is None and second.error_file_id is None
    one, two = (parse_jsonl(oai.files.content(b.output_file_id).text)[0] for b in (first, second))
    assert one["response"]["body"]["choices"] == two["response"]["body"]["choices"]
    assert one["response"]["body"]["usage"] == two["response"]["body"]["usage"]


def test_all_failed_batch_has_no_output_file(oai: openai.OpenAI) -> None:
    lines = [chat_line(f"r{i}", "hi", model="gpt-5-mini", max_tokens=10) for i in range(3)]
    done = run(oai, lines)
    assert done.status == "completed" and done.output_file_id is None
    rows = parse_jsonl(oai.files.content(done.error_file_id).text)
    assert {r["response"]["body"]["error"]["code"] for r in rows} == {"unsupported_parameter"}
    assert rows[0]["response"]["body"]["error"]["message"] == (
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
    )


def test_a_line_the_spec_refuses_fails_in_the_error_file(oai: openai.OpenAI) -> None:
    """The emulator checks each body against the official spec's request schema (the schemas
    intake checks native lines with), as the real API refuses such a line with a 400."""
    bot = chat_line("bot", "안녕")
    bot["body"]["messages"][0]["role"] = "bot"
    done = run(oai, [chat_line("ok", "서울의 인구는?"), bot, chat_line("hot", "부산", temperature="뜨겁게")])
    assert (done.request_counts.completed, done.request_counts.failed) == (1, 2)
    errors = {
        r["custom_id"]: r["response"]["body"]["error"] for r in parse_jsonl(oai.files.content(done.error_file_id).text)
    }
    assert errors["bot"]["param"] == "messages[0].role" and errors["bot"]["code"] == "invalid_value"
    assert errors["bot"]["message"].startswith("Invalid 'messages[0].role': 'bot' is not one of ['developer', 'system'")
    assert (errors["hot"]["param"], errors["hot"]["code"]) == ("temperature", "invalid_type")


@pytest.mark.parametrize(
    ("lines", "code", "line"),
    [
        ([chat_line("a", "x"), chat_line("b", "y", model="gpt-4o")], "model_mismatch", 2),
        ([chat_line("a", "x"), {**chat_line("b", "y"), "url": "/v1/responses"}], "url_mismatch", 2),
        ([chat_line("a", "x"), chat_line("a", "y")], "duplicate_custom_id", 2),
        (["not json"], "invalid_json_line", 1),
        ([], "empty_file", None),
    ],
)
def test_invalid_input_fails_the_batch_after_create(
    oai: openai.OpenAI, lines: list[object], code: str, line: int | None
) -> None:
    raw = b"not json\n" if lines == ["not json"] else jsonl(lines)
    file_id = oai.files.create(file=("in.jsonl", raw), purpose="batch").id
    created = oai.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    assert created.status == "validating"
    failed = wait_for(lambda: oai.batches.retrieve(created.id), lambda b: b.status in ENDED)
    assert failed.status == "failed" and failed.failed_at is not None
    assert failed.errors is not None and failed.errors.data
    assert (failed.errors.data[0].code, failed.errors.data[0].line) == (code, line)
    assert failed.output_file_id is None and failed.error_file_id is None


def test_create_validates_its_body(oai: openai.OpenAI) -> None:
    file_id = upload(oai, [chat_line("a", "x")])
    bad = [
        {"completion_window": "48h"},
        {"endpoint": "/v1/nope"},
        {"metadata": {f"k{i}": "v" for i in range(17)}},
        {"metadata": {"k" * 65: "v"}},
        {"input_file_id": "file-missing"},
    ]
    for change in bad:
        args = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        with pytest.raises(openai.BadRequestError):
            oai.batches.create(**{**args, **change})  # type: ignore[arg-type]
    assert oai.batches.list().data == []


def test_cancel_moves_through_cancelling_and_reports_unrun_requests(
    oai: openai.OpenAI, emulator: EmulatorServer
) -> None:
    emulator.state.config.speed = 1.0  # long enough to cancel while validating
    lines = [chat_line(f"r{i}", "hi") for i in range(5)]
    batch = oai.batches.create(
        input_file_id=upload(oai, lines), endpoint="/v1/chat/completions", completion_window="24h"
    )
    cancelling = oai.batches.cancel(batch.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
    cancelled = wait_for(lambda: oai.batches.retrieve(batch.id), lambda b: b.status in ENDED)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    rows = parse_jsonl(oai.files.content(cancelled.error_file_id).text)
    assert len(rows) == 5 and cancelled.output_file_id is None
    assert rows[0]["response"] is None and rows[0]["error"]["code"] == "batch_cancelled"
    with pytest.raises(openai.BadRequestError):
        done = run(oai, [chat_line("x", "y")])
        oai.batches.cancel(done.id)


def test_list_batches_newest_first_with_cursor(oai: openai.OpenAI) -> None:
    file_id = upload(oai, [chat_line("a", "x")])
    ids = [
        oai.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h").id
        for _ in range(5)
    ]
    page = oai.batches.list(limit=2)
    assert [b.id for b in page.data] == ids[::-1][:2] and page.has_more
    assert [b.id for b in oai.batches.list(limit=2)] == ids[::-1]  # auto-paging
    assert oai.batches.list(after=ids[1]).data[0].id == ids[0]


def test_realtime_chat_and_structured_output(oai: openai.OpenAI) -> None:
    plain = oai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hello there"}])
    assert plain.choices[0].message.content == "[emulated gpt-4o] hello there"
    schema = {
        "type": "object",
        "properties": {"route": {"type": "string", "enum": ["tech", "finance"]}, "n": {"type": "integer"}},
        "required": ["route", "n"],
        "additionalProperties": False,
    }
    structured = oai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "classify"}],
        response_format={"type": "json_schema", "json_schema": {"name": "r", "schema": schema}},
    )
    assert json.loads(structured.choices[0].message.content or "") == {"route": "tech", "n": 1}
    tool = oai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "call it"}],
        tools=[{"type": "function", "function": {"name": "pick", "parameters": schema}}],
        tool_choice={"type": "function", "function": {"name": "pick"}},
    )
    call = (tool.choices[0].message.tool_calls or [])[0]
    assert call.function.name == "pick" and json.loads(call.function.arguments)["route"] == "tech"
    scripted = oai.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": 'x [[emulator:reply={"a": [1]}]]'}]
    )
    assert scripted.choices[0].message.content == '{"a": [1]}'
    response = oai.responses.create(model="gpt-4o", input="hi from responses")
    assert response.output_text == "[emulated gpt-4o] hi from responses"


def test_requests_are_recorded_and_key_is_required(oai: openai.OpenAI, emulator: EmulatorServer) -> None:
    done = run(oai, [chat_line("a", "x")], metadata={"k": "v"})
    recorded = list(emulator.state.openai_requests)
    assert recorded[0]["path"] == "/files" and recorded[0]["multipart"] == {
        "fields": ["purpose", "file"],
        "values": {"purpose": "batch"},
        "filename": "in.jsonl",
    }
    assert recorded[1]["json"]["metadata"] == {"k": "v"}
    stats = emulator.state.stats()["openai"]
    assert stats["batches_created"] == 1 and stats["batches"][0]["id"] == done.id
    assert stats["batches"][0]["first_custom_id"] == "a" and stats["files_uploaded"] == 1
    answer = httpx.get(f"{emulator.url}/openai/v1/batches")
    assert answer.status_code == 401 and answer.json()["error"]["type"] == "invalid_request_error"
    unknown = httpx.get(f"{emulator.url}/openai/v1/nothing-here", headers={"authorization": "Bearer k"})
    assert unknown.status_code == 404 and set(unknown.json()["error"]) == {"message", "type", "param", "code"}
