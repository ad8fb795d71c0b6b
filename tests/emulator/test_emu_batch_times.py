"""`GET /_emulator/batches`: each batch's creation and end times, wall clock (bench/peers.py's
timeline measures from them how late a client noticed an end)."""

from __future__ import annotations

import time

import anthropic
import httpx
import openai
from emu_helpers import chat_line, jsonl

from corthex.emulator import EmulatorServer


def test_each_batch_says_when_it_was_created_and_when_it_ended(
    emulator: EmulatorServer, oai: openai.OpenAI, ant: anthropic.Anthropic
) -> None:
    emulator.state.config.speed = 0.0  # every batch ends as it is created (the next test's setup resets it)
    before = time.time()
    upload = oai.files.create(file=("in.jsonl", jsonl([chat_line("r1", "안녕하세요")])), purpose="batch")
    batch = oai.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
    params = {"model": "claude-haiku-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": "안녕"}]}
    msg_batch = ant.messages.batches.create(requests=[{"custom_id": "a1", "params": params}])  # type: ignore[list-item]
    times = {b["id"]: b for b in httpx.get(f"{emulator.url}/_emulator/batches").json()}
    ours = times[batch.id]
    assert ours["provider"] == "openai" and ours["requests"] == 1
    assert before <= ours["created"] <= time.time() and ours["processed"] >= ours["created"]
    assert times[msg_batch.id]["provider"] == "anthropic"
    assert ours["phase"] == "completed" and ours["ended_at"] == ours["created"]
    emulator.state.config.speed = 1.0  # a batch of one request runs 0.2 + 0.5 + 0.002 + 0.1 s
    running = oai.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
    late = {b["id"]: b for b in httpx.get(f"{emulator.url}/_emulator/batches").json()}[running.id]
    assert late["phase"] == "validating" and late["ended_at"] is None
    assert late["processed"] > late["created"]
