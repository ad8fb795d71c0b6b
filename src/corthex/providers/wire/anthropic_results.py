"""Anthropic's Message as a result, pure (no SDK): the realtime answer, a batch row's message, and
Bedrock's `modelOutput` (the same Message, from InvokeModel) all map here."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from corthex.domain.content import ToolCall
from corthex.domain.finish import ANTHROPIC_STOP, finish_from, model_answer
from corthex.domain.results import ProviderResult, Usage


def from_message(wire_id: str, message: dict[str, Any]) -> ProviderResult:
    """A Message (batch result or realtime response) as a result: its text blocks (thinking
    left out) and its `tool_use` blocks as tool calls, decided by its `stop_reason` (domain/finish.py)."""
    blocks = message.get("content") or []
    text = "".join(b.get("text") or "" for b in blocks if b.get("type") == "text")
    raw = message.get("stop_reason")
    calls = tool_calls_from(blocks)
    result = model_answer(
        wire_id,
        text=text,
        finish=finish_from(ANTHROPIC_STOP, raw),
        usage=usage_from(message.get("usage") or {}),
        model=message.get("model"),
        raw_reason=raw,
        refusal=_refusal(message) if raw == "refusal" else None,
    )
    return replace(result, tool_calls=calls) if calls else result


def tool_calls_from(blocks: list[dict[str, Any]]) -> tuple[ToolCall, ...]:
    """`tool_use` blocks (types/tool_use_block.py): `input` is already an object."""
    return tuple(
        ToolCall(str(b.get("id") or ""), str(b.get("name") or ""), _arguments(b.get("input")))
        for b in blocks
        if b.get("type") == "tool_use"
    )


def _arguments(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"_raw": value}


def _refusal(message: dict[str, Any]) -> str | None:
    """`stop_details` (RefusalStopDetails) explains a refusal, when it can."""
    details = message.get("stop_details") or {}
    explanation, category = details.get("explanation"), details.get("category")
    if explanation:
        return str(explanation)
    return f"the model declined to answer (refusal: {category})" if category else None


def usage_from(usage: dict[str, Any]) -> Usage:
    """Anthropic's `input_tokens` leaves out cache reads and writes; ours includes them.
    `output_tokens` includes thinking, broken out in `output_tokens_details.thinking_tokens`."""
    reads = usage.get("cache_read_input_tokens") or 0
    writes = usage.get("cache_creation_input_tokens") or 0
    details = usage.get("output_tokens_details") or {}
    by_ttl = usage.get("cache_creation") or {}  # the writes split by TTL, for their prices
    return Usage(
        input_tokens=(usage.get("input_tokens") or 0) + reads + writes,
        output_tokens=usage.get("output_tokens") or 0,
        cached_tokens=reads,
        cache_write_tokens=writes,
        reasoning_tokens=details.get("thinking_tokens") or 0,
        cache_write_1h_tokens=min(writes, by_ttl.get("ephemeral_1h_input_tokens") or 0),
    )
