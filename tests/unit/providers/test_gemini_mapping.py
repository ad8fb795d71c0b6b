"""Gemini wire mapping, against the SDK's own types and PROVIDERS.md §3 (no network)."""

from __future__ import annotations

import json
import random
from types import SimpleNamespace

import pydantic
import pytest
from google.genai import types

from corthex.domain.batches import RemoteRef, RemoteState
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.results import UNKEYED, ResultStatus, Usage
from corthex.errors import ProviderError
from corthex.providers.base import WireItem
from corthex.providers.gemini import (
    STATES,
    GeminiProvider,
    client_from_env,
    from_wire,
    is_retryable_error,
    job_state,
    map_status,
    to_wire,
)
from corthex.providers.wire.gemini import to_file_line


def request(**kw) -> LLMRequest:
    messages = (Message("user", "hi"), Message("assistant", "hello"), Message("user", "more"))
    return LLMRequest("q1", "gemini-2.5-flash", ProviderName.GEMINI, messages, **kw)


FULL = {
    "system": "be brief",
    "temperature": 0.2,
    "max_output_tokens": 300,
    "json_schema": {"type": "object", "properties": {"a": {"type": "string"}}},
}


def test_gemini_inline_request_validates_with_sdk_types_W2():
    inline = to_wire(WireItem("w-1", request(**FULL)))
    source = types.BatchJobSource(inlined_requests=[inline])  # the SDK's own validation
    sent = source.inlined_requests[0]
    assert sent.metadata == {"key": "w-1"}
    assert sent.config.system_instruction.parts[0].text == "be brief"  # the system prompt kept
    assert sent.config.temperature == 0.2 and sent.config.max_output_tokens == 300
    assert sent.config.response_mime_type == "application/json"
    assert sent.config.response_json_schema == FULL["json_schema"]
    assert [c.role for c in sent.contents] == ["user", "model", "user"]
    assert "generation_config" not in sent.model_dump(exclude_none=True)


def test_the_sdk_rejects_a_top_level_generation_config_W2():
    # The original's shape (LESSONS bug 26): proves the SDK check above is a real one.
    with pytest.raises(pydantic.ValidationError):
        types.InlinedRequest.model_validate(
            {
                "contents": [{"parts": [{"text": "hi"}], "role": "user"}],
                "generation_config": {"temperature": 0.3},
            }
        )


def test_file_line_is_rest_camel_case():
    line = to_file_line(WireItem("w-1", request(**FULL)))
    assert line == {
        "key": "w-1",
        "request": {
            "contents": [
                {"role": "user", "parts": [{"text": "hi"}]},
                {"role": "model", "parts": [{"text": "hello"}]},
                {"role": "user", "parts": [{"text": "more"}]},
            ],
            "systemInstruction": {"parts": [{"text": "be brief"}]},
            "generationConfig": {
                "temperature": 0.2,
                "maxOutputTokens": 300,
                "responseMimeType": "application/json",
                "responseJsonSchema": FULL["json_schema"],
            },
        },
    }


def test_file_line_without_options_has_no_generation_config():
    assert set(to_file_line(WireItem("w", request()))["request"]) == {"contents"}


def response(text: str = "answer") -> dict:
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "thinking...", "thought": True}, {"text": text}]},
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 12,
            "candidatesTokenCount": 4,
            "thoughtsTokenCount": 6,
            "cachedContentTokenCount": 2,
        },
        "modelVersion": "gemini-2.5-flash",
    }


def test_file_line_result_skips_thoughts_and_counts_them_as_output():
    row = from_wire({"key": "w-1", "response": response()})
    assert row.wire_id == "w-1" and row.status is ResultStatus.SUCCEEDED
    assert row.content == "answer" and row.model == "gemini-2.5-flash"
    assert row.usage == Usage(input_tokens=12, output_tokens=10, cached_tokens=2, reasoning_tokens=6)


def test_inline_response_as_dumped_from_the_sdk():
    inlined = types.InlinedResponse.model_validate({"response": response("x"), "metadata": {"key": "k"}})
    row = from_wire(inlined.model_dump(mode="json", by_alias=True, exclude_none=True))
    assert (row.wire_id, row.status, row.content) == ("k", ResultStatus.SUCCEEDED, "x")


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        ({"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}, True),
        ({"code": 500, "message": "oops"}, True),
        ({"code": 8, "message": "quota"}, True),
        ({"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}, False),
        ({"code": 3, "message": "bad"}, False),
    ],
)
def test_error_rows_are_failures(error, retryable):
    row = from_wire({"key": "w-2", "error": error})
    assert row.status is ResultStatus.FAILED and row.retryable is retryable
    assert row.error.message == error["message"]


@pytest.mark.parametrize(
    "error",
    [{"code": 499, "status": "CANCELLED"}, {"code": 499}, {"code": 1}],
)
def test_cancelled_rows_are_canceled(error):
    row = from_wire({"key": "w", "error": error | {"message": "m"}})
    assert row.status is ResultStatus.CANCELED and row.retryable


def test_blocked_prompt_is_a_final_failure():
    row = from_wire({"key": "w", "response": {"promptFeedback": {"blockReason": "SAFETY"}}})
    assert row.status is ResultStatus.FAILED and row.error.type == "content_filter" and not row.retryable


def test_row_without_key_is_unkeyed_not_an_error_for_the_batch():
    # python-genai#2008: inline answers can lose their metadata; the row is passed on unkeyed,
    # for the collector to settle on its own (before: a ProviderError that failed the batch's collection)
    row = from_wire({"response": response("hi")})
    assert row.wire_id == UNKEYED and row.status is ResultStatus.SUCCEEDED and row.content == "hi"
    assert from_wire({"metadata": {}, "error": {"code": 500, "message": "m"}}).wire_id == UNKEYED


def test_job_state_from_the_operation_json():
    assert job_state({"metadata": {"state": "BATCH_STATE_SUCCEEDED"}}) is types.JobState.JOB_STATE_SUCCEEDED
    assert job_state({"metadata": {"state": "BATCH_STATE_NEW_ONE"}}) is types.JobState.JOB_STATE_UNSPECIFIED
    assert job_state({}) is types.JobState.JOB_STATE_UNSPECIFIED


@pytest.mark.parametrize("state", list(types.JobState))
def test_every_job_state_is_mapped(state):
    assert state in STATES
    assert map_status(types.BatchJob(state=state), 3).raw_status == state.value


@pytest.mark.parametrize(
    ("state", "remote", "ended_as"),
    [
        ("JOB_STATE_QUEUED", RemoteState.RUNNING, None),
        ("JOB_STATE_PENDING", RemoteState.RUNNING, None),
        ("JOB_STATE_RUNNING", RemoteState.RUNNING, None),
        ("JOB_STATE_PAUSED", RemoteState.RUNNING, None),
        ("JOB_STATE_UPDATING", RemoteState.RUNNING, None),
        ("JOB_STATE_CANCELLING", RemoteState.RUNNING, None),
        ("JOB_STATE_UNSPECIFIED", RemoteState.RUNNING, None),
        ("JOB_STATE_SUCCEEDED", RemoteState.ENDED, None),
        ("JOB_STATE_PARTIALLY_SUCCEEDED", RemoteState.ENDED, None),
        ("JOB_STATE_CANCELLED", RemoteState.ENDED, ResultStatus.CANCELED),
        ("JOB_STATE_EXPIRED", RemoteState.ENDED, ResultStatus.EXPIRED),
        ("JOB_STATE_FAILED", RemoteState.FAILED, None),
    ],
)
def test_state_mapping(state, remote, ended_as):
    status = map_status(types.BatchJob(state=state), 4)
    assert status.state is remote and status.ended_as is ended_as and status.total == 4


def test_failed_job_reports_the_operation_error():
    job = types.BatchJob(state="JOB_STATE_FAILED")
    quota = map_status(job, 1, {"code": 8, "message": "quota exceeded", "status": "RESOURCE_EXHAUSTED"})
    assert quota.retryable and "quota exceeded" in quota.error
    bad = map_status(job, 1, {"code": 3, "message": "bad input"})
    assert not bad.retryable and "bad input" in bad.error
    assert map_status(job, 1, None).error


def test_retryable_codes():
    assert is_retryable_error(429, None) and is_retryable_error(503, None)
    assert is_retryable_error(14, None) and is_retryable_error(None, "UNAVAILABLE")
    assert not is_retryable_error(404, "NOT_FOUND") and not is_retryable_error(None, None)


def inlined(key: str, text: str) -> types.InlinedResponse:
    return types.InlinedResponse.model_validate({"response": response(text), "metadata": {"key": key}})


async def test_gemini_results_mapped_by_persisted_key_W9(tmp_path):
    # A provider that never submitted anything (as after a restart), and rows out of order:
    # each answer still lands on its own request, by the key echoed in its metadata.
    keys = [f"w-{i}" for i in range(20)]
    rows = [inlined(k, f"answer to {k}") for k in keys]
    random.Random(7).shuffle(rows)
    dumped = [r.model_dump(mode="json", by_alias=True, exclude_none=True) for r in rows]
    operation = {
        "name": "batches/b1",
        "metadata": {"state": "BATCH_STATE_SUCCEEDED"},
        "response": {"inlinedResponses": {"inlinedResponses": dumped}},
    }

    async def async_request(method: str, path: str, body: dict) -> SimpleNamespace:
        assert (method, path) == ("get", "batches/b1")
        return SimpleNamespace(body=json.dumps(operation))

    client = SimpleNamespace(aio=SimpleNamespace(_api_client=SimpleNamespace(async_request=async_request)))
    provider = GeminiProvider(tmp_path, client=client)
    results = [r async for r in provider.results(RemoteRef("batches/b1", {"count": 20}))]
    assert {r.wire_id: r.content for r in results} == {k: f"answer to {k}" for k in keys}


def test_client_from_env(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "google-key")
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-key")
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:9/gemini")
    monkeypatch.setenv("GOOGLE_GENAI_API_VERSION", "beta")
    monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)
    client = client_from_env(max_retries=4, timeout=5)
    options = client._api_client._http_options
    assert client._api_client.api_key == "google-key"  # GOOGLE_API_KEY wins, as in the SDK
    assert options.base_url.startswith("http://127.0.0.1:9/gemini")
    assert options.api_version == "v1beta"
    assert options.retry_options.attempts == 5 and options.timeout == 5000
    client.close()


def test_the_api_version_is_pinned_to_v1beta_unless_overridden(monkeypatch):
    # The SDK defaults to v1; the Batch and Files API reference is v1beta (docs/wire/gemini.md).
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-key")
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)
    monkeypatch.delenv("GOOGLE_GENAI_API_VERSION", raising=False)
    client = client_from_env()
    assert client._api_client._http_options.api_version == "v1beta"
    client.close()
    monkeypatch.setenv("GOOGLE_GENAI_API_VERSION", "v1")
    client = client_from_env()
    assert client._api_client._http_options.api_version == "v1"
    client.close()


async def test_missing_key_fails_the_call_not_the_construction(monkeypatch, tmp_path):
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    provider = GeminiProvider(tmp_path)
    with pytest.raises(ProviderError) as info:
        await provider.poll(RemoteRef("batches/x"))
    assert not info.value.retryable and "GEMINI_API_KEY" in str(info.value)
