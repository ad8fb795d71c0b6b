"""Mistral files and batch jobs: records, input checks, result files (docs/wire/platforms.md §4).

The job follows the emulator's time-based lifecycle (`lifecycle.py`) under Mistral's words:
QUEUED while validating, RUNNING, SUCCESS, FAILED, TIMEOUT_EXCEEDED (the `expire` fault),
CANCELLATION_REQUESTED then CANCELLED. Answers come from the shared generator (`answers.py`),
rendered as Mistral's chat completion. Results are written once, when the job is first seen
ended: answered requests in the output file, refused ones in the error file; requests a cancel
or a timeout stopped have no row (as on the platform, where results cover what ran).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from corthex.emulator.answers import answer
from corthex.emulator.asks import SERVER_PROBLEM, RowProblem
from corthex.emulator.faults import BatchFaults
from corthex.emulator.ids import stable_id
from corthex.emulator.lifecycle import Phase, Snapshot, Timeline
from corthex.emulator.openai_asks import openai_full_ask
from corthex.emulator.openai_render import chat_completion

CHAT = "/v1/chat/completions"
#: mistralai `APIEndpoint`; the emulator answers chat only and refuses the others at creation
ENDPOINTS = (CHAT, "/v1/embeddings", "/v1/fim/completions", "/v1/moderations", "/v1/chat/moderations", "/v1/ocr")
PURPOSES = ("batch", "fine-tune", "ocr")  #: mistralai `FilePurpose`
MAX_REQUESTS = 100_000  #: "Maximum requests per batch: 100,000" (docs.mistral.ai known-limitations)
MAX_FILE_BYTES = 512 * 1000 * 1000  #: "Maximum batch file size: 512 MB" (same page)
MAX_TIMEOUT_HOURS = 168  #: `timeout_hours` "should be lower than 7 days" (batch FAQ)
STATUS = {
    Phase.VALIDATING: "QUEUED",
    Phase.RUNNING: "RUNNING",
    Phase.FINALIZING: "RUNNING",
    Phase.CANCELLING: "CANCELLATION_REQUESTED",
    Phase.COMPLETED: "SUCCESS",
    Phase.FAILED: "FAILED",
    Phase.CANCELLED: "CANCELLED",
    Phase.EXPIRED: "TIMEOUT_EXCEEDED",
}
#: OpenAI's names that Mistral's chat body does not take (its schema forbids extra fields: 422)
OPENAI_ONLY = ("max_completion_tokens", "seed")


@dataclass
class MistralFile:
    id: str
    filename: str
    purpose: str
    bytes: int
    created_at: int
    path: Path
    lines: int | None = None
    sample_type: str = "batch_request"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": self.bytes,
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "sample_type": self.sample_type,
            "source": "upload",
            "num_lines": self.lines,
            "mimetype": "application/jsonl",
        }


@dataclass
class MistralJob:
    id: str
    model: str
    endpoint: str
    input_files: list[str]
    rows: list[dict[str, Any]]  #: the parsed input lines, in order
    metadata: dict[str, Any] | None
    timeline: Timeline
    problems: dict[int, RowProblem] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)  #: why the job failed
    output_file: str | None = None
    error_file: str | None = None
    written: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class MistralStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, MistralFile] = {}
        self.jobs: dict[str, MistralJob] = {}

    def file_path(self, file_id: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / file_id


def new_uuid() -> str:
    """Mistral's ids are UUIDs (files and jobs alike)."""
    return str(uuid.uuid4())


# --- input -------------------------------------------------------------------------------------


def read_rows(paths: list[Path]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the lines of every input file, the job errors they cause) (runs in a worker thread)."""
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for path in paths:
        with path.open("rb") as src:
            for number, raw in enumerate(src, start=1):
                if raw.strip():
                    _read_row(rows, errors, raw, number)
    if not rows and not errors:
        errors.append({"message": "The batch input is empty.", "count": 1})
    if len(rows) > MAX_REQUESTS:
        errors.append({"message": f"The batch has {len(rows)} requests; the limit is {MAX_REQUESTS}.", "count": 1})
    return rows, errors


def _read_row(rows: list[dict[str, Any]], errors: list[dict[str, Any]], raw: bytes, number: int) -> None:
    try:
        line = orjson.loads(raw)
    except orjson.JSONDecodeError:
        errors.append({"message": f"Line {number} is not valid JSON.", "count": 1})
        return
    if not isinstance(line, dict) or not isinstance(line.get("body"), dict):
        errors.append({"message": f"Line {number} has no 'body' object.", "count": 1})
        return
    rows.append({"custom_id": line.get("custom_id"), "body": line["body"]})


def row_problem(body: dict[str, Any]) -> RowProblem | None:
    """What Mistral's chat schema refuses (a 422 with pydantic's words), as far as emulated."""
    extra = next((key for key in OPENAI_ONLY if key in body), None)
    if extra is not None:
        return RowProblem(f"Extra inputs are not permitted: body.{extra}", extra, "extra_forbidden", 422)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return RowProblem("Field required: body.messages", "messages", "missing", 422)
    return None


def find_problems(rows: list[dict[str, Any]], faults: BatchFaults) -> dict[int, RowProblem]:
    problems = {i: p for i, row in enumerate(rows) if (p := row_problem(row["body"])) is not None}
    every = faults.row_error_every
    if every is not None:
        for index in range(every - 1, len(rows), every):
            problems.setdefault(index, SERVER_PROBLEM)
    return problems


# --- rendering ---------------------------------------------------------------------------------


def job_json(job: MistralJob, snap: Snapshot, *, inline: bool = False) -> dict[str, Any]:
    failed = sum(1 for index in job.problems if index < snap.done)
    started = snap.times.get(Phase.RUNNING)
    data: dict[str, Any] = {
        "id": job.id,
        "object": "batch",
        "input_files": job.input_files,
        "metadata": job.metadata,
        "endpoint": job.endpoint,
        "model": job.model,
        "agent_id": None,
        "output_file": job.output_file,
        "error_file": job.error_file,
        "errors": job.errors if snap.phase is Phase.FAILED else [],
        "status": STATUS[snap.phase],
        "created_at": int(job.timeline.created),
        "total_requests": len(job.rows),
        "completed_requests": snap.done,
        "succeeded_requests": snap.done - failed,
        "failed_requests": failed,
        "started_at": int(started) if started is not None else None,
        "completed_at": int(snap.ended_at) if snap.ended_at is not None else None,
    }
    if inline:
        data["outputs"] = None  # results are in the files here
    return data


def completion(model: str, body: dict[str, Any], seed: str, created: int) -> dict[str, Any]:
    """A Mistral chat completion: OpenAI's shape without OpenAI's extras (refusal, annotations,
    logprobs, service tier, token details), `usage` with the three counts."""
    ask = openai_full_ask(CHAT, {**body, "model": model})
    ans = answer(ask)
    data = chat_completion(ask, ans, seed, created, 0)
    choice = data["choices"][0]
    message = {k: v for k, v in choice["message"].items() if k in ("role", "content", "tool_calls")}
    if message.get("tool_calls"):
        message["content"] = ""
    finish = choice["finish_reason"] if choice["finish_reason"] in ("stop", "length", "tool_calls") else "stop"
    usage = data["usage"]
    return {
        "id": stable_id(seed, "cmpl"),
        "object": "chat.completion",
        "model": model,
        "created": created,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {k: usage[k] for k in ("prompt_tokens", "completion_tokens", "total_tokens")},
    }


def error_body(problem: RowProblem) -> dict[str, Any]:
    return {"object": "error", "message": problem.message, "type": problem.code, "param": problem.param, "code": None}


# --- result files ------------------------------------------------------------------------------


def write_results(job: MistralJob, snap: Snapshot, out: Path, err: Path) -> tuple[int, int]:
    """Write the output and error files of an ended job; (output rows, error rows)."""
    counts = [0, 0]
    created = int(snap.ended_at or job.timeline.created)
    with out.open("wb") as out_f, err.open("wb") as err_f:
        for index, row in enumerate(job.rows[: snap.done]):
            seed = f"{job.id}:{index}"
            problem = job.problems.get(index)
            if problem is None:
                response = {"status_code": 200, "body": completion(job.model, row["body"], seed, created)}
            else:
                response = {"status_code": problem.status, "body": error_body(problem)}
            line = {"id": stable_id(seed, "row"), "custom_id": row["custom_id"], "response": response, "error": None}
            (out_f if problem is None else err_f).write(orjson.dumps(line) + b"\n")
            counts[0 if problem is None else 1] += 1
    return counts[0], counts[1]
