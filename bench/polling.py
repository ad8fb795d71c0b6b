"""Benchmark: 1,000 open batches polled by the engine: status calls per batch per interval, CPU
time of the poller per minute, and the concurrency bound.

    .venv/bin/python bench/polling.py [--batches 1000] [--interval 5] [--window 60]

The emulator runs in its own process with the `never_end` fault on every create, so every batch
stays open. The engine runs in this process (so that its CPU time is measured alone and its
provider calls can be counted as they happen): 1,000 one-request jobs' worth of requests are
planned one request per batch (the provider limits are lowered to 1 request in this process
only), created, then the worker loop (`Engine.run`) polls them for a warm-up interval and a
measured window. The poll interval is fixed (`poll_initial = poll_max = --interval`) so that
"one interval" is one number.

- status calls per batch per interval: for each batch, its status calls in the window divided by
  the intervals in the window (at most 1 for every batch; the max is printed), and the shortest
  gap between two status calls of one batch, in intervals (at least ~1);
- poller CPU per minute: the process's CPU time (all threads: event loop, SQLite, file I/O)
  over the window, scaled to 60 s;
- status calls: retrieves (one per batch) and list reads (`poll_many`: one list call per page for
  a provider's due batches, issue 18), counted in this process and, as calls on the wire
  (`retrieve`, `list`), by the emulator; both per minute;
- concurrency: most status calls in flight at once, per provider and in total, counted around
  each call (the bound is `provider_concurrency` per provider), and the emulator's own count
  of status calls in the window, as a cross-check.

Writes bench/out/polling.json. Not a test: run it on demand.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import dataclasses
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import SCALE_MODELS, Emulator, print_table, save, sdk_env  # noqa: E402


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _main_thread_cpu() -> float:
    """CPU seconds of the event loop's thread alone (the rest is SQLite's and file I/O threads)."""
    fields = Path(f"/proc/self/task/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CallCounter:
    """Wraps each provider's `poll` and `poll_many` (a list call per page, issue 18): when each
    batch's status was read, how many list calls were made, and how many calls were in flight."""

    def __init__(self) -> None:
        self.calls: dict[str, list[float]] = defaultdict(list)
        self.retrieves = 0
        self.list_reads = 0  #: `poll_many` calls (each one list call or more: pages)
        self.in_flight: dict[str, int] = defaultdict(int)
        self.max_in_flight: dict[str, int] = defaultdict(int)
        self.total_in_flight = self.max_total = 0
        self.recording = False

    def wrap(self, name: str, provider: Any) -> None:
        original = provider.poll

        async def poll(ref: Any) -> Any:
            self.in_flight[name] += 1
            self.total_in_flight += 1
            self.max_in_flight[name] = max(self.max_in_flight[name], self.in_flight[name])
            self.max_total = max(self.max_total, self.total_in_flight)
            if self.recording:
                self.calls[ref.remote_id].append(time.monotonic())
                self.retrieves += 1
            try:
                return await original(ref)
            finally:
                self.in_flight[name] -= 1
                self.total_in_flight -= 1

        provider.poll = poll
        if getattr(provider, "lists_statuses", False):  # main before issue 18 has no poll_many
            self._wrap_many(name, provider)

    def _wrap_many(self, name: str, provider: Any) -> None:
        original = provider.poll_many

        async def poll_many(refs: Any, since: Any) -> Any:
            self.in_flight[name] += 1
            self.total_in_flight += 1
            self.max_in_flight[name] = max(self.max_in_flight[name], self.in_flight[name])
            self.max_total = max(self.max_total, self.total_in_flight)
            try:
                found = await original(refs, since)
            finally:
                self.in_flight[name] -= 1
                self.total_in_flight -= 1
            if self.recording:
                self.list_reads += 1
                now = time.monotonic()
                for remote_id in found:
                    self.calls[remote_id].append(now)
            return found

        provider.poll_many = poll_many


PROVIDERS = ("openai", "anthropic", "gemini")  #: the providers of SCALE_MODELS


def _status_calls(stats: dict[str, Any], op: str = "retrieve") -> int:
    return sum(stats[p]["calls"].get(op, 0) for p in PROVIDERS)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from corthex import Engine, Settings
    from corthex.domain.limits import LIMITS
    from corthex.domain.requests import ProviderName
    from corthex.engine.dispatch import dispatch_once

    tmp = Path(tempfile.mkdtemp(prefix="corthex-polling-"))
    atexit.register(shutil.rmtree, tmp, True)  # the work directory goes with the run
    with Emulator(speed=1.0) as emu:
        emu.post("/_emulator/faults", {"provider": "*", "op": "create", "kind": "never_end"})
        os.environ.update(sdk_env(emu.url))
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp}/polling.db",
            data_dir=tmp / "data",
            poll_initial=args.interval,
            poll_max=args.interval,
            idle_recheck=args.interval,
            provider_concurrency=args.concurrency,
        )
        async with Engine(settings) as engine:
            for name in PROVIDERS:  # one request per batch, on this engine's adapters only (the
                # engine loads the profiles afresh when it starts: a LIMITS entry set before is lost)
                provider = engine._ctx.provider(name)
                provider.limits = dataclasses.replace(LIMITS[ProviderName(name)], max_requests=1)
            lines = [
                {"custom_id": f"p-{i}", "model": SCALE_MODELS[i % len(SCALE_MODELS)], "prompt": f"question {i}"}
                for i in range(args.batches)
            ]
            await engine.submit(lines)
            started = time.monotonic()
            created = 0
            while created < args.batches:
                made = await dispatch_once(engine._ctx)
                if made == 0:
                    break
                created += made
            create_s = time.monotonic() - started
            counter = CallCounter()
            for name in PROVIDERS:
                counter.wrap(name, engine._ctx.provider(name))
            stop = asyncio.Event()
            worker = asyncio.ensure_future(engine.run(stop))
            await asyncio.sleep(args.interval * 1.5)  # every batch has had its first poll scheduled
            counter.recording = True
            stats = emu.get("/_emulator/stats")
            calls_before, lists_before = _status_calls(stats), _status_calls(stats, "list")
            cpu_before, loop_before, window_start = _cpu(), _main_thread_cpu(), time.monotonic()
            await asyncio.sleep(args.window)
            cpu_after, loop_after, window_end = _cpu(), _main_thread_cpu(), time.monotonic()
            counter.recording = False
            stats = emu.get("/_emulator/stats")
            calls_after, lists_after = _status_calls(stats), _status_calls(stats, "list")
            stop.set()
            engine._ctx.wake.set()
            await worker
            open_batches = len([b for b in await engine._store.list_batches(limit=100_000) if b.status.is_open])
    window = window_end - window_start
    result = _report(
        args, counter, created, create_s, open_batches, window, cpu_after - cpu_before, calls_after - calls_before
    )
    result["event_loop_cpu_s_per_minute"] = round((loop_after - loop_before) * 60 / window, 1)
    result["emulator_list_calls_in_window"] = lists_after - lists_before
    result["emulator_status_and_list_calls_per_minute"] = round(
        (calls_after - calls_before + lists_after - lists_before) * 60 / window, 1
    )
    result["load_average_1m"] = round(os.getloadavg()[0], 2)
    return result


def _report(
    args: argparse.Namespace,
    counter: CallCounter,
    created: int,
    create_s: float,
    open_batches: int,
    window: float,
    cpu: float,
    emulator_calls: int,
) -> dict[str, Any]:
    intervals = window / args.interval
    per_batch = [len(times) / intervals for times in counter.calls.values()]
    gaps = [b - a for times in counter.calls.values() for a, b in zip(times, times[1:], strict=False)]
    return {
        "batches_created": created,
        "create_s": round(create_s, 1),
        "open_batches": open_batches,
        "interval_s": args.interval,
        "window_s": round(window, 1),
        "batches_polled_in_window": len(counter.calls),
        "statuses_read_in_window": sum(len(t) for t in counter.calls.values()),
        "retrieves_in_window": counter.retrieves,
        "list_reads_in_window": counter.list_reads,
        "emulator_status_calls_in_window": emulator_calls,
        "max_calls_per_batch_per_interval": round(max(per_batch, default=0.0), 2),
        # over every open batch: one never polled counts as 0 (starvation would show)
        "mean_calls_per_batch_per_interval": round(sum(per_batch) / open_batches, 2) if open_batches else 0.0,
        "min_gap_between_polls_of_a_batch_intervals": round(min(gaps) / args.interval, 2) if gaps else None,
        "poller_cpu_s_in_window": round(cpu, 2),
        "poller_cpu_s_per_minute": round(cpu * 60 / window, 1),
        "provider_concurrency_setting": args.concurrency,
        "max_in_flight_per_provider": dict(counter.max_in_flight),
        "max_in_flight_total": counter.max_total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=5.0, help="poll interval (fixed), seconds")
    parser.add_argument("--window", type=float, default=60.0, help="measured window, seconds")
    parser.add_argument("--concurrency", type=int, default=8, help="provider_concurrency")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print_table(f"polling: {args.batches} open batches", list(result.items()))
    name = "polling" + (f"-{args.label}" if args.label else "")
    print(f"\nwritten to {save(name, result)}")


if __name__ == "__main__":
    main()
