"""The engine side of bench/mixed_job.py, in its own process so its memory is its own."""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path

from corthex import Engine, Settings


async def main(path: Path) -> dict[str, object]:
    async with Engine(Settings()) as engine:
        started = time.perf_counter()
        report = await engine.submit_file(path)
        recorded = time.perf_counter()
        first_result: list[float] = []

        def progress(summary: object) -> None:
            if not first_result and getattr(summary, "finished", 0):
                first_result.append(time.perf_counter())

        summary = await engine.wait(report.job_id, on_progress=progress)
        ended = time.perf_counter()
        batches = await engine.batches(report.job_id)
    collecting = ended - (first_result[0] if first_result else recorded)
    return {
        "wall_s": round(ended - started, 2),
        "validate_and_record_s": round(recorded - started, 2),
        "results": summary.finished,
        "succeeded": summary.succeeded,
        "batches": len(batches),
        "results_per_s_after_first": round(summary.finished / collecting, 1) if collecting > 0 else None,
        "results_per_s_overall": round(summary.finished / (ended - started), 1),
        "engine_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(Path(sys.argv[1])))))
