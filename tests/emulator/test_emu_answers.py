"""The pure parts: deterministic answers, test hooks, the schema generator, the lifecycle."""

from __future__ import annotations

import jsonschema
import pytest

from corthex.emulator.answers import Ask, answer, scripted_reply
from corthex.emulator.asks import anthropic_ask, gemini_ask, openai_ask, openai_problem
from corthex.emulator.faults import BatchFaults, Fault, FaultSet
from corthex.emulator.lifecycle import Phase, Timeline, initial, snapshot
from corthex.emulator.schema_gen import generate


def test_answers_are_a_function_of_model_and_prompt() -> None:
    ask = Ask(model="m", prompt="one two three", input_text_words=3)
    assert answer(ask) == answer(ask)
    assert answer(ask).text == "[emulated m] one two three"
    assert answer(Ask(model="m", prompt="x", input_text_words=1, max_tokens=1)).output_tokens == 1
    long = answer(Ask(model="m", prompt=" ".join(["w"] * 40), input_text_words=40))
    assert long.text.startswith("This note looks at “w w w") and long.input_tokens == 52  # composed, not echoed


@pytest.mark.parametrize(
    ("prompt", "reply"),
    [
        ("a [[emulator:reply=plain text]] b", "plain text"),
        ("[[emulator:reply=two\\nlines]]", "two\nlines"),
        ('[[emulator:reply={"k": "v"}]]', '{"k": "v"}'),
        ("[[emulator:reply=bracket \\u005d\\u005d inside]]", "bracket ]] inside"),
        ("no hook", None),
    ],
)
def test_reply_hook(prompt: str, reply: str | None) -> None:
    assert scripted_reply(prompt) == reply


SCHEMAS = [
    {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "integer", "minimum": 5}},
        "required": ["a", "b"],
        "additionalProperties": False,
    },
    {"type": "array", "items": {"type": "number", "maximum": -2}, "minItems": 2},
    {
        "$defs": {"x": {"type": "string", "enum": ["p", "q"]}},
        "type": "object",
        "properties": {"x": {"$ref": "#/$defs/x"}},
        "required": ["x"],
    },
    {"anyOf": [{"type": "null"}, {"type": "string", "minLength": 30, "maxLength": 31}]},
    {"type": ["string", "null"], "format": "date-time"},
    {
        "type": "object",
        "properties": {
            "flag": {"type": "boolean"},
            "nested": {"type": "object", "properties": {"c": {"const": 3}}, "required": ["c"]},
        },
    },
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_generated_documents_validate(schema: dict[str, object]) -> None:
    jsonschema.validate(generate(schema), schema)


def test_gemini_schema_types_are_accepted() -> None:
    schema = {
        "type": "OBJECT",
        "properties": {"n": {"type": "NUMBER"}, "tags": {"type": "ARRAY", "items": {"type": "STRING"}}},
        "propertyOrdering": ["tags", "n"],
    }
    assert list(generate(schema)) == ["tags", "n"]


def test_structured_output_requests_are_recognised() -> None:
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "x"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": schema}},
    }
    assert openai_ask("/v1/chat/completions", body).schema == schema
    params = {
        "model": "c",
        "max_tokens": 5,
        "messages": [],
        "output_config": {"format": {"type": "json_schema", "schema": schema}},
    }
    assert anthropic_ask(params).schema == schema
    request = {
        "contents": [],
        "generation_config": {"response_mime_type": "application/json", "response_json_schema": schema},
    }
    assert gemini_ask("g", request).schema == schema


def test_reasoning_models_refuse_max_tokens() -> None:
    body = {"model": "o3-mini", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    problem = openai_problem("/v1/chat/completions", body)
    assert problem is not None and problem.code == "unsupported_parameter"
    assert openai_problem("/v1/chat/completions", {**body, "model": "gpt-4o"}) is None


def test_lifecycle_phases() -> None:
    tl = Timeline(created=0, n=10, validate_s=1, process_s=10, finalize_s=1, cancel_s=1)
    assert initial(tl).phase is Phase.VALIDATING
    assert [snapshot(tl, t).phase for t in (0.5, 2, 11.5, 13)] == [
        Phase.VALIDATING,
        Phase.RUNNING,
        Phase.FINALIZING,
        Phase.COMPLETED,
    ]
    assert snapshot(tl, 6).done == 5
    tl.cancel_at = 6
    assert snapshot(tl, 6.5).phase is Phase.CANCELLING
    cancelled = snapshot(tl, 8)
    assert (cancelled.phase, cancelled.done, cancelled.ended_at) == (Phase.CANCELLED, 5, 7)


def test_speed_zero_ends_at_the_first_poll() -> None:
    tl = Timeline(created=0, n=3, validate_s=0, process_s=0, finalize_s=0, cancel_s=0)
    assert initial(tl).phase is Phase.VALIDATING
    assert snapshot(tl, 0.001).phase is Phase.COMPLETED


def test_batch_faults_are_taken_per_batch() -> None:
    faults = FaultSet()
    faults.add(Fault("openai", kind="expire", fraction=0.25, times=1))
    faults.add(Fault("*", kind="row_errors", every=2))
    assert faults.take_batch_faults("openai") == BatchFaults(expire_fraction=0.25, row_error_every=2)
    assert faults.take_batch_faults("openai") == BatchFaults(row_error_every=2)
    assert faults.take_call_fault("openai", "create") is None
    with pytest.raises(ValueError):
        Fault("openai", kind="explode")


def test_a_korean_report_prompt_gets_korean_markdown_with_headings_on_their_own_lines() -> None:
    prompt = "The CEO's command:\n삼성전자 다음 분기 주가 전망을 분석해줘\n\nWrite the department's report in Markdown."
    text = answer(Ask(model="gpt-5.2", prompt=prompt, input_text_words=20)).text
    assert text == answer(Ask(model="gpt-5.2", prompt=prompt, input_text_words=20)).text  # deterministic
    assert text.startswith("### 요약") and "삼성전자" in text and "[emulated" not in text
    for line in text.splitlines():
        assert "#" not in line or line.startswith("### ")  # never a literal `###` inside a line
    assert any(line.startswith("- ") for line in text.splitlines())
    assert any(line.startswith("1. ") for line in text.splitlines())


def test_a_requested_length_is_kept_and_the_output_budget_caps_it() -> None:
    def words(prompt: str, max_tokens: int | None = None) -> int:
        return len(answer(Ask(model="m", prompt=prompt, input_text_words=9, max_tokens=max_tokens)).text.split())

    assert 300 <= words("Write 300 words about the hiring plan for next year") <= 340
    assert 40 <= words("Write 40 words about the hiring plan for next year") <= 60
    assert words("Write 300 words about the hiring plan for next year", max_tokens=65) <= 60
    other = answer(Ask(model="other-model", prompt="Write a report on cloud costs", input_text_words=6)).text
    assert other != answer(Ask(model="m", prompt="Write a report on cloud costs", input_text_words=6)).text  # seeded


def test_a_composed_answer_quotes_identifiers_with_their_underscores() -> None:
    # a tool named in the prompt (`get_weather`) is quoted back whole; emphasis (`_꼭_`) is still stripped
    prompt = "get_weather 도구로 서울 날씨를 _꼭_ 알려줘 (__요약__ 보고서)"
    text = answer(Ask(model="claude-sonnet-4-6", prompt=prompt, input_text_words=8)).text
    assert "get_weather 도구로 서울 날씨를 꼭 알려줘 (요약 보고서)" in text
    assert "getweather" not in text
