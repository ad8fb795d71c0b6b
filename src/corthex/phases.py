"""Phase marks: one debug line, with its wall-clock time, at each step of a job's life (imported,
store open, validated, recorded, planned, each batch created, its end noticed, its rows read and
collected, the job done, the output written). Off by default: a mark then costs one level check.
`CORTHEX_PHASE_LOG=FILE` appends them to FILE as JSON lines; bench/peers.py builds its per-phase
timeline from them (wall-clock times, so they line up with the emulator's batch end times)."""

from __future__ import annotations

import json
import logging
import os
import time

log = logging.getLogger("corthex.phases")


def mark(phase: str, **data: object) -> None:
    """Record that `phase` was reached now (`data`: which batch, how many rows, …)."""
    if log.isEnabledFor(logging.DEBUG):
        log.debug(json.dumps({"at": time.time(), "phase": phase, **data}, default=str))


def install_from_env() -> None:
    """Write the marks to the file `CORTHEX_PHASE_LOG` names, if it names one."""
    path = os.environ.get("CORTHEX_PHASE_LOG")
    if not path:
        return
    try:
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:  # a setup mistake: one line naming the variable, not a traceback
        raise SystemExit(f"CORTHEX_PHASE_LOG: cannot write {path}: {exc.strerror or exc}") from None
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False  # not on stderr with the warnings
