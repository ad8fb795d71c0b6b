"""The org's domain objects: lookups by id, and the invariants a hand-built org must keep."""

from __future__ import annotations

import dataclasses

import pytest

from corthex.domain.org import Agent, Department, KeywordRule, Org


def _agent(agent_id: str) -> Agent:
    return Agent(agent_id, agent_id.replace("_", " ").title(), "gpt-5-mini", "You help. Answer in text only.")


def _dept(dept_id: str, *specialists: str, remit: str = "") -> Department:
    return Department(
        dept_id,
        dept_id.upper(),
        "division",
        _agent(f"{dept_id}_manager"),
        tuple(_agent(s) for s in specialists),
        (KeywordRule(dept_id, 50),),
        remit,
    )


def _org(*departments: Department, chief: str = "cos", broadcast: tuple[str, ...] = ()) -> Org:
    return Org(
        departments=departments,
        chief_of_staff=chief,
        broadcast_keywords=("all",),
        broadcast_departments=broadcast,
        classifier_model="claude-haiku-4-5",
    )


ORG = _org(_dept("cos", "relay"), _dept("cto", "backend", "infra"), broadcast=("cto",))


def test_lookups_by_id() -> None:
    assert ORG.department_ids == ("cos", "cto")
    assert ORG.department("cto").manager.id == "cto_manager"
    assert ORG.agent("infra").name == "Infra"
    assert ORG.agent("cos_manager").id == "cos_manager"
    assert ORG.department_of("backend").id == "cto"
    assert [a.id for a in ORG.agents] == ["cos_manager", "relay", "cto_manager", "backend", "infra"]
    assert [a.id for a in ORG.department("cto").agents] == ["cto_manager", "backend", "infra"]


@pytest.mark.parametrize("lookup", ["department", "agent", "department_of"])
def test_unknown_ids_raise_lookup_error_naming_the_id(lookup: str) -> None:
    with pytest.raises(LookupError, match="'nope'"):
        getattr(ORG, lookup)("nope")


def test_objects_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ORG.chief_of_staff = "cto"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ORG.department("cto").manager.model = "gpt-5.2"  # type: ignore[misc]


def test_remit_defaults_to_the_specialists() -> None:
    assert _dept("cto", "backend_specialist", "infra").describe() == "Backend Specialist, Infra"
    assert _dept("solo").describe() == "Solo Manager"
    assert _dept("cto", "backend", remit="Code.").describe() == "Code."


@pytest.mark.parametrize(
    ("departments", "chief", "broadcast", "problem"),
    [
        ((_dept("cos"), _dept("cos")), "cos", (), "duplicate department id 'cos'"),
        ((_dept("cos", "x"), _dept("cto", "x")), "cos", (), "duplicate agent id 'x'"),
        ((_dept("cto"),), "cos", (), "no department 'cos'"),
        ((_dept("cos"),), "cos", ("cfo",), "no department 'cfo'"),
    ],
)
def test_inconsistent_orgs_are_refused(
    departments: tuple[Department, ...], chief: str, broadcast: tuple[str, ...], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        _org(*departments, chief=chief, broadcast=broadcast)
