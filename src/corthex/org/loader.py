"""Load an org from YAML: parse, validate the shape (pydantic), check the whole, build the domain.

Every problem becomes an `OrgError` whose lines name the file, the department or agent, and the
field, e.g. ``org.yaml: agent 'cio_manager' (department 'cio'): field 'model': required``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, ValidationError

from corthex.domain.org import Agent, Department, KeywordRule, Org
from corthex.domain.registry import is_known, provider_for_model, provider_names
from corthex.domain.routing import tokenize
from corthex.errors import UsageError

_DEFAULT = resources.files("corthex.org").joinpath("default.yaml")
DEFAULT_ORG_PATH = Path(str(_DEFAULT))


class OrgError(UsageError):
    """The org file is invalid; every line of the message names where and what."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))


# -- shape (pydantic) -------------------------------------------------------------------------

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Id = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _AgentSpec(_Strict):
    id: Id
    name: Text
    model: Text
    prompt: Text
    provider: Text | None = None  #: a platform serving the model ("bedrock", "vertex", …)


class _KeywordGroup(_Strict):
    priority: StrictInt = Field(ge=0, le=1000)
    words: list[Text] = Field(min_length=1)


class _DepartmentSpec(_Strict):
    id: Id
    name: Text
    division: Text
    remit: str = ""
    context: str = ""  #: shared by every specialist of the department (their cached prompt prefix)
    manager: _AgentSpec
    specialists: list[_AgentSpec] = []
    keywords: list[_KeywordGroup] = []


_StepName = Literal["classify", "delegate", "specialists", "synthesize", "summary"]


class _OrgSpec(_Strict):
    chief_of_staff: Id
    classifier_model: Text
    broadcast_keywords: list[Text] = []
    broadcast_departments: list[Id] | None = None  #: None: every department but the chief of staff
    departments: list[_DepartmentSpec] = Field(min_length=1)
    #: how each step's calls go out: "realtime" (full price, seconds) or "batch" (half price, minutes
    #: to hours); a step not named goes by batch
    transport: dict[_StepName, Literal["batch", "realtime"]] = {}


# -- problems -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Problem:
    where: str  #: "agent 'x' (department 'y')", "department 'y'" or "" for the top level
    field: str
    reason: str

    def __str__(self) -> str:
        prefix = f"{self.where}: " if self.where else ""
        return f"{prefix}field '{self.field}': {self.reason}"


def _agent_where(agent_id: str, dept_id: str) -> str:
    return _where(f"'{agent_id}'", f"'{dept_id}'")


def _where(agent: str | None, dept: str) -> str:
    """From labels already quoted (ids) or not (positions: "#2", "specialists[1]")."""
    return f"agent {agent} (department {dept})" if agent else f"department {dept}"


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _label(item: Any, fallback: str) -> str:
    """The item's id, quoted, or `fallback` (its position) when it has none."""
    ident = item.get("id") if isinstance(item, dict) else None
    return f"'{ident.strip()}'" if isinstance(ident, str) and ident.strip() else fallback


def _item(items: Any, index: Any) -> Any:
    ok = isinstance(items, list) and isinstance(index, int) and 0 <= index < len(items)
    return items[index] if ok else None


def _locate(loc: tuple[int | str, ...], data: dict[str, Any]) -> tuple[str, tuple[int | str, ...]]:
    """(where, the field's path within it) for a pydantic error location."""
    if len(loc) < 3 or loc[0] != "departments" or not isinstance(loc[1], int):
        return "", loc
    dept = _item(data.get("departments"), loc[1])
    dept_id = _label(dept, f"#{loc[1] + 1}")
    rest = loc[2:]
    if rest[:1] == ("manager",) and len(rest) > 1:
        agent = dept.get("manager") if isinstance(dept, dict) else None
        return _where(_label(agent, "manager"), dept_id), rest[1:]
    if rest[:1] == ("specialists",) and len(rest) > 2:
        agent = _item(dept.get("specialists") if isinstance(dept, dict) else None, rest[1])
        return _where(_label(agent, f"specialists[{rest[1]}]"), dept_id), rest[2:]
    return _where(None, dept_id), rest


_REASONS = {
    "missing": "required",
    "extra_forbidden": "unknown field",
    "string_too_short": "must not be empty",
    "string_pattern_mismatch": "must be 1-64 of a-z, 0-9, '_' and '-', starting with a letter or digit",
    "too_short": "must not be empty",
    "model_type": "must be a mapping (key: value)",
    "model_attributes_type": "must be a mapping (key: value)",
    "dict_type": "must be a mapping (key: value)",
    "list_type": "must be a list",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
}


def _reason(error: Any) -> str:
    reason = _REASONS.get(error["type"])
    if reason:
        return reason
    msg = str(error["msg"])
    return msg[:1].lower() + msg[1:]


def _shape_problems(exc: ValidationError, data: dict[str, Any]) -> list[_Problem]:
    problems = []
    for error in exc.errors():
        where, field = _locate(tuple(error["loc"]), data)
        problems.append(_Problem(where, _path(field) or "(document)", _reason(error)))
    return problems


# -- whole-org checks ---------------------------------------------------------------------------


def _agents(spec: _OrgSpec) -> list[tuple[_DepartmentSpec, _AgentSpec]]:
    return [(d, a) for d in spec.departments for a in (d.manager, *d.specialists)]


def _check_department_ids(spec: _OrgSpec) -> list[_Problem]:
    seen: set[str] = set()
    problems = []
    for dept in spec.departments:
        if dept.id in seen:
            problems.append(_Problem(f"department '{dept.id}'", "id", "duplicate department id"))
        seen.add(dept.id)
    return problems


def _check_agents(spec: _OrgSpec) -> list[_Problem]:
    home: dict[str, str] = {}
    problems = []
    for dept, agent in _agents(spec):
        where = _agent_where(agent.id, dept.id)
        if agent.id in home:
            problems.append(_Problem(where, "id", f"duplicate agent id (also in department '{home[agent.id]}')"))
        home.setdefault(agent.id, dept.id)
        if agent.provider is not None and not is_known(agent.provider):
            known = ", ".join(provider_names())
            problems.append(_Problem(where, "provider", f"unknown provider '{agent.provider}' (one of {known})"))
        elif agent.provider is None and provider_for_model(agent.model) is None:
            problems.append(_Problem(where, "model", f"no known provider serves model '{agent.model}'"))
    return problems


def _check_keywords(spec: _OrgSpec) -> list[_Problem]:
    """Every keyword has a word in it, and no keyword is given twice at one priority (a tie
    would be settled by department order, silently: LESSONS W20's "전략" in CSO and CIO)."""
    owner: dict[tuple[tuple[str, ...], int], str] = {}
    problems = []
    for dept in spec.departments:
        for g, group in enumerate(dept.keywords):
            for w, word in enumerate(group.words):
                problem = _keyword_problem(owner, dept.id, word, group.priority)
                if problem:
                    problems.append(_Problem(f"department '{dept.id}'", f"keywords[{g}].words[{w}]", problem))
    return problems


def _keyword_problem(
    owner: dict[tuple[tuple[str, ...], int], str], dept_id: str, word: str, priority: int
) -> str | None:
    words = tokenize(word)
    if not words:
        return "has no letters or digits"
    key = (words, priority)
    if key not in owner:
        owner[key] = dept_id
        return None
    if owner[key] == dept_id:
        return f"keyword '{word}' is listed twice"
    return (
        f"keyword '{word}' is also in department '{owner[key]}' at priority {priority}; "
        "give one of them a higher priority"
    )


def _check_top(spec: _OrgSpec) -> list[_Problem]:
    ids = [d.id for d in spec.departments]
    problems = []
    if spec.chief_of_staff not in ids:
        problems.append(
            _Problem("", "chief_of_staff", f"no department '{spec.chief_of_staff}' (departments: {', '.join(ids)})")
        )
    for i, dept_id in enumerate(spec.broadcast_departments or []):
        if dept_id not in ids:
            problems.append(_Problem("", f"broadcast_departments[{i}]", f"no department '{dept_id}'"))
    for i, keyword in enumerate(spec.broadcast_keywords):
        if not tokenize(keyword):
            problems.append(_Problem("", f"broadcast_keywords[{i}]", "has no letters or digits"))
    if provider_for_model(spec.classifier_model) is None:
        problems.append(_Problem("", "classifier_model", f"no known provider serves model '{spec.classifier_model}'"))
    return problems


# -- build --------------------------------------------------------------------------------------


def _agent(spec: _AgentSpec) -> Agent:
    return Agent(id=spec.id, name=spec.name, model=spec.model, prompt=spec.prompt, provider=spec.provider)


def _department(spec: _DepartmentSpec) -> Department:
    rules = tuple(KeywordRule(w, g.priority) for g in spec.keywords for w in g.words)
    return Department(
        id=spec.id,
        name=spec.name,
        division=spec.division,
        manager=_agent(spec.manager),
        specialists=tuple(_agent(a) for a in spec.specialists),
        keywords=rules,
        remit=spec.remit.strip(),
        context=spec.context.strip(),
    )


def _build(spec: _OrgSpec) -> Org:
    broadcast = spec.broadcast_departments
    if broadcast is None:
        broadcast = [d.id for d in spec.departments if d.id != spec.chief_of_staff]
    return Org(
        departments=tuple(_department(d) for d in spec.departments),
        chief_of_staff=spec.chief_of_staff,
        broadcast_keywords=tuple(spec.broadcast_keywords),
        broadcast_departments=tuple(broadcast),
        classifier_model=spec.classifier_model,
        realtime_steps=frozenset(step for step, way in spec.transport.items() if way == "realtime"),
    )


# -- YAML ---------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (YAML would keep the last)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, str | int | float | bool):
            continue  # unhashable keys are refused by construct_mapping itself
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        if mark is not None:
            return f"line {mark.line + 1}, column {mark.column + 1}: invalid YAML: {what}"
        return f"invalid YAML: {what}"
    return f"invalid YAML: {exc}"


def _parse_yaml(source: str, text: str) -> dict[str, Any]:
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise OrgError(source, [_yaml_problem(exc)]) from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise OrgError(source, [f"the document must be a mapping of org settings, not {kind}"])
    return data


# -- entry points -------------------------------------------------------------------------------


def parse_org(text: str, source: str = "org.yaml") -> Org:
    """The org described by the YAML `text`; `source` names it in error messages."""
    data = _parse_yaml(source, text)
    try:
        spec = _OrgSpec.model_validate(data)
    except ValidationError as exc:
        raise OrgError(source, [str(p) for p in _shape_problems(exc, data)]) from None
    problems = _check_top(spec) + _check_department_ids(spec) + _check_agents(spec) + _check_keywords(spec)
    if problems:
        raise OrgError(source, [str(p) for p in problems])
    return _build(spec)


def load_org(path: Path | None = None) -> Org:
    """The org in the YAML file at `path`; the packaged CORTHEX HQ org when `path` is None."""
    if path is None:
        return parse_org(_DEFAULT.read_text(encoding="utf-8"), DEFAULT_ORG_PATH.name)
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise OrgError(source, ["the file is not UTF-8 text"]) from None
    except OSError as exc:
        raise OrgError(source, [f"cannot read the file: {exc.strerror or exc}"]) from None
    return parse_org(text, source)
