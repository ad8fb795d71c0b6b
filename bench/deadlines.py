"""Benchmark: deadlines (issue 17). A simulated day, time compressed, on the emulator's published
turnaround presets (seeded): 20 jobs (mixed providers and models, 10 to 200 Korean requests each)
arriving over the first 12 hours, each wanted within 30 minutes to 8 hours (log-uniform). Three
arms on the same day:

- all-batch: no deadline, every request in a batch;
- deadlines: each job with its deadline and the default margin rule (a tenth of the time left),
  the engine's mover (engine/deadlines.py) cancels late batches and sends the rest on flex or
  realtime;
- all-realtime: every request realtime (the way a realtime chain step runs: engine/realtime.py).

Per arm: the share of deadlines met (a job meets its deadline when its last result is in by
then), the cost, and the cost relative to all-realtime. Then how wrong the predictor was: for
every batch of the deadlines arm, the predicted end the mover computed at its first evaluation
(submission) and at mid-life against the actual end (batches the mover canceled have no actual
end: counted apart).

Time compression: the emulator runs at `speed` = day seconds / 86,400 (batch turnaround,
validation, the rate-limit window); the deadlines, the margins and the arrival times are scaled
the same way, and so are the engine's constants in seconds that the deadline work reads (the
predictor's priors per provider, the cancel retry): the engine runs in this process, the
emulator in its own. Realtime and flex latencies are set to compressed values too.

    .venv/bin/python bench/deadlines.py [--day-seconds 150] [--seed 17]

Not a test: run it on demand (about 6 minutes). Writes bench/out/deadlines.json.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _bench import Emulator, print_table, save, sdk_env

import corthex.domain.turnaround as turnaround
import corthex.engine.deadlines as mover
from corthex.domain.events import JobSubmitted
from corthex.domain.jobs import JobStatus
from corthex.domain.pricing import batch_cost
from corthex.domain.requests import ProviderName
from corthex.domain.results import Usage
from corthex.engine.engine import Engine
from corthex.engine.intake import new_job_id, read_objects
from corthex.engine.realtime import run_realtime
from corthex.engine.submission import NewJob, submit_job
from corthex.testing import fast_settings

DAY = 86_400.0
HOUR = 3600.0
MODELS = (
    "gpt-5-mini",
    "gpt-5-nano",
    "claude-sonnet-4-6",
    "claude-haiku-4-5",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
)
TOPICS = ("배송 지연 환불 요청", "요금제 변경 문의", "앱 로그인 오류", "계약 해지 절차", "포인트 적립 누락")
ARMS = ("all-batch", "deadlines", "all-realtime")


@dataclass(frozen=True)
class PlannedJob:
    name: str
    arrival: float  #: simulated seconds after the day starts
    wanted_within: float  #: simulated seconds from arrival to its deadline
    requests: tuple[dict[str, Any], ...]


@dataclass
class ArmRun:
    arm: str
    jobs: list[dict[str, Any]] = field(default_factory=list)
    predictions: list[tuple[str, float, float, float, str]] = field(default_factory=list)
    batches: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0
    timed_out: bool = False


def plan_day(seed: int, jobs: int) -> list[PlannedJob]:
    """The day's jobs: arrivals uniform over the first 12 hours, deadlines log-uniform 30 min..8 h,
    one to three models each (providers mixed), 10 to 200 requests."""
    rng = random.Random(seed)
    planned = []
    for j in range(jobs):
        models = rng.sample(MODELS, rng.randint(1, 3))
        size = rng.randint(10, 200)
        topic = rng.choice(TOPICS)
        requests = tuple(
            {
                "custom_id": f"업무{j}-{i}",
                "model": models[i % len(models)],
                "system": "너는 고객센터 상담원이다. 한 문장으로 답하라.",
                "prompt": f"{i}번 고객의 {topic}에 답하라. 고객 번호 {j * 1000 + i}.",
                "max_output_tokens": 64,
            }
            for i in range(size)
        )
        within = math.exp(rng.uniform(math.log(0.5 * HOUR), math.log(8 * HOUR)))
        planned.append(PlannedJob(f"업무{j}", rng.uniform(0, 12 * HOUR), within, requests))
    return sorted(planned, key=lambda p: p.arrival)


class Predictions(logging.Handler):
    """The mover's DEBUG line per batch and round (engine/deadlines.py `_predicted_end`)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, float, float, float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        prediction = getattr(record, "prediction", None)
        if prediction is not None:
            self.seen.append(prediction)


def compress(speed: float) -> None:
    """The engine's deadline constants in seconds, compressed as the day is."""
    for provider, seconds in list(turnaround.PRIORS.items()):
        turnaround.PRIORS[provider] = seconds * speed
    mover.CANCEL_AGAIN_AFTER *= speed


async def submit_realtime(engine: Engine, requests: Sequence[dict[str, Any]], label: str) -> str:
    """A job whose calls go out realtime, recorded as a realtime chain step's is."""
    ctx = engine._ctx  # noqa: SLF001 - the bench stands in for a realtime caller
    intake = read_objects(list(requests), skip_invalid=False, strict_models=False)
    job_id, prefix = new_job_id()
    job = NewJob(
        job_id, "api", JobStatus.RUNNING, label, intake.total, intake.requests(), intake.chunks(prefix), realtime=True
    )
    await submit_job(ctx, job, JobSubmitted(job_id=job_id, total=intake.total, queued=False))
    return job_id


async def submit(engine: Engine, arm: str, job: PlannedJob, speed: float, calls: set[Any]) -> tuple[str, float]:
    """The job as the arm sends it: (job id, its deadline as a Unix time)."""
    now = time.time()
    deadline = now + job.wanted_within * speed
    if arm == "all-realtime":
        job_id = await submit_realtime(engine, job.requests, job.name)
        calls.add(asyncio.create_task(run_realtime(engine._ctx, job_id)))  # noqa: SLF001
        return job_id, deadline
    if arm == "deadlines":
        margin = 0.1 * (deadline - now)  # the default rule (domain/deadlines.py), its floor compressed too
        report = await engine.submit(list(job.requests), label=job.name, deadline=deadline, deadline_margin=margin)
    else:
        report = await engine.submit(list(job.requests), label=job.name)
    return report.job_id, deadline


async def run_arm(arm: str, plan: list[PlannedJob], folder: Path, speed: float, bound: float) -> ArmRun:
    run = ArmRun(arm)
    handler = Predictions()
    logging.getLogger("corthex.engine.deadlines").addHandler(handler)
    logging.getLogger("corthex.engine.deadlines").setLevel(logging.DEBUG)
    settings = fast_settings(folder, poll_initial=0.05, poll_max=0.2, idle_recheck=0.1)
    async with Engine(settings) as engine:
        calls: set[Any] = set()  # the realtime arm's sending tasks, kept alive
        stop = asyncio.Event()
        worker = asyncio.create_task(engine.run(stop))
        started = time.time()
        sent: list[tuple[PlannedJob, str, float]] = []
        for job in plan:
            await asyncio.sleep(max(started + job.arrival * speed - time.time(), 0.0))
            job_id, deadline = await submit(engine, arm, job, speed, calls)
            sent.append((job, job_id, deadline))
        last = max(deadline for _, _, deadline in sent)
        run.timed_out = not await _until_done(engine, [j for _, j, _ in sent], min(last, started + bound))
        run.wall_s = time.time() - started
        run.jobs = [await _job_row(engine, job, job_id, deadline, started, speed) for job, job_id, deadline in sent]
        run.batches = [b.to_dict() for _, job_id, _ in sent for b in await engine.batches(job_id)]
        for _, job_id, _ in sent:
            if not await engine.job_done(job_id):
                await engine.cancel(job_id)
        stop.set()
        await asyncio.wait_for(worker, 60)
    logging.getLogger("corthex.engine.deadlines").removeHandler(handler)
    run.predictions = handler.seen
    return run


async def _until_done(engine: Engine, job_ids: list[str], until: float) -> bool:
    """Wait until every job is complete or `until` (the last deadline) passes; whether all were."""
    while time.time() < until:
        if all([await engine.job_done(j) for j in job_ids]):
            return True
        await asyncio.sleep(0.1)
    return all([await engine.job_done(j) for j in job_ids])


async def _job_row(engine: Engine, job: PlannedJob, job_id: str, deadline: float, t0: float, speed: float) -> dict:
    summary = await engine.status(job_id)
    lines = [line async for line in engine.results(job_id)]
    done_at = summary.completed_at if summary.status.is_final else None
    return {
        "job": job.name,
        "job_id": job_id,
        "requests": len(job.requests),
        "models": sorted({r["model"] for r in job.requests}),
        "arrival_h": round(job.arrival / HOUR, 2),
        "wanted_within_h": round(job.wanted_within / HOUR, 2),
        "done_after_h": round((done_at - t0) / speed / HOUR - job.arrival / HOUR, 2) if done_at else None,
        "met": done_at is not None and done_at <= deadline and summary.succeeded == summary.total,
        "succeeded": summary.succeeded,
        "cost_usd": summary.cost_usd,
        "tiers": {name: {"results": t.results, "cost_usd": t.cost_usd} for name, t in summary.tiers.items()},
        "all_batch_usd": _all_batch_cost(lines),
    }


def _all_batch_cost(lines: list[dict[str, Any]]) -> float:
    """What the answered requests cost at batch rates (the emulator's usage is the same in every arm)."""
    total = 0.0
    for line in lines:
        usage = line.get("usage")
        if usage:
            known = {k: usage[k] for k in ("input_tokens", "output_tokens", "cached_tokens", "cache_write_tokens")}
            total += batch_cost(ProviderName(line["provider"]), line["model"], Usage(**known)) or 0.0
    return total


def arm_summary(run: ArmRun, realtime_cost: float | None) -> dict[str, Any]:
    cost = sum(j["cost_usd"] for j in run.jobs)
    tiers: dict[str, int] = {}
    for job in run.jobs:
        for name, t in job["tiers"].items():
            tiers[name] = tiers.get(name, 0) + t["results"]
    return {
        "arm": run.arm,
        "met": sum(j["met"] for j in run.jobs),
        "jobs": len(run.jobs),
        "cost_usd": round(cost, 4),
        "vs_realtime": round(cost / realtime_cost, 4) if realtime_cost else None,
        "results_by_tier": tiers,
        "wall_s": round(run.wall_s, 1),
        "timed_out": run.timed_out,
    }


def predictor_error(run: ArmRun, speed: float) -> dict[str, Any]:
    """Predicted end at the first evaluation and at mid-life against the actual end, in
    simulated minutes, for the batches that ended on their own."""
    by_batch: dict[str, list[tuple[str, float, float, float, str]]] = {}
    for seen in run.predictions:
        by_batch.setdefault(seen[0], []).append(seen)
    first, middle, moved = [], [], 0
    for batch in run.batches:
        seen = by_batch.get(batch["id"])
        if not seen or batch["submitted_at"] is None:
            continue
        if batch["ended_as"] != "succeeded" or batch["ended_at"] is None:
            moved += 1
            continue
        actual, created = batch["ended_at"], batch["submitted_at"]
        mid = created + (actual - created) / 2
        first.append((seen[0][3] - actual) / speed / 60)
        at_mid = min(seen, key=lambda s: abs(s[1] - mid))
        middle.append((at_mid[3] - actual) / speed / 60)
    return {
        "batches_judged": len(first),
        "batches_moved": moved,
        "at_submission": _errors(first),
        "at_mid_life": _errors(middle),
    }


def _errors(errors: list[float]) -> dict[str, Any]:
    if not errors:
        return {}
    absolute = sorted(abs(e) for e in errors)
    return {
        "median_abs_min": round(statistics.median(absolute), 1),
        "p90_abs_min": round(turnaround.quantile(absolute, 0.9), 1),
        "early_share": round(sum(e < 0 for e in errors) / len(errors), 3),  # predicted before the actual end
        "late_share": round(sum(e > 0 for e in errors) / len(errors), 3),
    }


def emulator_config(speed: float, seed: int) -> dict[str, Any]:
    """Published turnarounds, seeded; realtime ~10 s and flex ~30 s; rate limits per model in a
    compressed minute."""
    return {
        "turnaround": {"openai": "published", "anthropic": "published", "gemini": "published"},
        "seed": seed,
        "realtime_seconds": 10 * speed,
        "flex_seconds": 30 * speed,
        "rate_limits": dict.fromkeys(MODELS, 500),
        "rate_window_seconds": 60 * speed,
    }


async def main(args: argparse.Namespace) -> None:
    speed = args.day_seconds / DAY
    compress(speed)
    plan = plan_day(args.seed, args.jobs)
    runs: dict[str, ArmRun] = {}
    folder = Path(tempfile.mkdtemp(prefix="corthex-deadlines-"))
    try:
        for arm in ARMS:
            with Emulator(speed) as emu:  # a fresh emulator per arm: the same seeded draws
                emu.post("/_emulator/config", emulator_config(speed, args.seed))
                os.environ.update(sdk_env(emu.url))
                (folder / arm).mkdir()
                runs[arm] = await run_arm(arm, plan, folder / arm, speed, args.arm_timeout)
                print(f"{arm}: {runs[arm].wall_s:.0f} s, load {_uptime()}", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report(args, speed, plan, runs)


def report(args: argparse.Namespace, speed: float, plan: list[PlannedJob], runs: dict[str, ArmRun]) -> None:
    realtime = sum(j["cost_usd"] for j in runs["all-realtime"].jobs)
    arms = [arm_summary(runs[arm], realtime) for arm in ARMS]
    every_batch = sum(j["all_batch_usd"] for j in runs["all-realtime"].jobs)
    print_table(
        f"deadlines: a simulated day, {len(plan)} jobs, {sum(len(p.requests) for p in plan)} requests "
        f"(day = {args.day_seconds:g} s, speed {speed:.5f}, seed {args.seed})",
        [
            (
                a["arm"],
                f"met {a['met']}/{a['jobs']} ({a['met'] / a['jobs']:.0%}), cost ${a['cost_usd']:.4f} "
                f"({a['vs_realtime']:.0%} of all-realtime), by tier {a['results_by_tier']}, {a['wall_s']} s"
                + (" TIMED OUT" if a["timed_out"] else ""),
            )
            for a in arms
        ]
        + [("every request at batch rates", f"${every_batch:.4f} ({every_batch / realtime:.0%} of all-realtime)")],
    )
    error = predictor_error(runs["deadlines"], speed)
    print_table(
        "predictor error on the day (deadlines arm, simulated minutes; early = predicted before the actual end)",
        [
            ("batches judged / canceled by the mover", f"{error['batches_judged']} / {error['batches_moved']}"),
            ("at submission", error["at_submission"]),
            ("at mid-life", error["at_mid_life"]),
        ],
    )
    load = _uptime()
    path = save(
        "deadlines",
        {
            "day_seconds": args.day_seconds,
            "speed": speed,
            "seed": args.seed,
            "load": load,
            "arms": arms,
            "every_request_at_batch_rates_usd": round(every_batch, 4),
            "predictor": error,
            "jobs": {arm: runs[arm].jobs for arm in ARMS},
        },
    )
    print(f"\nuptime: {load}; written to {path}")


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()  # noqa: S607


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day-seconds", type=float, default=150.0, help="wall seconds a simulated day takes")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--arm-timeout", type=float, default=200.0, help="wall seconds an arm may take at most")
    asyncio.run(main(parser.parse_args()))
