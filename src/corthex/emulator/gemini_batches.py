"""Gemini batch jobs: records, validation, the Operation object, results (PROVIDERS.md §3).

Inline jobs keep their requests in memory as JSON bytes (≤20 MB) and answer in
`inlinedResponses` (serialized once, when the job ends); file jobs
keep byte offsets of their input lines and write `files/batch-<id>` when they end. Both keep
input order, unless the job took the quirks (docs/wire/gemini.md): `inline_without_keys` (inline
answers lose their metadata, python-genai#2008), `inline_shuffled` (out of input order, #1909),
`row_error_details` (error rows carry google.rpc.Status `details` objects, which the SDK's
`JobError.details: list[str]` refuses).
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import hashlib
import random
from array import array
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from corthex.emulator.asks import SERVER_PROBLEM, RowProblem, gemini_ask, gemini_problem
from corthex.emulator.faults import BatchFaults
from corthex.emulator.gemini_embeddings import embed_problem, embed_response
from corthex.emulator.gemini_render import NOT_RUN, GeminiFile, generate_response, row_error
from corthex.emulator.ids import compact_json, rfc3339
from corthex.emulator.lifecycle import Phase, Snapshot, Timeline
from corthex.emulator.prompt_cache import PromptCache

STATES = {
    Phase.VALIDATING: "BATCH_STATE_PENDING",
    Phase.RUNNING: "BATCH_STATE_RUNNING",
    Phase.FINALIZING: "BATCH_STATE_RUNNING",
    Phase.CANCELLING: "BATCH_STATE_RUNNING",
    Phase.COMPLETED: "BATCH_STATE_SUCCEEDED",
    Phase.FAILED: "BATCH_STATE_FAILED",
    Phase.CANCELLED: "BATCH_STATE_CANCELLED",
    Phase.EXPIRED: "BATCH_STATE_EXPIRED",
}
EMPTY_ERROR = {"code": 3, "message": "The batch input file has no requests."}
FAILED_ERROR = {
    "code": 8,
    "message": "Enqueued token quota exceeded for this model (emulated fail_batch fault).",
    "status": "RESOURCE_EXHAUSTED",
}


@dataclass
class PendingUpload:
    id: str
    display_name: str | None
    mime_type: str
    name: str | None
    path: Path
    received: int = 0


@dataclass
class InputScan:
    n: int = 0
    offsets: array[int] = field(default_factory=lambda: array("q"))
    problems: dict[int, RowProblem] = field(default_factory=dict)
    first_key: str | None = None


@dataclass
class GeminiBatch:
    id: str
    model: str  # "models/…"
    display_name: str | None
    timeline: Timeline
    inline: list[tuple[bytes, bytes | None]] | None = None  # (request, metadata) as JSON
    input_file: GeminiFile | None = None
    scan: InputScan = field(default_factory=InputScan)
    responses_file: str | None = None  # "files/batch-<id>" once written
    inline_output: orjson.Fragment | None = None  # the inlinedResponses array, serialized
    done_output: bool = False
    failure: dict[str, Any] | None = None  # the Operation error of a FAILED job
    quirks: frozenset[str] = frozenset()  # the gemini quirks on when the job was created
    embed: bool = False  # an asyncBatchEmbedContent job (its lines embed texts)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def failing(self) -> list[int]:
        return sorted(self.scan.problems)


class GeminiStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, GeminiFile] = {}
        self.uploads: dict[str, PendingUpload] = {}
        self.batches: dict[str, GeminiBatch] = {}
        #: the bodies of generateContent calls, latest last (for contract tests)
        self.generated: deque[dict[str, Any]] = deque(maxlen=1000)

    def requests(self, batch_id: str) -> list[Any]:
        """The requests a batch was created with, as sent (for contract tests)."""
        batch = self.batches[batch_id.removeprefix("batches/")]
        if batch.inline is not None:
            return [orjson.loads(request) for request, _ in batch.inline]
        assert batch.input_file is not None
        lines = batch.input_file.path.read_bytes().splitlines()
        return [orjson.loads(line).get("request") for line in lines if line.strip()]

    def file_path(self, file_id: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / file_id


def sha256_b64(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            digest.update(chunk)
    return base64.b64encode(digest.hexdigest().encode()).decode()


# --- validation ----------------------------------------------------------------------------


def prepare_inline(
    items: list[Any], faults: BatchFaults, model: str = ""
) -> tuple[list[tuple[bytes, bytes | None]], InputScan]:
    """Inline requests as compact JSON bytes, and their failing rows (runs in a thread)."""
    scan = InputScan(n=len(items))
    inline: list[tuple[bytes, bytes | None]] = []
    for index, item in enumerate(items):
        item = item if isinstance(item, dict) else {}
        request, metadata = item.get("request"), item.get("metadata")
        _note(scan, index, gemini_problem(request, model), faults)
        inline.append((compact_json(request), None if metadata is None else compact_json(metadata)))
    return inline, scan


def scan_file(path: Path, faults: BatchFaults, model: str = "", embed: bool = False) -> InputScan:
    """Offsets and failing rows of a `{"key", "request"}` JSONL input (runs in a thread); `embed`:
    the lines are EmbedContentRequests."""
    problem_of = embed_problem if embed else gemini_problem
    scan = InputScan()
    offset = 0
    with path.open("rb") as src:
        for raw in src:
            start, offset = offset, offset + len(raw)
            if not raw.strip():
                continue
            index = scan.n
            scan.n += 1
            scan.offsets.append(start)
            line = _parse(raw)
            if scan.first_key is None and isinstance(line, dict):
                scan.first_key = str(line.get("key"))
            request = line.get("request") if isinstance(line, dict) else None
            _note(scan, index, problem_of(request, model), faults)
    return scan


def _parse(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _note(scan: InputScan, index: int, problem: RowProblem | None, faults: BatchFaults) -> None:
    if problem is None and faults.row_error_every and (index + 1) % faults.row_error_every == 0:
        problem = SERVER_PROBLEM
    if problem is not None:
        scan.problems[index] = problem


# --- the Operation -------------------------------------------------------------------------


def operation_json(batch: GeminiBatch, snap: Snapshot, version: str, *, with_output: bool = True) -> dict[str, Any]:
    name = f"batches/{batch.id}"
    kind = "EmbedContentBatch" if batch.embed else "GenerateContentBatch"
    meta: dict[str, Any] = {
        "@type": f"type.googleapis.com/google.ai.generativelanguage.{version}.{kind}",
        "model": batch.model,
        "name": name,
        "createTime": rfc3339(batch.timeline.created),
        "updateTime": rfc3339(max(snap.times.values())),
        "state": STATES[snap.phase],
        "batchStats": batch_stats(batch, snap),
    }
    if batch.display_name is not None:
        meta["displayName"] = batch.display_name
    op: dict[str, Any] = {"name": name, "metadata": meta}
    if not snap.phase.ended:
        return op
    meta["endTime"] = rfc3339(snap.times[snap.phase])
    op["done"] = True
    output = _output(batch, with_output)
    if output:
        meta["output"] = output
    if snap.phase is Phase.COMPLETED:
        op["response"] = {
            "@type": f"type.googleapis.com/google.ai.generativelanguage.{version}.{kind}Output",
            **output,
        }
    else:
        op["error"] = _operation_error(batch, snap.phase)
    return op


def _output(batch: GeminiBatch, with_inline: bool) -> dict[str, Any]:
    if batch.responses_file is not None:
        return {"responsesFile": batch.responses_file}
    if batch.inline_output is not None and with_inline:
        return {"inlinedResponses": {"inlinedResponses": batch.inline_output}}
    return {}


def _operation_error(batch: GeminiBatch, phase: Phase) -> dict[str, Any]:
    if phase is Phase.CANCELLED:
        error: dict[str, Any] = {"code": 1, "message": "The batch was cancelled."}
    elif phase is Phase.EXPIRED:
        error = {"code": 4, "message": "The batch expired: it was not processed within 48h."}
    else:
        failure = batch.failure or FAILED_ERROR
        error = {"code": failure["code"], "message": failure["message"]}
    return _with_details(batch, error)


def _with_details(batch: GeminiBatch, error: dict[str, Any]) -> dict[str, Any]:
    """A google.rpc.Status carries `details` as typed objects (`Any`), under `row_error_details`."""
    if "row_error_details" not in batch.quirks:
        return error
    info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "EMULATED", "domain": "googleapis.com"}
    return {**error, "details": [info]}


def batch_stats(batch: GeminiBatch, snap: Snapshot) -> dict[str, str]:
    n = batch.scan.n
    failed = bisect.bisect_left(batch.failing, snap.done)
    ok = snap.done - failed
    if snap.phase is Phase.FAILED:
        ok, failed = 0, n
    elif snap.phase.ended:
        failed = n - ok
    pending = 0 if snap.phase.ended else n - snap.done
    return {
        "requestCount": str(n),
        "successfulRequestCount": str(ok),
        "failedRequestCount": str(failed),
        "pendingRequestCount": str(pending),
    }


# --- results -------------------------------------------------------------------------------


def build_inline_output(batch: GeminiBatch, snap: Snapshot, cache: PromptCache) -> orjson.Fragment:
    """`inlinedResponses`, in input order, metadata echoed (runs in a thread); the quirks drop
    the metadata or shuffle the rows."""
    assert batch.inline is not None
    keep_keys = "inline_without_keys" not in batch.quirks
    rows = []
    for index, (request, metadata) in enumerate(batch.inline):
        row = _row(batch, snap, index, orjson.loads(request), cache)
        if metadata is not None and keep_keys:
            row["metadata"] = orjson.Fragment(metadata)
        rows.append(orjson.dumps(row))
    if "inline_shuffled" in batch.quirks:
        random.Random(batch.id).shuffle(rows)
    return orjson.Fragment(b"[" + b",".join(rows) + b"]")


def write_output_file(batch: GeminiBatch, snap: Snapshot, out: Path, cache: PromptCache) -> None:
    """`files/batch-<id>`: one `{"key", "response"|"error"}` line per input line, in order."""
    assert batch.input_file is not None
    with batch.input_file.path.open("rb") as src, out.open("wb") as dst:
        for index in range(batch.scan.n):
            src.seek(batch.scan.offsets[index])
            line = _parse(src.readline())
            line = line if isinstance(line, dict) else {}
            row = _row(batch, snap, index, line.get("request"), cache)
            if "key" in line:
                row = {"key": line["key"], **row}
            dst.write(orjson.dumps(row) + b"\n")


def _row(batch: GeminiBatch, snap: Snapshot, index: int, request: Any, cache: PromptCache) -> dict[str, Any]:
    if index >= snap.done:
        return {"error": _with_details(batch, NOT_RUN["expired" if snap.phase is Phase.EXPIRED else "cancelled"])}
    problem = batch.scan.problems.get(index)
    if problem is not None:
        return {"error": _with_details(batch, row_error(problem))}
    if batch.embed:
        return {"response": embed_response(request, batch.model)}
    ask = gemini_ask(batch.model.removeprefix("models/"), request)
    return {"response": generate_response(ask, f"{batch.id}:{index}", cache)}
