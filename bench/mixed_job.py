"""Benchmark: a mixed job (default 10,000 requests over OpenAI, Anthropic and Gemini) through
the emulator, submitted and collected by the engine in its own process.

Prints a table and writes JSON to bench/out/mixed_job.json. Not a test: run it on demand.

    .venv/bin/python bench/mixed_job.py [--requests 10000] [--speed 0.2]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent
MODELS = (
    "gpt-5-mini",
    "gpt-5-nano",
    "claude-sonnet-4-6",
    "claude-haiku-4-5",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_requests(path: Path, n: int) -> None:
    with path.open("wb") as fh:
        for i in range(n):
            line = {
                "custom_id": f"bench-{i}",
                "model": MODELS[i % len(MODELS)],
                "max_output_tokens": 128,
                "system": "You are terse.",
                "prompt": f"Summarise item {i} of the benchmark in one line.",
            }
            fh.write(orjson.dumps(line) + b"\n")


def start_emulator(port: int, speed: float) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "corthex", "emulator", "--port", str(port), "--speed", str(speed)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("emulator did not start")


def run(n: int, speed: float) -> dict[str, object]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "OPENAI_BASE_URL": f"{base}/openai/v1",
        "OPENAI_API_KEY": "bench",
        "ANTHROPIC_BASE_URL": f"{base}/anthropic",
        "ANTHROPIC_API_KEY": "bench",
        "GOOGLE_GEMINI_BASE_URL": f"{base}/gemini",
        "GEMINI_API_KEY": "bench",
    }
    with tempfile.TemporaryDirectory() as tmp:
        requests = Path(tmp) / "requests.jsonl"
        write_requests(requests, n)
        env.update(
            CORTHEX_DATABASE_URL=f"sqlite+aiosqlite:///{tmp}/bench.db",
            CORTHEX_DATA_DIR=f"{tmp}/data",
            CORTHEX_POLL_INITIAL="0.2",
            CORTHEX_POLL_MAX="1.0",
        )
        emulator = start_emulator(port, speed)
        try:
            out = subprocess.run(
                [sys.executable, str(ROOT / "_engine_run.py"), str(requests)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
        finally:
            emulator.terminate()
            emulator.wait(10)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--speed", type=float, default=0.2, help="emulator speed factor")
    args = parser.parse_args()
    result = run(args.requests, args.speed)
    result.update(requests=args.requests, emulator_speed=args.speed)
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    (ROOT / "out").mkdir(exist_ok=True)
    (ROOT / "out" / "mixed_job.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
