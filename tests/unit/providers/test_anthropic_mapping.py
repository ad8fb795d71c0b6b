"""Anthropic wire mapping, against the shapes in PROVIDERS.md §2 (no network)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_type_hints

import pytest
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from anthropic.types.messages import MessageBatch

from corthex.domain.batches import RemoteState
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.results import ResultStatus, Usage
from corthex.errors import ProviderError
from corthex.providers.anthropic import (
    from_wire,
    map_status,
    usage_from,
)
from corthex.providers.base import WireItem
from corthex.providers.wire.anthropic import REALTIME_MAX_TOKENS, default_max_tokens, params, to_wire


def request(**kw) -> LLMRequest:
    return LLMRequest("q1", "claude-sonnet-4-6", ProviderName.ANTHROPIC, (Message("user", "hi"),), **kw)


def test_params_default_max_tokens_and_plain_system():
    body = params(request(system="be brief", temperature=0.3))
    assert body == {  # no temperature: SDK 2.13.0's Messages API has none
        "model": "claude-sonnet-4-6",
        "max_tokens": 128_000,  # the model's largest output (capabilities.py), not a fixed 4,096
        "messages": [{"role": "user", "content": "hi"}],
        "system": "be brief",
    }


@pytest.mark.parametrize(
    ("model", "batch", "realtime"),
    [
        ("claude-sonnet-4-5-20250929", 64_000, REALTIME_MAX_TOKENS),
        ("claude-haiku-4-5", 64_000, REALTIME_MAX_TOKENS),
        ("claude-opus-4-1-20250805", 32_000, 8_192),  # the SDK's own non-streaming cap for Opus 4.x
        ("claude-3-5-haiku-20241022", 8_192, 8_192),
        ("claude-opus-4-6", 128_000, REALTIME_MAX_TOKENS),
    ],
)
def test_default_max_tokens_is_the_model_maximum(model, batch, realtime):
    assert default_max_tokens(model) == batch
    assert default_max_tokens(model, realtime=True) == realtime


def test_cache_system_uses_an_ephemeral_text_block_with_the_1_hour_ttl():
    # batches run longer than 5 minutes: the docs advise the 1-hour cache for them (docs/wire/costs.md)
    body = params(request(system="long context", cache_system=True, max_output_tokens=100))
    assert body["max_tokens"] == 100
    control = {"type": "ephemeral", "ttl": "1h"}
    assert body["system"] == [{"type": "text", "text": "long context", "cache_control": control}]


def test_usage_keeps_the_1_hour_cache_writes_apart():
    usage = usage_from(
        {
            "input_tokens": 10,
            "output_tokens": 5,
            "cache_creation_input_tokens": 300,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
        }
    )
    assert (usage.input_tokens, usage.cache_write_tokens, usage.cache_write_1h_tokens) == (310, 300, 200)


def test_json_schema_uses_structured_output_config():
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert params(request(json_schema=schema))["output_config"] == {"format": {"type": "json_schema", "schema": schema}}


def test_params_are_fields_of_the_sdk_request_type():
    body = params(request(system="s", temperature=0.1, json_schema={"type": "object"}))
    assert set(body) <= set(get_type_hints(MessageCreateParamsNonStreaming))


def test_to_wire_carries_the_wire_id():
    row = to_wire(WireItem("w_1", request()))
    assert row["custom_id"] == "w_1" and row["params"]["model"] == "claude-sonnet-4-6"


SUCCEEDED = {
    "custom_id": "r1",
    "result": {
        "type": "succeeded",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-6",
            "content": [
                {"type": "text", "text": "Hello"},
                {"type": "tool_use", "id": "t", "name": "x", "input": {}},
                {"type": "text", "text": " world"},
            ],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": 10,
                "output_tokens": 4,
                "cache_read_input_tokens": 100,
                "cache_creation_input_tokens": 20,
            },
        },
    },
}


def test_succeeded_row_joins_text_and_counts_cache_in_input():
    row = from_wire(SUCCEEDED)
    assert row.status is ResultStatus.SUCCEEDED and row.wire_id == "r1"
    assert row.content == "Hello world" and row.model == "claude-sonnet-4-6"
    assert row.usage == Usage(input_tokens=130, output_tokens=4, cached_tokens=100, cache_write_tokens=20)


def errored(kind: str) -> dict:
    return {
        "custom_id": "r2",
        "result": {
            "type": "errored",
            "error": {"type": "error", "error": {"type": kind, "message": "why"}, "request_id": "req_1"},
        },
    }


@pytest.mark.parametrize(
    ("kind", "retryable"),
    [
        ("invalid_request_error", False),
        ("rate_limit_error", True),
        ("overloaded_error", True),
        ("api_error", True),
        ("timeout_error", True),
        ("authentication_error", False),
    ],
)
def test_errored_rows(kind, retryable):
    row = from_wire(errored(kind))
    assert row.status is ResultStatus.FAILED and row.error.type == kind
    assert row.error.message == "why" and row.retryable is retryable


def test_canceled_and_expired_rows_are_retryable():
    canceled = from_wire({"custom_id": "r3", "result": {"type": "canceled"}})
    expired = from_wire({"custom_id": "r4", "result": {"type": "expired"}})
    assert canceled.status is ResultStatus.CANCELED and canceled.retryable
    assert expired.status is ResultStatus.EXPIRED and expired.retryable


def test_row_without_custom_id_raises():
    with pytest.raises(ProviderError):
        from_wire({"result": {"type": "canceled"}})


def message_batch(status: str, **counts) -> MessageBatch:
    base = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
    return MessageBatch.model_validate(
        {
            "id": "msgbatch_1",
            "type": "message_batch",
            "processing_status": status,
            "request_counts": base | counts,
            "created_at": "2026-11-24T10:00:00Z",
            "expires_at": "2026-11-25T10:00:00Z",
            "cancel_initiated_at": counts.pop("cancel", None) and "2026-11-24T10:05:00Z",
        }
    )


@pytest.mark.parametrize("status", ["in_progress", "canceling"])
def test_open_batches_are_running(status):
    remote = map_status(message_batch(status, processing=5))
    assert remote.state is RemoteState.RUNNING and (remote.total, remote.done) == (5, 0)


def test_ended_batch_counts():
    remote = map_status(message_batch("ended", succeeded=3, errored=1, expired=0))
    assert remote.state is RemoteState.ENDED and remote.ended_as is None
    assert (remote.total, remote.done, remote.failed) == (4, 4, 1)


def test_ended_batch_with_expired_requests():
    assert map_status(message_batch("ended", succeeded=1, expired=2)).ended_as is ResultStatus.EXPIRED


def test_canceled_batch_ends_as_canceled():
    batch = message_batch("ended", succeeded=1, canceled=2)
    batch.cancel_initiated_at = datetime(2026, 11, 24, 10, 5, tzinfo=UTC)
    assert map_status(batch).ended_as is ResultStatus.CANCELED
