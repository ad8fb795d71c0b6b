"""OpenAI files and batches: records, input validation, result files (PROVIDERS.md §1).

Input files are scanned once, when the batch is created (in a worker thread): the scan keeps the
byte offset of every line and the requests that will fail, nothing else. Result files are written
once, when the batch ends, by reading the input again.
"""

from __future__ import annotations

import asyncio
import bisect
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from corthex.domain.embeddings import native_input_count
from corthex.emulator.answers import answer
from corthex.emulator.asks import SERVER_PROBLEM, RowProblem
from corthex.emulator.faults import BatchFaults
from corthex.emulator.lifecycle import Phase, Snapshot, Timeline
from corthex.emulator.openai_asks import openai_full_ask, openai_row_problem
from corthex.emulator.openai_embeddings import EMBEDDINGS, embedding_tokens, embeddings_body
from corthex.emulator.openai_render import (
    OPENAI_CACHE_MIN_TOKENS,
    add_usage,
    cached_tokens,
    not_run_line,
    problem_line,
    response_body,
    success_line,
    usage_totals,
)
from corthex.emulator.prompt_cache import PromptCache

MAX_TASKS = 50_000
#: "`/v1/embeddings` batches are also restricted to a maximum of 50,000 embedding inputs across all
#: requests in the batch" (openai-openapi.yaml, CreateBatchRequest.endpoint). The error's code is
#: ours: no report shows the one the API uses.
MAX_EMBEDDING_INPUTS = 50_000
MAX_ERRORS = 1_000
DAY = 86_400
STATUS = {
    Phase.VALIDATING: "validating",
    Phase.RUNNING: "in_progress",
    Phase.FINALIZING: "finalizing",
    Phase.CANCELLING: "cancelling",
    Phase.COMPLETED: "completed",
    Phase.FAILED: "failed",
    Phase.CANCELLED: "cancelled",
    Phase.EXPIRED: "expired",
}
TIME_FIELDS = {
    Phase.RUNNING: "in_progress_at",
    Phase.FINALIZING: "finalizing_at",
    Phase.COMPLETED: "completed_at",
    Phase.FAILED: "failed_at",
    Phase.EXPIRED: "expired_at",
    Phase.CANCELLING: "cancelling_at",
    Phase.CANCELLED: "cancelled_at",
}


@dataclass
class OpenAIFile:
    id: str
    filename: str
    purpose: str
    bytes: int
    created_at: int
    path: Path
    expires_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": self.bytes,
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": self.expires_at,
            "status_details": None,
        }


@dataclass
class Scan:
    """What batch validation learned from the input file."""

    n: int = 0
    model: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    offsets: array[int] = field(default_factory=lambda: array("q"))
    problems: dict[int, RowProblem] = field(default_factory=dict)
    first_custom_id: str | None = None
    inputs: int = 0  #: embedding inputs, which a `/v1/embeddings` batch holds at most MAX_EMBEDDING_INPUTS of

    @property
    def failing(self) -> list[int]:
        return sorted(self.problems)


@dataclass
class OpenAIBatch:
    id: str
    endpoint: str
    input_file_id: str
    input_path: Path
    metadata: dict[str, str] | None
    timeline: Timeline
    scan: Scan
    output_expires_seconds: int | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    usage: dict[str, Any] | None = None
    written: bool = False
    failing: list[int] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def failed_before(self, done: int) -> int:
        return bisect.bisect_left(self.failing, done)


class OpenAIStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, OpenAIFile] = {}
        self.batches: dict[str, OpenAIBatch] = {}
        #: every purpose=batch upload, kept on disk even after DELETE, for contract tests
        self.batch_inputs: dict[str, Path] = {}

    def input_lines(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(file id, parsed line) for every line of every batch input file uploaded so far."""
        for file_id, path in list(self.batch_inputs.items()):
            with path.open("rb") as src:
                for raw in src:
                    if raw.strip():
                        yield file_id, _loads_or_raw(raw)

    def file_path(self, file_id: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / file_id


def _loads_or_raw(raw: bytes) -> dict[str, Any]:
    try:
        line = orjson.loads(raw)
    except orjson.JSONDecodeError:
        line = None
    return line if isinstance(line, dict) else {"_raw": raw.decode(errors="replace")}


# --- validation ----------------------------------------------------------------------------


def v1_path(url: Any) -> Any:
    """Azure takes endpoints and line urls with or without `/v1` (`/chat/completions`, batch-python.md)."""
    return "/v1" + url if isinstance(url, str) and url.startswith("/") and not url.startswith("/v1/") else url


def scan_input(path: Path, endpoint: str, faults: BatchFaults, max_tasks: int = MAX_TASKS, azure: bool = False) -> Scan:
    """Validate an input file the way the Batch API does while `validating` (§1.5)."""
    scan = Scan()
    seen: set[str] = set()
    offset = 0
    with path.open("rb") as src:
        for number, raw in enumerate(src, start=1):
            start, offset = offset, offset + len(raw)
            if raw.strip():
                _scan_line(scan, seen, raw, number, start, endpoint, azure)
    if scan.n == 0 and not scan.errors:
        _error(scan, "empty_file", "The batch input file is empty.", None)
    if scan.n > max_tasks:
        _error(scan, "too_many_tasks", f"The batch has {scan.n} requests; the limit is {max_tasks}.", None)
    if scan.inputs > MAX_EMBEDDING_INPUTS:
        message = f"The batch has {scan.inputs} embedding inputs; the limit is {MAX_EMBEDDING_INPUTS}."
        _error(scan, "too_many_embedding_inputs", message, None)
    _add_row_faults(scan, faults)
    return scan


def _scan_line(scan: Scan, seen: set[str], raw: bytes, number: int, start: int, endpoint: str, azure: bool) -> None:
    try:
        line = orjson.loads(raw)
    except orjson.JSONDecodeError:
        _error(scan, "invalid_json_line", f"Line {number} is not valid JSON.", number)
        return
    missing = _missing_field(line)
    if missing:
        _error(scan, "invalid_json_line", f"Line {number} is missing or has an invalid '{missing}'.", number)
        return
    custom_id, url, body = line["custom_id"], line["url"], line["body"]
    url = v1_path(url) if azure else url
    if custom_id in seen:
        _error(scan, "duplicate_custom_id", f"The custom_id '{custom_id}' on line {number} is not unique.", number)
    seen.add(custom_id)
    if url != endpoint:
        _error(
            scan,
            "url_mismatch",
            f"The url '{url}' on line {number} does not match the batch endpoint '{endpoint}'.",
            number,
        )
    _check_model(scan, body, number)
    index = scan.n
    scan.n += 1
    scan.offsets.append(start)
    scan.first_custom_id = scan.first_custom_id or custom_id
    if url == EMBEDDINGS:
        scan.inputs += native_input_count(body.get("input"))
    problem = openai_row_problem(url, body)
    if problem is not None:
        scan.problems[index] = problem


def _missing_field(line: Any) -> str | None:
    if not isinstance(line, dict):
        return "custom_id"
    if not isinstance(line.get("custom_id"), str) or not line["custom_id"]:
        return "custom_id"
    if line.get("method") != "POST":
        return "method"
    if not isinstance(line.get("url"), str):
        return "url"
    if not isinstance(line.get("body"), dict):
        return "body"
    return None


def _check_model(scan: Scan, body: dict[str, Any], number: int) -> None:
    model = body.get("model")
    if not isinstance(model, str):
        return
    if scan.model is None:
        scan.model = model
    elif model != scan.model:
        _error(
            scan,
            "model_mismatch",
            f"The model '{model}' on line {number} differs from '{scan.model}': a batch "
            "input file may only use one model.",
            number,
        )


def _error(scan: Scan, code: str, message: str, line: int | None) -> None:
    if len(scan.errors) < MAX_ERRORS:
        scan.errors.append({"code": code, "message": message, "param": None, "line": line})


def _add_row_faults(scan: Scan, faults: BatchFaults) -> None:
    every = faults.row_error_every
    if every is None:
        return
    for index in range(every - 1, scan.n, every):
        scan.problems.setdefault(index, SERVER_PROBLEM)


def token_limit_error(model: str | None) -> dict[str, Any]:
    return {
        "code": "token_limit_exceeded",
        "message": f"Enqueued token limit reached for {model or 'this model'} in organization "
        "org-emulator. Please try again once some in_progress batches have been completed.",
        "param": None,
        "line": None,
    }


# --- rendering -----------------------------------------------------------------------------


def batch_json(batch: OpenAIBatch, snap: Snapshot) -> dict[str, Any]:
    created = int(batch.timeline.created)
    data: dict[str, Any] = {
        "id": batch.id,
        "object": "batch",
        "endpoint": batch.endpoint,
        "model": batch.scan.model,
        "errors": None,
        "input_file_id": batch.input_file_id,
        "completion_window": "24h",
        "status": STATUS[snap.phase],
        "output_file_id": batch.output_file_id,
        "error_file_id": batch.error_file_id,
        "created_at": created,
        "expires_at": created + DAY,
    }
    for phase, name in TIME_FIELDS.items():
        data[name] = int(snap.times[phase]) if phase in snap.times else None
    if snap.phase is Phase.FAILED:
        data["errors"] = {"object": "list", "data": batch.scan.errors}
    data["request_counts"] = request_counts(batch, snap)
    data["metadata"] = batch.metadata
    data["usage"] = batch.usage if batch.usage is not None else usage_totals()
    return data


def request_counts(batch: OpenAIBatch, snap: Snapshot) -> dict[str, int]:
    if snap.phase in (Phase.VALIDATING, Phase.FAILED):
        return {"total": 0, "completed": 0, "failed": 0}
    failed = batch.failed_before(snap.done)
    return {"total": batch.scan.n, "completed": snap.done - failed, "failed": failed}


# --- result files --------------------------------------------------------------------------


@dataclass
class Written:
    out_rows: int
    err_rows: int
    usage: dict[str, Any]


def write_results(
    batch: OpenAIBatch, snap: Snapshot, out: Path, err: Path, shuffle: bool, cache: PromptCache, azure: bool = False
) -> Written:
    """Write the output and error files of an ended batch (runs in a worker thread)."""
    order = list(range(batch.scan.n))
    if shuffle:
        random.Random(batch.id).shuffle(order)
    not_run = "batch_expired" if snap.phase is Phase.EXPIRED else "batch_cancelled"
    usage = usage_totals()
    counts = [0, 0]
    created = int(snap.times.get(Phase.FINALIZING, batch.timeline.created))
    with batch.input_path.open("rb") as src, out.open("wb") as out_f, err.open("wb") as err_f:
        for index in order:
            src.seek(batch.scan.offsets[index])
            line = orjson.loads(src.readline())
            seed = f"{batch.id}:{index}"
            if index >= snap.done:
                row, ok = not_run_line(line["custom_id"], seed, not_run), False
            else:
                row, ok = _run_row(batch, index, line, seed, created, usage, cache)
            (out_f if ok else err_f).write(orjson.dumps(azure_line(row) if azure else row) + b"\n")
            counts[0 if ok else 1] += 1
    return Written(counts[0], counts[1], usage)


#: what Azure adds to a chat completion: its content filters' verdicts (docs/wire/platforms.md §1.7)
_FILTERED = {sev: {"filtered": False, "severity": "safe"} for sev in ("hate", "self_harm", "sexual", "violence")}


def azure_line(row: dict[str, Any]) -> dict[str, Any]:
    """An output line as Azure writes it: no top-level `id`, content-filter results in the body."""
    row = {k: v for k, v in row.items() if k != "id"}
    body = (row.get("response") or {}).get("body")
    if isinstance(body, dict) and body.get("object") == "chat.completion":
        body["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": _FILTERED}]
        for choice in body.get("choices") or []:
            choice["content_filter_results"] = _FILTERED
    return row


def _run_row(
    batch: OpenAIBatch,
    index: int,
    line: dict[str, Any],
    seed: str,
    created: int,
    usage: dict[str, Any],
    cache: PromptCache,
) -> tuple[dict[str, Any], bool]:
    problem = batch.scan.problems.get(index)
    if problem is not None:
        return problem_line(line["custom_id"], seed, problem), False
    line["url"] = v1_path(line["url"])  # the scan took only the batch's endpoint (Azure: with or without /v1)
    if line["url"] == EMBEDDINGS:
        vectors = embeddings_body(line["body"])
        spent = embedding_tokens(vectors)
        usage["input_tokens"] += spent
        usage["total_tokens"] += spent
        return success_line(line["custom_id"], seed, vectors), True
    ask = openai_full_ask(line["url"], line["body"])
    ans = answer(ask)
    _, hit = cache.lookup("openai", ask, OPENAI_CACHE_MIN_TOKENS)
    cached = cached_tokens(hit)
    add_usage(usage, ans, cached)
    body = response_body(line["url"], ask, ans, seed, created, cached)
    return success_line(line["custom_id"], seed, body), True
