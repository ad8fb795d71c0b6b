"""Structured output: schema checks, the OpenAI strict transform, answer validation."""

from __future__ import annotations

import pytest

from corthex.domain.requests import ProviderName
from corthex.domain.structured import check_answer, schema_problem, strict_form

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "tags": {
            "type": "array",
            "items": {"type": "object", "properties": {"k": {"type": "string"}}, "required": ["k"]},
        },
    },
    "required": ["name", "tags"],
}


def test_strict_closes_every_object_and_leaves_the_input_alone():
    form = strict_form(PERSON)
    assert form.strict and form.why_not is None
    assert form.schema["additionalProperties"] is False
    assert form.schema["properties"]["tags"]["items"]["additionalProperties"] is False
    assert "additionalProperties" not in PERSON  # the user's schema is validated as given


def test_strict_reaches_defs_and_any_of():
    schema = {
        "type": "object",
        "properties": {"x": {"anyOf": [{"$ref": "#/$defs/P"}, {"type": "null"}]}},
        "required": ["x"],
        "$defs": {"P": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}},
    }
    form = strict_form(schema)
    assert form.strict and form.schema["$defs"]["P"]["additionalProperties"] is False


@pytest.mark.parametrize(
    ("schema", "why"),
    [
        (
            {"type": "object", "properties": {"a": {"type": "string"}}},
            "property 'a' at / is optional; strict mode makes every one required",
        ),
        (
            {"type": "object", "properties": {}, "additionalProperties": {"type": "string"}},
            "the object at / allows extra properties",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string", "minLength": 2}}, "required": ["a"]},
            "strict mode does not take 'minLength' (at /properties/a)",
        ),
    ],
)
def test_schemas_strict_would_narrow_go_non_strict_with_the_reason(schema, why):
    form = strict_form(schema)
    assert not form.strict and form.why_not == why and form.schema == schema


def test_schema_problems_name_the_field():
    assert schema_problem(PERSON, ProviderName.OPENAI) is None
    bad = schema_problem({"type": "object", "properties": {"a": {"type": "strng"}}}, ProviderName.OPENAI)
    assert bad is not None and bad.where == "/properties/a/type"
    root = schema_problem({"type": "array", "items": {"type": "string"}}, ProviderName.OPENAI)
    assert root is not None and root.where == "/type" and "object" in root.reason
    assert schema_problem({"type": "array"}, ProviderName.ANTHROPIC) is None


def test_answers_are_parsed_and_validated():
    ok = check_answer(PERSON, '{"name": "김", "tags": [{"k": "가"}]}')
    assert ok.ok and ok.value == {"name": "김", "tags": [{"k": "가"}]}
    not_json = check_answer(PERSON, '{"name": ')
    assert not not_json.ok and "not JSON" in not_json.error
    wrong = check_answer(PERSON, '{"name": 3, "tags": []}')
    assert not wrong.ok and "/name" in wrong.error and "is not of type 'string'" in wrong.error
    assert not check_answer(PERSON, None).ok
