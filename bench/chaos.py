"""Chaos run (issue 12, "what to report"): 5,000 requests over the three providers and 10 chains
(3 of them realtime), on PostgreSQL, worked by three `corthex worker` processes and the emulator
as its own process, with four faults at once:

- an outage during submission: OpenAI uploads answer 500, Anthropic and Gemini creates answer
  429, for OUTAGE seconds from the first failed call (then cleared);
- clock skew: one worker runs 10 minutes ahead (libfaketime, preloaded into the process);
- a full disk: one worker's data directory is a 2 MB tmpfs, filled up for DISK_FULL seconds;
- kill -9 during a realtime step: a `corthex chain --realtime` process is killed while its
  specialists' calls are out (one held by the emulator); a worker resumes the chain.

The same workload runs first without faults (the baseline); the extra calls each fault cost
are the chaos run's calls per provider and operation minus the baseline's, beside the calls
the faults answered themselves (the emulator's `triggered` counters). Nothing here asserts:
the figures, and the invariants of tests/reliability/rel_harness.py (`check_invariants`), are
printed and written to bench/out/chaos.json. Not a test: run it on demand (as root, for the
tmpfs), about two minutes:

    PYTHONPATH=src .venv/bin/python bench/chaos.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT.parent / "tests"), str(ROOT.parent / "tests" / "reliability")]

from _bench import print_table, save  # noqa: E402
from pg_cluster import PgCluster, find_bin  # noqa: E402
from rel_harness import (  # noqa: E402
    CORTHEX,
    PROVIDERS,
    EmulatorProcess,
    Worker,
    all_done,
    batch_keys,
    check_invariants,
    scalar,
    seed,
    worker_env,
)

from corthex.store.sql import SqlStore  # noqa: E402

LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
JOB_SIZE = 1000  #: requests per job; requests_for spreads each job over the three providers
JOBS = [JOB_SIZE] * 5  #: 5,000 requests (--requests changes it)
BATCH_CHAINS = [
    "Analyse Samsung Electronics' stock outlook for next quarter",
    "Please look into the quarterly numbers",
    "특허 출원 전략 검토해줘",
    "전체 부서 현황 보고 부탁합니다",
    "Review our marketing plan for the Korean market",
    "신규 채용 계획을 세워줘",
    "Estimate the cloud costs of the new backend",
]
KILLED_CHAIN = "Plan the launch of our new mobile app backend"  #: the CTO and four specialists
REALTIME_CHAINS = ["삼성전자 주가 전망을 분석해줘", "Draft a security review of our login flow"]
HELD_PROVIDER = "openai"  #: the backend specialist's call, held while the chain is killed
OUTAGE = 15.0  #: seconds the submission outage lasts, from the first failed call
OUTAGE_FAULTS = [("openai", "upload", 500), ("anthropic", "create", 429), ("gemini", "create", 429)]
DISK_FULL = 20.0  #: seconds the tmpfs data directory stays full
TMPFS_SIZE = "2m"
DEADLINE = 150.0  #: seconds a run may take before it is reported as a hang

#: patience shrunk to seconds: failures in a row must span 60 s (four times the outage) before
#: a batch is given up; short leases, so a dead process's work is taken over soon
SETTINGS = {
    "CORTHEX_POLL_UNREACHABLE_MINUTES": "1.0",
    "CORTHEX_SUBMIT_MAX_FAILURES": "3",
    "CORTHEX_SUBMIT_BACKOFF": "0.25",
    "CORTHEX_CREATION_WINDOW": "10",
    "CORTHEX_PROVIDER_TIMEOUT": "30",  # the held realtime call stays out until the kill
    "CORTHEX_RESULT_CHUNK": "500",
    # the harness's 1 s lease is shorter than the stalls of a loaded 2-core machine: a live
    # `corthex chain --realtime` process then loses its chain to a worker, which sends the calls
    # still out again (seen in the baseline of a trial run); 3 s keeps the faults' costs apart
    "CORTHEX_LEASE_SECONDS": "3.0",
}


@dataclass
class Run:
    """One run's processes and files."""

    name: str
    url: str
    workdir: Path
    emulator: EmulatorProcess
    chaos: bool
    workers: list[Worker] = field(default_factory=list)
    chains: list[subprocess.Popen[bytes]] = field(default_factory=list)
    events: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def env(self, **extra: str) -> dict[str, str]:
        return worker_env(self.emulator, self.url, self.workdir, **SETTINGS, **extra)

    def mark(self, event: str) -> None:
        self.events[event] = round(time.monotonic() - self.started, 2)
        print(f"  [{self.name} {self.events[event]:6.2f}s] {event}", flush=True)


# --- the faults ---------------------------------------------------------------------------------


class TinyDisk:
    """A small tmpfs for one worker's data directory, filled up on demand; None if not root."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(path)], check=False)
        self.mounted = done.returncode == 0
        self.filler = path / "filler"

    def fill(self) -> int:
        """Write until ENOSPC; the bytes written."""
        written = 0
        with self.filler.open("wb") as out:
            try:
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
                    written += 65536
            except OSError:
                pass
        return written

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def unmount(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], check=False)


def start_chain(run: Run, command: str, tag: str) -> subprocess.Popen[bytes]:
    """`corthex chain --realtime` runs the whole chain in its own process."""
    with (run.workdir / f"chain-{tag}.log").open("ab") as out:
        proc = subprocess.Popen([*CORTHEX, "chain", "--realtime", command], env=run.env(), stdout=out, stderr=out)
    run.chains.append(proc)
    return proc


def realtime_calls(stats: dict[str, Any]) -> int:
    return sum(int(stats[p]["calls"].get("realtime", 0)) for p in PROVIDERS)


async def kill_realtime_chain(run: Run) -> dict[str, Any]:
    """Start the killed chain with one specialist call held; kill -9 it once the specialists'
    calls are out and the others have been answered."""
    run.emulator.add_fault(provider=HELD_PROVIDER, op="realtime", kind="slow", delay=8, times=1)
    proc = start_chain(run, KILLED_CHAIN, "killed")
    deadline = time.monotonic() + 60
    while True:
        stats = run.emulator.stats()
        if stats["faults"]["triggered"].get(f"{HELD_PROVIDER}:slow", 0) == 1 and realtime_calls(stats) >= 5:
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            return {"killed": False, "why": f"chain process exited {proc.poll()} before its calls were out"}
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # the answered calls are written meanwhile
    proc.kill()
    proc.wait(10)
    run.mark("kill -9 the realtime chain")
    return {"killed": True, "realtime_calls_at_kill": realtime_calls(run.emulator.stats())}


def outage_met(run: Run) -> bool:
    triggered = run.emulator.stats()["faults"]["triggered"]
    return any(triggered.get(f"{provider}:http") for provider, _, _ in OUTAGE_FAULTS)


async def outage(run: Run) -> None:
    """Submission answers 429/500 from now until OUTAGE seconds after the first failed call."""
    for provider, op, status in OUTAGE_FAULTS:
        run.emulator.add_fault(provider=provider, op=op, kind="http", status=status)
    run.mark("outage on")
    while not outage_met(run):  # noqa: ASYNC110 - the emulator has no event for it
        await asyncio.sleep(0.05)
    run.mark("first failed submission call")
    await asyncio.sleep(OUTAGE)
    run.emulator.clear_faults()  # the held realtime fault was used up long before
    run.mark("outage cleared")


async def full_disk(run: Run, disk: TinyDisk) -> None:
    await asyncio.sleep(DISK_FULL)
    disk.free()
    run.mark("disk has room again")


# --- a run --------------------------------------------------------------------------------------


async def start_workers(run: Run, disk: TinyDisk | None) -> None:
    skewed = {"LD_PRELOAD": LIBFAKETIME, "FAKETIME": "+10m"} if run.chaos else {}
    data = {"CORTHEX_DATA_DIR": str(disk.path)} if disk is not None and disk.mounted else {}
    run.workers = [
        Worker(run.env(), run.workdir / "worker-a.log").start(),
        Worker(run.env(**skewed), run.workdir / "worker-b-skewed.log").start(),
        Worker(run.env(**data), run.workdir / "worker-c-disk.log").start(),
    ]
    for worker in run.workers:
        await worker.ready(60)
    run.mark("three workers ready")


async def finished(run: Run, store: SqlStore) -> bool:
    return all(p.poll() is not None for p in run.chains) and await all_done(store)


async def wait_for_the_end(run: Run, store: SqlStore) -> bool:
    deadline = run.started + DEADLINE
    while not await finished(run, store):
        if time.monotonic() > deadline:
            run.mark("DEADLINE passed: reported as a hang")
            return False
        await asyncio.sleep(0.25)
    run.mark("all done")
    return True


async def run_workload(run: Run) -> dict[str, Any]:
    disk = TinyDisk(run.workdir / "tiny") if run.chaos else None
    tasks: list[asyncio.Task[None]] = []
    facts: dict[str, Any] = {}
    try:
        await seed(run.url, run.workdir, jobs=JOBS, chains=BATCH_CHAINS)
        run.mark(f"seeded {sum(JOBS)} requests and {len(BATCH_CHAINS)} batch chains")
        if disk is not None and disk.mounted:
            facts["disk_filled_bytes"] = disk.fill()
            tasks.append(asyncio.create_task(full_disk(run, disk)))
        if run.chaos:
            tasks.append(asyncio.create_task(outage(run)))
        await start_workers(run, disk)
        if run.chaos:
            facts["kill"] = await kill_realtime_chain(run)
        else:
            start_chain(run, KILLED_CHAIN, "killed")
        for n, command in enumerate(REALTIME_CHAINS):
            start_chain(run, command, f"rt{n}")
        facts.update(await collect(run, tasks))
    finally:
        for task in tasks:
            task.cancel()
        stop_all(run)
        if disk is not None:
            disk.unmount()
    facts["disk_mounted"] = bool(disk and disk.mounted)
    return facts


async def collect(run: Run, tasks: list[asyncio.Task[None]]) -> dict[str, Any]:
    store = await SqlStore.open(run.url)
    try:
        ended = await wait_for_the_end(run, store)
        await asyncio.gather(*tasks, return_exceptions=True)
        exits = [await stop_worker(w) for w in run.workers]
        stats = run.emulator.stats()
        figures = await measure(store, stats)
        figures.update(ended=ended, seconds=round(time.monotonic() - run.started, 1), worker_exits=exits)
        figures["invariants"] = await invariants(store, stats, run.workdir / "archive")
        logs = [w.log for w in run.workers] + sorted(run.workdir.glob("chain-*.log"))
        figures["logs"] = {log.name: log_facts(log.read_text(errors="replace")) for log in logs}
        figures["calls"] = {p: stats[p]["calls"] for p in PROVIDERS}
        figures["triggered"] = stats["faults"]["triggered"]
        return figures
    finally:
        await store.close()


async def stop_worker(worker: Worker) -> int | str | None:
    """SIGTERM; the exit code, or what went wrong (a worker that does not stop is a finding)."""
    if not worker.alive():
        return worker.proc.returncode if worker.proc else None
    try:
        return await worker.stop(30)
    except AssertionError as exc:
        return f"did not stop on SIGTERM: {str(exc)[:300]}"


def stop_all(run: Run) -> None:
    for proc in run.chains:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    for worker in run.workers:
        worker.kill()


async def invariants(store: SqlStore, stats: dict[str, Any], archive: Path) -> str:
    try:
        await check_invariants(store, stats, archive)
    except AssertionError as exc:
        return f"BROKEN: {exc}"
    return "held"


def log_facts(text: str) -> dict[str, int]:
    lines = text.splitlines()
    return {
        "lines": len(lines),
        "tracebacks": sum("Traceback" in line for line in lines),
        "storage_backoffs": sum("local storage failing" in line for line in lines),
        "clock_ahead_lines": sum("ahead of the database" in line for line in lines),
        "leases_lost": sum("no longer held by" in line for line in lines),
        "creations_unconfirmed": sum("creation unconfirmed" in line for line in lines),
        "no_space_lines": sum("No space left on device" in line for line in lines),
    }


async def measure(store: SqlStore, stats: dict[str, Any]) -> dict[str, Any]:
    keys = batch_keys(stats)
    created = {p: stats[p]["batches_created"] for p in PROVIDERS}
    twice = {p: {k: n for k, n in Counter(found).items() if n > 1} for p, found in keys.items()}
    q = {
        "requests": "SELECT count(*) FROM requests",
        "results": "SELECT count(*) FROM results",
        "results_not_succeeded": "SELECT count(*) FROM results WHERE status <> 'succeeded'",
        "requests_with_two_results": "SELECT count(*) FROM (SELECT 1 FROM results GROUP BY job_id, custom_id "
        "HAVING count(*) > 1) d",
        "requests_sent_again": "SELECT count(*) FROM requests WHERE attempts > 1",
        "batches_recorded": "SELECT count(*) FROM batches WHERE remote IS NOT NULL",
        "batch_rows": "SELECT count(*) FROM batches",
        "empty_batch_rows": "SELECT count(*) FROM batches WHERE request_count = 0",
        "realtime_results": "SELECT count(*) FROM results WHERE batch_id LIKE 'rt_%'",
        "chains": "SELECT count(*) FROM chains",
        "chains_completed": "SELECT count(*) FROM chains WHERE status = 'completed'",
        "deliveries": "SELECT count(*) FROM deliveries WHERE sink = 'archive' AND delivered_at IS NOT NULL",
        "deliveries_doubled": "SELECT count(*) FROM (SELECT 1 FROM deliveries GROUP BY chain_id, sink "
        "HAVING count(*) > 1) d",
    }
    figures = {name: await scalar(store, sql) for name, sql in q.items()}
    figures.update(
        batches_created=sum(created.values()),
        batches_created_by_provider=created,
        keys_created_twice=sum(len(t) for t in twice.values()),
        keys_created_twice_detail={p: t for p, t in twice.items() if t},
        realtime_calls=realtime_calls(stats),
    )
    return figures


# --- the report ---------------------------------------------------------------------------------


def extra_calls(base: dict[str, Any], chaos: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Chaos calls minus baseline calls, per provider and operation (nonzero only)."""
    extra: dict[str, dict[str, int]] = {}
    for provider in PROVIDERS:
        ops = set(base["calls"][provider]) | set(chaos["calls"][provider])
        diff = {op: chaos["calls"][provider].get(op, 0) - base["calls"][provider].get(op, 0) for op in sorted(ops)}
        extra[provider] = {op: n for op, n in diff.items() if n}
    return extra


def fault_costs(base: dict[str, Any], chaos: dict[str, Any]) -> dict[str, Any]:
    """What each fault cost, in the calls that tell it apart."""
    extra = extra_calls(base, chaos)
    trig = chaos["triggered"]
    disk_log = chaos["logs"].get("worker-c-disk.log", {})
    skew_log = chaos["logs"].get("worker-b-skewed.log", {})
    return {
        "outage: failed calls answered by the fault": {p: trig.get(f"{p}:http", 0) for p, _, _ in OUTAGE_FAULTS},
        "outage: extra upload/create calls vs baseline": {
            p: {op: n for op, n in extra[p].items() if op in ("upload", "create")} for p in PROVIDERS
        },
        "kill -9 realtime: extra realtime calls vs baseline": chaos["realtime_calls"] - base["realtime_calls"],
        "kill -9 realtime: realtime calls minus realtime answers": chaos["realtime_calls"] - chaos["realtime_results"],
        "clock skew: cancel calls": sum(chaos["calls"][p].get("cancel", 0) for p in PROVIDERS),
        "clock skew: keys created twice": chaos["keys_created_twice"],
        "clock skew: 'ahead of the database' log lines": skew_log.get("clock_ahead_lines", 0),
        "full disk: extra results downloads vs baseline": {p: extra[p].get("results", 0) for p in PROVIDERS},
        "full disk: storage backoff log lines": disk_log.get("storage_backoffs", 0),
        "all extra calls vs baseline": extra,
    }


ROWS = [
    "ended",
    "seconds",
    "requests",
    "results",
    "results_not_succeeded",
    "requests_with_two_results",
    "requests_sent_again",
    "batches_created",
    "batches_recorded",
    "keys_created_twice",
    "empty_batch_rows",
    "chains",
    "chains_completed",
    "deliveries",
    "deliveries_doubled",
    "realtime_calls",
    "realtime_results",
    "invariants",
]


def report(base: dict[str, Any], chaos: dict[str, Any]) -> None:
    rows = [(name, f"{base.get(name)!s:>10}  {chaos.get(name)!s}") for name in ROWS]
    print_table("figure: baseline, chaos", rows)
    print_table("what each fault cost", [(k, v) for k, v in fault_costs(base, chaos).items()])
    print_table("worker logs (chaos)", list(chaos["logs"].items()))
    print_table("events (chaos, seconds from start)", list(chaos["events"].items()))


async def one_run(cluster: PgCluster, emulator: EmulatorProcess, tmp: Path, *, chaos: bool) -> dict[str, Any]:
    name = "chaos" if chaos else "baseline"
    workdir = tmp / name
    workdir.mkdir()
    emulator.reset()
    run = Run(name, cluster.create_database(), workdir, emulator, chaos)
    run.mark("start")
    facts = await run_workload(run)
    facts["events"] = run.events
    return facts


async def main(keep: bool, speed: float) -> None:
    bin_dir = find_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed (scripts/system-deps.sh)")
    tmp = Path(tempfile.mkdtemp(prefix="corthex-chaos-"))
    os.chmod(tmp, 0o755)
    cluster = PgCluster.start(bin_dir)
    emulator = EmulatorProcess(tmp / "emulator.log", speed=speed)
    try:
        base = await one_run(cluster, emulator, tmp, chaos=False)
        chaos = await one_run(cluster, emulator, tmp, chaos=True)
    finally:
        emulator.stop()
        cluster.stop()
    report(base, chaos)
    out = {
        "workload": {"requests": sum(JOBS), "chains": len(BATCH_CHAINS) + 1 + len(REALTIME_CHAINS), "speed": speed},
        "faults": {
            "outage_seconds": OUTAGE,
            "outage": OUTAGE_FAULTS,
            "disk_full_seconds": DISK_FULL,
            "tmpfs": TMPFS_SIZE,
            "clock_skew": "+10m",
            "settings": SETTINGS,
        },
        "baseline": base,
        "chaos": chaos,
        "fault_costs": fault_costs(base, chaos),
        "logs_dir": str(tmp) if keep else None,
    }
    print(f"\nwrote {save('chaos', out)}")
    if keep:
        print(f"logs kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=sum(JOBS), help="requests, in jobs of 1,000")
    parser.add_argument("--keep", action="store_true", help="keep the logs and work directories")
    parser.add_argument("--speed", type=float, default=0.2, help="the emulator's speed (processing time factor)")
    args = parser.parse_args()
    JOBS[:] = [JOB_SIZE] * (args.requests // JOB_SIZE) + (
        [args.requests % JOB_SIZE] if args.requests % JOB_SIZE else []
    )
    asyncio.run(main(args.keep, args.speed))
