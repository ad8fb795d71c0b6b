"""Benchmark: a mixed job (default 10,000 requests over OpenAI, Anthropic and Gemini) through
the emulator, submitted and collected by the engine in its own process.

Prints a table and writes JSON to bench/out/mixed_job.json. Not a test: run it on demand.

    .venv/bin/python bench/mixed_job.py [--requests 10000] [--speed 0.2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

from _bench import PYTHON, ROOT, Emulator, print_table, save, sdk_env, write_requests


def run(n: int, speed: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, Emulator(speed) as emulator:
        requests = Path(tmp) / "requests.jsonl"
        write_requests(requests, n)
        env = {
            **os.environ,
            **sdk_env(emulator.url),
            "CORTHEX_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db",
            "CORTHEX_DATA_DIR": f"{tmp}/data",
            "CORTHEX_POLL_INITIAL": "0.2",
            "CORTHEX_POLL_MAX": "1.0",
        }
        out = subprocess.run(
            [PYTHON, str(ROOT / "_engine_run.py"), str(requests)], env=env, capture_output=True, text=True, check=True
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--speed", type=float, default=0.2, help="emulator speed factor")
    args = parser.parse_args()
    result = run(args.requests, args.speed)
    result.update(requests=args.requests, emulator_speed=args.speed)
    print_table(f"mixed job: {args.requests} requests", list(result.items()))
    print(f"\nwritten to {save('mixed_job', result)}")


if __name__ == "__main__":
    main()
