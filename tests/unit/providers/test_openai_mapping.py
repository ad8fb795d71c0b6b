"""OpenAI wire mapping, against the shapes in PROVIDERS.md §1 (no network)."""

from __future__ import annotations

from typing import get_type_hints

import httpx2
import openai
import pytest
from openai.types import Batch
from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming
from openai.types.responses.response_create_params import ResponseCreateParamsNonStreaming

from corthex.domain.batches import RemoteState
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.results import FinishReason, ResultStatus, Usage
from corthex.errors import ProviderError
from corthex.providers.base import WireItem
from corthex.providers.openai import (
    from_wire,
    map_status,
    to_provider_error,
)
from corthex.providers.wire.openai import chat_body, to_wire


def request(model: str = "gpt-4o-mini", **kw) -> LLMRequest:
    return LLMRequest("q1", model, ProviderName.OPENAI, (Message("user", "hi"),), **kw)


def test_openai_gpt5_uses_max_completion_tokens_W5():
    body = chat_body(request("gpt-5-mini", max_output_tokens=300, temperature=0.2))
    assert body["max_completion_tokens"] == 300
    assert "max_tokens" not in body
    assert "temperature" not in body  # reasoning models reject non-default values


@pytest.mark.parametrize("model", ["gpt-5", "gpt-5-mini-2025-08-07", "o1-mini", "o3", "o4-mini", "gpt-5.1-chat-latest"])
def test_reasoning_models_get_no_temperature(model):
    assert "temperature" not in chat_body(request(model, temperature=0.5))


@pytest.mark.parametrize("model", ["gpt-5.1", "gpt-5.2-2025-12-11", "gpt-5-chat-latest", "gpt-4.1-mini"])
def test_models_at_effort_none_or_without_reasoning_keep_temperature(model):
    # gpt-5.1 and later default to reasoning effort "none", where temperature is taken
    assert chat_body(request(model, temperature=0.5))["temperature"] == 0.5


def test_chat_models_keep_temperature_and_max_completion_tokens():
    body = chat_body(request("gpt-4o", max_output_tokens=50, temperature=0.5))
    assert body["temperature"] == 0.5 and body["max_completion_tokens"] == 50
    assert "max_tokens" not in body


def test_system_prompt_goes_first_as_system_message():
    req = LLMRequest(
        "q1",
        "gpt-4o",
        ProviderName.OPENAI,
        (Message("user", "a"), Message("assistant", "b"), Message("user", "c")),
        system="be brief",
    )
    assert chat_body(req)["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "c"},
    ]


def test_json_schema_becomes_a_strict_response_format():
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}
    assert chat_body(request(json_schema=schema))["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": {**schema, "additionalProperties": False}, "strict": True},
    }


def test_json_schema_with_an_optional_property_goes_non_strict():
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}}
    fmt = chat_body(request(json_schema=schema))["response_format"]["json_schema"]
    assert fmt == {"name": "output", "schema": schema, "strict": False}


def test_pro_models_go_to_responses_with_its_request_shape():
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}
    req = LLMRequest(
        "q1",
        "o3-pro",
        ProviderName.OPENAI,
        (Message("user", "안녕"),),
        system="be brief",
        max_output_tokens=900,
        temperature=0.3,
        json_schema=schema,
    )
    line = to_wire(WireItem("w-1", req))
    assert line["url"] == "/v1/responses"
    assert line["body"] == {
        "model": "o3-pro",
        "input": [{"role": "user", "content": "안녕"}],
        "instructions": "be brief",
        "max_output_tokens": 900,
        "text": {
            "format": {
                "type": "json_schema",
                "name": "output",
                "schema": {**schema, "additionalProperties": False},
                "strict": True,
            }
        },
    }  # no temperature: o3-pro refuses it
    assert set(line["body"]) <= set(get_type_hints(ResponseCreateParamsNonStreaming))


def responses_line(body: dict) -> dict:
    response = {"status_code": 200, "request_id": "req_1", "body": body}
    return {"id": "batch_req_1", "custom_id": "w-1", "response": response, "error": None}


def responses_body(status: str = "completed", text: str | None = "답변", reason: str | None = None) -> dict:
    output: list[dict] = [{"type": "reasoning", "id": "rs_1", "summary": []}]
    if text is not None:
        content = [{"type": "output_text", "text": text, "annotations": []}]
        output.append({"type": "message", "id": "msg_1", "role": "assistant", "status": status, "content": content})
    return {
        "id": "resp_1",
        "object": "response",
        "status": status,
        "incomplete_details": {"reason": reason} if reason else None,
        "model": "o3-pro-2025-06-10",
        "output": output,
        "usage": {
            "input_tokens": 30,
            "input_tokens_details": {"cached_tokens": 10},
            "output_tokens": 500,
            "output_tokens_details": {"reasoning_tokens": 480},
            "total_tokens": 530,
        },
    }


def test_responses_row_maps_text_and_usage():
    row = from_wire(responses_line(responses_body()))
    assert row.status is ResultStatus.SUCCEEDED and row.content == "답변"
    assert row.finish_reason is FinishReason.STOP and row.model == "o3-pro-2025-06-10"
    assert row.usage == Usage(input_tokens=30, output_tokens=500, cached_tokens=10, reasoning_tokens=480)


def test_responses_cut_with_text_is_a_length_success():
    row = from_wire(responses_line(responses_body("incomplete", "부분", "max_output_tokens")))
    assert row.status is ResultStatus.SUCCEEDED and row.finish_reason is FinishReason.LENGTH


def test_responses_budget_spent_on_reasoning_is_a_max_output_tokens_failure():
    row = from_wire(responses_line(responses_body("incomplete", None, "max_output_tokens")))
    assert row.status is ResultStatus.FAILED and row.error.type == "max_output_tokens"
    assert "max_output_tokens" in row.error.message and row.usage.reasoning_tokens == 480
    assert row.finish_reason is FinishReason.LENGTH


def test_responses_content_filter_is_a_failure():
    row = from_wire(responses_line(responses_body("incomplete", None, "content_filter")))
    assert row.status is ResultStatus.FAILED and row.error.type == "content_filter"


def test_to_wire_line_shape():
    line = to_wire(WireItem("w-1", request()))
    assert line == {
        "custom_id": "w-1",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    }


def success_line(custom_id: str = "w-1") -> dict:
    return {
        "id": "batch_req_1",
        "custom_id": custom_id,
        "response": {
            "status_code": 200,
            "request_id": "req_1",
            "body": {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}
                ],
                "usage": {
                    "prompt_tokens": 20,
                    "completion_tokens": 5,
                    "total_tokens": 25,
                    "prompt_tokens_details": {"cached_tokens": 8},
                },
            },
        },
        "error": None,
    }


def test_output_file_success_row():
    row = from_wire(success_line())
    assert row.wire_id == "w-1" and row.status is ResultStatus.SUCCEEDED
    assert row.content == "hello" and row.model == "gpt-4o-mini-2024-07-18"
    assert row.usage == Usage(input_tokens=20, output_tokens=5, cached_tokens=8)


def http_error_line(status: int, kind: str) -> dict:
    return {
        "id": "batch_req_2",
        "custom_id": "w-2",
        "response": {
            "status_code": status,
            "request_id": "req_2",
            "body": {"error": {"message": "nope", "type": kind, "param": None, "code": None}},
        },
        "error": None,
    }


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (400, "invalid_request_error", False),
        (429, "rate_limit_error", True),
        (500, "server_error", True),
        (404, "invalid_request_error", False),
    ],
)
def test_openai_error_file_rows_become_failures_W5(status, kind, retryable):
    row = from_wire(http_error_line(status, kind))
    assert row.status is ResultStatus.FAILED and row.wire_id == "w-2"
    assert row.error.type == kind and row.error.message == "nope"
    assert row.error.retryable is retryable


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [
        ("batch_expired", ResultStatus.EXPIRED, True),
        ("batch_cancelled", ResultStatus.CANCELED, True),
        ("request_timeout", ResultStatus.FAILED, True),
        ("something_new", ResultStatus.FAILED, False),
    ],
)
def test_error_file_rows_without_response(code, status, retryable):
    row = from_wire({"id": "b", "custom_id": "w-3", "response": None, "error": {"code": code, "message": "m"}})
    assert row.status is status and row.error.type == code and row.error.retryable is retryable
    assert row.retryable is retryable


def test_refusal_is_a_failure():
    line = success_line()
    line["response"]["body"]["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "refusal": "I can't help with that.",
    }
    row = from_wire(line)
    assert row.status is ResultStatus.FAILED and row.error.type == "refusal"
    assert not row.retryable


def test_row_without_custom_id_is_a_retryable_provider_error():
    with pytest.raises(ProviderError) as info:
        from_wire({"response": None, "error": None})
    assert info.value.retryable


def batch(status: str, **extra) -> Batch:
    data = {
        "id": "batch_1",
        "object": "batch",
        "endpoint": "/v1/chat/completions",
        "input_file_id": "file-1",
        "completion_window": "24h",
        "status": status,
        "created_at": 1_700_000_000,
        "request_counts": {"total": 10, "completed": 6, "failed": 1},
    }
    return Batch.model_validate(data | extra)


@pytest.mark.parametrize("status", ["validating", "in_progress", "finalizing", "cancelling"])
def test_running_statuses(status):
    remote = map_status(batch(status))
    assert remote.state is RemoteState.RUNNING and remote.raw_status == status
    assert (remote.total, remote.done, remote.failed) == (10, 7, 1)


@pytest.mark.parametrize(
    ("status", "ended_as"),
    [("completed", None), ("expired", ResultStatus.EXPIRED), ("cancelled", ResultStatus.CANCELED)],
)
def test_ended_statuses(status, ended_as):
    remote = map_status(batch(status))
    assert remote.state is RemoteState.ENDED and remote.ended_as is ended_as


def test_failed_batch_with_validation_errors_is_not_retryable():
    errors = {"object": "list", "data": [{"code": "model_mismatch", "message": "one model per file", "line": 3}]}
    remote = map_status(batch("failed", errors=errors))
    assert remote.state is RemoteState.FAILED and not remote.retryable
    assert "model_mismatch" in remote.error and "line 3" in remote.error


def test_failed_batch_over_token_limit_is_retryable():
    errors = {
        "object": "list",
        "data": [{"code": "token_limit_exceeded", "message": "Enqueued token limit reached", "line": None}],
    }
    remote = map_status(batch("failed", errors=errors))
    assert remote.state is RemoteState.FAILED and remote.retryable
    assert "token_limit_exceeded" in remote.error


def test_status_without_counts():
    remote = map_status(batch("validating", request_counts=None))
    assert (remote.total, remote.done, remote.failed) == (0, 0, 0)


def status_exc(code: int, message: str = "boom") -> openai.APIStatusError:
    response = httpx2.Response(code, request=httpx2.Request("POST", "http://emulator/v1/batches"))
    return openai.APIStatusError(message, response=response, body=None)


@pytest.mark.parametrize(
    ("code", "retryable"), [(400, False), (401, False), (408, True), (409, True), (429, True), (500, True), (503, True)]
)
def test_status_errors_translate(code, retryable):
    error = to_provider_error("submit", status_exc(code))
    assert error.status_code == code and error.retryable is retryable
    assert error.provider == "openai" and error.op == "submit"


def test_connection_errors_are_retryable():
    request_ = httpx2.Request("GET", "http://emulator/v1/batches/b")
    assert to_provider_error("poll", openai.APITimeoutError(request_)).retryable
    assert to_provider_error("poll", openai.APIConnectionError(request=request_)).retryable


def test_api_keys_never_reach_errors():
    error = to_provider_error("submit", status_exc(401, "Incorrect API key provided: sk-proj-abcdef123456"))
    assert "sk-proj" not in str(error) and "abcdef123456" not in str(error)


def test_chat_body_keys_are_fields_of_the_sdk_request_type():
    body = chat_body(
        request("gpt-4o", system="s", max_output_tokens=5, temperature=0.1, json_schema={"type": "object"})
    )
    assert set(body) <= set(get_type_hints(CompletionCreateParamsNonStreaming))
