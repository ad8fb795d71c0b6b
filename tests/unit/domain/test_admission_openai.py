"""What OpenAI would refuse in the whole request is refused at intake, naming the line and the field
(issue 14; evidence: docs/wire/requests-openai.md)."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from corthex.domain.admission_openai import decoded_size
from corthex.domain.capabilities import request_warnings
from corthex.domain.parsing import parse_lines
from corthex.domain.requests import LLMRequest
from corthex.errors import InputProblem

PNG = base64.b64encode(b"\x89PNG" + b"\x00" * 40).decode()
PDF = base64.b64encode("%PDF-1.4 견적서".encode()).decode()
QUESTION = {"type": "text", "text": "이 견적서를 요약해 주세요"}
WEATHER = {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}


def parsed(model: str, **fields: Any) -> LLMRequest | InputProblem:
    fields.setdefault("prompt", "서울 날씨를 알려 주세요")
    [found] = parse_lines([orjson.dumps({"custom_id": "요청-1", "model": model, **fields})])
    return found


def refused(model: str, field: str, *words: str, **fields: Any) -> None:
    problem = parsed(model, **fields)
    assert isinstance(problem, InputProblem), f"accepted: {fields}"
    assert (problem.line, problem.field) == (1, field), problem
    assert all(w in problem.reason for w in words), problem.reason


def accepted(model: str, **fields: Any) -> LLMRequest:
    request = parsed(model, **fields)
    assert isinstance(request, LLMRequest), request
    return request


def user(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": [QUESTION, *parts]}], "prompt": None}


def test_a_document_by_url_is_refused_on_chat_and_taken_on_responses():
    by_url = user({"type": "document", "url": "https://example.com/견적서.pdf"})
    refused("gpt-4o-mini", "messages[0].content[1].url", "base64", **by_url)
    accepted("o3-pro", **by_url)


def test_a_text_document_is_refused_on_chat_and_taken_on_responses():
    text_doc = user(
        {"type": "document", "data": base64.b64encode("메모".encode()).decode(), "media_type": "text/plain"}
    )
    refused("gpt-4.1", "messages[0].content[1].media_type", "application/pdf", **text_doc)
    accepted("gpt-5-pro", **text_doc)


def test_pdf_and_image_data_are_taken_on_chat():
    accepted(
        "gpt-4o",
        **user(
            {"type": "image", "data": PNG, "media_type": "image/png"},
            {"type": "document", "data": PDF, "media_type": "application/pdf"},
        ),
    )


def test_an_image_in_an_assistant_turn_is_refused():
    messages = [
        {"role": "user", "content": "사진을 보여 줘"},
        {"role": "assistant", "content": [{"type": "image", "data": PNG, "media_type": "image/png"}]},
        {"role": "user", "content": "고마워"},
    ]
    refused("gpt-4o", "messages[1].content[0]", "only text", messages=messages, prompt=None)


def test_too_many_images_and_too_many_image_bytes():
    many = [{"type": "image", "url": f"https://example.com/{i}.png"} for i in range(501)]
    refused("gpt-4o", "messages[0].content[501]", "500", **user(*many))
    big = base64.b64encode(b"\x00" * (21 * 1024 * 1024)).decode()
    refused(
        "gpt-4o",
        "messages[0].content[1].data",
        "20 MB",
        **user({"type": "image", "data": big, "media_type": "image/png"}),
    )
    nineteen = base64.b64encode(b"\x00" * (19 * 1024 * 1024)).decode()
    three = [{"type": "image", "data": nineteen, "media_type": "image/jpeg"}] * 3
    refused("gpt-4o", "messages[0].content[3].data", "50 MB", **user(*three))


def test_documents_over_32_mb_in_all_are_refused():
    half = base64.b64encode(b"\x00" * (17 * 1024 * 1024)).decode()
    two = [{"type": "document", "data": half, "media_type": "application/pdf"}] * 2
    refused("gpt-4o", "messages[0].content[2].data", "32 MB", **user(*two))


def test_decoded_size_counts_bytes_not_base64_characters():
    for raw in (b"", b"a", b"ab", b"abc", "한글".encode()):
        assert decoded_size(base64.b64encode(raw).decode() or "") == len(raw)


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4.1", "gpt-5-chat-latest", "o1-mini"])
def test_reasoning_is_refused_on_a_model_that_takes_none(model):
    refused(model, "reasoning", "no reasoning", reasoning={"effort": "low"})


@pytest.mark.parametrize(
    ("model", "effort"),
    [("o3", "minimal"), ("gpt-5.1", "minimal"), ("gpt-5-pro", "low"), ("o3-deep-research", "medium")],
)
def test_an_effort_the_model_does_not_take_is_refused(model, effort):
    refused(model, "reasoning.effort", effort, reasoning={"effort": effort})


@pytest.mark.parametrize(
    ("model", "effort"), [("gpt-5-mini", "minimal"), ("o3", "high"), ("gpt-5.2", "low"), ("o3-pro", "medium")]
)
def test_efforts_the_model_takes_are_accepted(model, effort):
    assert accepted(model, reasoning={"effort": effort}).reasoning is not None


def test_stop_is_refused_past_four_on_responses_models_and_on_o3():
    accepted("gpt-4o", stop=["끝", "END", "###", "---"])
    refused("gpt-4o", "stop", "at most 4", stop=["끝", "END", "###", "---", "==="])
    refused("o3-pro", "stop", "/v1/responses", stop="끝")
    refused("o4-mini", "stop", "no 'stop'", stop="끝")


def test_seed_is_refused_on_responses_models():
    assert accepted("gpt-4o", seed=42).seed == 42
    refused("gpt-5-pro", "seed", "/v1/responses", seed=42)


def test_under_16_output_tokens_is_refused_on_responses_models_only():
    # found by the spec check (test_openai_spec.py): our body would break CreateResponse's minimum
    refused("o3-pro", "max_output_tokens", "at least 16", "not 10", max_output_tokens=10)
    accepted("o3-pro", max_output_tokens=16)
    accepted("gpt-4o-mini", max_output_tokens=1)  # chat completions: no floor


def test_provider_options_may_not_replace_the_model_or_stream():
    assert accepted("gpt-4o", provider_options={"openai": {"service_tier": "flex"}}).provider_options
    refused("gpt-4o", "provider_options.openai.model", provider_options={"openai": {"model": "gpt-4.1"}})
    refused("gpt-4o", "provider_options.openai.stream", provider_options={"openai": {"stream": True}})


def test_top_p_to_a_reasoning_model_is_warned_not_sent():
    request = accepted("gpt-5-mini", top_p=0.5)
    assert any("'top_p' is not sent" in w for w in request_warnings(request))
    assert not request_warnings(accepted("gpt-4o", top_p=0.5))


def test_tools_are_taken_on_both_endpoints():
    for model in ("gpt-4o", "o3-pro"):
        assert accepted(model, tools=[WEATHER], tool_choice={"name": "get_weather"}).tools
