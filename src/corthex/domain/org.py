"""The organization: departments, each with a manager and specialists; every agent has a model
and a prompt (pure: the YAML loader lives in `corthex.org`).

The chief of staff is a department like the others (its manager writes the broadcast summary
and answers what no other department takes).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Agent:
    """One agent: who it is, the model it runs on, and its system prompt."""

    id: str
    name: str
    model: str
    prompt: str
    #: the provider that runs it (a platform serving the model, e.g. "bedrock", "vertex", "azure");
    #: None: the model's route or owner
    provider: str | None = None


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """A routing keyword; among the rules that match a command, the highest priority wins."""

    keyword: str
    priority: int


@dataclass(frozen=True, slots=True)
class Department:
    """A manager, the specialists who report to it, and the keywords that route work to it."""

    id: str
    name: str
    division: str
    manager: Agent
    specialists: tuple[Agent, ...]
    keywords: tuple[KeywordRule, ...]
    remit: str = ""  #: one line for the classifier; derived from the specialists when empty
    #: what every specialist of the department should know (background, house rules, documents):
    #: the start of each specialist's prompt, the same for all, so it is cached once and read by each
    context: str = ""

    @property
    def agents(self) -> tuple[Agent, ...]:
        """The manager first, then the specialists."""
        return (self.manager, *self.specialists)

    def describe(self) -> str:
        """The one-line remit the classifier sees."""
        if self.remit:
            return self.remit
        return ", ".join(a.name for a in self.specialists) or self.manager.name


@dataclass(frozen=True, slots=True)
class Org:
    """Every department, in order (the order breaks keyword ties), and the org-wide settings."""

    departments: tuple[Department, ...]
    chief_of_staff: str  #: the id of the chief of staff's department
    broadcast_keywords: tuple[str, ...]
    broadcast_departments: tuple[str, ...]  #: the departments a broadcast command runs
    classifier_model: str
    #: the steps whose calls go out realtime (the org's `transport`); every other step goes by batch
    realtime_steps: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        problems = _duplicates("department", [d.id for d in self.departments])
        problems += _duplicates("agent", [a.id for a in self.agents])
        ids = set(self.department_ids)
        problems += [f"no department {d!r}" for d in (self.chief_of_staff, *self.broadcast_departments) if d not in ids]
        if problems:
            raise ValueError("invalid org: " + "; ".join(problems))

    @property
    def department_ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.departments)

    @property
    def agents(self) -> tuple[Agent, ...]:
        """Every agent, department by department."""
        return tuple(a for d in self.departments for a in d.agents)

    def department(self, department_id: str) -> Department:
        """The department with this id; `LookupError` naming the id when there is none."""
        for dept in self.departments:
            if dept.id == department_id:
                return dept
        raise LookupError(f"no department {department_id!r} in the org")

    def agent(self, agent_id: str) -> Agent:
        """The agent with this id; `LookupError` naming the id when there is none."""
        for agent in self.agents:
            if agent.id == agent_id:
                return agent
        raise LookupError(f"no agent {agent_id!r} in the org")

    def department_of(self, agent_id: str) -> Department:
        """The department the agent works in; `LookupError` when no department has it."""
        for dept in self.departments:
            if any(a.id == agent_id for a in dept.agents):
                return dept
        raise LookupError(f"no agent {agent_id!r} in the org")


def _duplicates(kind: str, ids: list[str]) -> list[str]:
    return [f"duplicate {kind} id {i!r}" for i, n in Counter(ids).items() if n > 1]
