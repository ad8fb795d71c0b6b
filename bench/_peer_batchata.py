"""The peers bench's batchata run (executed by bench/.peers-venv/batchata's Python).

    python _peer_batchata.py JOB.jsonl RESULTS_DIR {one,per-model} REPORT.json

batchata builds its `OpenAI()` / `Anthropic()` clients from the environment, so OPENAI_BASE_URL
and ANTHROPIC_BASE_URL point it at the emulator. Its polling interval is fixed in code (OpenAI
5 s, Anthropic 1 s): nothing to set.

`one`: the whole job in one `Batch`, as its README shows. batchata groups jobs by *provider*, not
by model, so the two OpenAI models share one OpenAI batch file, which the OpenAI Batch API fails
at validation (`model_mismatch`: one model per input file).
`per-model`: the workaround a user would reach for, one `Batch` per model, all run at once. Not in
threads: `Batch.run()` sets a SIGINT handler, which Python allows only in the main thread
("ValueError: signal only works in main thread"), so one process per model.

Writes REPORT.json: results that came back, per provider, and the distinct errors.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from batchata import Batch


def run_batch(lines: list[dict[str, Any]], out: str) -> tuple[dict[str, int], int, list[str]]:
    """One `Batch` of `lines`: (answered per provider, not answered, distinct errors)."""
    # Large batches, as many in parallel as there are (its defaults are 10 requests per batch).
    batch = Batch(results_dir=out, max_parallel_batches=10, items_per_batch=5000)
    for line in lines:
        batch.add_job(
            messages=[{"role": "user", "content": line["prompt"]}],
            model=line["model"],
            max_tokens=line["max_output_tokens"],
        )
    models = {job.id: job.model for job in batch.jobs}
    results = batch.run().results()
    ok = {"openai": 0, "anthropic": 0}
    failed = 0
    errors: set[str] = set()
    for result in results.get("completed", []):
        if result.raw_response or result.parsed_response:
            ok["anthropic" if models.get(result.job_id, "").startswith("claude") else "openai"] += 1
        else:
            failed += 1
    for key in ("failed", "cancelled"):
        for result in results.get(key, []):
            failed += 1
            errors.add(str(getattr(result, "error", result))[:300])
    return ok, failed, sorted(errors)


def main(job: str, out: str, mode: str, report: str) -> None:
    lines = [json.loads(line) for line in open(job, encoding="utf-8")]
    groups: dict[str, list[dict[str, Any]]] = {"all": lines}
    if mode == "per-model":
        groups = {}
        for line in lines:
            groups.setdefault(line["model"], []).append(line)
    if len(groups) == 1:
        outcomes = [run_batch(lines, f"{out}/all")]
    else:
        with ProcessPoolExecutor(len(groups)) as pool:
            outcomes = list(pool.map(run_batch, groups.values(), [f"{out}/{key}" for key in groups]))
    ok = {"openai": 0, "anthropic": 0}
    failed = 0
    errors: set[str] = set()
    for counts, not_back, errs in outcomes:
        for provider, n in counts.items():
            ok[provider] += n
        failed += not_back
        errors.update(errs)
    Path(report).write_text(
        json.dumps(
            {
                "requests": len(lines),
                "results": sum(ok.values()),
                "by_provider": ok,
                "failed": failed,
                "errors": sorted(errors)[:5],
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:5])
