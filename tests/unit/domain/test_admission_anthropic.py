"""What Anthropic would refuse, refused at intake with the field named (issue 14;
docs/wire/requests-anthropic.md)."""

from __future__ import annotations

import base64

import orjson
import pytest

from corthex.domain.admission_anthropic import IMAGE_MAX_BASE64, IMAGES_MAX
from corthex.domain.parsing import parse_lines
from corthex.domain.requests import LLMRequest
from corthex.errors import InputProblem

PNG = base64.b64encode(b"\x89PNG" + b"\0" * 32).decode()
TOOL = {"name": "classify", "parameters": {"type": "object", "properties": {}}}
WEATHER = {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}


def line(**extra: object) -> dict[str, object]:
    return {"custom_id": "q1", "model": "claude-sonnet-4-6", "prompt": "이 문서를 요약하라", **extra}


def parse(data: dict[str, object]) -> LLMRequest | InputProblem:
    [parsed] = parse_lines([orjson.dumps(data).decode()])
    return parsed


def image(data: str = PNG, **extra: object) -> dict[str, object]:
    return {"type": "image", "data": data, "media_type": "image/png", **extra}


def user(*parts: dict[str, object]) -> list[dict[str, object]]:
    return [{"role": "user", "content": [{"type": "text", "text": "사진을 설명하라"}, *parts]}]


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ({"top_p": 0.9}, "top_p", "no 'top_p' field"),
        ({"seed": 7}, "seed", "no 'seed' field"),
        ({"reasoning": {"budget_tokens": 512}}, "reasoning.budget_tokens", "at least 1,024"),
        (
            {"reasoning": {"budget_tokens": 4096}, "max_tokens": 4096},
            "reasoning.budget_tokens",
            "under max_output_tokens",
        ),
        ({"reasoning": {"budget_tokens": 200_000}}, "reasoning.budget_tokens", "under max_output_tokens (128,000)"),
        (
            {"reasoning": {"effort": "high"}, "tools": [WEATHER], "tool_choice": "required"},
            "tool_choice",
            "only tool_choice 'auto' or 'none'",
        ),
        (
            {"reasoning": {"budget_tokens": 2048}, "tools": [WEATHER], "tool_choice": {"name": "get_weather"}},
            "tool_choice",
            "only tool_choice 'auto' or 'none'",
        ),
        ({"model": "claude-3-5-haiku-20241022", "reasoning": {"effort": "low"}}, "reasoning", "no extended thinking"),
        (
            {"messages": user({"type": "document", "url": "gs://버킷/문서.pdf"})},
            "messages[0].content[1].url",
            "only http(s)",
        ),
        (
            {"messages": user({"type": "document", "url": "https://example.com/메모.txt", "media_type": "text/plain"})},
            "messages[0].content[1].url",
            "only as a PDF",
        ),
        (
            {
                "messages": user(
                    {"type": "document", "data": base64.b64encode(b"\xff\xfe").decode(), "media_type": "text/plain"}
                )
            },
            "messages[0].content[1].data",
            "UTF-8",
        ),
        ({"messages": user(image("A" * (IMAGE_MAX_BASE64 + 4)))}, "messages[0].content[1].data", "at most 5 MB"),
        (
            {"messages": user(*[image()] * (IMAGES_MAX + 1))},
            f"messages[0].content[{IMAGES_MAX + 1}]",
            "at most 100 images",
        ),
    ],
)
def test_anthropic_refusals_name_their_field(extra: dict[str, object], field: str, words: str) -> None:
    data = line(**extra)
    if "messages" in extra:
        del data["prompt"]
    found = parse(data)
    assert isinstance(found, InputProblem), found
    assert found.field == field and words in found.reason


def test_what_anthropic_takes_is_admitted() -> None:
    data = line(
        messages=user(image(cache=True), {"type": "document", "url": "https://example.com/계약서.pdf"}),
        reasoning={"budget_tokens": 2048},
        tools=[WEATHER, TOOL],
        tool_choice="auto",
        stop=["끝"],
        max_tokens=8_000,
    )
    del data["prompt"]
    assert isinstance(parse(data), LLMRequest)


def test_other_providers_keep_top_p_and_seed() -> None:
    assert isinstance(parse(line(model="gemini-2.5-flash", top_p=0.9, seed=7)), LLMRequest)


def test_a_fifth_cache_marker_is_refused_naming_it() -> None:
    # tools, then the system prompt, then the messages: the fifth marker in that order is named
    cached_tool = {**WEATHER, "cache": True}
    data = line(
        tools=[cached_tool, {**TOOL, "cache": True}],
        system="너는 꼼꼼한 분석가다",
        cache_system=True,
        messages=user(image(cache=True), {"type": "text", "text": "두 번째 표시", "cache": True}),
    )
    del data["prompt"]
    found = parse(data)
    assert isinstance(found, InputProblem), found
    assert found.field == "messages[0].content[2].cache" and "at most 4 cache markers" in found.reason
    four = dict(data, messages=user(image(cache=True)))
    assert isinstance(parse(four), LLMRequest)  # four are admitted
    assert isinstance(parse(dict(data, model="gpt-5-mini")), LLMRequest)  # OpenAI has no such limit


def test_a_tool_cache_marker_must_be_a_boolean() -> None:
    found = parse(line(tools=[{**WEATHER, "cache": "yes"}]))
    assert isinstance(found, InputProblem) and found.field == "tools[0].cache"
