"""Time-based batch lifecycle, computed lazily from timestamps whenever a batch is read.

A batch validates for `validate_s`, processes its requests evenly over `process_s`, finalizes for
`finalize_s`, and is done. Requests finish in input order, so at any moment the first `done`
requests have a result. A cancel freezes `done` and ends the batch `cancel_s` later; the `expire`
fault ends it once `fraction` of the requests are done; `never_end` keeps it running.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

from corthex.emulator.faults import BatchFaults


class Phase(enum.Enum):
    VALIDATING = "validating"
    RUNNING = "running"
    FINALIZING = "finalizing"
    CANCELLING = "cancelling"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def ended(self) -> bool:
        return self in ENDED


ENDED = frozenset({Phase.COMPLETED, Phase.FAILED, Phase.CANCELLED, Phase.EXPIRED})


@dataclass
class Timeline:
    created: float
    n: int
    validate_s: float
    process_s: float
    finalize_s: float
    cancel_s: float
    faults: BatchFaults = field(default_factory=BatchFaults)
    fails: bool = False  # validation fails at the end of `validating`
    cancel_at: float | None = None

    @property
    def started(self) -> float:
        return self.created + self.validate_s

    @property
    def processed(self) -> float:
        return self.started + self.process_s


@dataclass(frozen=True)
class Snapshot:
    phase: Phase
    done: int  # requests that have a result (succeeded or failed)
    times: dict[Phase, float]  # when each phase reached so far began

    @property
    def ended_at(self) -> float | None:
        return self.times.get(self.phase) if self.phase.ended else None


def done_at(tl: Timeline, t: float, held: bool) -> int:
    """Requests finished by time `t` (ignoring cancel and expiry)."""
    if t <= tl.started or tl.n == 0:
        done = 0
    elif t >= tl.processed or tl.process_s <= 0:
        done = tl.n
    else:
        done = math.floor(tl.n * (t - tl.started) / tl.process_s)
    return min(done, max(tl.n - 1, 0)) if held else done


def initial(tl: Timeline) -> Snapshot:
    """The state a create call reports (even at speed 0, the first poll shows the change)."""
    return Snapshot(Phase.VALIDATING, 0, {Phase.VALIDATING: tl.created})


def snapshot(tl: Timeline, now: float, held: bool = False) -> Snapshot:
    natural = _natural_end(tl, held)
    if tl.cancel_at is not None and tl.cancel_at < natural[0]:
        return _cancelled(tl, now, held)
    end_at, end_phase, end_done = natural
    times = {Phase.VALIDATING: tl.created}
    if now < tl.started:
        return Snapshot(Phase.VALIDATING, 0, times)
    if end_phase is Phase.FAILED:
        times[Phase.FAILED] = end_at
        return Snapshot(Phase.FAILED, 0, times)
    times[Phase.RUNNING] = tl.started
    if end_at == math.inf:  # held by `never_end`
        return Snapshot(Phase.RUNNING, done_at(tl, now, held), times)
    if now >= end_at:
        if end_phase is Phase.COMPLETED:
            times[Phase.FINALIZING] = tl.processed
        times[end_phase] = end_at
        return Snapshot(end_phase, end_done, times)
    if end_phase is Phase.COMPLETED and now >= tl.processed:
        times[Phase.FINALIZING] = tl.processed
        return Snapshot(Phase.FINALIZING, tl.n, times)
    return Snapshot(Phase.RUNNING, done_at(tl, now, held), times)


def _natural_end(tl: Timeline, held: bool) -> tuple[float, Phase, int]:
    """When and how the batch ends if nobody cancels it."""
    if tl.fails:
        return tl.started, Phase.FAILED, 0
    fraction = tl.faults.expire_fraction
    if fraction is not None:
        fraction = min(max(fraction, 0.0), 1.0)
        return tl.started + fraction * tl.process_s, Phase.EXPIRED, math.floor(tl.n * fraction)
    if held:
        return math.inf, Phase.COMPLETED, tl.n
    return tl.processed + tl.finalize_s, Phase.COMPLETED, tl.n


def _cancelled(tl: Timeline, now: float, held: bool) -> Snapshot:
    assert tl.cancel_at is not None
    times = {Phase.VALIDATING: tl.created}
    if tl.cancel_at >= tl.started:
        times[Phase.RUNNING] = tl.started
    done = done_at(tl, tl.cancel_at, held)
    if now < tl.cancel_at:  # cannot happen for a real clock; keep it total
        return Snapshot(Phase.RUNNING, done_at(tl, now, held), times)
    times[Phase.CANCELLING] = tl.cancel_at
    if now <= tl.cancel_at + tl.cancel_s:  # `<=`: the cancel call itself says cancelling
        return Snapshot(Phase.CANCELLING, done, times)
    times[Phase.CANCELLED] = tl.cancel_at + tl.cancel_s
    return Snapshot(Phase.CANCELLED, done, times)
