"""Anthropic message batches: records, validation, results (PROVIDERS.md §2).

The shape of `requests` is checked when the batch is created (a 400 names the bad item); each
request's `params` is checked asynchronously, as the real API does, and a bad one becomes an
`errored` result.
"""

from __future__ import annotations

import random
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from corthex.emulator.answers import Answer, answer
from corthex.emulator.anthropic_cache import cached_prefix
from corthex.emulator.asks import SERVER_PROBLEM, RowProblem, anthropic_ask, anthropic_problem
from corthex.emulator.errors import EmulatorError
from corthex.emulator.faults import BatchFaults
from corthex.emulator.ids import compact_json, rfc3339, stable_id
from corthex.emulator.lifecycle import Phase, Snapshot, Timeline
from corthex.emulator.prompt_cache import TTL_SECONDS, PromptCache, Use
from corthex.emulator.stats import MAX_RECORDS

CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_REQUESTS = 100_000
DAY = 86_400
CHUNK = 512  # result lines per streamed chunk
FAIL_BATCH = RowProblem("Emulated batch failure (fail_batch fault).", status=500, server=True)


@dataclass
class Prepared:
    """A batch's requests, kept compact: params as JSON bytes (parsed again for results)."""

    custom_ids: list[str] = field(default_factory=list)
    params: list[bytes] = field(default_factory=list)
    problems: dict[int, RowProblem] = field(default_factory=dict)
    cache: dict[int, tuple[int, int]] = field(default_factory=dict)  # index -> (write, read)
    uses: list[Use] = field(default_factory=list)  # the requests with a cached prefix, until looked up


@dataclass
class AnthropicBatch:
    id: str
    timeline: Timeline
    requests: Prepared

    @property
    def n(self) -> int:
        return len(self.requests.custom_ids)


class AnthropicStore:
    def __init__(self) -> None:
        self.batches: dict[str, AnthropicBatch] = {}
        #: the bodies of realtime calls, in order, for tests (a batch keeps its own: `params_of`)
        self.messages: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDS)

    def params_of(self, batch_id: str) -> list[dict[str, Any]]:
        """The params of a batch's requests, as received."""
        return [orjson.loads(p) for p in self.batches[batch_id].requests.params]


def check_requests(requests: Any) -> list[tuple[str, dict[str, Any]]]:
    """The synchronous checks: a 400 naming the offending request, or the (custom_id, params)."""
    if not isinstance(requests, list) or not requests:
        raise _bad("requests: List should have at least 1 item after validation, not 0")
    if len(requests) > MAX_REQUESTS:
        raise _bad(f"requests: List should have at most {MAX_REQUESTS} items after validation, not {len(requests)}")
    seen: set[str] = set()
    out: list[tuple[str, dict[str, Any]]] = []
    for index, item in enumerate(requests):
        custom_id, params = _check_item(index, item)
        if custom_id in seen:
            raise _bad(
                f"requests.{index}.custom_id: Duplicate custom_id '{custom_id}'; each "
                "custom_id must be unique within the batch."
            )
        seen.add(custom_id)
        out.append((custom_id, params))
    return out


def _check_item(index: int, item: Any) -> tuple[str, Any]:
    if not isinstance(item, dict):
        raise _bad(f"requests.{index}: Input should be a valid dictionary")
    custom_id = item.get("custom_id")
    if not isinstance(custom_id, str) or not CUSTOM_ID.match(custom_id):
        raise _bad(
            f"requests.{index}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$' (got {custom_id!r})"
        )
    if "params" not in item:
        raise _bad(f"requests.{index}.params: Field required")
    return custom_id, item["params"]


def _bad(message: str) -> EmulatorError:
    return EmulatorError("anthropic", 400, message)


def prepare(checked: list[tuple[str, Any]], faults: BatchFaults) -> Prepared:
    """The asynchronous per-request validation, decided now, and which requests use the prompt
    cache, in input order (runs in a worker thread; `use_cache` looks them up)."""
    out = Prepared()
    for index, (custom_id, params) in enumerate(checked):
        problem = _problem(index, params, faults)
        if problem is not None:
            out.problems[index] = problem
        elif isinstance(params.get("system"), list):
            ask = anthropic_ask(params)
            if ask.cache_key is not None:
                out.uses.append(Use(index, ask, TTL_SECONDS.get(cached_prefix(params)[2], TTL_SECONDS["5m"])))
        out.custom_ids.append(custom_id)
        out.params.append(compact_json(params))
    return out


def use_cache(prepared: Prepared, cache: PromptCache, timeline: Timeline, concurrency: int) -> None:
    """The batch's cache reads and writes: its requests run `concurrency` at a time from its
    start; what they write is readable by other batches once it is processed."""
    prepared.cache = cache.lookup_batch(
        "anthropic", prepared.uses, now=timeline.started, ready_at=timeline.processed, concurrency=concurrency
    )
    prepared.uses = []


def _problem(index: int, params: Any, faults: BatchFaults) -> RowProblem | None:
    problem = anthropic_problem(params)
    if problem is None and faults.fail:
        return FAIL_BATCH
    if problem is None and faults.row_error_every and (index + 1) % faults.row_error_every == 0:
        return SERVER_PROBLEM
    return problem


# --- rendering -----------------------------------------------------------------------------


def batch_json(batch: AnthropicBatch, snap: Snapshot, results_url: str) -> dict[str, Any]:
    ended = snap.phase.ended
    status = "ended" if ended else "canceling" if snap.phase is Phase.CANCELLING else "in_progress"
    cancel_at = batch.timeline.cancel_at
    return {
        "id": batch.id,
        "type": "message_batch",
        "processing_status": status,
        "request_counts": request_counts(batch, snap),
        "ended_at": rfc3339(snap.times[snap.phase]) if ended else None,
        "created_at": rfc3339(batch.timeline.created),
        "expires_at": rfc3339(batch.timeline.created + DAY),
        "cancel_initiated_at": rfc3339(cancel_at) if cancel_at is not None else None,
        "archived_at": None,
        "results_url": results_url if ended else None,
    }


def request_counts(batch: AnthropicBatch, snap: Snapshot) -> dict[str, int]:
    """Only `processing` is live; the other counts stay 0 until the batch has ended (§2.3)."""
    n = batch.n
    counts = {"processing": n, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
    if not snap.phase.ended:
        return counts
    errored = sum(1 for index in batch.requests.problems if index < snap.done)
    not_run = "expired" if snap.phase is Phase.EXPIRED else "canceled"
    counts.update(processing=0, succeeded=snap.done - errored, errored=errored)
    counts[not_run] = n - snap.done
    return counts


def result_chunks(batch: AnthropicBatch, snap: Snapshot, shuffle: bool) -> Iterator[bytes]:
    """The results JSONL in chunks: no blank lines, one trailing newline (§2.2)."""
    order = list(range(batch.n))
    if shuffle:
        random.Random(batch.id).shuffle(order)
    for start in range(0, len(order), CHUNK):
        rows = [_result(batch, snap, index) for index in order[start : start + CHUNK]]
        yield b"".join(orjson.dumps(row) + b"\n" for row in rows)


def _result(batch: AnthropicBatch, snap: Snapshot, index: int) -> dict[str, Any]:
    custom_id = batch.requests.custom_ids[index]
    seed = f"{batch.id}:{index}"
    if index >= snap.done:
        kind = "expired" if snap.phase is Phase.EXPIRED else "canceled"
        return {"custom_id": custom_id, "result": {"type": kind}}
    problem = batch.requests.problems.get(index)
    if problem is not None:
        return {"custom_id": custom_id, "result": {"type": "errored", "error": error_body(problem)}}
    params = orjson.loads(batch.requests.params[index])
    message = message_json(params, seed, batch.requests.cache.get(index, (0, 0)))
    return {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}


def error_body(problem: RowProblem) -> dict[str, Any]:
    kind = "api_error" if problem.server else "invalid_request_error"
    return {
        "type": "error",
        "error": {"type": kind, "message": problem.message},
        "request_id": "req_" + stable_id(problem.message),
    }


#: the emulator's neutral finish (answers.Answer.finish) as Messages `stop_reason`: Claude has no
#: separate safety stop; its classifiers end a turn with `refusal` (anthropic-sdk-python StopReason)
STOP_REASON = {
    "stop": "end_turn",
    "length": "max_tokens",
    "refusal": "refusal",
    "safety": "refusal",
    "blocked": "refusal",
}


def message_json(params: dict[str, Any], seed: str, cache: tuple[int, int], tier: str = "batch") -> dict[str, Any]:
    ask = anthropic_ask(params)
    ans, stopped_at = _stopped(answer(ask), params.get("stop_sequences"))
    written, read = cache
    stop_reason = "stop_sequence" if stopped_at is not None else STOP_REASON[ans.finish]
    one_hour = cached_prefix(params)[2] == "1h"
    usage: dict[str, Any] = {
        "input_tokens": max(1, ans.input_tokens - written - read),
        "output_tokens": ans.output_tokens,  # thinking included
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": read,
        # the writes by TTL, as the API reports them (1-hour writes are priced higher)
        "cache_creation": {
            "ephemeral_5m_input_tokens": 0 if one_hour else written,
            "ephemeral_1h_input_tokens": written if one_hour else 0,
        },
        "service_tier": tier,
    }
    if ans.reasoning_tokens:
        usage["output_tokens_details"] = {"thinking_tokens": ans.reasoning_tokens}
    return {
        "id": "msg_" + stable_id(seed, "msg"),
        "type": "message",
        "role": "assistant",
        "model": ask.model,
        "content": _content(ans, seed),
        "stop_reason": "tool_use" if ans.tool_name is not None else stop_reason,
        "stop_sequence": stopped_at,
        "stop_details": {"type": "refusal", "category": None, "explanation": None}
        if stop_reason == "refusal"
        else None,
        "usage": usage,
    }


def _stopped(ans: Answer, stops: Any) -> tuple[Answer, str | None]:
    """The text cut before the first stop sequence it holds (the API leaves the sequence out)."""
    if ans.tool_name is not None or not isinstance(stops, list):
        return ans, None
    found = [(ans.text.index(s), s) for s in stops if isinstance(s, str) and s and s in ans.text]
    if not found:
        return ans, None
    cut, stop = min(found)
    return replace(ans, text=ans.text[:cut]), stop


def _content(ans: Answer, seed: str) -> list[dict[str, Any]]:
    """A thinking block first when the model thought, then the text (none when the budget ran
    out in the thinking, or the turn was refused) or the tool call."""
    blocks: list[dict[str, Any]] = []
    if ans.reasoning_tokens:
        signature = stable_id(seed, "sig", length=32)
        blocks.append({"type": "thinking", "thinking": "Let me think about this.", "signature": signature})
    if ans.tool_name is not None:
        blocks.append(
            {
                "type": "tool_use",
                "id": "toolu_" + stable_id(seed, "tool"),
                "name": ans.tool_name,
                "input": ans.tool_args,
            }
        )
    elif ans.text:
        blocks.append({"type": "text", "text": ans.text})
    elif ans.finish == "stop":
        blocks.append({"type": "text", "text": ""})
    return blocks
