"""Gemini Batch Mode (Developer API) through google-genai, on v1 and v1beta (PROVIDERS.md §3)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from emu_helpers import jsonl, parse_jsonl, wait_for
from google import genai
from google.genai import errors, types

from corthex.emulator import EmulatorServer

MODEL = "gemini-2.5-flash"


def inline(text: str, key: str) -> dict[str, Any]:
    return {"contents": [{"parts": [{"text": text}], "role": "user"}], "metadata": {"key": key}}


def finished(gem: genai.Client, name: str) -> types.BatchJob:
    return wait_for(lambda: gem.batches.get(name=name), lambda job: job.done)


def test_inline_batch_echoes_metadata_in_order_with_row_errors(gem: genai.Client) -> None:
    src = [inline(f"question {i}", f"k{i}") for i in range(12)]
    src[4] = inline("break [[emulator:error]]", "k4")
    job = gem.batches.create(model=MODEL, src=src, config={"display_name": "corthex-b1"})  # type: ignore[arg-type]
    assert job.name and job.name.startswith("batches/")
    assert job.state == types.JobState.JOB_STATE_PENDING and job.display_name == "corthex-b1"
    done = finished(gem, job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED and done.end_time is not None
    assert done.model == f"models/{MODEL}"
    rows = done.dest.inlined_responses if done.dest else None
    assert rows is not None and [r.metadata for r in rows] == [{"key": f"k{i}"} for i in range(12)]
    assert rows[0].response and rows[0].response.text == f"[emulated {MODEL}] question 0"
    usage = rows[0].response.usage_metadata
    assert usage and usage.prompt_token_count and usage.total_token_count
    assert rows[4].error and rows[4].error.code == 400 and rows[4].response is None


def test_list_omits_inlined_responses_and_raw_operation_shape(gem: genai.Client, emulator: EmulatorServer) -> None:
    job = gem.batches.create(model=MODEL, src=[inline("a", "k")])  # type: ignore[list-item]
    assert job.name
    finished(gem, job.name)
    listed = list(gem.batches.list())
    assert [j.name for j in listed] == [job.name]
    assert listed[0].dest is None or listed[0].dest.inlined_responses is None
    raw = httpx.get(f"{emulator.url}/gemini/v1beta/{job.name}", headers={"x-goog-api-key": "k"}).json()
    meta = raw["metadata"]
    assert meta["@type"].endswith("GenerateContentBatch") and raw["done"] is True
    assert meta["batchStats"] == {
        "requestCount": "1",
        "successfulRequestCount": "1",
        "failedRequestCount": "0",
        "pendingRequestCount": "0",
    }
    assert raw["response"]["inlinedResponses"] == meta["output"]["inlinedResponses"]


def test_file_batch_through_resumable_upload(gem: genai.Client, tmp_path: Path) -> None:
    lines = [
        {"key": f"q{i}", "request": {"contents": [{"parts": [{"text": f"file {i}"}], "role": "user"}]}}
        for i in range(6)
    ]
    lines[2]["request"] = {"contents": []}
    path = tmp_path / "input.jsonl"
    path.write_bytes(jsonl(lines))
    uploaded = gem.files.upload(file=path, config={"mime_type": "application/jsonl", "display_name": "in"})
    assert uploaded.name and uploaded.size_bytes == path.stat().st_size and uploaded.state == types.FileState.ACTIVE
    assert gem.files.get(name=uploaded.name).display_name == "in"
    job = gem.batches.create(model=MODEL, src=uploaded.name)
    assert job.name
    done = finished(gem, job.name)
    assert done.dest and done.dest.file_name == f"files/batch-{job.name.split('/')[1]}"
    out = parse_jsonl(gem.files.download(file=done.dest.file_name).decode())
    assert [row["key"] for row in out] == [f"q{i}" for i in range(6)]
    assert out[0]["response"]["candidates"][0]["content"]["parts"][0]["text"] == f"[emulated {MODEL}] file 0"
    assert out[2]["error"]["status"] == "INVALID_ARGUMENT" and "response" not in out[2]


def test_upload_from_bytes_io_and_files_api(gem: genai.Client) -> None:
    data = jsonl([{"key": "a", "request": {"contents": [{"parts": [{"text": "x"}]}]}}])
    uploaded = gem.files.upload(file=io.BytesIO(data), config={"mime_type": "text/plain"})
    assert uploaded.name and uploaded.size_bytes == len(data)
    assert [f.name for f in gem.files.list()] == [uploaded.name]
    gem.files.delete(name=uploaded.name)
    with pytest.raises(errors.ClientError) as caught:
        gem.files.get(name=uploaded.name)
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"


def test_cancel_and_delete(gem: genai.Client, emulator: EmulatorServer) -> None:
    emulator.state.config.speed = 1.0
    job = gem.batches.create(model=MODEL, src=[inline("a", "k1"), inline("b", "k2")])  # type: ignore[list-item]
    assert job.name
    gem.batches.cancel(name=job.name)
    done = finished(gem, job.name)
    assert done.state == types.JobState.JOB_STATE_CANCELLED
    rows = done.dest.inlined_responses if done.dest else None
    assert rows and all(r.error and r.error.code == 499 for r in rows)
    gem.batches.delete(name=job.name)
    with pytest.raises(errors.ClientError):
        gem.batches.get(name=job.name)


def test_realtime_generate_content_with_schema(gem: genai.Client) -> None:
    plain = gem.models.generate_content(model=MODEL, contents="hello gemini")
    assert plain.text == f"[emulated {MODEL}] hello gemini"
    structured = gem.models.generate_content(
        model=MODEL,
        contents="classify",
        config={
            "response_mime_type": "application/json",
            "response_schema": {
                "type": "OBJECT",
                "properties": {"label": {"type": "STRING", "enum": ["x", "y"]}},
                "required": ["label"],
            },
        },
    )
    assert json.loads(structured.text or "") == {"label": "x"}


def test_snake_case_body_and_missing_key(emulator: EmulatorServer) -> None:
    url = f"{emulator.url}/gemini/v1beta/models/{MODEL}:batchGenerateContent"
    body = {
        "batch": {
            "display_name": "snake",
            "input_config": {
                "requests": {
                    "requests": [{"request": {"contents": [{"parts": [{"text": "hi"}]}]}, "metadata": {"key": "a"}}]
                }
            },
        }
    }
    created = httpx.post(url, json=body, headers={"x-goog-api-key": "k"}).json()
    assert created["metadata"]["displayName"] == "snake"
    assert created["metadata"]["state"] == "BATCH_STATE_PENDING"
    missing = httpx.post(url, json=body)
    assert missing.status_code == 401 and missing.json()["error"]["status"] == "UNAUTHENTICATED"
    big = {
        "batch": {
            "inputConfig": {
                "requests": {"requests": [{"request": {"contents": [{"parts": [{"text": "x" * (21 * 1024 * 1024)}]}]}}]}
            }
        }
    }
    too_big = httpx.post(url, json=big, headers={"x-goog-api-key": "k"})
    assert too_big.status_code == 400 and too_big.json()["error"]["status"] == "INVALID_ARGUMENT"
    (entry,) = emulator.state.stats()["gemini"]["batches"]
    assert entry["display_name"] == "snake" and entry["first_custom_id"] == "a" and entry["requests"] == 1
