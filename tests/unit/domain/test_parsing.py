"""Bad input is refused with a message naming the line and the field (DESIGN.md §8)."""

from __future__ import annotations

import orjson
import pytest

from corthex.domain.limits import LIMITS, ProviderLimits
from corthex.domain.parsing import parse_lines
from corthex.domain.requests import LLMRequest, ProviderName
from corthex.errors import InputProblem


def parse(*lines: str) -> list[LLMRequest | InputProblem]:
    return list(parse_lines(lines))


def test_prompt_line_becomes_a_request_with_its_provider() -> None:
    [req] = parse(
        '{"custom_id": "q1", "model": "claude-sonnet-4-6", "prompt": "hi", "system": "be brief", "max_output_tokens": 512}'
    )
    assert isinstance(req, LLMRequest)
    assert req.provider is ProviderName.ANTHROPIC
    assert req.system == "be brief" and req.max_output_tokens == 512
    assert req.messages[0].content == "hi"


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("gpt-5-mini", "openai"),
        ("o3-mini", "openai"),
        ("claude-haiku-4-5", "anthropic"),
        ("gemini-2.5-flash", "gemini"),
        ("models/gemini-2.5-pro", "gemini"),
    ],
)
def test_provider_follows_the_model(model: str, provider: str) -> None:
    [req] = parse(orjson.dumps({"custom_id": "a", "model": model, "prompt": "x"}).decode())
    assert isinstance(req, LLMRequest) and req.provider.value == provider


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        ('{"custom_id": "a", "model": "gpt-5", "prompt": ', None, "invalid JSON"),
        ("[1, 2]", None, "JSON object"),
        ('{"model": "gpt-5", "prompt": "x"}', "custom_id", "missing"),
        ('{"custom_id": "", "model": "gpt-5", "prompt": "x"}', "custom_id", "non-empty"),
        ('{"custom_id": "a", "prompt": "x"}', "model", "missing"),
        ('{"custom_id": "a", "model": "llama-3", "prompt": "x"}', "model", "no provider serves"),
        ('{"custom_id": "a", "model": "x", "provider": "cohere", "prompt": "x"}', "provider", "unknown provider"),
        ('{"custom_id": "a", "model": "gpt-5"}', "prompt", "exactly one"),
        ('{"custom_id": "a", "model": "gpt-5", "prompt": "x", "messages": []}', "prompt", "exactly one"),
        (
            '{"custom_id": "a", "model": "gpt-5", "messages": [{"role": "system", "content": "x"}]}',
            "messages[0]",
            "role",
        ),
        ('{"custom_id": "a", "model": "gpt-5", "prompt": "x", "temperature": 7}', "temperature", "between"),
        (
            '{"custom_id": "a", "model": "gpt-5", "prompt": "x", "max_output_tokens": 0}',
            "max_output_tokens",
            "positive",
        ),
        ('{"custom_id": "a", "model": "gpt-5", "prompt": "x", "colour": "red"}', "colour", "unknown field"),
        ('{"custom_id": "a", "model": "gpt-5", "prompt": "x", "metadata": {"k": 1}}', "metadata", "string values"),
    ],
)
def test_bad_lines_name_their_line_and_field(line: str, field: str | None, words: str) -> None:
    good = '{"custom_id": "ok", "model": "gpt-5", "prompt": "fine"}'
    out = parse(good, line)
    assert isinstance(out[0], LLMRequest)
    problem = out[1]
    assert isinstance(problem, InputProblem)
    assert problem.line == 2 and problem.field == field
    assert words in problem.reason
    assert str(problem).startswith("line 2")


def test_duplicate_custom_id_is_reported_on_the_second_line() -> None:
    out = parse(
        '{"custom_id": "a", "model": "gpt-5", "prompt": "x"}',
        "",
        '{"custom_id": "a", "model": "claude-x", "prompt": "y"}',
    )
    assert isinstance(out[1], InputProblem)
    assert out[1].line == 3 and "duplicate custom_id 'a'" in out[1].reason


def test_request_over_the_provider_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    small = ProviderLimits(10, 1000, True, 1000)
    monkeypatch.setitem(LIMITS, ProviderName.GEMINI, small)
    line = orjson.dumps({"custom_id": "big", "model": "gemini-2.5-flash", "prompt": "x" * 1000}).decode()
    [problem] = parse(line)
    assert isinstance(problem, InputProblem) and "over gemini's limit of 1000" in problem.reason


def test_user_ids_of_any_shape_are_kept_verbatim() -> None:
    weird = "주식/분석 #1 — " + "x" * 100
    [req] = parse(orjson.dumps({"custom_id": weird, "model": "claude-sonnet-4-6", "prompt": "x"}).decode())
    assert isinstance(req, LLMRequest) and req.custom_id == weird


def test_canonical_form_round_trips() -> None:
    [req] = parse(
        '{"custom_id": "a", "model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}, {"role": "user", "content": "q2"}], "temperature": 0.2, "json_schema": {"type": "object"}, "cache_system": true, "system": "s"}'
    )
    assert isinstance(req, LLMRequest)
    assert LLMRequest.from_dict(orjson.loads(orjson.dumps(req.to_dict()))) == req
