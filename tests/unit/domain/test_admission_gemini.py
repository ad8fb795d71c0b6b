"""What Gemini would refuse is refused at intake, the line and the field named (issue 14;
docs/wire/requests-gemini.md)."""

from __future__ import annotations

import base64
from typing import Any

import orjson

from corthex.domain.admission_gemini import PDF_INLINE_MAX_BYTES
from corthex.domain.parsing import parse_lines
from corthex.domain.requests import LLMRequest
from corthex.errors import InputProblem

PROMPT = "이 문서를 세 문장으로 요약해 주세요."


def parsed(**fields: Any) -> LLMRequest | InputProblem:
    line = {"custom_id": "k1", "model": "gemini-2.5-flash", "prompt": PROMPT, **fields}
    (result,) = parse_lines([orjson.dumps(line)])
    return result


def refused(field: str, *words: str, **fields: Any) -> None:
    problem = parsed(**fields)
    assert isinstance(problem, InputProblem), f"accepted: {fields}"
    assert problem.field == field, problem
    assert all(w in problem.reason for w in words), problem.reason


def accepted(**fields: Any) -> None:
    assert isinstance(parsed(**fields), LLMRequest)


def parts(*items: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"type": "text", "text": PROMPT}, *items]}]


def test_a_gif_image_is_refused_for_gemini():
    gif = {"type": "image", "data": base64.b64encode(b"GIF89a").decode(), "media_type": "image/gif"}
    refused("messages[0].content[1].media_type", "image/gif", prompt=None, messages=parts(gif))
    accepted(prompt=None, model="gpt-4o", messages=parts(gif))  # other providers are not asked


def test_a_url_part_needs_a_media_type_unless_its_extension_tells():
    refused(
        "messages[0].content[1].media_type",
        "media_type",
        prompt=None,
        messages=parts({"type": "image", "url": "https://example.com/사진"}),
    )
    accepted(prompt=None, messages=parts({"type": "image", "url": "https://example.com/사진.png"}))
    accepted(
        prompt=None,
        messages=parts({"type": "document", "url": "https://example.com/a", "media_type": "application/pdf"}),
    )


def test_an_inline_pdf_over_50_mb_is_refused():
    big = base64.b64encode(b"%PDF" + bytes(PDF_INLINE_MAX_BYTES)).decode()
    pdf = {"type": "document", "data": big, "media_type": "application/pdf"}
    refused("messages[0].content[1].data", "50 MB", prompt=None, messages=parts(pdf))


def test_reasoning_on_a_model_that_does_not_think_is_refused():
    refused("reasoning", "does not think", model="gemini-2.0-flash", reasoning={"effort": "low"})
    accepted(model="gemini-3-flash-preview", reasoning={"effort": "low"})


def test_a_thinking_budget_outside_the_model_range_is_refused():
    refused("reasoning.budget_tokens", "128", model="gemini-2.5-pro", reasoning={"budget_tokens": 0})
    refused("reasoning.budget_tokens", "24,576", reasoning={"budget_tokens": 30_000})
    accepted(reasoning={"budget_tokens": 0})  # 2.5 Flash turns thinking off


def test_a_tool_answer_without_its_call_is_refused():
    messages = [{"role": "user", "content": PROMPT}, {"role": "tool", "tool_call_id": "call_9", "content": "맑음"}]
    refused("messages[1].tool_call_id", "call_9", prompt=None, messages=messages)


def test_an_unknown_provider_option_is_refused():
    refused(
        "provider_options.gemini.generation_config",
        "generationConfig",
        provider_options={"gemini": {"generation_config": {"topK": 3}}},
    )
    accepted(provider_options={"gemini": {"generationConfig": {"topK": 3}}})


def _replay(signature: str | None, *, later_turn: bool = False) -> list[dict[str, Any]]:
    call = {"id": "call_0", "name": "get_weather", "arguments": {"city": "서울"}}
    if signature:
        call["signature"] = signature
    turns = [
        {"role": "user", "content": "서울 날씨는?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_0", "content": "맑음"},
    ]
    return (
        [*turns, {"role": "assistant", "content": "맑습니다"}, {"role": "user", "content": "고마워"}]
        if later_turn
        else turns
    )


def test_gemini_3_needs_the_signature_of_a_replayed_call_of_the_current_turn() -> None:
    tools = [{"name": "get_weather", "parameters": {"type": "object", "properties": {}}}]
    refused(
        "messages[1].tool_calls[0].signature",
        "thought signature",
        model="gemini-3-flash-preview",
        prompt=None,
        messages=_replay(None),
        tools=tools,
    )
    accepted(model="gemini-3-flash-preview", prompt=None, messages=_replay("c2lnbmF0dXJl"), tools=tools)
    accepted(model="gemini-3-flash-preview", prompt=None, messages=_replay(None, later_turn=True), tools=tools)
    accepted(model="gemini-2.5-flash", prompt=None, messages=_replay(None), tools=tools)
    accepted(model="claude-sonnet-4-6", prompt=None, messages=_replay("c2lnbmF0dXJl"), tools=tools)
