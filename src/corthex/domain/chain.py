"""The delegation chain's logic, pure: which requests each step sends, what comes next, and
the final report. The orchestrator (engine/chains.py) only stores, submits and delivers.

classify → delegate → specialists → synthesize → (broadcast: summary) → deliver
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from corthex.domain.org import Agent, Department, Org
from corthex.domain.registry import ProviderName, provider_for_model
from corthex.domain.requests import LLMRequest, Message
from corthex.domain.routing import classification_prompt, classification_schema, parse_classification
from corthex.domain.thinking import output_budget

TEXT_ONLY = (
    "\n\nAnswer in plain text (Markdown allowed). You have no tools: never write tool or "
    "function calls, code that pretends to run, or placeholders for data you do not have."
)
TOKENS = {"classify": 512, "delegate": 1024, "specialists": 8192, "synthesize": 8192, "summary": 8192}


class Step(enum.StrEnum):
    CLASSIFY = "classify"
    DELEGATE = "delegate"
    SPECIALISTS = "specialists"
    SYNTHESIZE = "synthesize"
    SUMMARY = "summary"  #: broadcast only: the chief of staff over every department's report
    DELIVER = "deliver"
    DONE = "done"


class ChainStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"  #: report delivered
    STOPPED = "stopped"  #: stopped before the end (budget); what it had is kept
    CANCELED = "canceled"  #: stopped by a person (`chain cancel`); what it had is delivered
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Outcome:
    """A step's result for one request, as the chain sees it."""

    ok: bool
    content: str | None = None
    error: str | None = None
    model: str | None = None
    finish_reason: str | None = None

    @property
    def cut(self) -> bool:
        """The output budget cut the answer: a part of it is no agent's answer."""
        return self.finish_reason == "length"


@dataclass(frozen=True, slots=True)
class ChainPlan:
    """What a chain works on: the command and the departments it runs."""

    command: str
    departments: tuple[str, ...]  #: one for a single chain, every broadcast department otherwise
    broadcast: bool


StepResults = Mapping[str, Outcome]  # custom_id -> outcome, for one step


# -- custom ids: the chain's own labels, unique within a step job (wire ids are derived apart) ----


def delegate_id(dept: str) -> str:
    return f"delegate:{dept}"


def specialist_id(dept: str, agent: str) -> str:
    return f"spec:{dept}:{agent}"


def synth_id(dept: str) -> str:
    return f"synth:{dept}"


def agent_of(custom_id: str) -> str:
    """The agent a step request belongs to, for display."""
    return custom_id.rsplit(":", 1)[-1]


def who(org: Org, custom_id: str) -> tuple[str, str, str | None]:
    """(agent id, display name, department) of a chain step request."""
    parts = custom_id.split(":")
    try:
        if parts[0] == "spec" and len(parts) == 3:
            return parts[2], org.agent(parts[2]).name, parts[1]
        if parts[0] in ("delegate", "synth") and len(parts) == 2:
            manager = org.department(parts[1]).manager
            return manager.id, manager.name, parts[1]
        if parts[0] == "summary":
            manager = org.department(org.chief_of_staff).manager
            return manager.id, manager.name, org.chief_of_staff
    except LookupError:  # the org changed since the chain ran
        pass
    if parts[0] == "classify":
        return "classifier", "Classifier", None
    return parts[-1], parts[-1], parts[1] if len(parts) == 3 else None


# -- requests per step --------------------------------------------------------------------------


def classify_requests(org: Org, command: str) -> list[LLMRequest]:
    return [
        _request(
            "classify",
            org.classifier_model,
            classification_prompt(org),
            command,
            TOKENS["classify"],
            schema=classification_schema(org),
        )
    ]


def delegate_requests(org: Org, plan: ChainPlan) -> list[LLMRequest]:
    return [
        _delegate_request(org.department(d), plan.command) for d in plan.departments if org.department(d).specialists
    ]


def _delegate_request(dept: Department, command: str) -> LLMRequest:
    roster = "\n".join(f"- {a.id}: {a.name}" for a in dept.specialists)
    user = (
        f"The CEO's command:\n{command}\n\nYour specialists:\n{roster}\n\n"
        "Write one concrete instruction for each specialist: what to examine and what to "
        "deliver. Answer with a JSON object mapping each specialist id to its instruction."
    )
    schema = {
        "type": "object",
        "properties": {a.id: {"type": "string"} for a in dept.specialists},
        "required": [a.id for a in dept.specialists],
        "additionalProperties": False,
    }
    return _request(
        delegate_id(dept.id),
        dept.manager.model,
        dept.manager.prompt,
        user,
        TOKENS["delegate"],
        schema=schema,
        provider_name=dept.manager.provider,
    )


def specialist_requests(org: Org, plan: ChainPlan, delegations: StepResults) -> list[LLMRequest]:
    requests = []
    for dept_id in plan.departments:
        dept = org.department(dept_id)
        instructions = parse_instructions(delegations.get(delegate_id(dept_id)))
        for agent in dept.specialists:
            requests.append(_specialist_request(dept, agent, plan.command, instructions.get(agent.id)))
    return requests


def _specialist_request(dept: Department, agent: Agent, command: str, instruction: str | None) -> LLMRequest:
    """The department's context is the system prompt, the same for each of its specialists (the
    cached prefix: written once, read by the others); the specialist's own role, instruction and
    the command follow it, in the user turn."""
    task = (
        command
        if not instruction
        else (f"## Instruction from {dept.manager.name}\n{instruction}\n\n## The CEO's original command\n{command}")
    )
    return _request(
        specialist_id(dept.id, agent.id),
        agent.model,
        department_context(dept),
        f"## Your role: {agent.name}\n{agent.prompt}\n\n{task}",
        TOKENS["specialists"],
        cache=True,
        provider_name=agent.provider,
    )


def department_context(dept: Department) -> str:
    """What every specialist of `dept` shares: the department, its people, its own context."""
    roster = "\n".join(f"- {a.name} ({a.id})" for a in dept.specialists)
    parts = [
        f"You are a specialist in {dept.name} ({dept.division}), reporting to {dept.manager.name}.",
        f"The department's specialists:\n{roster}",
        dept.context,
    ]
    return "\n\n".join(part for part in parts if part) + TEXT_ONLY


def parse_instructions(outcome: Outcome | None) -> dict[str, str]:
    """The manager's instructions; {} when delegation failed (specialists work from the command)."""
    if not _ok(outcome):
        return {}
    assert outcome is not None and outcome.content is not None
    match = re.search(r"\{.*\}", outcome.content, re.DOTALL)
    try:
        data = orjson.loads(match.group(0)) if match else None
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str) and v.strip()}


def synthesize_requests(org: Org, plan: ChainPlan, specialists: StepResults) -> list[LLMRequest]:
    return [_synthesis_request(org.department(d), plan.command, specialists) for d in plan.departments]


def _synthesis_request(dept: Department, command: str, specialists: StepResults) -> LLMRequest:
    if not dept.specialists:  # a manager without specialists answers the command itself
        user = command
    else:
        sections = [
            _specialist_section(dept, a, specialists.get(specialist_id(dept.id, a.id))) for a in dept.specialists
        ]
        missing = failed_specialists(dept, specialists)
        note = f"\n\nNo report came from: {', '.join(missing)}. Say so in your report." if missing else ""
        user = (
            f"The CEO's command:\n{command}\n\nYour specialists' reports:\n\n"
            + "\n\n".join(sections)
            + note
            + "\n\nReview them, correct what is wrong, fill the gaps, and write your "
            "department's report to the CEO in Markdown."
        )
    manager = dept.manager
    prompt = manager.prompt + TEXT_ONLY
    return _request(
        synth_id(dept.id), manager.model, prompt, user, TOKENS["synthesize"], provider_name=manager.provider
    )


def _specialist_section(dept: Department, agent: Agent, outcome: Outcome | None) -> str:
    if _ok(outcome):
        assert outcome is not None
        return f"### {agent.name}\n{outcome.content}"
    return f"### {agent.name}\n(failed: {_why(outcome)})"


def failed_specialists(dept: Department, specialists: StepResults) -> list[str]:
    return [a.name for a in dept.specialists if not _ok(specialists.get(specialist_id(dept.id, a.id)))]


def summary_requests(org: Org, plan: ChainPlan, reports: Mapping[str, str]) -> list[LLMRequest]:
    chief = org.department(org.chief_of_staff).manager
    body = "\n\n".join(f"## {org.department(d).name}\n{reports[d]}" for d in plan.departments if d in reports)
    user = (
        f"The CEO's command:\n{plan.command}\n\nEvery department's report:\n\n{body}\n\n"
        "Write the executive summary for the CEO: the key findings across departments, "
        "conflicts between them, and the decisions needed."
    )
    prompt = chief.prompt + TEXT_ONLY
    return [_request("summary", chief.model, prompt, user, TOKENS["summary"], provider_name=chief.provider)]


# -- reports ------------------------------------------------------------------------------------


def department_report(org: Org, dept_id: str, synthesis: StepResults, specialists: StepResults) -> str:
    """The manager's synthesis, or, when it failed, the specialists' reports as they are."""
    dept = org.department(dept_id)
    outcome = synthesis.get(synth_id(dept_id))
    if _ok(outcome):
        assert outcome is not None and outcome.content is not None
        return outcome.content
    parts = [f"_{dept.manager.name}'s synthesis failed ({_why(outcome)}); the specialists' reports follow as written._"]
    for agent in dept.specialists:
        parts.append(_specialist_section(dept, agent, specialists.get(specialist_id(dept_id, agent.id))))
    return "\n\n".join(parts)


def final_report(org: Org, plan: ChainPlan, reports: Mapping[str, str], summary: StepResults | None) -> str:
    if not plan.broadcast:
        dept = org.department(plan.departments[0])
        return f"# {dept.name} report\n\n{reports.get(dept.id, '(no report)')}"
    parts = ["# All-department report"]
    outcome = (summary or {}).get("summary")
    if _ok(outcome):
        assert outcome is not None
        parts.append(f"## Chief of staff's summary\n\n{outcome.content}")
    else:
        parts.append(f"_The chief of staff's summary failed ({_why(outcome)}); the department reports follow._")
    for dept_id in plan.departments:
        parts.append(f"## {org.department(dept_id).name}\n\n{reports.get(dept_id, '(no report)')}")
    return "\n\n".join(parts)


def _ok(outcome: Outcome | None) -> bool:
    """A usable answer: succeeded, not cut at the budget, not empty."""
    return outcome is not None and outcome.ok and not outcome.cut and bool(outcome.content and outcome.content.strip())


def _why(outcome: Outcome | None) -> str:
    if outcome is None:
        return "no response"
    if outcome.ok and outcome.cut:
        return "the answer was cut at the output budget (max_output_tokens)"
    return outcome.error or ("empty answer" if outcome.ok else "failed")


def _request(
    custom_id: str,
    model: str,
    system: str,
    user: str,
    max_tokens: int,
    *,
    schema: dict[str, Any] | None = None,
    cache: bool = False,
    provider_name: str | None = None,
) -> LLMRequest:
    provider = ProviderName(provider_name) if provider_name else provider_for_model(model)
    if provider is None:  # the org loader refuses such models; this guards hand-built orgs
        raise ValueError(f"no provider serves model {model!r}")
    return LLMRequest(
        custom_id=custom_id,
        model=model,
        provider=provider,
        messages=(Message("user", user),),
        system=system,
        max_output_tokens=output_budget(model, max_tokens),  # a thinking model needs room to think
        json_schema=schema,
        cache_system=cache,
    )


def route_after_classify(org: Org, results: StepResults) -> tuple[str, str]:
    """(department, method) from the classifier's answer; anything unusable → chief of staff."""
    outcome = results.get("classify")
    if not _ok(outcome):
        return org.chief_of_staff, "fallback"
    assert outcome is not None and outcome.content is not None
    route = parse_classification(org, outcome.content)
    return route.department_id, route.method


_ORDER = [Step.CLASSIFY, Step.DELEGATE, Step.SPECIALISTS, Step.SYNTHESIZE, Step.SUMMARY, Step.DELIVER, Step.DONE]


def next_step(step: Step, broadcast: bool) -> Step:
    following = _ORDER[_ORDER.index(step) + 1]
    if following is Step.SUMMARY and not broadcast:
        return Step.DELIVER
    return following


def step_requests(org: Org, plan: ChainPlan, step: Step, done: Mapping[Step, StepResults]) -> list[LLMRequest]:
    """The requests `step` sends, given the results of the steps before it."""
    empty: StepResults = {}
    if step is Step.DELEGATE:
        return delegate_requests(org, plan)
    if step is Step.SPECIALISTS:
        return specialist_requests(org, plan, done.get(Step.DELEGATE, empty))
    if step is Step.SYNTHESIZE:
        return synthesize_requests(org, plan, done.get(Step.SPECIALISTS, empty))
    if step is Step.SUMMARY:
        return summary_requests(org, plan, department_reports(org, plan, done))
    raise ValueError(f"step {step} sends no model requests")


def department_reports(org: Org, plan: ChainPlan, done: Mapping[Step, StepResults]) -> dict[str, str]:
    synthesis, specialists = done.get(Step.SYNTHESIZE, {}), done.get(Step.SPECIALISTS, {})
    return {d: department_report(org, d, synthesis, specialists) for d in plan.departments}


def compose(org: Org, plan: ChainPlan, done: Mapping[Step, StepResults]) -> str:
    """The report delivered at the end of the chain."""
    return final_report(org, plan, department_reports(org, plan, done), done.get(Step.SUMMARY))


# -- what a running chain does next -------------------------------------------------------------


class Action(enum.StrEnum):
    """What advancing a chain does now."""

    DELIVER = "deliver"  #: compose the report and hand it to every sink
    ENTER = "enter"  #: submit the current step (again: a crash came between claiming and recording)
    COMPLETE = "complete"  #: the step's job is done (or it sent nothing): record it, go on to the next
    RESUME_REALTIME = "resume_realtime"  #: a realtime step was interrupted: run its calls again
    WAIT = "wait"  #: the step's job is still running (or the chain is not running): nothing to do


class JobState(enum.StrEnum):
    """Where the job a step names stands."""

    MISSING = "missing"  #: never recorded (a crash came between claiming the step and recording it)
    RUNNING = "running"
    DONE = "done"  #: complete: every request has its result


class ChainView(Protocol):
    """What deciding needs of a chain (the store's chain row has it)."""

    @property
    def status(self) -> ChainStatus: ...
    @property
    def step(self) -> Step: ...
    @property
    def realtime(self) -> bool: ...


class StepView(Protocol):
    """What deciding needs of the chain's current step, once claimed."""

    @property
    def job_id(self) -> str | None: ...
    @property
    def realtime(self) -> bool: ...  #: its job's calls go out realtime (not by batch)


def next_action(chain: ChainView, step: StepView | None, job: JobState | None) -> Action:
    """What advancing `chain` does now, given its current step's row (None: not claimed yet) and
    the state of the job that row names (None: it names none, the step sent nothing).

    The worker's round asks it to pick the chains with work, and advancing asks it again under the
    chain's lease to act: the decision is written here once."""
    if chain.status is not ChainStatus.RUNNING:
        return Action.WAIT
    if chain.step is Step.DELIVER:
        return Action.DELIVER
    if step is None or job is JobState.MISSING:
        return Action.ENTER
    if step.job_id is None or job is JobState.DONE:
        return Action.COMPLETE
    return Action.RESUME_REALTIME if step.realtime else Action.WAIT
