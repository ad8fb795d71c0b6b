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


def test_a_schema_naming_an_unknown_draft_is_refused_not_guessed_at():
    """jsonschema would warn and validate it as the latest draft (issue 12 item 12)."""
    bad = schema_problem({"$schema": "https://example.com/my-draft", "type": "object"}, ProviderName.GEMINI)
    assert bad is not None and bad.where == "/$schema" and "my-draft" in bad.reason
    draft7 = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}
    assert schema_problem(draft7, ProviderName.OPENAI) is None


@pytest.mark.parametrize(
    ("ref", "where"),
    [
        ("#/$defs/없음", "/properties/a/$ref"),
        ("#/definitions/name", "/properties/a/$ref"),
        ("https://example.com/person.json", "/properties/a/$ref"),
    ],
)
def test_a_ref_that_points_nowhere_is_refused(ref, where):
    """Valid per the meta-schema, but every answer's validation would fail on it."""
    schema = {"type": "object", "$defs": {"name": {"type": "string"}}, "properties": {"a": {"$ref": ref}}}
    bad = schema_problem(schema, ProviderName.ANTHROPIC)
    assert bad is not None and bad.where == where and ref in bad.reason


def test_refs_that_resolve_and_ref_shaped_data_are_taken():
    schema = {
        "type": "object",
        "$defs": {"name": {"type": "string", "$anchor": "person_name"}},
        "properties": {
            "a": {"$ref": "#/$defs/name"},
            "b": {"$ref": "#person_name"},
            "$ref": {"type": "string"},  # a property called "$ref"
            "c": {"const": {"$ref": "nowhere"}},  # data, not a reference
            "d": {"$ref": "#"},
        },
    }
    assert schema_problem(schema, ProviderName.OPENAI) is None


def test_answers_are_parsed_and_validated():
    ok = check_answer(PERSON, '{"name": "김", "tags": [{"k": "가"}]}')
    assert ok.ok and ok.value == {"name": "김", "tags": [{"k": "가"}]}
    not_json = check_answer(PERSON, '{"name": ')
    assert not not_json.ok and "not JSON" in not_json.error
    wrong = check_answer(PERSON, '{"name": 3, "tags": []}')
    assert not wrong.ok and "/name" in wrong.error and "is not of type 'string'" in wrong.error
    assert not check_answer(PERSON, None).ok
