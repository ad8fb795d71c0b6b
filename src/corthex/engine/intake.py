"""Turning input (a JSONL file, or request objects) into store rows, validated first."""

from __future__ import annotations

import codecs
import hashlib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from corthex.domain.parsing import parse_lines, parse_request
from corthex.domain.requests import LLMRequest
from corthex.errors import InputProblem, InvalidInput, UsageError
from corthex.providers import WireItem, wire_size_of

ROWS_PER_CHUNK = 2000


@dataclass
class Intake:
    """Validated input, ready to be stored: `chunks()` yields store rows."""

    total: int
    skipped: list[InputProblem] = field(default_factory=list)
    _source: Any = None

    def requests(self) -> Iterator[LLMRequest]:
        """The valid requests, read again from the source (a file is never held in memory)."""
        return self._source()

    def digest(self) -> str:
        """sha256 of the requests in order, as stored: the same input gives the same digest."""
        digest = hashlib.sha256()
        for request in self.requests():
            digest.update(orjson.dumps(request.to_dict(), option=orjson.OPT_SORT_KEYS))
            digest.update(b"\n")
        return digest.hexdigest()

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
    wire_id = f"{prefix}-{seq}"  # provider-safe: [0-9a-f-], at most 23 characters
    return {
        "id": wire_id,
        "seq": seq,
        "custom_id": request.custom_id,
        "provider": request.provider.value,
        "model": request.model,
        "body": orjson.dumps(request.to_dict()).decode(),
        # bytes in the provider's batch wire form, what planning compares with the limits
        "size": wire_size_of(request.provider, WireItem(wire_id, request)),
    }


def checked_key(idempotency_key: str) -> str:
    """An Idempotency-Key as the store keeps it: 1 to 255 printable characters."""
    if not 0 < len(idempotency_key) <= 255 or not idempotency_key.isprintable():
        raise UsageError("the Idempotency-Key must be 1 to 255 printable characters")
    return idempotency_key


def read_file(path: Path, *, skip_invalid: bool, encoding: str | None = None) -> Intake:
    """Validate the whole file first (streaming, keeping only ids); the rows are read again
    when stored, so a large file is never held in memory. The file is UTF-8 unless `encoding`
    names another (e.g. cp949), which is then decoded strictly."""
    encoding = _known_encoding(encoding)
    total, problems = 0, []
    for item in _parsed(path, encoding):
        if isinstance(item, InputProblem):
            problems.append(item)
        else:
            total += 1
    _check(total, problems, skip_invalid, source=path.name)

    def source() -> Iterator[LLMRequest]:
        yield from (r for r in _parsed(path, encoding) if isinstance(r, LLMRequest))

    return Intake(total, problems if skip_invalid else [], source)


def _known_encoding(encoding: str | None) -> str | None:
    """None for UTF-8 (read as bytes, line by line); else the codec's name, checked."""
    if encoding is None:
        return None
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise UsageError(f"unknown encoding {encoding!r}: e.g. utf-8, cp949, euc-kr, utf-16") from None
    return None if name in ("utf-8", "utf-8-sig") else name


def _parsed(path: Path, encoding: str | None) -> Iterator[LLMRequest | InputProblem]:
    if encoding is None:
        with path.open("rb") as fh:
            yield from parse_lines(fh)
        return
    seen: set[str] = set()
    with path.open(encoding=encoding) as fh:
        for number, line in enumerate(_text_lines(fh, encoding), start=1):
            if isinstance(line, InputProblem):
                yield replace(line, line=number)
                return
            yield from parse_lines([line], first_line=number, seen=seen)


def _text_lines(lines: Iterable[str], encoding: str) -> Iterator[str | InputProblem]:
    """The lines, then a problem in place of the first that cannot be decoded (the rest of the
    file cannot be read as this codec either)."""
    try:
        yield from lines
    except UnicodeDecodeError as exc:
        yield InputProblem(0, f"not {encoding} text ({exc.reason}): check --encoding")


def read_objects(items: Iterable[dict[str, Any] | LLMRequest], *, skip_invalid: bool) -> Intake:
    """Validate request objects (API bodies, chain steps): item N is reported as line N."""
    if isinstance(items, str | bytes | dict) or not isinstance(items, Iterable):
        raise InvalidInput([InputProblem(0, "the requests must be a list of request objects")])
    requests: list[LLMRequest] = []
    problems: list[InputProblem] = []
    seen: set[str] = set()
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
    _check(len(requests), problems, skip_invalid, source="")
    return Intake(len(requests), problems if skip_invalid else [], lambda: iter(requests))


def _parse_object(item: Any, number: int, seen: set[str]) -> LLMRequest | InputProblem:
    try:
        line = orjson.dumps(item)
    except TypeError as exc:  # orjson.JSONEncodeError: a set, bytes, an object, a too-deep nest…
        return InputProblem(number, f"not a JSON value ({exc})")
    return next(parse_lines([line], seen=seen, first_line=number))


def _check(total: int, problems: list[InputProblem], skip_invalid: bool, *, source: str) -> None:
    if problems and not skip_invalid:
        raise InvalidInput(problems, source)
    if total == 0:
        reason = "no valid request (every line is invalid)" if problems else "the input is empty: no requests"
        raise InvalidInput([*problems, InputProblem(0, reason)], source)


__all__ = ["Intake", "checked_key", "new_job_id", "parse_request", "read_file", "read_objects", "request_row"]
