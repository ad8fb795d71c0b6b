"""Gemini batch embeddings' answers (issue 14), pure: file rows back to one result per request.

We send one file line per text (`providers/wire/gemini.embed_file_lines`): a string input keyed by
its wire id, a list input's i-th of n texts keyed `<wire id>#<i>/<n>`. An answer row is
`{"key", "response": {"embedding": {"values": […]}}}` or `{"key", "error"}` (docs/wire/embeddings.md).
The key says everything regrouping needs, so a restarted process regroups without memory; rows are
matched by key, never by position. A request whose rows did not all come back fails, retryable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from corthex.domain.results import ErrorType, ProviderResult, ResultError, ResultStatus, Usage

_PART = re.compile(r"^(?P<wire>.+)#(?P<index>\d+)/(?P<count>\d+)$")


def is_embedding(response: dict[str, Any]) -> bool:
    return isinstance(response.get("embedding"), dict)


def from_embedding(wire_id: str, response: dict[str, Any]) -> ProviderResult:
    """One text's EmbedContentResponse: its vector, and its token count when the answer has one
    (`tokenCount`, as the SDK's inline `SingleEmbedContentResponse`, or `usageMetadata.promptTokenCount`).
    Without one the usage is left out here; the collector estimates it from the texts
    (engine/collect.py, docs/wire/embeddings.md)."""
    values = response["embedding"].get("values")
    if not isinstance(values, list) or not values:
        error = ResultError(ErrorType.NO_ANSWER, "embedding answer without values", True, code="malformed_response")
        return ProviderResult(wire_id, ResultStatus.FAILED, error=error)
    return ProviderResult(wire_id, ResultStatus.SUCCEEDED, usage=_usage(response), embedding=[values])


def _usage(response: dict[str, Any]) -> Usage | None:
    count = response.get("tokenCount")
    if count is None:
        count = (response.get("usageMetadata") or {}).get("promptTokenCount")
    return Usage(input_tokens=int(count)) if isinstance(count, int | str) and str(count).isdigit() else None


def part_of(wire_id: str) -> tuple[str, int, int] | None:
    """(the request's wire id, the text's index, the texts' count) of a list input's row key."""
    match = _PART.match(wire_id)
    if match is None:
        return None
    return match["wire"], int(match["index"]), int(match["count"])


@dataclass
class _Group:
    count: int
    parts: dict[int, ProviderResult] = field(default_factory=dict)


class Regrouper:
    """Collects a list input's rows until its n texts are in, then gives one result (in text order)."""

    def __init__(self) -> None:
        self._open: dict[str, _Group] = {}

    def add(self, result: ProviderResult) -> ProviderResult | None:
        """The request's whole result once its last row is in; None while rows are missing."""
        found = part_of(result.wire_id)
        if found is None:
            return result
        wire_id, index, count = found
        group = self._open.setdefault(wire_id, _Group(count))
        group.parts[index] = result
        if len(group.parts) < group.count:
            return None
        del self._open[wire_id]
        return merged(wire_id, [group.parts[i] for i in sorted(group.parts)])

    def missing(self) -> list[ProviderResult]:
        """The requests some of whose rows never came back: failed, worth another attempt."""
        out = []
        for wire_id, group in self._open.items():
            lost = group.count - len(group.parts)
            message = f"{lost} of the request's {group.count} texts came back without an answer"
            error = ResultError(ErrorType.NO_ANSWER, message, True, code="missing_rows")
            out.append(ProviderResult(wire_id, ResultStatus.FAILED, error=error))
        self._open.clear()
        return out


def merged(wire_id: str, parts: list[ProviderResult]) -> ProviderResult:
    """A list input's rows as one result: the first failed row decides a failure (the vectors of
    the others are dropped: the request is retried or failed whole); otherwise one vector per text
    and the usage summed (None when a row had none)."""
    failed = next((p for p in parts if p.status is not ResultStatus.SUCCEEDED), None)
    if failed is not None:
        return ProviderResult(wire_id, failed.status, error=failed.error)
    vectors = [p.embedding[0] for p in parts if p.embedding]
    usages = [p.usage for p in parts]
    usage = sum((u for u in usages if u is not None), Usage()) if all(u is not None for u in usages) else None
    return ProviderResult(wire_id, ResultStatus.SUCCEEDED, usage=usage, embedding=vectors)
