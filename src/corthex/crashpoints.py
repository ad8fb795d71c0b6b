"""Opt-in crash hooks for the kill -9 tests: `CORTHEX_CRASH_AT=<point>[:<n>]`; and stalls for the
tests of a busy process: `CORTHEX_STALL_AT=<point>:<seconds>` blocks the whole event loop (as a
long CPU-bound stretch would) for that long at the point's first hit.

`crash_point("after_create")` does nothing unless the variable names that point; then its n-th
hit (1 by default) kills this process with SIGKILL, as `kill -9` from outside would: no cleanup,
no `finally`, no flush of anything but a marker line on stderr that tells the harness where it
died. Read once, at import, so a hook costs one comparison when unset.

Points (where the engine calls them; a kill while a provider call is in flight, e.g. during an
upload, needs no hook: the kill -9 harness holds the emulator's answer and kills from outside):

before_create        dispatch: intent recorded and leased, provider not called yet
after_upload         provider: input file uploaded, batch not created yet (OpenAI, Gemini file)
after_create         dispatch: batch created at the provider, not yet recorded (the orphan window)
after_submitted      dispatch: batch recorded as submitted, lease not released yet
during_download      provider: part of the result file downloaded
after_result_chunk   collect: one chunk of results committed, more to come
before_close         collect: every result written, batch not yet marked collected
between_steps        chains: chain moved to its next step, the step not yet submitted
after_step_claimed   chains: step claimed, its job not yet recorded
during_delivery      archive: the report's temporary file written, not yet renamed into place
after_delivery       chains: a sink delivered the report, not yet marked delivered
before_finish        chains: every sink marked delivered, chain not yet marked done
after_realtime_answer realtime: one answer of a step recorded, others may still be out
after_deadline_take  deadlines: a late job's requests taken for the faster tier, none sent yet
after_deadline_answer deadlines: one answer on the faster tier recorded, others may still be out
"""

from __future__ import annotations

import os
import signal
import sys
import time

ENV = "CORTHEX_CRASH_AT"
STALL_ENV = "CORTHEX_STALL_AT"

POINTS = frozenset(
    {
        "before_create",
        "after_upload",
        "after_create",
        "after_submitted",
        "during_download",
        "after_result_chunk",
        "before_close",
        "between_steps",
        "after_step_claimed",
        "during_delivery",
        "after_delivery",
        "before_finish",
        "after_realtime_answer",
        "after_deadline_take",
        "after_deadline_answer",
    }
)


def _parse(spec: str | None) -> tuple[str, int] | None:
    if not spec:
        return None
    name, _, count = spec.partition(":")
    if name not in POINTS:
        raise ValueError(f"{ENV}: unknown crash point {name!r} (one of {', '.join(sorted(POINTS))})")
    hits = int(count) if count else 1
    if hits < 1:
        raise ValueError(f"{ENV}: the hit count must be 1 or more")
    return name, hits


def _parse_stall(spec: str | None) -> tuple[str, float] | None:
    if not spec:
        return None
    name, _, seconds = spec.partition(":")
    if name not in POINTS or not seconds:
        raise ValueError(f"{STALL_ENV}: give <point>:<seconds>, the point one of {', '.join(sorted(POINTS))}")
    return name, float(seconds)


_target = _parse(os.environ.get(ENV))
_stall = _parse_stall(os.environ.get(STALL_ENV))
_hits = 0


def crash_point(name: str) -> None:
    """Die here (SIGKILL) on the configured hit of this point; otherwise nothing."""
    global _hits, _stall
    if _stall is not None and _stall[0] == name:
        seconds, _stall = _stall[1], None
        sys.stderr.write(f"CORTHEX_STALLED_AT {name} for {seconds}s\n")
        time.sleep(seconds)  # blocking on purpose: nothing else in this process runs meanwhile
    if _target is None or _target[0] != name:
        return
    _hits += 1
    if _hits < _target[1]:
        return
    sys.stderr.write(f"CORTHEX_CRASHED_AT {name}:{_hits}\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)
