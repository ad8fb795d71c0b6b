"""Why a model stopped, per provider, and what that makes of its answer (pure).

Each provider's finish/stop reasons map to one `FinishReason` (the tables below; the evidence
is in docs/wire/finish-reasons.md). `model_answer` then decides the outcome of a row that the
provider answered: a text cut at the budget is still an answer; no text because the budget ran
out, a safety block and a refusal are failures, billed all the same.
"""

from __future__ import annotations

from corthex.domain.results import ErrorType, FinishReason, ProviderResult, ResultError, ResultStatus, Usage

F = FinishReason

#: OpenAI chat completions `choices[].finish_reason` (openai-python `ChatCompletion.Choice`);
#: a `message.refusal` is a refusal whatever the finish reason.
OPENAI_FINISH: dict[str, FinishReason] = {
    "stop": F.STOP,
    "length": F.LENGTH,
    "content_filter": F.CONTENT_FILTER,
    "tool_calls": F.TOOL_CALLS,
    "function_call": F.TOOL_CALLS,  # deprecated form of tool_calls
}

#: Mistral chat `choices[].finish_reason` (mistralai `models/chatcompletionchoice.py`,
#: `ChatCompletionChoiceFinishReason`): `model_length` is the context window reached (cut),
#: `error` a generation that failed.
MISTRAL_FINISH: dict[str, FinishReason] = {
    "stop": F.STOP,
    "length": F.LENGTH,
    "model_length": F.LENGTH,
    "tool_calls": F.TOOL_CALLS,
    "error": F.OTHER,
}

#: Anthropic Messages `stop_reason` (anthropic-sdk-python `types/stop_reason.py`).
ANTHROPIC_STOP: dict[str, FinishReason] = {
    "end_turn": F.STOP,
    "stop_sequence": F.STOP,
    "max_tokens": F.LENGTH,
    "model_context_window_exceeded": F.LENGTH,  # output stopped at the context window: cut
    "tool_use": F.TOOL_CALLS,
    "refusal": F.REFUSAL,
    "pause_turn": F.OTHER,  # a server-tool turn paused unfinished
}

_GEMINI_SAFETY = (
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
    "MODEL_ARMOR",
    "ESCALATION",
    "PUP_LIMITED_DISABLED",
)
_GEMINI_OTHER = (
    "FINISH_REASON_UNSPECIFIED",
    "OTHER",
    "LANGUAGE",
    "MALFORMED_FUNCTION_CALL",
    "UNEXPECTED_TOOL_CALL",
    "TOO_MANY_TOOL_CALLS",
    "MISSING_THOUGHT_SIGNATURE",
    "MALFORMED_RESPONSE",
    "IMAGE_OTHER",
    "NO_IMAGE",
)

#: Gemini `candidates[].finishReason` (google-genai `types.FinishReason`, every member).
GEMINI_FINISH: dict[str, FinishReason] = {
    "STOP": F.STOP,
    "MAX_TOKENS": F.LENGTH,
    "CONTINUATION": F.LENGTH,  # stopped at the per-request token limit, not complete
    **dict.fromkeys(_GEMINI_SAFETY, F.CONTENT_FILTER),
    **dict.fromkeys(_GEMINI_OTHER, F.OTHER),
}

#: Gemini `promptFeedback.blockReason` (google-genai `types.BlockedReason`): the prompt was
#: blocked, there is no candidate at all; every reason is a safety block.
GEMINI_BLOCK: frozenset[str] = frozenset(
    {
        "BLOCKED_REASON_UNSPECIFIED",
        "SAFETY",
        "OTHER",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "IMAGE_SAFETY",
        "MODEL_ARMOR",
        "JAILBREAK",
    }
)


def finish_from(table: dict[str, FinishReason], raw: object) -> FinishReason | None:
    """The reason a provider gave, in our vocabulary: None when it gave none, `other` when it is
    one we do not know (a new value must not break result collection)."""
    if raw is None or raw == "":
        return None
    return table.get(str(raw), F.OTHER)


def model_answer(
    wire_id: str,
    *,
    text: str | None,
    finish: FinishReason | None,
    usage: Usage | None,
    model: str | None,
    raw_reason: object = None,
    refusal: str | None = None,
) -> ProviderResult:
    """The outcome of a row the model answered (`text` may be empty), from why it stopped.

    - a refusal (the reason, or the provider's refusal text): failed `refusal`;
    - a safety stop: failed `content_filter`, whatever text came before it;
    - the budget ran out with no text (all of it spent thinking): failed `max_output_tokens`;
    - an unfinished `other` stop with no text: failed `no_answer` (worth another attempt);
    - anything else: succeeded, with its reason (`length` when cut with text).
    Usage stays on every row: a failed answer is billed too.
    """
    error = _answer_error(text, finish, usage, raw_reason, refusal)
    if refusal:
        finish = F.REFUSAL  # OpenAI gives `stop` with a refusal text
    if error is not None:
        return ProviderResult(wire_id, ResultStatus.FAILED, text or None, model, usage, error, finish)
    return ProviderResult(wire_id, ResultStatus.SUCCEEDED, text or "", model, usage, finish_reason=finish)


def _answer_error(
    text: str | None, finish: FinishReason | None, usage: Usage | None, raw: object, refusal: str | None
) -> ResultError | None:
    said = f" ({raw})" if raw is not None else ""
    if refusal or finish is F.REFUSAL:
        return ResultError(ErrorType.REFUSAL, refusal or f"the model declined to answer{said}")
    if finish is F.CONTENT_FILTER:
        return ResultError(ErrorType.CONTENT_FILTER, f"the provider's safety system blocked the answer{said}")
    if text:
        return None
    if finish is F.LENGTH:
        return ResultError(ErrorType.MAX_OUTPUT_TOKENS, empty_budget_message(usage))
    if finish is F.OTHER:
        return ResultError(ErrorType.NO_ANSWER, f"the model stopped without an answer{said}", True)
    return None


def empty_budget_message(usage: Usage | None) -> str:
    spent = ""
    if usage is not None and usage.output_tokens:
        spent = f" all {usage.output_tokens} output tokens were spent"
        spent += f" ({usage.reasoning_tokens} on reasoning)" if usage.reasoning_tokens else ""
        spent += ";"
    return f"the output budget ran out before any answer:{spent} raise max_output_tokens"
