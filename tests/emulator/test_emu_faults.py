"""Every fault kind, set in-process or through `/_emulator`, seen through the official SDKs."""

from __future__ import annotations

import time

import anthropic
import httpx
import openai
import pytest
from emu_helpers import chat_line, jsonl, parse_jsonl, wait_for
from google import genai
from google.genai import errors, types

from corthex.emulator import EmulatorServer, Fault

ENDED = ("completed", "failed", "expired", "cancelled")


def openai_batch(oai: openai.OpenAI, n: int = 4) -> str:
    lines = [chat_line(f"r{i}", f"q{i}") for i in range(n)]
    file_id = oai.files.create(file=("in.jsonl", jsonl(lines)), purpose="batch").id
    return oai.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h").id


def openai_end(oai: openai.OpenAI, batch_id: str) -> openai.types.Batch:
    return wait_for(lambda: oai.batches.retrieve(batch_id), lambda b: b.status in ENDED)


def gemini_job(gem: genai.Client, n: int = 2) -> str:
    src = [{"contents": [{"parts": [{"text": f"q{i}"}], "role": "user"}]} for i in range(n)]
    name = gem.batches.create(model="gemini-2.5-flash", src=src).name  # type: ignore[arg-type]
    assert name
    return name


def test_http_fault_is_not_retried_by_the_sdk(oai: openai.OpenAI, emulator: EmulatorServer) -> None:
    emulator.state.add_fault(Fault("openai", op="create", status=500, times=1))
    with pytest.raises(openai.InternalServerError) as caught:
        openai_batch(oai)
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert caught.value.response.json()["error"]["type"] == "server_error"
    stats = emulator.state.stats()["openai"]
    assert stats["calls"]["create"] == 1 and stats["batches_created"] == 0
    openai_batch(oai)  # `times=1` is used up
    assert emulator.state.stats()["openai"]["batches_created"] == 1


def test_429_with_retry_after_is_honoured(
    oai: openai.OpenAI, ant: anthropic.Anthropic, emulator: EmulatorServer
) -> None:
    for provider in ("openai", "anthropic"):
        emulator.state.add_fault(Fault(provider, op="list", status=429, retry_after=0.3, times=1))
    started = time.monotonic()
    oai.batches.list()
    ant.messages.batches.list()
    assert time.monotonic() - started >= 0.6
    stats = emulator.state.stats()
    assert stats["openai"]["calls"]["list"] == 2 and stats["anthropic"]["calls"]["list"] == 2


def test_error_bodies_use_each_providers_shape(
    ant: anthropic.Anthropic, gem: genai.Client, emulator: EmulatorServer
) -> None:
    emulator.state.add_fault(Fault("anthropic", op="retrieve", status=529))
    with pytest.raises(anthropic.APIStatusError) as caught:
        ant.messages.batches.retrieve("msgbatch_x")
    assert caught.value.response.json()["error"]["type"] == "overloaded_error"
    emulator.state.add_fault(Fault("gemini", op="create", status=429))
    with pytest.raises(errors.ClientError) as gem_error:
        gemini_job(gem)
    assert gem_error.value.code == 429 and gem_error.value.status == "RESOURCE_EXHAUSTED"


def test_slow_and_malformed(oai: openai.OpenAI, emulator: EmulatorServer) -> None:
    emulator.state.add_fault(Fault("openai", op="list", kind="slow", delay=0.2, times=1))
    started = time.monotonic()
    oai.batches.list()
    assert time.monotonic() - started >= 0.2
    emulator.state.add_fault(Fault("openai", op="list", kind="malformed", times=1))
    with pytest.raises(ValueError):  # the SDK's JSON decoding fails: a 200 that is not JSON
        oai.batches.list()


def test_expire_keeps_partial_results(oai: openai.OpenAI, gem: genai.Client, emulator: EmulatorServer) -> None:
    emulator.state.add_fault(Fault("openai", kind="expire", fraction=0.5))
    done = openai_end(oai, openai_batch(oai, 6))
    assert done.status == "expired" and done.expired_at is not None
    assert len(parse_jsonl(oai.files.content(done.output_file_id).text)) == 3
    errors_ = parse_jsonl(oai.files.content(done.error_file_id).text)
    assert {e["error"]["code"] for e in errors_} == {"batch_expired"} and len(errors_) == 3
    emulator.state.add_fault(Fault("gemini", kind="expire", fraction=0.5))
    name = gemini_job(gem, 4)
    job = wait_for(lambda: gem.batches.get(name=name), lambda j: j.done)
    assert job.state == types.JobState.JOB_STATE_EXPIRED
    rows = job.dest.inlined_responses if job.dest else []
    assert rows and [r.response is not None for r in rows] == [True, True, False, False]


def test_row_errors_are_server_errors(oai: openai.OpenAI, emulator: EmulatorServer) -> None:
    emulator.state.add_fault(Fault("openai", kind="row_errors", every=3))
    done = openai_end(oai, openai_batch(oai, 6))
    assert done.request_counts and done.request_counts.failed == 2
    rows = parse_jsonl(oai.files.content(done.error_file_id).text)
    assert sorted(r["custom_id"] for r in rows) == ["r2", "r5"]
    assert {r["response"]["status_code"] for r in rows} == {500}


def test_never_end_holds_until_faults_are_cleared(oai: openai.OpenAI, emulator: EmulatorServer) -> None:
    emulator.state.add_fault(Fault("openai", kind="never_end"))
    batch_id = openai_batch(oai)
    time.sleep(0.1)  # several batch lifetimes at this speed
    assert oai.batches.retrieve(batch_id).status == "in_progress"
    httpx.delete(f"{emulator.url}/_emulator/faults").raise_for_status()
    assert openai_end(oai, batch_id).status == "completed"


def test_fail_batch(oai: openai.OpenAI, gem: genai.Client, emulator: EmulatorServer) -> None:
    emulator.state.add_fault(Fault("*", kind="fail_batch"))
    failed = openai_end(oai, openai_batch(oai))
    assert failed.status == "failed" and failed.errors and failed.errors.data
    assert failed.errors.data[0].code == "token_limit_exceeded" and failed.errors.data[0].line is None
    name = gemini_job(gem)
    job = wait_for(lambda: gem.batches.get(name=name), lambda j: j.done)
    assert job.state == types.JobState.JOB_STATE_FAILED


def test_control_api(emulator: EmulatorServer) -> None:
    base = f"{emulator.url}/_emulator"
    added = httpx.post(f"{base}/faults", json={"provider": "gemini", "op": "upload", "status": 503})
    assert added.status_code == 200 and added.json()["status"] == 503
    assert httpx.post(f"{base}/faults", json={"provider": "nope"}).status_code == 400
    assert httpx.get(f"{base}/stats").json()["faults"]["active"][0]["provider"] == "gemini"
    assert httpx.post(f"{base}/config", json={"speed": 0.5}).json()["speed"] == 0.5
    assert emulator.state.config.speed == 0.5
    assert httpx.post(f"{base}/config", json={"bogus": 1}).status_code == 400
    httpx.post(f"{base}/reset").raise_for_status()
    assert emulator.state.stats()["faults"]["active"] == []
