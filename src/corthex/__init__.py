"""CORTHEX Batch: LLM work through the OpenAI, Anthropic and Gemini Batch APIs."""

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
