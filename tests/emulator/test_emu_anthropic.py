"""Anthropic Message Batches through the official SDK (PROVIDERS.md §2)."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest
from anthropic.types.messages import MessageBatch
from emu_helpers import wait_for

from corthex.emulator import EmulatorServer, Fault


def req(custom_id: str, text: str = "hello", **params: Any) -> dict[str, Any]:
    body = {"model": "claude-sonnet-4-6", "max_tokens": 64, "messages": [{"role": "user", "content": text}]}
    return {"custom_id": custom_id, "params": {**body, **params}}


def ended(ant: anthropic.Anthropic, batch_id: str) -> MessageBatch:
    return wait_for(lambda: ant.messages.batches.retrieve(batch_id), lambda b: b.processing_status == "ended")


def test_batch_lifecycle_results_and_absolute_results_url(ant: anthropic.Anthropic, emulator: EmulatorServer) -> None:
    requests = [req(f"r{i}", f"question {i}") for i in range(20)]
    requests.append({"custom_id": "no-max", "params": {"model": "m", "messages": [{"role": "user", "content": "x"}]}})
    created = ant.messages.batches.create(requests=requests)  # type: ignore[arg-type]
    assert created.processing_status == "in_progress" and created.results_url is None
    assert created.request_counts.processing == 21 and created.request_counts.succeeded == 0
    done = ended(ant, created.id)
    assert done.results_url == f"{emulator.url}/anthropic/v1/messages/batches/{created.id}/results"
    counts = done.request_counts
    assert (counts.processing, counts.succeeded, counts.errored) == (0, 20, 1)
    assert done.ended_at is not None and done.expires_at > done.created_at

    results = list(ant.messages.batches.results(created.id))
    ids = [r.custom_id for r in results]
    assert sorted(ids) == sorted(r["custom_id"] for r in requests) and ids != [r["custom_id"] for r in requests]
    by_id = {r.custom_id: r.result for r in results}
    ok = by_id["r2"]
    assert ok.type == "succeeded"
    assert ok.message.content[0].type == "text"
    assert ok.message.content[0].text == "[emulated claude-sonnet-4-6] question 2"
    assert ok.message.stop_reason == "end_turn" and ok.message.usage.input_tokens >= 1
    bad = by_id["no-max"]
    assert bad.type == "errored" and bad.error.error.type == "invalid_request_error"
    assert "max_tokens" in bad.error.error.message
    stats = emulator.state.stats()["anthropic"]
    entries = [dict(entry) for entry in stats["batches"]]
    assert entries[0].pop("wire_bytes") > 21 * 20  # the create body's bytes, as received
    assert entries == [
        {"id": created.id, "requests": 21, "metadata": None, "display_name": None, "first_custom_id": "r0"}
    ]


def test_results_have_no_blank_lines(ant: anthropic.Anthropic, emulator: EmulatorServer) -> None:
    batch = ant.messages.batches.create(requests=[req("a"), req("b")])  # type: ignore[list-item]
    done = ended(ant, batch.id)
    raw = httpx.get(str(done.results_url), headers={"x-api-key": "k"}).text
    assert raw.endswith("}\n") and "\n\n" not in raw and len(raw.splitlines()) == 2


@pytest.mark.parametrize(
    ("requests", "fragment"),
    [
        ([req("bad id!")], "requests.0.custom_id"),
        ([req("ok"), req("x" * 65)], "requests.1.custom_id"),
        ([req("dup"), req("dup")], "Duplicate custom_id 'dup'"),
        ([], "at least 1 item"),
        ([{"custom_id": "a"}], "requests.0.params"),
    ],
)
def test_bad_requests_are_refused_synchronously(ant: anthropic.Anthropic, requests: list[Any], fragment: str) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        ant.messages.batches.create(requests=requests)
    body = caught.value.response.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert fragment in body["error"]["message"]
    assert ant.messages.batches.list().data == []


def test_list_pagination_newest_first(ant: anthropic.Anthropic) -> None:
    ids = [ant.messages.batches.create(requests=[req("a")]).id for _ in range(5)]  # type: ignore[list-item]
    page = ant.messages.batches.list(limit=2)
    assert [b.id for b in page.data] == ids[::-1][:2] and page.has_more
    assert (page.first_id, page.last_id) == (ids[4], ids[3])
    assert [b.id for b in ant.messages.batches.list(limit=2)] == ids[::-1]
    assert [b.id for b in ant.messages.batches.list(after_id=ids[3]).data] == ids[::-1][2:]
    assert [b.id for b in ant.messages.batches.list(before_id=ids[1]).data] == ids[::-1][:3]


def test_cancel_gives_canceled_results_and_delete_only_after_end(
    ant: anthropic.Anthropic, emulator: EmulatorServer
) -> None:
    emulator.state.config.speed = 1.0
    batch = ant.messages.batches.create(requests=[req(f"r{i}") for i in range(4)])  # type: ignore[misc]
    with pytest.raises(anthropic.BadRequestError):
        ant.messages.batches.delete(batch.id)
    canceling = ant.messages.batches.cancel(batch.id)
    assert canceling.processing_status == "canceling" and canceling.cancel_initiated_at is not None
    done = ended(ant, batch.id)
    assert done.request_counts.canceled == 4 and done.request_counts.processing == 0
    assert {r.result.type for r in ant.messages.batches.results(batch.id)} == {"canceled"}
    assert ant.messages.batches.delete(batch.id).type == "message_batch_deleted"
    with pytest.raises(anthropic.NotFoundError):
        ant.messages.batches.retrieve(batch.id)


def test_expired_and_row_error_results(ant: anthropic.Anthropic, emulator: EmulatorServer) -> None:
    emulator.state.add_fault(Fault("anthropic", kind="expire", fraction=0.5, times=1))
    emulator.state.add_fault(Fault("anthropic", kind="row_errors", every=2, times=1))
    batch = ant.messages.batches.create(requests=[req(f"r{i}") for i in range(8)])  # type: ignore[misc]
    done = ended(ant, batch.id)
    counts = done.request_counts
    assert (counts.succeeded, counts.errored, counts.expired) == (2, 2, 4)
    types = {r.custom_id: r.result.type for r in ant.messages.batches.results(batch.id)}
    assert [types[f"r{i}"] for i in range(8)] == ["succeeded", "errored"] * 2 + ["expired"] * 4
    errored = next(r.result for r in ant.messages.batches.results(batch.id) if r.result.type == "errored")
    assert errored.error.error.type == "api_error"


def test_prompt_cache_tokens_are_deterministic(ant: anthropic.Anthropic) -> None:
    system = [{"type": "text", "text": "a long shared instruction " * 20, "cache_control": {"type": "ephemeral"}}]
    batch = ant.messages.batches.create(requests=[req(f"r{i}", system=system) for i in range(3)])  # type: ignore[misc]
    ended(ant, batch.id)
    usage = {r.custom_id: r.result.message.usage for r in ant.messages.batches.results(batch.id)}  # type: ignore[union-attr]
    assert usage["r0"].cache_creation_input_tokens and not usage["r0"].cache_read_input_tokens
    assert usage["r1"].cache_read_input_tokens == usage["r0"].cache_creation_input_tokens
    assert usage["r2"].cache_creation_input_tokens == 0


def test_realtime_messages_structured_and_tools(ant: anthropic.Anthropic) -> None:
    message = ant.messages.create(
        model="claude-haiku-4-5",
        max_tokens=50,
        messages=[{"role": "user", "content": "hi [[emulator:reply=line1\\nline2]]"}],
    )
    assert message.content[0].type == "text" and message.content[0].text == "line1\nline2"
    tool = ant.messages.create(
        model="claude-haiku-4-5",
        max_tokens=50,
        messages=[{"role": "user", "content": "route this"}],
        tools=[
            {
                "name": "route",
                "input_schema": {
                    "type": "object",
                    "properties": {"to": {"type": "string", "enum": ["a", "b"]}},
                    "required": ["to"],
                },
            }
        ],
        tool_choice={"type": "tool", "name": "route"},
    )
    assert tool.stop_reason == "tool_use"
    assert tool.content[0].type == "tool_use" and tool.content[0].input == {"to": "a"}


def test_key_required_in_either_header(emulator: EmulatorServer) -> None:
    url = f"{emulator.url}/anthropic/v1/messages/batches"
    missing = httpx.get(url)
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "authentication_error"
    assert httpx.get(url, headers={"x-api-key": "k"}).status_code == 200
    assert httpx.get(url, headers={"authorization": "Bearer k"}).status_code == 200
