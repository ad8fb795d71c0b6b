"""The model classifier's contract: schema, prompt, tolerant parsing, unknown ids → chief of staff."""

from __future__ import annotations

import json

import jsonschema
import pytest

from corthex.domain.routing import (
    Route,
    classification_prompt,
    classification_schema,
    parse_classification,
    validate_route,
)
from corthex.org import load_org

ORG = load_org()


def test_validate_route_keeps_known_ids_and_sends_the_rest_to_the_chief_of_staff() -> None:
    assert validate_route(ORG, "cio") == "cio"
    assert validate_route(ORG, "chief_of_staff") == "chief_of_staff"
    for unknown in ("cfo", "", "CIO ", "cio_manager"):
        assert validate_route(ORG, unknown) == "chief_of_staff"


def test_schema_lists_every_department_and_nothing_else() -> None:
    schema = classification_schema(ORG)
    assert schema == {
        "type": "object",
        "properties": {
            "department": {"type": "string", "enum": list(ORG.department_ids)},
            "reason": {"type": "string"},
        },
        "required": ["department", "reason"],
        "additionalProperties": False,
    }
    jsonschema.validate({"department": "cto", "reason": "code"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"department": "cfo", "reason": "money"}, schema)


def test_prompt_names_every_department_and_the_fallback() -> None:
    prompt = classification_prompt(ORG)
    for dept in ORG.departments:
        assert f"- {dept.id}: {dept.name}" in prompt
    assert '"chief_of_staff"' in prompt and "JSON" in prompt


@pytest.mark.parametrize(
    ("answer", "department"),
    [
        ('{"department": "cio", "reason": "stocks"}', "cio"),
        ('```json\n{"department": "cto", "reason": "code"}\n```', "cto"),
        ('```\n{"department": "clo", "reason": "patents"}\n```', "clo"),
        ('Sure! Here you go: {"department": "cmo", "reason": "ads"} Hope it helps.', "cmo"),
        ('{"department": " CPO ", "reason": "minutes"}', "cpo"),
        ('{"department": "chief_of_staff", "reason": "general"}', "chief_of_staff"),
        ('{"department": "cso"}', "cso"),  # a missing reason is tolerated
    ],
)
def test_parse_classification_accepts_a_known_department(answer: str, department: str) -> None:
    route = parse_classification(ORG, answer)
    assert route.department_id == department
    assert route.method == "classifier" and route.keyword == ""


def test_parse_classification_keeps_the_reason() -> None:
    assert parse_classification(ORG, json.dumps({"department": "cio", "reason": "about stocks"})) == Route(
        "cio", "", "classifier", "about stocks"
    )


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "cio",
        "no idea",
        "{",
        "}{",
        "{not json}",
        "[1, 2]",
        '{"department": 3, "reason": "x"}',
        '{"dept": "cio"}',
        "```json\n```",
        '{"department": "cfo", "reason": "money"}',
        '{"department": "cio_manager", "reason": "an agent, not a department"}',
    ],
)
def test_parse_classification_falls_back_to_the_chief_of_staff(answer: str) -> None:
    route = parse_classification(ORG, answer)
    assert route.department_id == "chief_of_staff"
    assert route.method == "fallback"
    assert route.reason


def test_unknown_department_is_named_in_the_fallback_reason() -> None:
    route = parse_classification(ORG, '{"department": "cfo", "reason": "money"}')
    assert "cfo" in route.reason
