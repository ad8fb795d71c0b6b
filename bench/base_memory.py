"""Base memory per command: the peak RSS of `corthex --help`, `status`, `providers`, `doctor`, a
one-provider OpenAI job and a three-provider job (`submit … --wait` against the emulator), and
a worker set up for OpenAI alone, with the heavy modules each one loaded.

    PYTHONPATH=src .venv/bin/python bench/base_memory.py [--requests 30] [--name base_memory]

Each command runs in its own process under `/usr/bin/time -f %M` (GNU time forks it: its peak RSS
is its own). Measuring with wait4 from this process would not do: Linux carries a process's peak
RSS over fork and exec, so a child of a 90 MB parent reports at least 90 MB (`ru_maxrss` of
`/bin/true` spawned from Python is the parent's). The modules come from `sys.modules` at exit
(bench/_modules_at_exit.py). Writes bench/out/NAME.json and prints a table.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import PYTHON, ROOT, Emulator, save, sdk_env, write_requests  # noqa: E402

TIME = "/usr/bin/time"
RUNNER = str(ROOT / "_modules_at_exit.py")
#: what is worth naming when loaded: the SDKs, then the big libraries under them
SDKS = ("openai", "anthropic", "google.genai", "mistralai", "boto3", "google.cloud.storage")
LIBRARIES = (
    "sqlalchemy",
    "alembic",
    "pydantic",
    "pydantic_settings",
    "httpx",
    "genai_prices",
    "jsonschema",
    "fastapi",
    "uvicorn",
    "pandas",
    "pyarrow",
    "numpy",
    "corthex.engine.engine",
    "corthex.emulator",
    "corthex.api",
)
THREE_MODELS = ("gpt-5-mini", "claude-haiku-4-5", "gemini-2.5-flash")
WORKER_SECONDS = 6.0  #: a worker runs this long (its SDKs load at its start), then gets SIGINT


def run(args: list[str], env: dict[str, str], work: Path, *, interrupt_after: float | None = None) -> dict[str, Any]:
    """`corthex ARGS` under GNU time: its peak RSS (MB), wall time, exit code and modules."""
    rss, modules = work / "rss.txt", work / "modules.txt"
    for path in (rss, modules):
        path.unlink(missing_ok=True)
    cmd = [TIME, "-f", "%M", "-o", str(rss), PYTHON, RUNNER, *args]
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        env=env | {"BASE_MEMORY_MODULES": str(modules)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # SIGINT to the group: GNU time passes it on by ignoring it
    )
    if interrupt_after is not None:
        time.sleep(interrupt_after)
        os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=180)
    loaded = set(modules.read_text().split()) if modules.exists() else set()
    return {
        "command": "corthex " + " ".join(Path(a).name if os.sep in a else a for a in args),
        "returncode": proc.returncode,
        "peak_rss_mb": round(int(rss.read_text().split()[-1]) / 1024, 1),
        "wall_s": round(time.perf_counter() - started, 2),
        "modules": len(loaded),
        "sdks": [m for m in SDKS if m in loaded],
        "libraries": [m for m in LIBRARIES if m in loaded],
        "stderr_tail": stderr.decode(errors="replace")[-300:] if proc.returncode not in (0, 130) else "",
    }


def openai_only(env: dict[str, str]) -> dict[str, str]:
    """The environment without any provider's key but OpenAI's (a user of one provider)."""
    others = ("ANTHROPIC_AUTH_TOKEN", "CORTHEX_VERTEX_ACCESS_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS")
    others += ("AWS_ACCESS_KEY_ID", "AWS_BEARER_TOKEN_BEDROCK", "AWS_PROFILE")
    return {k: v for k, v in env.items() if k == "OPENAI_API_KEY" or not (k.endswith("_API_KEY") or k in others)}


def measure(requests: int, work: Path, emu: Emulator) -> list[dict[str, Any]]:
    env = {**os.environ, **sdk_env(emu.url), "HOME": str(work)}
    env |= {"CORTHEX_DATABASE_URL": f"sqlite+aiosqlite:///{work}/corthex.db", "CORTHEX_DATA_DIR": str(work / "data")}
    one, three = work / "openai.jsonl", work / "three.jsonl"
    write_requests(one, requests, ("gpt-5-mini",), prefix="one")
    write_requests(three, requests, THREE_MODELS, prefix="three")
    rows = [
        run(["--help"], env, work),
        run(["status"], env, work),
        run(["providers"], env, work),
        run(["doctor"], env, work),
        run(["submit", str(one), "--wait"], env, work),
        run(["submit", str(three), "--wait"], env, work),
        run(["status"], env, work),
        run(["worker"], openai_only(env), work, interrupt_after=WORKER_SECONDS),
    ]
    rows[1]["command"] += " (new database: migrates it)"
    rows[-2]["command"] += " (after the jobs)"
    rows[-1]["command"] += " (OpenAI key only)"
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=30, help="requests per job")
    parser.add_argument("--speed", type=float, default=0.05, help="the emulator's speed (smaller: faster)")
    parser.add_argument("--name", default="base_memory", help="bench/out/NAME.json")
    args = parser.parse_args()
    if not Path(TIME).exists():
        sys.exit(f"{TIME} (GNU time) is needed: apt-get install time")
    with tempfile.TemporaryDirectory() as tmp, Emulator(speed=args.speed) as emu:
        rows = measure(args.requests, Path(tmp), emu)
    print(f"\n{'command':<48} {'rc':>3} {'peak MB':>8} {'wall s':>7} {'modules':>7}  SDKs; libraries")
    for row in rows:
        print(
            f"{row['command']:<48} {row['returncode']:>3} {row['peak_rss_mb']:>8} {row['wall_s']:>7} "
            f"{row['modules']:>7}  {', '.join(row['sdks']) or '-'}; {', '.join(row['libraries']) or '-'}"
        )
        if row["stderr_tail"]:
            print("   ", row["stderr_tail"].strip().replace("\n", "\n    "))
    load = os.getloadavg()
    path = save(args.name, {"requests": args.requests, "load": load, "python": sys.version, "rows": rows})
    print(f"\nload {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; written to {path}")


if __name__ == "__main__":
    main()
