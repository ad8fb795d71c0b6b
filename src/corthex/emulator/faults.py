"""Faults that can be switched on at runtime, per provider and per operation.

Two families:

- call faults (`http`, `slow`, `late`, `malformed`, `echo_key`, `error_body`) act on one HTTP call,
  matched by `op`: `echo_key` answers `status` with an HTML error page that echoes the caller's key
  wrapped across lines (as some gateways and proxies do); `error_body` answers HTTP 200 with the
  provider's error body for `status` (a Gemini upload takes it on its last step, as the real one
  does: python-genai#1547); `slow`
  waits `delay` before the call is served (a client that gives up first leaves nothing done),
  `late` serves the call and then holds the answer for `delay` (the work is done, as when a
  provider creates a batch but the client's timeout fires first);
- batch faults (`expire`, `row_errors`, `never_end`, `fail_batch`) are taken by a batch when it is
  created (they match `op` "create" or "*") and stay with that batch.

`times` counts the calls (or batches) a fault still applies to; None means until cleared.
`never_end` holds a batch only until the faults are cleared (`DELETE /_emulator/faults`), so a test
can keep a batch running and then let it finish.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

PROVIDERS = ("openai", "anthropic", "gemini", "vertex", "mistral", "bedrock")
OPS = ("upload", "create", "retrieve", "list", "results", "cancel", "realtime", "delete", "models", "*")
CALL_KINDS = ("http", "slow", "late", "malformed", "echo_key", "error_body")
BATCH_KINDS = ("expire", "row_errors", "never_end", "fail_batch")


@dataclass
class Fault:
    provider: str  # "openai" | "anthropic" | "gemini" | "*"
    op: str = "*"  # "upload" | "create" | "retrieve" | "list" | "results" | "cancel" | "realtime" | "*"
    kind: str = "http"  # see the module docstring
    status: int = 500
    retry_after: float | None = None  # sent as `retry-after` when set
    delay: float = 0.0
    fraction: float = 0.5
    every: int = 3
    times: int | None = None

    def __post_init__(self) -> None:
        if self.provider not in (*PROVIDERS, "*"):
            raise ValueError(f"unknown provider {self.provider!r}")
        if self.op not in OPS:
            raise ValueError(f"unknown op {self.op!r}")
        if self.kind not in (*CALL_KINDS, *BATCH_KINDS):
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.every < 1:
            raise ValueError("every must be >= 1")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def matches(self, provider: str, op: str) -> bool:
        return self.provider in (provider, "*") and self.op in (op, "*")


@dataclass(frozen=True)
class BatchFaults:
    """What a batch took from the fault set when it was created."""

    expire_fraction: float | None = None
    row_error_every: int | None = None
    held_epoch: int | None = None  # never_end: held while the fault epoch is unchanged
    fail: bool = False


class FaultSet:
    """The active faults. Thread-safe: tests add faults from their own thread."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.epoch = 0  # bumped on clear, which releases `never_end` batches
        self.triggered: dict[str, int] = {}

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.epoch += 1

    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take_call_fault(self, provider: str, op: str, kinds: tuple[str, ...] = CALL_KINDS) -> Fault | None:
        """The first call fault (of `kinds`) for this call, consuming one of its `times`."""
        return self._take(provider, op, kinds)

    def take_batch_faults(self, provider: str) -> BatchFaults:
        """Every batch fault that applies to a batch being created now."""
        found: dict[str, Fault] = {}
        while True:
            fault = self._take(provider, "create", BATCH_KINDS, skip=set(found))
            if fault is None:
                break
            found[fault.kind] = fault
        return BatchFaults(
            expire_fraction=found["expire"].fraction if "expire" in found else None,
            row_error_every=found["row_errors"].every if "row_errors" in found else None,
            held_epoch=self.epoch if "never_end" in found else None,
            fail="fail_batch" in found,
        )

    def is_held(self, faults: BatchFaults) -> bool:
        return faults.held_epoch is not None and faults.held_epoch == self.epoch

    def _take(self, provider: str, op: str, kinds: tuple[str, ...], skip: set[str] | None = None) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kind not in kinds or (skip and fault.kind in skip):
                    continue
                if not fault.matches(provider, op):
                    continue
                self._consume(fault)
                key = f"{provider}:{fault.kind}"
                self.triggered[key] = self.triggered.get(key, 0) + 1
                return fault
        return None

    def _consume(self, fault: Fault) -> None:
        if fault.times is None:
            return
        fault.times -= 1
        if fault.times <= 0:
            self._faults.remove(fault)
