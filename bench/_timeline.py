"""The per-phase timeline of one `corthex submit --wait --out` run, from its phase marks
(src/corthex/phases.py, `CORTHEX_PHASE_LOG`) and the emulator's batch times
(`GET /_emulator/batches`): where the wall time went, from the process's start to its exit.

Phases follow the job's critical path; each ends at the latest of its marks (the last batch
created, the last batch collected, …), so they add up to the wall time. Per batch: when it was
created, when the provider ended it, how late our poll noticed, how long its rows took to read
and to store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

#: (phase, the mark that ends it, what it is): in order along the job's critical path
PHASES = (
    ("start and imports", "imported", "interpreter start, module imports"),
    ("open the store", "opened", "settings, database, migrations"),
    ("validation", "validated", "read and check every line"),
    ("recording", "recorded", "store the job and its requests"),
    ("planning", "planned", "group requests into batches"),
    ("upload and create", "created", "build, upload and create every batch"),
    ("provider processing", "ended", "until the provider ends the last batch (the provider's time)"),
    ("poll notices the end", "collecting", "from a batch's end to our noticing it"),
    ("download", "downloaded", "read the result rows"),
    ("collection", "collected", "store the rows left, close the batch"),
    ("job done", "waited", "the job marked done, the wait loop returns"),
    ("output file", "written", "write the results file"),
    ("close the engine", "closed", "close providers' clients and the store"),
    ("close the loop", "loop closed", "asyncio.run's teardown (its thread pool)"),
    ("exit", "exit", "interpreter teardown (measured to within the 0.1 s sampling)"),
)


def read_marks(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _remote_key(remote: str) -> str:
    return remote.rsplit("/", 1)[-1]


def batches(marks: list[dict[str, Any]], emulated: list[dict[str, Any]], start: float) -> list[dict[str, Any]]:
    """One row per batch we created: its times from the process start, and the gaps between."""
    ends = {_remote_key(b["id"]): b for b in emulated}
    rows: dict[str, dict[str, Any]] = {}
    for m in marks:
        if m["phase"] == "created":
            emu = ends.get(_remote_key(m["remote"]), {})
            ended = emu.get("ended_at")
            rows[m["batch"]] = {
                "batch": m["batch"],
                "provider": m["provider"],
                "model": m["model"],
                "requests": m["requests"],
                "created": m["at"] - start,
                "ended": None if ended is None else ended - start,
                "polls": 0,
            }
    for m in marks:
        row = rows.get(m.get("batch", ""))
        if row is None:
            continue
        if m["phase"] == "polled":
            row["polls"] += 1
        elif m["phase"] in ("collecting", "downloaded", "collected"):
            row[m["phase"]] = m["at"] - start
    for row in rows.values():
        row["polls"] += 1 if "collecting" in row else 0  # the poll that saw the end
        _gap(row, "notice_lag", "ended", "collecting")
        _gap(row, "download_s", "collecting", "downloaded")
        _gap(row, "store_after_download_s", "downloaded", "collected")
    return sorted(rows.values(), key=lambda r: r["created"])


def _gap(row: dict[str, Any], name: str, start: str, end: str) -> None:
    if row.get(start) is not None and row.get(end) is not None:
        row[name] = row[end] - row[start]


def timeline(
    marks: list[dict[str, Any]], emulated: list[dict[str, Any]], start: float, exit_at: float
) -> dict[str, Any]:
    """Phases from `start` (the process was started) to `exit_at` (it was reaped), in seconds."""
    latest: dict[str, float] = {}
    for m in marks:
        latest[m["phase"]] = max(latest.get(m["phase"], 0.0), m["at"])
    per_batch = batches(marks, emulated, start)
    ended = [r["ended"] + start for r in per_batch if r.get("ended") is not None]
    if ended:
        latest["ended"] = max(ended)
    latest["exit"] = exit_at
    phases = []
    previous = start
    for name, key, what in PHASES:
        at = latest.get(key)
        if at is None:
            phases.append({"phase": name, "seconds": None, "at": None, "what": what})
            continue
        at = max(at, previous)  # a phase whose mark came early (overlapped) takes no time
        phases.append({"phase": name, "seconds": round(at - previous, 3), "at": round(at - start, 3), "what": what})
        previous = at
    provider = sum(p["seconds"] or 0 for p in phases if p["phase"] == "provider processing")
    wall = exit_at - start
    return {
        "wall_s": round(wall, 3),
        "provider_s": round(provider, 3),
        "ours_s": round(wall - provider, 3),
        "phases": phases,
        "batches": [{k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()} for r in per_batch],
    }


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_timeline(tl: dict[str, Any]) -> None:
    print(
        f"\ncorthex timeline: wall {tl['wall_s']:.2f} s = provider processing {tl['provider_s']:.2f} s"
        f" + ours {tl['ours_s']:.2f} s"
    )
    print(f"{'phase':<22} {'seconds':>8} {'ends at':>8}  what")
    for p in tl["phases"]:
        print(f"{p['phase']:<22} {_s(p['seconds']):>8} {_s(p['at']):>8}  {p['what']}")
    print(
        f"\n{'batch':<26} {'provider':<9} {'requests':>8} {'created':>8} {'ended':>7} {'noticed':>8} {'lag':>6}"
        f" {'polls':>5} {'read':>6} {'store+':>6} {'done':>6}"
    )
    for b in tl["batches"]:
        print(
            f"{b['batch']:<26} {b['provider']:<9} {b['requests']:>8} {_s(b['created']):>8} {_s(b.get('ended')):>7}"
            f" {_s(b.get('collecting')):>8} {_s(b.get('notice_lag')):>6} {b['polls']:>5}"
            f" {_s(b.get('download_s')):>6} {_s(b.get('store_after_download_s')):>6} {_s(b.get('collected')):>6}"
        )
