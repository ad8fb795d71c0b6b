"""Turning input (a JSONL file, or request objects) into store rows, validated first."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson
import pydantic

from corthex.domain.capabilities import request_warnings
from corthex.domain.parsing import parse_lines, parse_request
from corthex.domain.requests import LLMRequest
from corthex.errors import InputProblem, InvalidInput

ROWS_PER_CHUNK = 2000


class WarningTally:
    """Warnings of many requests, each told once, naming the first request it concerns and
    how many more (a job of 50,000 lines gets one line per kind of warning)."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, int]] = {}  # message -> (first custom_id, count)

    def add(self, request: LLMRequest) -> None:
        for message in request_warnings(request):
            first, count = self._seen.get(message, (request.custom_id, 0))
            self._seen[message] = (first, count + 1)

    def messages(self) -> list[str]:
        out = []
        for message, (first, count) in self._seen.items():
            more = f" and {count - 1} more" if count > 1 else ""
            out.append(f"request {first!r}{more}: {message}")
        return out


@dataclass
class Intake:
    """Validated input, ready to be stored: `chunks()` yields store rows."""

    total: int
    skipped: list[InputProblem] = field(default_factory=list)
    _source: Any = None
    warnings: list[str] = field(default_factory=list)  #: what will not go out as written

    def requests(self) -> Iterator[LLMRequest]:
        """The valid requests, read again from the source (a file is never held in memory)."""
        return self._source()

    def chunks(self, prefix: str) -> Iterator[list[dict[str, Any]]]:
        chunk: list[dict[str, Any]] = []
        for seq, request in enumerate(self.requests()):
            chunk.append(request_row(prefix, seq, request))
            if len(chunk) >= ROWS_PER_CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def new_job_id() -> tuple[str, str]:
    """(job id, the short prefix of its requests' wire ids)."""
    short = uuid.uuid4().hex[:12]
    return "job_" + short, short


def request_row(prefix: str, seq: int, request: LLMRequest) -> dict[str, Any]:
    body = orjson.dumps(request.to_dict()).decode()
    return {
        "id": f"{prefix}-{seq}",  # provider-safe: [0-9a-f-], at most 23 characters
        "seq": seq,
        "custom_id": request.custom_id,
        "provider": request.provider.value,
        "model": request.model,
        "body": body,
        "size": len(body),
    }


def read_file(path: Path, *, skip_invalid: bool) -> Intake:
    """Validate the whole file first (streaming, keeping only ids); the rows are read again
    when stored, so a large file is never held in memory."""
    total, problems, tally = 0, [], WarningTally()
    with path.open("rb") as fh:
        for item in parse_lines(fh):
            if isinstance(item, InputProblem):
                problems.append(item)
            else:
                total += 1
                tally.add(item)
    _check(total, problems, skip_invalid, source=path.name)

    def source() -> Iterator[LLMRequest]:
        with path.open("rb") as fh:
            yield from (r for r in parse_lines(fh) if isinstance(r, LLMRequest))

    return Intake(total, problems if skip_invalid else [], source, tally.messages())


def read_objects(items: Iterable[dict[str, Any] | LLMRequest], *, skip_invalid: bool) -> Intake:
    """Validate request objects (API bodies, chain steps): item N is reported as line N."""
    if isinstance(items, str | bytes | dict) or not isinstance(items, Iterable):
        raise InvalidInput([InputProblem(0, "the requests must be a list of request objects")])
    requests: list[LLMRequest] = []
    problems: list[InputProblem] = []
    seen: set[str] = set()
    tally = WarningTally()
    for number, item in enumerate(items, start=1):
        if isinstance(item, LLMRequest):
            parsed: LLMRequest | InputProblem = item
        else:
            parsed = _parse_object(item, number, seen)
        if isinstance(parsed, LLMRequest) and isinstance(item, LLMRequest):
            if parsed.custom_id in seen:
                parsed = InputProblem(number, f"duplicate custom_id {parsed.custom_id!r}", "custom_id")
            seen.add(item.custom_id)
        if isinstance(parsed, InputProblem):
            problems.append(replace(parsed, unit="item"))
        else:
            requests.append(parsed)
            tally.add(parsed)
    _check(len(requests), problems, skip_invalid, source="")
    return Intake(len(requests), problems if skip_invalid else [], lambda: iter(requests), tally.messages())


def _parse_object(item: Any, number: int, seen: set[str]) -> LLMRequest | InputProblem:
    try:
        line = orjson.dumps(with_schema_of_model(item))
    except TypeError as exc:  # orjson.JSONEncodeError: a set, bytes, an object, a too-deep nest…
        return InputProblem(number, f"not a JSON value ({exc})")
    return next(parse_lines([line], seen=seen, first_line=number))


def with_schema_of_model(item: Any) -> Any:
    """A request object whose `json_schema` is a pydantic model class, with the class's JSON
    schema in its place (the Python API takes either)."""
    schema = item.get("json_schema") if isinstance(item, dict) else None
    if isinstance(schema, type) and issubclass(schema, pydantic.BaseModel):
        return {**item, "json_schema": schema.model_json_schema()}
    return item


def _check(total: int, problems: list[InputProblem], skip_invalid: bool, *, source: str) -> None:
    if problems and not skip_invalid:
        raise InvalidInput(problems, source)
    if total == 0:
        reason = "no valid request (every line is invalid)" if problems else "the input is empty: no requests"
        raise InvalidInput([*problems, InputProblem(0, reason)], source)


__all__ = ["Intake", "new_job_id", "parse_request", "read_file", "read_objects", "request_row"]
