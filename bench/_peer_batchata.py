"""The peers bench's batchata run (executed by bench/.peers-venv/batchata's Python).

    python _peer_batchata.py JOB.jsonl RESULTS_DIR

batchata builds its `OpenAI()` / `Anthropic()` clients from the environment, so OPENAI_BASE_URL
and ANTHROPIC_BASE_URL point it at the emulator. Prints one JSON line: results that came back.
"""

from __future__ import annotations

import json
import sys

from batchata import Batch


def main(job: str, out: str) -> None:
    lines = [json.loads(line) for line in open(job, encoding="utf-8")]
    # Large batches, as many in parallel as there are (its defaults are 10 requests per batch).
    batch = Batch(results_dir=out, max_parallel_batches=10, items_per_batch=5000)
    for line in lines:
        batch.add_job(
            messages=[{"role": "user", "content": line["prompt"]}],
            model=line["model"],
            max_tokens=line["max_output_tokens"],
        )
    run = batch.run()
    results = run.results()
    completed = results.get("completed", [])
    ok = [r for r in completed if getattr(r, "raw_response", None) or getattr(r, "parsed_response", None)]
    failed = results.get("failed", [])
    errors = sorted({str(getattr(r, "error", r))[:200] for r in failed})[:5]
    print(json.dumps({"requests": len(lines), "results": len(ok), "failed": len(failed), "errors": errors}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
