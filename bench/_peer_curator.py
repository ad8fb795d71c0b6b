"""The peers bench's bespokelabs-curator run (executed by bench/.peers-venv/bespokelabs-curator).

    python _peer_curator.py JOB.jsonl WORK_DIR EMULATOR_URL REPORT.json

Curator takes one model per `LLM`, so the job runs as one batch LLM per model, all four at once
in threads (the fastest way a user could run it), each pointed at the emulator through its
`backend_params["base_url"]`, with `batch_check_interval=1` (its default is 60 s) and its other
defaults. Writes REPORT.json: results that came back, per provider, and the distinct errors.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bespokelabs import curator

# Imported here, once: curator imports its request processors lazily, and four threads doing that
# import at once can hit a partially initialised module (a race in this driver, not in curator).
from bespokelabs.curator.request_processor.batch import (  # noqa: F401
    anthropic_batch_request_processor,
    openai_batch_request_processor,
)


def run_model(model: str, prompts: list[str], work: str, emulator: str) -> tuple[int, str | None]:
    anthropic = model.startswith("claude")
    params = {
        "base_url": f"{emulator}/anthropic" if anthropic else f"{emulator}/openai/v1",
        "api_key": "bench",
        "batch_check_interval": 1,  # its default is 60 s
        "require_all_responses": False,  # count what came back rather than raise at the end
    }
    llm = curator.LLM(
        model_name=model,
        batch=True,
        backend="anthropic" if anthropic else "openai",
        backend_params=params,
        generation_params={"max_tokens": 128},
    )
    try:
        response = llm(prompts, working_dir=f"{work}/{model}")
    except Exception as exc:  # a peer that fails against the emulator is a result too
        return 0, f"{model}: {type(exc).__name__}: {exc}"[:400]
    ok = sum(1 for row in response.dataset if row.get("response"))
    return ok, None if ok == len(prompts) else f"{model}: {len(prompts) - ok} of {len(prompts)} had no response"


def main(job: str, work: str, emulator: str, report: str) -> None:
    lines = [json.loads(line) for line in open(job, encoding="utf-8")]
    by_model: dict[str, list[str]] = {}
    for line in lines:
        by_model.setdefault(line["model"], []).append(line["prompt"])
    with ThreadPoolExecutor(len(by_model)) as pool:
        outcomes = dict(
            zip(by_model, pool.map(lambda m: run_model(m, by_model[m], work, emulator), by_model), strict=True)
        )
    by_provider = {"openai": 0, "anthropic": 0}
    for model, (ok, _) in outcomes.items():
        by_provider["anthropic" if model.startswith("claude") else "openai"] += ok
    Path(report).write_text(
        json.dumps(
            {
                "requests": len(lines),
                "results": sum(by_provider.values()),
                "by_provider": by_provider,
                "failed": len(lines) - sum(by_provider.values()),
                "errors": [error for _, error in outcomes.values() if error],
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:5])
