"""Benchmark: 100,000 requests over the three providers through the emulator, recorded by the
CLI and submitted and collected by a running `corthex worker` (real processes).

    .venv/bin/python bench/scale.py [--requests 100000] [--speed 0.1] [--label before] [--profile]

The emulator runs in its own process. With `--via queue` (the default) the worker starts first
(as in a deployment), `corthex queue add FILE` validates the file and records the job, and the
worker flushes it, creates the batches, polls, collects and completes the job. With `--via
submit`, `corthex submit FILE` records the job and creates the batches (its `engine.step()`),
then a worker starts (its start-up is in `wall_s`) and does the rest. Both are the engine: peak
RSS and CPU time of each come from wait4 (exact). The run ends at the job's `completed_at`.

- emulator_processing_s: the emulator's configured time (config: validate/base/per-request/
  finalize x speed) of the longest batch it created; the batches run side by side, so the
  longest one is the least any engine could take.
- engine_overhead_s = wall_s - emulator_processing_s (DESIGN.md §8: under 30 s).
- collect_rows_per_s: result rows / the time the worker spent collecting (union of the
  intervals from each batch's "collecting" log line to its "collected" one): download, parse,
  settle and write into SQLite together (§8: at least 20,000 rows/s).
- collect_cpu_s / collect_rows_per_cpu_s: the worker's CPU time (user + system, sampled from
  /proc every 50 ms) within those intervals, and result rows per CPU second: the engine's own
  cost, whatever else the (shared, 2-core) machine runs. load_avg_1m says how busy it was.
- With --profile, py-spy samples both processes (raw stacks in bench/out/) and the hottest
  places are printed; the timings of a profiled run are not the benchmark's.

Writes bench/out/scale[-LABEL].json. Not a test: run it on demand.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import (  # noqa: E402
    OUT,
    PYTHON,
    Child,
    Emulator,
    RssTrace,
    calls_made,
    print_table,
    processing_seconds,
    save,
    sdk_env,
    write_requests,
)
from _profile import analyse, show  # noqa: E402

PY_SPY = Path(PYTHON).with_name("py-spy")  #: `pip install -e .[bench]`
WORKDIRS: list[Path] = []  #: the run's temporary directory, removed unless --keep
_LOG_TIME = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO corthex\.engine\.collect: batch (\S+) (collecting|collected)"
)


def _log_times(text: str) -> dict[str, dict[str, float]]:
    spans: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        m = _LOG_TIME.match(line)
        if m:
            ts = datetime.strptime(m[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            spans.setdefault(m[2], {})[m[3]] = ts
    return spans


def _merged(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, stop in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(stop, merged[-1][1]))
        else:
            merged.append((start, stop))
    return merged


def _collect_cpu(trace: RssTrace | None, log: str, rows: int) -> dict[str, Any]:
    """The worker's CPU seconds within the collecting intervals, and rows per CPU second."""
    if trace is None:
        return {}
    spans = [(s["collecting"], s["collected"]) for s in _log_times(log).values() if len(s) == 2]
    cpu = sum(trace.cpu_at(stop) - trace.cpu_at(start) for start, stop in _merged(spans))
    return {"collect_cpu_s": round(cpu, 2), "collect_rows_per_cpu_s": round(rows / cpu) if cpu else None}


def _wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(what)


def _completed_at(db: Path) -> float | None:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute("SELECT completed_at FROM jobs LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def _start_worker(
    args: argparse.Namespace, env: dict[str, str], log: Path, label: str
) -> tuple[Child, subprocess.Popen[bytes] | None]:
    cmd = [PYTHON, "-m", "corthex", "worker"]
    if args.memray:  # the worker's allocations at its peak: `memray tree FILE`
        OUT.mkdir(exist_ok=True)
        trace = OUT / f"scale{label}-worker.memray"
        trace.unlink(missing_ok=True)
        cmd = [PYTHON, "-m", "memray", "run", "-q", "-o", str(trace), "-m", "corthex", "worker"]
    worker = Child(cmd, env, log=log)
    _wait_for(lambda: "worker w_" in log.read_text(errors="replace"), 60, "worker start")
    spy = None
    if args.profile:
        raw = OUT / f"scale{label}-worker.pyspy.txt"
        cmd = [str(PY_SPY), "record", "-r", "50", "-f", "raw", "-o", str(raw), "--pid", str(worker.pid)]
        spy_log = (OUT / f"scale{label}-worker.pyspy.log").open("w")  # e.g. ptrace refused: say why
        spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=spy_log)
        time.sleep(1.0)
    return worker, spy


def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="corthex-scale-"))
    WORKDIRS.append(tmp)
    requests = tmp / "requests.jsonl"
    write_requests(requests, args.requests)
    db = tmp / "scale.db"
    label = f"-{args.label}" if args.label else ""
    with Emulator(args.speed) as emu:
        env = {
            **os.environ,
            **sdk_env(emu.url),
            "CORTHEX_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
            "CORTHEX_DATA_DIR": str(tmp / "data"),
            "CORTHEX_POLL_INITIAL": str(args.poll_initial),
            "CORTHEX_POLL_MAX": str(args.poll_max),
            "CORTHEX_IDLE_RECHECK": str(args.idle_recheck),
            "CORTHEX_LOG_LEVEL": "INFO",
            "CORTHEX_QUEUE_MAX_REQUESTS": "1",  # a small run is flushed at once, not after queue_max_age
        }
        if args.src:
            env["PYTHONPATH"] = str(Path(args.src).resolve())
        worker_log, submit_log = tmp / "worker.log", tmp / "submit.log"
        verb = ("queue", "add") if args.via == "queue" else ("submit",)
        record_cmd = [PYTHON, "-m", "corthex", *verb, str(requests)]
        if args.profile:
            OUT.mkdir(exist_ok=True)
            raw_s = OUT / f"scale{label}-submit.pyspy.txt"
            record_cmd = [str(PY_SPY), "record", "-r", "50", "-f", "raw", "-o", str(raw_s), "--", *record_cmd]
        worker: Child | None = None
        trace: RssTrace | None = None
        if args.via == "queue":  # the worker is up first, as in a deployment
            worker, spy = _start_worker(args, env, worker_log, label)
            trace = RssTrace(worker.pid)
        started = time.time()
        submit = Child(record_cmd, env, log=submit_log)
        submitted = submit.wait(args.timeout)
        submit_s = time.time() - started
        if submitted.returncode != 0:
            if worker is not None:
                worker.interrupt()
            raise RuntimeError(f"{record_cmd[-2]} failed: {submitted.stderr[-2000:]}")
        if worker is None:  # `corthex submit` created the batches; a worker collects them
            worker, spy = _start_worker(args, env, worker_log, label)
            trace = RssTrace(worker.pid)
        completed = _wait_for(lambda: _completed_at(db), args.timeout, "job completion")
        worker.interrupt()
        worked = worker.wait(60)
        samples = trace.stop() if trace is not None else []
        if spy is not None:
            spy.wait(60)
        stats, config = emu.get("/_emulator/stats"), emu.get("/_emulator/config")
    load_avg = os.getloadavg()[0]
    result = _report(args, tmp, db, started, completed, submit_s, submitted, worked, stats, config)
    result.update(_collect_cpu(trace, worked.stderr, result["results"]), load_avg_1m=round(load_avg, 2))
    peak_at, _ = max(samples, key=lambda s: s[1], default=(started, 0.0))
    result["worker_rss_peak_at_s"] = round(peak_at - started, 2)
    result["worker_max_threads"] = trace.max_threads if trace is not None else 0
    result["worker_rss_trace"] = [(round(t - started, 2), round(mb)) for t, mb in samples[::10]]
    result["collect_spans"] = {
        b: {k: round(v - started, 2) for k, v in s.items()} for b, s in _log_times(worked.stderr).items()
    }
    return result


def _report(
    args: argparse.Namespace,
    tmp: Path,
    db: Path,
    started: float,
    completed: float,
    submit_s: float,
    submitted: Any,
    worked: Any,
    stats: dict[str, Any],
    config: dict[str, Any],
) -> dict[str, Any]:
    with sqlite3.connect(db) as conn:
        n_results, n_ok = conn.execute("SELECT count(*), sum(status = 'succeeded') FROM results").fetchone()
        batches = conn.execute("SELECT provider, model, request_count FROM batches WHERE status='collected'").fetchall()
    created = [(p, b["requests"]) for p in ("openai", "anthropic", "gemini") for b in stats[p]["batches"]]
    longest = max(processing_seconds(config, p, n) for p, n in created)
    spans = _log_times(worked.stderr)
    intervals = [(s["collecting"], s["collected"]) for s in spans.values() if len(s) == 2]
    collecting = sum(stop - start for start, stop in _merged(intervals))
    wall = completed - started
    calls = calls_made(stats)
    result = {
        "requests": args.requests,
        "via": args.via,
        "results": n_results,
        "succeeded": n_ok,
        "batches": len(batches),
        "batch_sizes": sorted(n for _, _, n in batches),
        "emulator_speed": args.speed,
        "poll_initial_s": args.poll_initial,
        "poll_max_s": args.poll_max,
        "wall_s": round(wall, 2),
        "emulator_processing_s": round(longest, 2),
        "engine_overhead_s": round(wall - longest, 2),
        "record_process_s": round(submit_s, 2),
        "peak_rss_worker_mb": worked.peak_rss_mb,
        "peak_rss_record_mb": submitted.peak_rss_mb,
        "cpu_record_s": submitted.cpu_s,
        "cpu_worker_s": worked.cpu_s,
        "collect_s": round(collecting, 2),
        "collect_rows_per_s": round(n_results / collecting) if collecting else None,
        "provider_calls_total": sum(sum(ops.values()) for ops in calls.values()),
        "provider_calls": calls,
        "profiled": args.profile or args.memray,  # slower and heavier: not the benchmark's figures
    }
    if args.keep:
        result["workdir"] = str(tmp)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--speed", type=float, default=0.1, help="emulator speed factor")
    parser.add_argument("--poll-initial", type=float, default=0.5)
    parser.add_argument("--poll-max", type=float, default=2.0)
    parser.add_argument("--idle-recheck", type=float, default=0.5)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--label", default="", help="suffix of the output file, e.g. before / after")
    parser.add_argument("--profile", action="store_true", help="sample both processes with py-spy")
    parser.add_argument(
        "--via",
        choices=("queue", "submit"),
        default="queue",
        help="queue: `corthex queue add FILE` records the job, the running worker flushes, submits and collects; "
        "submit: `corthex submit FILE` records it and creates the batches, then a worker collects",
    )
    parser.add_argument("--memray", action="store_true", help="trace the worker's allocations with memray")
    parser.add_argument("--src", help="run the engine from this source tree (PYTHONPATH), e.g. a `git archive` of HEAD")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (db, logs)")
    args = parser.parse_args()
    result = run(args)
    rows = [
        (k, v)
        for k, v in result.items()
        if k not in ("provider_calls", "batch_sizes", "worker_rss_trace", "collect_spans")
    ]
    print_table(f"scale: {args.requests} requests" + (f" ({args.label})" if args.label else ""), rows)
    for provider, ops in result["provider_calls"].items():
        print(f"  calls {provider:<10} {ops}")
    name = "scale" + (f"-{args.label}" if args.label else "")
    if args.profile:
        for proc in ("worker", "submit"):
            path = OUT / f"{name}-{proc}.pyspy.txt"
            if path.exists():
                result[f"profile_{proc}"] = analyse(path)
                show(f"py-spy {proc}", result[f"profile_{proc}"])
    print(f"\nwritten to {save(name + ('-profile' if args.profile or args.memray else ''), result)}")
    if not args.keep:
        for workdir in WORKDIRS:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
