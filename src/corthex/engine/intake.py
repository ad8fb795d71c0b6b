"""Turning input (a JSONL file, or request objects) into store rows, validated first."""

from __future__ import annotations

import codecs
import hashlib
import io
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import orjson
import pydantic

from corthex.domain.cache_groups import cache_group
from corthex.domain.capabilities import request_warnings
from corthex.domain.embeddings import inputs_of
from corthex.domain.limits import MiB, largest_request_bytes
from corthex.domain.models import unknown_model_warning
from corthex.domain.native import route_of
from corthex.domain.parsing import LineTooLong, checked_request, duplicate, parse_lines, parse_request
from corthex.domain.registry import route_chain
from corthex.domain.requests import LLMRequest, ProviderName
from corthex.domain.seen_ids import SeenIds
from corthex.engine.setup import Need
from corthex.errors import InputProblem, InvalidInput, UsageError
from corthex.providers import WireItem, wire_size_of

ROWS_PER_CHUNK = 2000


class WarningTally:
    """Warnings of many requests, each told once, naming the first request it concerns and
    how many more (a job of 50,000 lines gets one line per kind of warning); and what the
    requests need of each provider (the setup checked before they are stored)."""

    def __init__(self, *, strict_models: bool = False) -> None:
        self._seen: dict[str, tuple[str, int]] = {}  # message -> (first custom_id, count)
        self.needs: dict[ProviderName, Need] = {}
        self._strict = strict_models

    def check(self, request: LLMRequest, number: int) -> InputProblem | None:
        """Count `request` in (item or line `number`); with strict models, an unknown model is
        its problem instead."""
        unknown = unknown_model_warning(request.provider, request.model)
        if unknown is not None and self._strict:
            return InputProblem(number, unknown, "model")
        self.add(request, unknown)
        return None

    def add(self, request: LLMRequest, unknown: str | None = None) -> None:
        self.needs.setdefault(request.provider, Need()).add(request.model, request.custom_id)
        chain = route_chain(request.model)
        if request.provider in chain:  # the providers it may fall back to must be set up too
            for later in chain[chain.index(request.provider) + 1 :]:
                self.needs.setdefault(later, Need()).add(request.model, request.custom_id)
        for message in [*([unknown] if unknown else []), *request_warnings(request)]:
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
    _source: Callable[[], Iterator[LLMRequest]] = field(default=lambda: iter(()))  #: the requests, read anew
    warnings: list[str] = field(default_factory=list)  #: what will not go out as written
    needs: dict[ProviderName, Need] = field(default_factory=dict)  #: requests per provider

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
        "metadata": orjson.dumps(request.metadata).decode() if request.metadata else None,
        "route": route_of(request),
        # bytes in the provider's batch wire form, what planning compares with the limits
        "size": wire_size_of(request.provider, WireItem(wire_id, request)),
        "inputs": inputs_of(request),  # OpenAI counts a batch's embedding inputs (≤ 50,000)
        "cache_group": cache_group(request),  # requests sharing a cacheable prefix are planned together
    }


def checked_key(idempotency_key: str) -> str:
    """An Idempotency-Key as the store keeps it: 1 to 255 printable characters."""
    if not 0 < len(idempotency_key) <= 255 or not idempotency_key.isprintable():
        raise UsageError("the Idempotency-Key must be 1 to 255 printable characters")
    return idempotency_key


def read_file(path: Path, *, skip_invalid: bool, encoding: str | None = None, strict_models: bool = False) -> Intake:
    """Validate the whole file first (streaming, keeping only ids); the rows are read again
    when stored, so a large file is never held in memory. The file is UTF-8 unless `encoding`
    names another (e.g. cp949), which is then decoded strictly. With `strict_models`, a line
    whose model is not known is invalid (else it is a warning)."""
    encoding = _known_encoding(encoding)
    return streamed_intake(
        lambda: _parsed(path, encoding), skip_invalid=skip_invalid, strict_models=strict_models, source=path.name
    )


Numbered = Iterable[tuple[int, LLMRequest | InputProblem]]


def streamed_intake(
    read: Callable[[], Numbered], *, skip_invalid: bool, strict_models: bool, source: str, unit: str = "line"
) -> Intake:
    """Validate what `read()` yields, keeping only the ids' digests (SeenIds: a duplicate names
    the line that gave its id first); the requests are read again when stored, skipping the lines
    with a problem (a file or a table is never held in memory). With `strict_models`, an unknown
    model is the problem of its line (or row, as `unit` says) rather than a warning."""
    total, problems, tally = 0, [], WarningTally(strict_models=strict_models)
    seen = SeenIds()
    for number, item in read():
        if isinstance(item, LLMRequest):
            item = _admitted(item, number, seen, tally, unit)
        if isinstance(item, InputProblem):
            problems.append(item)
        else:
            total += 1
    del seen  # not held while the requests are stored
    check_intake(total, problems, skip_invalid, source=source)
    skipped = {problem.line for problem in problems}

    def requests() -> Iterator[LLMRequest]:
        for number, r in read():
            if isinstance(r, LLMRequest) and number not in skipped:
                yield r

    return Intake(total, problems if skip_invalid else [], requests, tally.messages(), tally.needs)


def _admitted(
    request: LLMRequest, number: int, seen: SeenIds, tally: WarningTally, unit: str
) -> LLMRequest | InputProblem:
    """The request, or its problem: a custom_id given before, or (strict) an unknown model."""
    problem = duplicate(request, number, seen, unit) or tally.check(request, number)
    return request if problem is None else replace(problem, unit=unit)


def _known_encoding(encoding: str | None) -> str | None:
    """None for UTF-8 (read as bytes, line by line); else the codec's name, checked."""
    if encoding is None:
        return None
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise UsageError(f"unknown encoding {encoding!r}: e.g. utf-8, cp949, euc-kr, utf-16") from None
    return None if name in ("utf-8", "utf-8-sig") else name


#: Lines up to this long are read in one go; a longer one is first measured in pieces, not held,
#: and read whole only when it is under the limit (a 300 MB line cost 1.9 GB when read whole).
HOLD_CHARS = 4 * MiB
_PIECE = 1 * MiB


def bounded_lines(fh: IO[Any], limit: int, hold: int | None = None) -> Iterator[Any]:
    """The lines of a binary or text file, each a `LineTooLong` in its place when it is longer than
    `limit` (bytes, or characters in text mode): memory stays near `hold` whatever the line."""
    hold = hold or HOLD_CHARS
    text = isinstance(fh, io.TextIOBase)
    newline = "\n" if text else b"\n"
    while True:
        start = fh.tell()
        line = fh.readline(hold)
        if not line:
            return
        length, ended = len(line), line.endswith(newline)
        if length >= hold and not ended:
            line = None  # not held while the rest is measured
            rest, ended = _measure_rest(fh, newline)
            length += rest
        if length - ended > limit:
            yield LineTooLong(length - ended, limit, "characters" if text else "bytes")
        elif line is None:
            fh.seek(start)
            yield fh.read(length)
        else:
            yield line


def _measure_rest(fh: IO[Any], newline: Any) -> tuple[int, bool]:
    """How long the rest of the current line is (read in pieces, not kept), and whether it ended
    with a newline (the file's last line may not)."""
    length = 0
    while piece := fh.readline(_PIECE):
        length += len(piece)
        if piece.endswith(newline):
            return length, True
    return length, False


class _Counted(Iterator[Any]):
    """The lines, counted as they are taken: parse_lines yields a line's request (or problem)
    right after taking it, so the count is that line's number."""

    def __init__(self, lines: Iterator[Any]) -> None:
        self._lines, self.number = lines, 0

    def __next__(self) -> Any:
        line = next(self._lines)
        self.number += 1
        return line


def _parsed(path: Path, encoding: str | None) -> Iterator[tuple[int, LLMRequest | InputProblem]]:
    """(line number, its request or problem), for each non-blank line."""
    limit = largest_request_bytes()
    if encoding is None:
        with path.open("rb") as fh:
            lines = _Counted(bounded_lines(fh, limit))
            for item in parse_lines(lines, unique=False):  # ids checked by streamed_intake
                yield lines.number, item
        return
    for number, line in enumerate(_text_lines(path, encoding, limit), start=1):
        if isinstance(line, InputProblem):
            yield number, replace(line, line=number)
            return
        for item in parse_lines([line], first_line=number, unique=False):
            yield number, item


def _text_lines(path: Path, encoding: str, limit: int) -> Iterator[str | LineTooLong | InputProblem]:
    """The lines, then a problem in place of the first that cannot be decoded (the rest of the
    file cannot be read as this codec either). Where a newline is the byte 0x0A and no other
    character holds that byte (cp949, euc-kr, shift_jis, …), lines are cut as bytes and decoded
    one by one; UTF-16 and UTF-32 are read as text (slower: the position is asked of the codec)."""
    try:
        if "\n".encode(encoding) != b"\n":
            with path.open(encoding=encoding) as fh:
                yield from bounded_lines(fh, limit)
            return
        with path.open("rb") as fh:
            for raw in bounded_lines(fh, limit):
                yield raw if isinstance(raw, LineTooLong) else raw.decode(encoding)
    except UnicodeDecodeError as exc:
        yield InputProblem(0, f"not {encoding} text ({exc.reason}): check --encoding")


def read_objects(
    items: Iterable[dict[str, Any] | LLMRequest], *, skip_invalid: bool, strict_models: bool = False
) -> Intake:
    """Validate request objects (API bodies, chain steps): item N is reported as line N."""
    if isinstance(items, str | bytes | dict) or not isinstance(items, Iterable):
        raise InvalidInput([InputProblem(0, "the requests must be a list of request objects")])
    requests: list[LLMRequest] = []
    problems: list[InputProblem] = []
    seen = SeenIds()
    tally = WarningTally(strict_models=strict_models)
    for number, item in enumerate(items, start=1):
        if isinstance(item, LLMRequest):
            parsed = _checked_object(item, number, seen)
        else:
            parsed = _parse_object(item, number, seen)
        if isinstance(parsed, LLMRequest) and (problem := tally.check(parsed, number)) is not None:
            parsed = problem
        if isinstance(parsed, InputProblem):
            problems.append(replace(parsed, unit="item"))
        else:
            requests.append(parsed)
    check_intake(len(requests), problems, skip_invalid, source="")
    intake = Intake(len(requests), problems if skip_invalid else [], lambda: iter(requests), tally.messages())
    intake.needs = tally.needs
    return intake


def _checked_object(item: LLMRequest, number: int, seen: SeenIds) -> LLMRequest | InputProblem:
    return duplicate(item, number, seen, "item") or checked_request(item, number)


def _parse_object(item: Any, number: int, seen: SeenIds) -> LLMRequest | InputProblem:
    try:
        line = orjson.dumps(with_schema_of_model(item))
    except TypeError as exc:  # orjson.JSONEncodeError: a set, bytes, an object, a too-deep nest…
        return InputProblem(number, f"not a JSON value ({exc})")
    return next(parse_lines([line], seen=seen, first_line=number, unit="item"))


def with_schema_of_model(item: Any) -> Any:
    """A request object whose `json_schema` is a pydantic model class, with the class's JSON
    schema in its place (the Python API takes either)."""
    schema = item.get("json_schema") if isinstance(item, dict) else None
    if isinstance(schema, type) and issubclass(schema, pydantic.BaseModel):
        return {**item, "json_schema": schema.model_json_schema()}
    return item


def check_intake(total: int, problems: list[InputProblem], skip_invalid: bool, *, source: str) -> None:
    if problems and not skip_invalid:
        raise InvalidInput(problems, source)
    if total == 0:
        reason = "no valid request (every line is invalid)" if problems else "the input is empty: no requests"
        raise InvalidInput([*problems, InputProblem(0, reason)], source)


__all__ = ["Intake", "checked_key", "new_job_id", "parse_request", "read_file", "read_objects", "request_row"]
