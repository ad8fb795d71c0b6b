"""The peers bench's bespokelabs-curator run (executed by bench/.peers-venv/bespokelabs-curator).

    python _peer_curator.py JOB.jsonl WORK_DIR EMULATOR_URL

Curator takes one model per `LLM`, so the job runs as one batch LLM per model, all four at once
in threads (the fastest way a user could run it), each pointed at the emulator through its
`backend_params["base_url"]`. Prints one JSON line: results that came back.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

from bespokelabs import curator


def run_model(model: str, prompts: list[str], work: str, emulator: str) -> tuple[int, int, str | None]:
    anthropic = model.startswith("claude")
    params = {
        "base_url": f"{emulator}/anthropic" if anthropic else f"{emulator}/openai/v1",
        "api_key": "bench",
        "batch_check_interval": 1,  # its default is 60 s
        "max_retries": 0,
        "require_all_responses": False,
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
        return 0, len(prompts), f"{type(exc).__name__}: {exc}"[:300]
    dataset = response.dataset
    ok = sum(1 for row in dataset if row.get("response"))
    return ok, len(prompts) - ok, None


def main(job: str, work: str, emulator: str) -> None:
    lines = [json.loads(line) for line in open(job, encoding="utf-8")]
    by_model: dict[str, list[str]] = {}
    for line in lines:
        by_model.setdefault(line["model"], []).append(line["prompt"])
    with ThreadPoolExecutor(len(by_model)) as pool:
        outcomes = list(pool.map(lambda m: run_model(m, by_model[m], work, emulator), by_model))
    print(
        json.dumps(
            {
                "requests": len(lines),
                "results": sum(o[0] for o in outcomes),
                "failed": sum(o[1] for o in outcomes),
                "errors": [o[2] for o in outcomes if o[2]],
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
