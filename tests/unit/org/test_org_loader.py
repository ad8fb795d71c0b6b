"""Loading an org file: every problem names the file, the department or agent, and the field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from corthex.domain.org import KeywordRule
from corthex.errors import UsageError
from corthex.org import OrgError, load_org, parse_org


def _agent(agent_id: str, model: str = "claude-haiku-4-5") -> dict[str, Any]:
    return {"id": agent_id, "name": agent_id.title(), "model": model, "prompt": "You help. Answer in text only."}


BASE: dict[str, Any] = {
    "chief_of_staff": "chief_of_staff",
    "classifier_model": "claude-haiku-4-5",
    "broadcast_keywords": ["전체", "everyone"],
    "broadcast_departments": ["cio", "clo"],
    "departments": [
        {
            "id": "chief_of_staff",
            "name": "Chief of Staff",
            "division": "secretary",
            "manager": _agent("chief_of_staff"),
            "specialists": [_agent("relay_specialist", "gemini-2.5-flash")],
        },
        {
            "id": "cio",
            "name": "Investment",
            "division": "finance.investment",
            "remit": "Stocks.",
            "manager": _agent("cio_manager", "gpt-5.2"),
            "specialists": [
                _agent("stock_analysis_specialist", "gemini-2.5-pro"),
                _agent("risk_management_specialist"),
            ],
            "keywords": [{"priority": 90, "words": ["주식", "stock"]}, {"priority": 55, "words": ["리스크"]}],
        },
        {
            "id": "clo",
            "name": "Legal",
            "division": "leet_master.legal",
            "manager": _agent("clo_manager"),
            "keywords": [{"priority": 80, "words": ["IP"]}],
        },
    ],
}


def _base() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(OrgError) as info:
        parse_org(_dump(data), "org.yaml")
    return str(info.value)


def _dept(data: dict[str, Any], dept_id: str) -> dict[str, Any]:
    return next(d for d in data["departments"] if d["id"] == dept_id)


# -- a valid file -----------------------------------------------------------------------------------


def test_a_valid_file_builds_the_org() -> None:
    org = parse_org(_dump(_base()))
    assert org.department_ids == ("chief_of_staff", "cio", "clo")
    cio = org.department("cio")
    assert cio.keywords == (KeywordRule("주식", 90), KeywordRule("stock", 90), KeywordRule("리스크", 55))
    assert [a.model for a in cio.agents] == ["gpt-5.2", "gemini-2.5-pro", "claude-haiku-4-5"]
    assert cio.remit == "Stocks." and org.department("clo").specialists == ()
    assert org.broadcast_keywords == ("전체", "everyone") and org.broadcast_departments == ("cio", "clo")


def test_broadcast_departments_default_to_all_but_the_chief_of_staff() -> None:
    data = _base()
    del data["broadcast_departments"]
    assert parse_org(_dump(data)).broadcast_departments == ("cio", "clo")


def test_the_transport_names_the_steps_that_go_realtime_and_the_rest_go_by_batch() -> None:
    assert parse_org(_dump(_base())).realtime_steps == frozenset()
    data = _base()
    data["transport"] = {"classify": "realtime", "delegate": "realtime", "specialists": "batch"}
    assert parse_org(_dump(data)).realtime_steps == {"classify", "delegate"}


@pytest.mark.parametrize(
    ("transport", "field"),
    [({"classify": "fast"}, "transport.classify"), ({"deliver": "realtime"}, "transport.deliver")],
)
def test_a_transport_that_is_not_batch_or_realtime_for_a_step_is_refused_naming_it(
    transport: dict[str, str], field: str
) -> None:
    data = _base()
    data["transport"] = transport
    error = _error(data)
    assert field in error and len(error.splitlines()) == 1, error


def test_load_org_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(_dump(_base()), encoding="utf-8")
    assert load_org(path) == parse_org(_dump(_base()))


def test_org_error_is_a_usage_error() -> None:
    assert issubclass(OrgError, UsageError)


# -- invalid files ----------------------------------------------------------------------------------


def _missing_manager_model(d: dict[str, Any]) -> None:
    del _dept(d, "cio")["manager"]["model"]


def _missing_specialist_model(d: dict[str, Any]) -> None:
    del _dept(d, "cio")["specialists"][1]["model"]


def _unknown_provider(d: dict[str, Any]) -> None:
    _dept(d, "cio")["specialists"][0]["model"] = "llama-3-70b"


def _duplicate_agent(d: dict[str, Any]) -> None:
    _dept(d, "clo")["specialists"] = [_agent("stock_analysis_specialist")]


def _unknown_broadcast(d: dict[str, Any]) -> None:
    d["broadcast_departments"].append("cfo")


def _empty_keyword(d: dict[str, Any]) -> None:
    _dept(d, "cio")["keywords"][0]["words"][1] = "  "


def _keyword_without_letters(d: dict[str, Any]) -> None:
    _dept(d, "clo")["keywords"][0]["words"].append("!!")


def _no_keyword_words(d: dict[str, Any]) -> None:
    _dept(d, "clo")["keywords"][0]["words"] = []


def _extra_agent_field(d: dict[str, Any]) -> None:
    _dept(d, "cio")["manager"]["temperature"] = 0.3


def _extra_department_field(d: dict[str, Any]) -> None:
    _dept(d, "clo")["colour"] = "blue"


def _extra_top_field(d: dict[str, Any]) -> None:
    d["version"] = 2


def _missing_chief_department(d: dict[str, Any]) -> None:
    d["departments"].pop(0)


def _missing_chief_key(d: dict[str, Any]) -> None:
    del d["chief_of_staff"]


def _same_keyword_same_priority(d: dict[str, Any]) -> None:
    _dept(d, "clo")["keywords"].append({"priority": 90, "words": ["Stock"]})


def _keyword_twice(d: dict[str, Any]) -> None:
    _dept(d, "clo")["keywords"].append({"priority": 80, "words": ["ip"]})


def _duplicate_department(d: dict[str, Any]) -> None:
    _dept(d, "clo")["id"] = "cio"


def _bad_agent_id(d: dict[str, Any]) -> None:
    _dept(d, "cio")["specialists"][0]["id"] = "Stock Analyst:1"


def _priority_not_a_number(d: dict[str, Any]) -> None:
    _dept(d, "cio")["keywords"][1]["priority"] = "high"


def _agent_without_id(d: dict[str, Any]) -> None:
    del _dept(d, "cio")["specialists"][1]["id"]


def _department_without_manager(d: dict[str, Any]) -> None:
    del _dept(d, "clo")["manager"]


def _department_without_id(d: dict[str, Any]) -> None:
    del d["departments"][2]["id"]


def _unknown_classifier(d: dict[str, Any]) -> None:
    d["classifier_model"] = "llama-3-70b"


def _empty_prompt(d: dict[str, Any]) -> None:
    _dept(d, "clo")["manager"]["prompt"] = ""


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_missing_manager_model, "org.yaml: agent 'cio_manager' (department 'cio'): field 'model': required"),
        (
            _missing_specialist_model,
            "org.yaml: agent 'risk_management_specialist' (department 'cio'): field 'model': required",
        ),
        (
            _unknown_provider,
            "org.yaml: agent 'stock_analysis_specialist' (department 'cio'): field 'model': "
            "no known provider serves model 'llama-3-70b'",
        ),
        (
            _duplicate_agent,
            "org.yaml: agent 'stock_analysis_specialist' (department 'clo'): field 'id': "
            "duplicate agent id (also in department 'cio')",
        ),
        (_unknown_broadcast, "org.yaml: field 'broadcast_departments[2]': no department 'cfo'"),
        (_empty_keyword, "org.yaml: department 'cio': field 'keywords[0].words[1]': must not be empty"),
        (_keyword_without_letters, "org.yaml: department 'clo': field 'keywords[0].words[1]': has no letters"),
        (_no_keyword_words, "org.yaml: department 'clo': field 'keywords[0].words': must not be empty"),
        (_extra_agent_field, "org.yaml: agent 'cio_manager' (department 'cio'): field 'temperature': unknown field"),
        (_extra_department_field, "org.yaml: department 'clo': field 'colour': unknown field"),
        (_extra_top_field, "org.yaml: field 'version': unknown field"),
        (
            _missing_chief_department,
            "org.yaml: field 'chief_of_staff': no department 'chief_of_staff' (departments: cio, clo)",
        ),
        (_missing_chief_key, "org.yaml: field 'chief_of_staff': required"),
        (
            _same_keyword_same_priority,
            "org.yaml: department 'clo': field 'keywords[1].words[0]': "
            "keyword 'Stock' is also in department 'cio' at priority 90",
        ),
        (_keyword_twice, "org.yaml: department 'clo': field 'keywords[1].words[0]': keyword 'ip' is listed twice"),
        (_duplicate_department, "org.yaml: department 'cio': field 'id': duplicate department id"),
        (_bad_agent_id, "org.yaml: agent 'Stock Analyst:1' (department 'cio'): field 'id': must be 1-64 of"),
        (_priority_not_a_number, "org.yaml: department 'cio': field 'keywords[1].priority': must be a whole number"),
        (_agent_without_id, "org.yaml: agent specialists[1] (department 'cio'): field 'id': required"),
        (_department_without_manager, "org.yaml: department 'clo': field 'manager': required"),
        (_department_without_id, "org.yaml: department #3: field 'id': required"),
        (_unknown_classifier, "org.yaml: field 'classifier_model': no known provider serves model 'llama-3-70b'"),
        (_empty_prompt, "org.yaml: agent 'clo_manager' (department 'clo'): field 'prompt': must not be empty"),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else "",
)
def test_invalid_org_names_where_and_what(mutate: Any, message: str) -> None:
    data = _base()
    mutate(data)
    assert message in _error(data)


def test_every_problem_is_reported_at_once() -> None:
    data = _base()
    _missing_manager_model(data)
    _extra_department_field(data)
    _empty_prompt(data)
    error = _error(data)
    assert len(error.splitlines()) == 3
    assert all(line.startswith("org.yaml: ") for line in error.splitlines())


def test_whole_org_problems_are_reported_together() -> None:
    data = _base()
    _unknown_provider(data)
    _unknown_broadcast(data)
    with pytest.raises(OrgError) as info:
        parse_org(_dump(data), "org.yaml")
    assert len(info.value.problems) == 2 and info.value.source == "org.yaml"


# -- files and YAML ---------------------------------------------------------------------------------


def test_bad_yaml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text("chief_of_staff: cos\nclassifier_model: [claude-haiku-4-5\ndepartments: []\n", encoding="utf-8")
    with pytest.raises(OrgError, match=r"org\.yaml: line \d+, column \d+: invalid YAML") as info:
        load_org(path)
    assert str(path) in str(info.value)


def test_bad_indentation_gives_its_line(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text("chief_of_staff: cos\n  classifier_model: x\n", encoding="utf-8")
    with pytest.raises(OrgError, match=r"line 2, column \d+: invalid YAML"):
        load_org(path)


def test_a_key_given_twice_is_refused_with_its_line() -> None:
    text = _dump(_base()).replace("  model: gpt-5.2\n", "  model: gpt-5.2\n    model: claude-opus-4-6\n", 1)
    line = text.splitlines().index("    model: claude-opus-4-6") + 1
    with pytest.raises(OrgError, match=rf"org\.yaml: line {line}, column 5: invalid YAML: duplicate key 'model'"):
        parse_org(text, "org.yaml")


@pytest.mark.parametrize(("text", "kind"), [("", "empty"), ("- a\n- b\n", "a list"), ("just text", "a str")])
def test_the_document_must_be_a_mapping(text: str, kind: str) -> None:
    with pytest.raises(OrgError, match=f"org.yaml: the document must be a mapping of org settings, not {kind}"):
        parse_org(text, "org.yaml")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(OrgError, match="nowhere.yaml: cannot read the file"):
        load_org(path)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_bytes("chief_of_staff: 비서\n".encode("euc-kr"))
    with pytest.raises(OrgError, match="org.yaml: the file is not UTF-8 text"):
        load_org(path)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: _dept(d, "cio").update(manager="cio_manager"),
            "department 'cio': field 'manager': must be a mapping (key: value)",
        ),
        (
            lambda d: _dept(d, "clo").update(specialists={"a": 1}),
            "department 'clo': field 'specialists': must be a list",
        ),
        (
            lambda d: _dept(d, "clo")["manager"].update(model=4),
            "agent 'clo_manager' (department 'clo'): field 'model': must be text",
        ),
        (lambda d: d.update(departments=[]), "field 'departments': must not be empty"),
    ],
)
def test_wrong_types_are_named_plainly(mutate: Any, message: str) -> None:
    data = _base()
    mutate(data)
    assert f"org.yaml: {message}" in _error(data)


def test_a_department_that_is_not_a_mapping_is_named_by_position() -> None:
    data = _base()
    data["departments"].append("cpo")
    assert "org.yaml: field 'departments[3]': must be a mapping (key: value)" in _error(data)
