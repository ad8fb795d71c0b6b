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

    .venv/bin/python bench/deadlines.py [--day-seconds 200] [--seed 17]

Not a test: run it on demand (about 7 minutes: each arm bounded by --arm-timeout). Writes bench/out/deadlines.json.
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

import corthex.domain.chain_deadlines as chain_deadlines
import corthex.domain.deadlines as deadline_rules
import corthex.domain.turnaround as turnaround
import corthex.engine.deadlines as mover
from corthex.demo import SAMPLE_MODELS
from corthex.domain.chain import ChainStatus
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
MODELS = SAMPLE_MODELS  # two of each provider, as the demo's sample job
TOPICS = ("배송 지연 환불 요청", "요금제 변경 문의", "앱 로그인 오류", "계약 해지 절차", "포인트 적립 누락")
ARMS = ("all-batch", "deadlines", "all-realtime")
COMMANDS = (
    "신제품 출시 마케팅 계획을 세워라",
    "서버 인프라 비용을 줄이는 방안을 보고하라",
    "새 공급 계약서의 법률 위험을 검토하라",
    "다음 분기 투자 포트폴리오를 분석하라",
    "모바일 앱 로그인 오류의 원인을 찾아라",
    "경쟁사 가격 정책을 조사하라",
)


@dataclass(frozen=True)
class PlannedJob:
    name: str
    arrival: float  #: simulated seconds after the day starts
    wanted_within: float  #: simulated seconds from arrival to its deadline
    requests: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Day:
    jobs: list[PlannedJob]
    chains: list[PlannedChain]


@dataclass
class ArmRun:
    arm: str
    jobs: list[dict[str, Any]] = field(default_factory=list)
    chains: list[dict[str, Any]] = field(default_factory=list)
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


@dataclass(frozen=True)
class PlannedChain:
    name: str
    arrival: float
    wanted_within: float
    command: str


def plan_chains(seed: int, chains: int) -> list[PlannedChain]:
    """The day's chains: as the jobs (arrivals over 12 hours, deadlines 30 min..8 h), a command each."""
    rng = random.Random(seed + 1)
    planned = [
        PlannedChain(
            f"지시{c}",
            rng.uniform(0, 12 * HOUR),
            math.exp(rng.uniform(math.log(0.5 * HOUR), math.log(8 * HOUR))),
            rng.choice(COMMANDS),
        )
        for c in range(chains)
    ]
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
    deadline_rules.FAST_CALL_SECONDS *= speed
    # the least time a move takes is mostly the engine's own rounds (cancel, collect, requeue,
    # send), which run in wall seconds, not compressed ones: at least a second here
    deadline_rules.FAST_FLOOR_SECONDS = max(deadline_rules.FAST_FLOOR_SECONDS * speed, 1.0)
    chain_deadlines.REALTIME_STEP_SECONDS *= speed


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


async def start_chain(engine: Engine, arm: str, chain: PlannedChain, speed: float) -> tuple[str, float]:
    """The chain as the arm starts it: (chain id, its deadline as a Unix time)."""
    now = time.time()
    deadline = now + chain.wanted_within * speed
    if arm == "all-realtime":
        row = await engine.start_chain(chain.command, realtime=True)
    elif arm == "deadlines":
        row = await engine.start_chain(chain.command, deadline=deadline, deadline_margin=0.1 * (deadline - now))
    else:
        row = await engine.start_chain(chain.command)
    return row.id, deadline


async def run_arm(arm: str, day: Day, folder: Path, speed: float, bound: float) -> ArmRun:
    run = ArmRun(arm)
    handler = Predictions()
    logger = logging.getLogger("corthex.engine.deadlines")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    settings = fast_settings(folder, poll_initial=0.05, poll_max=0.2, idle_recheck=0.1)
    async with Engine(settings) as engine:
        stop = asyncio.Event()
        worker = asyncio.create_task(engine.run(stop))
        started = time.time()
        jobs, chains = await _send_day(engine, arm, day, speed, started)
        last = max(deadline for _, _, deadline in [*jobs, *chains])
        run.timed_out = not await _until_done(engine, jobs, chains, min(last, started + bound))
        run.wall_s = time.time() - started
        run.jobs = [await _job_row(engine, job, job_id, deadline, started, speed) for job, job_id, deadline in jobs]
        run.chains = [
            await _chain_row(engine, c, chain_id, deadline, started, speed) for c, chain_id, deadline in chains
        ]
        run.batches = [b.to_dict() for b in await engine.batches(limit=5000)]  # the jobs' and the chain steps'
        await _stop_all(engine, jobs, chains)
        stop.set()
        await asyncio.wait_for(worker, 60)
    logger.removeHandler(handler)
    run.predictions = handler.seen
    return run


async def _send_day(engine: Engine, arm: str, day: Day, speed: float, started: float) -> tuple[list[Any], list[Any]]:
    """Each job and chain at its arrival time; starting a chain (its first step may run
    realtime) does not hold up the ones after it."""
    jobs: list[tuple[PlannedJob, str, float]] = []
    starts: list[tuple[PlannedChain, asyncio.Task[tuple[str, float]]]] = []
    calls: set[Any] = set()  # the realtime arm's sending tasks, kept alive
    for item in sorted([*day.jobs, *day.chains], key=lambda x: x.arrival):
        await asyncio.sleep(max(started + item.arrival * speed - time.time(), 0.0))
        if isinstance(item, PlannedJob):
            job_id, deadline = await submit(engine, arm, item, speed, calls)
            jobs.append((item, job_id, deadline))
        else:
            starts.append((item, asyncio.create_task(start_chain(engine, arm, item, speed))))
    chains = [(c, *(await task)) for c, task in starts]
    return jobs, chains


async def _until_done(engine: Engine, jobs: list[Any], chains: list[Any], until: float) -> bool:
    """Wait until every job and chain is done or `until` (the last deadline) passes; whether all were."""

    async def all_done() -> bool:
        done = [await engine.job_done(job_id) for _, job_id, _ in jobs]
        done += [(await engine.chain(chain_id)).status is not ChainStatus.RUNNING for _, chain_id, _ in chains]
        return all(done)

    while time.time() < until:
        if await all_done():
            return True
        await asyncio.sleep(0.1)
    return await all_done()


async def _stop_all(engine: Engine, jobs: list[Any], chains: list[Any]) -> None:
    for _, chain_id, _ in chains:
        if (await engine.chain(chain_id)).status is ChainStatus.RUNNING:
            await engine.cancel_chain(chain_id)
    for _, job_id, _ in jobs:
        if not await engine.job_done(job_id):
            await engine.cancel(job_id)


async def _chain_row(
    engine: Engine, chain: PlannedChain, chain_id: str, deadline: float, t0: float, speed: float
) -> dict:
    row = await engine.chain(chain_id)
    cost, realtime_cost = await engine.chain_cost(chain_id)
    steps = []
    for step in await engine.chain_steps(chain_id):
        summary = await engine.status(step.job_id) if step.job_id else None
        steps.append(
            {
                "step": step.step.value,
                "realtime": step.realtime,
                "requests": summary.total if summary else 0,
                "tiers": {n: t.results for n, t in summary.tiers.items()} if summary else {},
                "cost_usd": summary.cost_usd if summary else 0.0,
            }
        )
    done_at = row.completed_at if row.status is ChainStatus.COMPLETED else None
    return {
        "chain": chain.name,
        "chain_id": chain_id,
        "command": chain.command,
        "arrival_h": round(chain.arrival / HOUR, 2),
        "wanted_within_h": round(chain.wanted_within / HOUR, 2),
        "done_after_h": round((done_at - t0) / speed / HOUR - chain.arrival / HOUR, 2) if done_at else None,
        "met": done_at is not None and done_at <= deadline,
        "status": row.status.value,
        "cost_usd": cost,
        "realtime_cost_usd": realtime_cost,
        "steps": steps,
    }


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
    cost = sum(j["cost_usd"] for j in [*run.jobs, *run.chains])
    tiers: dict[str, int] = {}
    for job in run.jobs:
        for name, t in job["tiers"].items():
            tiers[name] = tiers.get(name, 0) + t["results"]
    return {
        "arm": run.arm,
        "jobs_met": sum(j["met"] for j in run.jobs),
        "jobs": len(run.jobs),
        "chains_met": sum(c["met"] for c in run.chains),
        "chains": len(run.chains),
        "met": sum(x["met"] for x in [*run.jobs, *run.chains]),
        "of": len(run.jobs) + len(run.chains),
        "jobs_cost_usd": round(sum(j["cost_usd"] for j in run.jobs), 4),
        "chains_cost_usd": round(sum(c["cost_usd"] for c in run.chains), 4),
        "cost_usd": round(cost, 4),
        "vs_realtime": round(cost / realtime_cost, 4) if realtime_cost else None,
        "job_results_by_tier": tiers,
        "wall_s": round(run.wall_s, 1),
        "unfinished_at_last_deadline": run.timed_out,
    }


def predictor_error(run: ArmRun, speed: float) -> dict[str, Any]:
    """Predicted end at the first evaluation and at mid-life against the actual end, in
    simulated minutes, for the batches (of jobs and of chain steps) that ended on their own."""
    by_batch: dict[str, list[tuple[str, float, float, float, str]]] = {}
    for seen in run.predictions:
        by_batch.setdefault(seen[0], []).append(seen)
    first: dict[str, list[float]] = {}
    middle, moved, rows = [], 0, []
    for batch in run.batches:
        seen = by_batch.get(batch["id"])
        if not seen or batch["submitted_at"] is None:
            continue
        if batch["ended_as"] not in (None, "succeeded") or batch["ended_at"] is None:
            moved += 1  # canceled by the mover (or still open when the arm ended): no actual end
            continue
        actual, created = batch["ended_at"], batch["submitted_at"]
        mid = created + (actual - created) / 2
        error = (seen[0][3] - actual) / speed / 60
        first.setdefault(seen[0][4], []).append(error)
        middle.append((min(seen, key=lambda s: abs(s[1] - mid))[3] - actual) / speed / 60)
        rows.append((batch["provider"], batch["model"], batch["request_count"], seen[0][4], round(error, 1)))
    return {
        "batches_judged": len(middle),
        "batches_moved": moved,
        "at_submission": _errors([e for errors in first.values() for e in errors]),
        "at_submission_by_basis": {basis: _errors(errors) for basis, errors in sorted(first.items())},
        "at_mid_life": _errors(middle),
        "first_predictions": rows,  # (provider, model, size, basis, error in simulated minutes)
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
    day = Day(plan_day(args.seed, args.jobs), plan_chains(args.seed, args.chains))
    runs: dict[str, ArmRun] = {}
    folder = Path(tempfile.mkdtemp(prefix="corthex-deadlines-"))
    try:
        for arm in ARMS:
            with Emulator(speed) as emu:  # a fresh emulator per arm: the same seeded draws
                emu.post("/_emulator/config", emulator_config(speed, args.seed))
                os.environ.update(sdk_env(emu.url))
                (folder / arm).mkdir()
                runs[arm] = await run_arm(arm, day, folder / arm, speed, args.arm_timeout)
                print(f"{arm}: {runs[arm].wall_s:.0f} s, {_uptime()}", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report(args, speed, day, runs)


def report(args: argparse.Namespace, speed: float, day: Day, runs: dict[str, ArmRun]) -> None:
    realtime = sum(x["cost_usd"] for x in [*runs["all-realtime"].jobs, *runs["all-realtime"].chains])
    arms = [arm_summary(runs[arm], realtime) for arm in ARMS]
    every_batch = sum(j["all_batch_usd"] for j in runs["all-realtime"].jobs)
    requests = sum(len(p.requests) for p in day.jobs)
    print_table(
        f"deadlines: a simulated day, {len(day.jobs)} jobs ({requests} requests) and {len(day.chains)} chains "
        f"(day = {args.day_seconds:g} s wall, speed {speed:.5f}, seed {args.seed})",
        [(a["arm"], _arm_line(a)) for a in arms] + [("jobs: every request at batch rates", f"${every_batch:.4f}")],
    )
    error = predictor_error(runs["deadlines"], speed)
    print_table(
        "predictor error on the day (deadlines arm, simulated minutes; early = predicted before the actual end)",
        [
            ("batches judged / canceled by the mover", f"{error['batches_judged']} / {error['batches_moved']}"),
            ("at submission", error["at_submission"]),
            *((f"at submission, basis {basis}", e) for basis, e in error["at_submission_by_basis"].items()),
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
            "jobs_every_request_at_batch_rates_usd": round(every_batch, 4),
            "predictor": error,
            "jobs": {arm: runs[arm].jobs for arm in ARMS},
            "chains": {arm: runs[arm].chains for arm in ARMS},
            "batches": {arm: [_batch_row(b) for b in runs[arm].batches] for arm in ARMS},
        },
    )
    print(f"\nuptime: {load}; written to {path}")


def _arm_line(a: dict[str, Any]) -> str:
    return (
        f"met {a['met']}/{a['of']} ({a['met'] / a['of']:.0%}; jobs {a['jobs_met']}/{a['jobs']}, chains "
        f"{a['chains_met']}/{a['chains']}), cost ${a['cost_usd']:.4f} ({a['vs_realtime']:.0%} of all-realtime; "
        f"jobs ${a['jobs_cost_usd']:.4f}, chains ${a['chains_cost_usd']:.4f}), job results by tier "
        f"{a['job_results_by_tier']}, {a['wall_s']} s"
        + (" (unfinished at the last deadline)" if a["unfinished_at_last_deadline"] else "")
    )


def _batch_row(batch: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "provider", "model", "request_count", "status", "ended_as", "submitted_at", "ended_at")
    return {k: batch[k] for k in keys}


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()  # noqa: S607


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day-seconds", type=float, default=200.0, help="wall seconds a simulated day takes")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--chains", type=int, default=10)
    parser.add_argument("--arm-timeout", type=float, default=200.0, help="wall seconds an arm may take at most")
    asyncio.run(main(parser.parse_args()))
