"""Pieces every adapter shares: error translation, redaction, and JSONL files on disk."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import anyio
import httpx
import httpx2
import orjson

from corthex.domain.batches import RemoteStatus
from corthex.domain.results import retryable_status_code
from corthex.errors import ProviderError
from corthex.providers.base import WireItem
from corthex.providers.setup import setup_hint, unknown_host
from corthex.redaction import mask_secrets

#: Transport failures raised past the SDKs' own wrappers, e.g. while a response body streams.
#: The SDKs run on httpx2 (openai, anthropic) or either fork (google-genai).
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError, httpx2.TransportError)

#: Malformed bodies (orjson's error is a subclass): worth another attempt, the next read may be whole.
MALFORMED_ERRORS: tuple[type[Exception], ...] = (json.JSONDecodeError,)

_LINES_PER_READ = 2000  #: lines parsed per worker-thread hop when reading a result file
_MAX_MESSAGE = 500

# Key-shaped tokens (OpenAI sk-…, Anthropic sk-ant-…, Google AIza…) and bearer values.
_SECRET = re.compile(r"(sk-[A-Za-z0-9_\-*]{6,}|AIza[A-Za-z0-9_\-]{10,}|Bearer\s+\S+)")


def redact(message: str) -> str:
    """An error message fit for logs and the store: no configured secret (by value, also wrapped
    or cut), no key-shaped token, bounded length."""
    cleaned = _SECRET.sub("[redacted]", mask_secrets(message))
    return cleaned if len(cleaned) <= _MAX_MESSAGE else cleaned[:_MAX_MESSAGE] + "…"


#: the calls whose 401, 403 or 404 says the setup is wrong (a key refused, a base URL that
#: misses its path): the batch cannot be created or followed, and asking again will not help
_SETUP_OPS = frozenset({"upload", "create", "find", "poll", "configure"})


def status_error(provider: str, op: str, status: int, message: str, *, key_refused: bool = False) -> ProviderError:
    """`key_refused`: the answer says the key is not valid whatever its code (Gemini: 400)."""
    setup = op in _SETUP_OPS and (key_refused or status in (401, 403, 404))
    text = redact(message)
    if setup:
        text += f" — {setup_hint(provider, 401 if key_refused else status)}"
    retryable = retryable_status_code(status) and not setup
    return ProviderError(provider, op, text, status_code=status, retryable=retryable, setup=setup)


def transient_error(provider: str, op: str, message: str) -> ProviderError:
    """Timeouts, dropped connections, malformed bodies: worth another attempt."""
    return ProviderError(provider, op, redact(message), retryable=True)


def transport_error(provider: str, op: str, exc: BaseException) -> ProviderError:
    """A call that got no answer: an unknown host is a setup mistake (the request never left, and
    will not); anything else (refused, reset, timed out) is worth another attempt."""
    if unknown_host(exc):
        message = f"unknown host: {exc or type(exc).__name__} — {setup_hint(provider, None)}"
        return ProviderError(provider, op, redact(message), setup=True)
    return transient_error(provider, op, str(exc) or type(exc).__name__)


#: HTTP codes that reject one request (bad body, unknown model, too large) rather than the call.
_REQUEST_ERROR_CODES = frozenset({400, 404, 413, 422})


def is_request_error(status: int) -> bool:
    """A realtime call refused for its content: a failed result, not a provider failure."""
    return status in _REQUEST_ERROR_CODES


@contextmanager
def translated(catch: tuple[type[Exception], ...], convert: Callable[[Exception], ProviderError]) -> Iterator[None]:
    """Raise `convert(exc)` for every exception of the `catch` types raised inside the block, and
    a retryable ProviderError for any other: an SDK that meets a payload it did not expect raises
    pydantic's ValidationError, KeyError or ValueError, and each must count as a failed call (with
    the engine's backoff and give-up rules), never escape as a crash that is retried at once."""
    try:
        yield
    except ProviderError:
        raise
    except catch as exc:
        raise convert(exc) from exc
    except Exception as exc:
        named = convert(exc)  # the adapter's own error, for its provider and op
        raise unexpected_error(named.provider, named.op, exc) from exc


def unexpected_error(provider: str, op: str, exc: BaseException) -> ProviderError:
    """An exception that is not the SDK's API error: worth another attempt (bounded by the
    engine), and named by its type so that the log says what broke."""
    detail = str(exc)
    message = f"unexpected {type(exc).__name__}" + (f": {detail}" if detail else "")
    return ProviderError(provider, op, redact(message), retryable=True)


# --- batches ------------------------------------------------------------------------------

#: Slack on `find`'s creation window: our clock and the provider's may disagree a little.
CLOCK_SKEW = timedelta(minutes=2)


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC, so that they compare with the providers' aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def window_start(created_after: datetime) -> datetime:
    """The earliest provider creation time `find` accepts."""
    return as_utc(created_after) - CLOCK_SKEW


async def statuses_until_seen(
    listed: AsyncIterable[Any], wanted: set[str], oldest: Any, status_of: Callable[[Any], RemoteStatus]
) -> dict[str, RemoteStatus]:
    """The statuses of the `wanted` batches from a newest-first list (objects with `id` and
    `created_at`), read until every one was seen or the list reaches batches created before
    `oldest`: a batch not found is left to its own retrieve."""
    found: dict[str, RemoteStatus] = {}
    async for batch in listed:
        if batch.id in wanted:
            found[batch.id] = status_of(batch)
            if len(found) == len(wanted):
                break  # the SDK fetches no further page
        elif batch.created_at < oldest:
            break
    return found


_WIRE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # Anthropic's custom_id rule, the strictest


def check_items(items: Sequence[WireItem], one_model: str | None = None) -> None:
    """Refuse, before anything is sent, a batch the provider would refuse or we could not map
    back: empty, wire ids not provider-safe (LESSONS W4) or repeated, or (with `one_model`)
    a request for another model.

    :raises ValueError: a caller bug; the engine guarantees all of these.
    """
    if not items:
        raise ValueError("a batch needs at least one request")
    # One pass: `items` may decode each request as it is read (engine/dispatch.StoredItems).
    bad: str | None = None
    seen: set[str] = set()
    other_model = False
    for item in items:
        if bad is None and not _WIRE_ID.match(item.wire_id):
            bad = item.wire_id
        seen.add(item.wire_id)
        other_model = other_model or (one_model is not None and item.request.model != one_model)
    if bad is not None:
        raise ValueError(f"wire id {bad!r} does not match {_WIRE_ID.pattern}")
    if len(seen) != len(items):
        raise ValueError("wire ids repeat within the batch")
    if other_model:
        raise ValueError(f"every request of this batch must use the batch model {one_model!r}")


# --- JSONL files ---------------------------------------------------------------------------


def new_temp_path(workdir: Path, prefix: str) -> Path:
    """A fresh, empty file under `workdir` (created, so concurrent readers never collide)."""
    workdir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=workdir, prefix=_safe(prefix) + "-", suffix=".jsonl")
    os.close(handle)
    return Path(name)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80]


def upload_path(workdir: Path, key: str) -> Path:
    """`<workdir>/<key>.jsonl`: the upload keeps the key in its name and ends in .jsonl."""
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir / f"{_safe(key)}.jsonl"


def _write_lines(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    written = 0
    with path.open("wb") as out:
        for row in rows:
            written += out.write(orjson.dumps(row) + b"\n")
    return written


async def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write `rows` as JSONL (in a worker thread); returns the size in bytes."""
    return await anyio.to_thread.run_sync(_write_lines, path, rows)


class JsonlSpool:
    """Appends rows to a JSONL file in chunks, so a stream can land on disk before it is read."""

    def __init__(self, path: Path, chunk: int = _LINES_PER_READ) -> None:
        self.path, self._chunk = path, chunk
        self._pending: list[bytes] = []

    async def add(self, row: dict[str, Any]) -> None:
        self._pending.append(orjson.dumps(row) + b"\n")
        if len(self._pending) >= self._chunk:
            await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        await anyio.to_thread.run_sync(_append, self.path, pending)


def _append(path: Path, lines: list[bytes]) -> None:
    with path.open("ab") as out:
        out.writelines(lines)


def _read_chunk(handle: IO[bytes], first_line: int) -> list[tuple[int, bytes]]:
    chunk = []
    for number in range(first_line, first_line + _LINES_PER_READ):
        line = handle.readline()
        if not line:
            break
        chunk.append((number, line))
    return chunk


async def read_jsonl(path: Path, provider: str) -> AsyncIterator[dict[str, Any]]:
    """The file's JSON objects, read a chunk of lines at a time; blank lines are skipped.

    :raises ProviderError: (retryable) on a line that is not a JSON object.
    """
    handle = await anyio.to_thread.run_sync(path.open, "rb")
    try:
        number = 1
        while chunk := await anyio.to_thread.run_sync(_read_chunk, handle, number):
            number += len(chunk)
            for line_no, line in chunk:
                if line.strip():
                    yield _parse_line(line, line_no, provider)
    finally:
        handle.close()


def _parse_line(line: bytes, line_no: int, provider: str) -> dict[str, Any]:
    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise transient_error(provider, "results", f"line {line_no} is not JSON: {exc}") from exc
    if not isinstance(row, dict):
        raise transient_error(provider, "results", f"line {line_no} is not a JSON object")
    return row


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)


# --- how long a 429 says to wait ----------------------------------------------------------------

_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$")


def told_wait(exc: BaseException) -> float | None:
    """The seconds a refused call was told to wait, read from the SDK's exception behind `exc`
    (docs/providers.md, rate limits): `retry-after-ms`, `retry-after` (seconds), OpenAI's
    `x-ratelimit-reset-requests` ("1s", "6m0s"), or Gemini's `google.rpc.RetryInfo.retryDelay`
    ("12s") in the error body. None when the answer said nothing."""
    cause = exc.__cause__ or exc
    headers = getattr(getattr(cause, "response", None), "headers", None)
    if headers is not None:
        told = _header_wait(headers)
        if told is not None:
            return told
    return _retry_info(getattr(cause, "details", None))


def _header_wait(headers: Any) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return max(float(headers.get(name)) * scale, 0.0)
        except (TypeError, ValueError):
            continue
    return duration_seconds(headers.get("x-ratelimit-reset-requests"))


def _retry_info(details: Any) -> float | None:
    """`retryDelay` of the RetryInfo detail of a Google API error body."""
    error = details.get("error", details) if isinstance(details, dict) else {}
    for detail in error.get("details") or () if isinstance(error, dict) else ():
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            return duration_seconds(detail.get("retryDelay"))
    return None


def duration_seconds(text: Any) -> float | None:
    """A duration as OpenAI ("6m0s", "20ms") and Google ("12s", "0.5s") write them, in seconds."""
    match = _DURATION.match(text) if isinstance(text, str) and text else None
    if match is None or not any(match.groups()):
        return None
    hours, minutes, seconds, millis = (float(g) if g else 0.0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds + millis / 1000
