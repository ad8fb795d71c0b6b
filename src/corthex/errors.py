"""Exceptions raised by CORTHEX Batch.

CorthexError
├── UsageError                 the caller asked for something that cannot be done
│   ├── InvalidInput           a request file or body failed validation (carries every problem)
│   ├── NotFound               an id that the store does not know (also a LookupError)
│   ├── AlreadyExists          the store holds this id (or Idempotency-Key) already
│   │   └── KeyTaken           … the Idempotency-Key: a twin submission recorded its job first
│   ├── JobFinished            the job has ended already: a cancel changes nothing
│   └── SetupError             a provider the requests need is not set up (key, endpoint): the fix in one line
├── ProviderError              a provider call failed (provider, op, status code, retryable)
└── BudgetExceeded             a submission would go over the daily budget
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class CorthexError(Exception):
    """CORTHEX Batch failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__)


class UsageError(CorthexError):
    """The request cannot be carried out as given."""


@dataclass(frozen=True)
class InputProblem:
    """One problem in the input: where it is and what is wrong."""

    line: int  #: 1-based line number (or item number in a list); 0 for the input as a whole
    reason: str
    field: str | None = None
    unit: str = "line"  #: "line" in a file, "item" in a list of requests

    def __str__(self) -> str:
        where = f"{self.unit} {self.line}" if self.line else "input"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.reason}"


class InvalidInput(UsageError):
    """The input failed validation; nothing was submitted."""

    def __init__(self, problems: Sequence[InputProblem], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        prefix = f"{source} " if source else ""
        shown = "\n".join(f"  {prefix}{p}" for p in self.problems[:20])
        more = len(self.problems) - 20
        tail = f"\n  … and {more} more" if more > 0 else ""
        super().__init__(f"{len(self.problems)} problem(s), nothing submitted:\n{shown}{tail}")


class NotFound(UsageError, LookupError):
    """No such object."""

    def __init__(self, kind: str, ident: str) -> None:
        self.kind, self.ident = kind, ident
        super().__init__(f"no {kind} with id {ident!r}")


class AlreadyExists(UsageError):
    """An object with this identity exists already; nothing was recorded."""

    def __init__(self, kind: str, ident: str) -> None:
        self.kind, self.ident = kind, ident
        super().__init__(f"a {kind} {ident!r} exists already: nothing recorded")


class KeyTaken(AlreadyExists):
    """A job with this Idempotency-Key exists already (a twin submission recorded it first)."""

    def __init__(self, key: str) -> None:
        super().__init__("job with Idempotency-Key", key)


class JobFinished(UsageError):
    """The job has ended already; nothing was changed."""

    def __init__(self, job_id: str, status: str) -> None:
        self.job_id, self.status = job_id, status
        super().__init__(f"job {job_id} is already {status}: nothing to cancel, nothing changed")


class UnpricedModel(UsageError):
    """With a daily budget set, a model whose price is not known cannot be sent."""

    def __init__(self, models: list[str]) -> None:
        self.models = models
        example = models[0].split("'")[1] if "'" in models[0] else "my-model"
        super().__init__(
            f"no price is known for {', '.join(models)}, so the daily budget cannot account for it: "
            f"nothing submitted. Use a priced model name, or give its price (USD per million tokens): "
            f'CORTHEX_MODEL_PRICES=\'{{"{example}": {{"input": 1.25, "output": 10}}}}\''
        )


class IdempotencyConflict(UsageError):
    """An Idempotency-Key already used for other requests."""

    def __init__(self, key: str, job_id: str) -> None:
        self.key, self.job_id = key, job_id
        super().__init__(
            f"Idempotency-Key {key!r} was used for other requests (job {job_id}): nothing submitted; "
            "use a new key for new requests"
        )


class NothingToRetry(UsageError):
    """A retry found no request of the asked statuses in the job."""

    def __init__(self, job_id: str, statuses: Sequence[str]) -> None:
        self.job_id = job_id
        super().__init__(f"job {job_id} has no {' or '.join(statuses)} request: nothing to retry")


class SetupError(UsageError):
    """A provider the requests need is not set up; nothing was stored. The message is the fix."""


class ProviderError(CorthexError):
    """A provider call failed."""

    def __init__(
        self,
        provider: str,
        op: str,
        message: str,
        *,
        status_code: int | None = None,
        retryable: bool = False,
        setup: bool = False,
    ) -> None:
        self.provider, self.op = provider, op
        self.status_code, self.retryable = status_code, retryable
        #: a setup mistake (key refused or missing, endpoint not found, unknown host): asking
        #: again cannot help, so the engine fails the call's requests at once
        self.setup = setup
        code = f" ({status_code})" if status_code else ""
        super().__init__(f"{provider} {op} failed{code}: {message}")


class BudgetExceeded(CorthexError):
    """The daily budget would be exceeded."""
