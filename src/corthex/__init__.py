"""CORTHEX Batch: LLM work through the OpenAI, Anthropic and Gemini Batch APIs."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corthex.config import Settings
    from corthex.domain.chain import ChainStatus, Step
    from corthex.domain.jobs import JobStatus, JobSummary
    from corthex.domain.requests import LLMRequest, Message, ProviderName
    from corthex.domain.templates import RowTemplate
    from corthex.engine.engine import Engine, SubmitReport
    from corthex.errors import (
        BudgetExceeded,
        CorthexError,
        InputProblem,
        InvalidInput,
        NotFound,
        ProviderError,
        UsageError,
    )

    Client = Engine  #: the async client API: submit, status, results, cancel

#: where each name of the package is defined: imported on first use (PEP 562), so that
#: `corthex --help` and any `corthex.<module>` import do not load the engine, the store and
#: the settings (SQLAlchemy, Alembic, pydantic-settings: some 60 MB) before they are needed
_HOMES = {
    "Settings": "corthex.config",
    "ChainStatus": "corthex.domain.chain",
    "Step": "corthex.domain.chain",
    "JobStatus": "corthex.domain.jobs",
    "JobSummary": "corthex.domain.jobs",
    "LLMRequest": "corthex.domain.requests",
    "Message": "corthex.domain.requests",
    "ProviderName": "corthex.domain.requests",
    "RowTemplate": "corthex.domain.templates",
    "Engine": "corthex.engine.engine",
    "Client": "corthex.engine.engine",
    "SubmitReport": "corthex.engine.engine",
    "BudgetExceeded": "corthex.errors",
    "CorthexError": "corthex.errors",
    "InputProblem": "corthex.errors",
    "InvalidInput": "corthex.errors",
    "NotFound": "corthex.errors",
    "ProviderError": "corthex.errors",
    "UsageError": "corthex.errors",
}

__all__ = [
    "BudgetExceeded",
    "ChainStatus",
    "Client",
    "CorthexError",
    "Engine",
    "InputProblem",
    "InvalidInput",
    "JobStatus",
    "JobSummary",
    "LLMRequest",
    "Message",
    "NotFound",
    "ProviderError",
    "ProviderName",
    "RowTemplate",
    "Settings",
    "Step",
    "SubmitReport",
    "UsageError",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'corthex' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), "Engine" if name == "Client" else name)
    globals()[name] = value  # looked up once
    return value
