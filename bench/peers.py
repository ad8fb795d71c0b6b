"""Benchmark: the same 10,000-request OpenAI + Anthropic job run by CORTHEX and by the tools a
user would pick instead, all pointed at one emulator through their SDK base-URL settings.

    .venv/bin/python bench/peers.py [--requests 10000] [--speed 0.2] [--only NAME]

Each peer is installed from PyPI by this script into a virtualenv of its own under
bench/.peers-venv/NAME (gitignored; the peers pin different SDK versions, and batchata needs
Python 3.12+, found on PATH or under pyenv). Every tool runs as one process (batchwizard: one
per provider, as its CLI takes one provider at a time, run side by side), measured with wait4:
wall time, peak RSS, CPU time; then whether every request came back with an answer.

The job: 10,000 requests, 2,500 on each of two OpenAI models and two Anthropic models (models
every peer knows: batchata validates names against its own list), one user message, 128 output
tokens. Polling is set to about 1 s where a tool lets it be set (CORTHEX: 1 s growing x1.5, its
default factor; curator: batch_check_interval=1, its default is 60 s; batchwizard:
--check-interval 1, growing x1.5); batchata's is fixed in code (OpenAI 5 s, Anthropic 1 s).

Writes bench/out/peers.json. Not a test: run it on demand.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import PYTHON, ROOT, Child, Emulator, calls_made, save, sdk_env  # noqa: E402

VENVS = ROOT / ".peers-venv"
MODELS = ("gpt-4.1-nano-2025-04-14", "claude-sonnet-4-20250514", "gpt-4o-mini-2024-07-18", "claude-3-5-haiku-20241022")
PEERS = {  # name -> pip requirements
    "batchata": ["batchata"],
    "bespokelabs-curator": ["bespokelabs-curator"],
    "batchwizard": ["batchwizard"],
}


def python_312() -> str | None:
    """A Python 3.12+ interpreter (batchata requires it): PATH first, then pyenv's versions."""
    candidates = [shutil.which(n) for n in ("python3.13", "python3.12")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if pyenv.is_dir():
        candidates += [str(p / "bin" / "python") for p in sorted(pyenv.iterdir(), reverse=True)]
    for candidate in filter(None, candidates):
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info >= (3, 12))"], capture_output=True, text=True
            )
        except OSError:
            continue
        if out.stdout.strip() == "True":
            return candidate
    return None


def ensure_venv(name: str, base_python: str) -> tuple[Path, str]:
    """bench/.peers-venv/NAME with the peer installed from PyPI; (its bin dir, installed version)."""
    venv = VENVS / name
    bin_dir = venv / "bin"
    marker = venv / ".installed"
    if not marker.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(bin_dir / "pip"), "install", "-q", *PEERS[name], "psutil"], check=True)
        marker.write_text("ok")
    show = subprocess.run([str(bin_dir / "pip"), "show", PEERS[name][0]], capture_output=True, text=True).stdout
    version = next((line.split(":", 1)[1].strip() for line in show.splitlines() if line.startswith("Version:")), "?")
    return bin_dir, version


def write_job(path: Path, n: int) -> None:
    with path.open("wb") as fh:
        for i in range(n):
            line = {
                "custom_id": f"peer-{i}",
                "model": MODELS[i % len(MODELS)],
                "max_output_tokens": 128,
                "prompt": f"Summarise item {i} of the benchmark in one line.",
            }
            fh.write(orjson.dumps(line) + b"\n")


def _env(emu: Emulator, home: Path) -> dict[str, str]:
    env = {**os.environ, **sdk_env(emu.url), "HOME": str(home)}
    env.update(
        TELEMETRY_ENABLED="false",  # curator would post usage to its telemetry host
        CURATOR_CACHE_DIR=str(home / "curator-cache"),
        CURATOR_DISABLE_RICH_DISPLAY="1",
        CURATOR_VIEWER="0",
        LITELLM_LOCAL_MODEL_COST_MAP="True",  # litellm would fetch its price map from the internet
        BESPOKE_CURATOR_TRACKER_DISABLED="1",
    )
    env.pop("VIRTUAL_ENV", None)
    return env


def run_ours(job: Path, work: Path, emu: Emulator) -> dict[str, Any]:
    env = _env(emu, work)
    env.update(
        CORTHEX_DATABASE_URL=f"sqlite+aiosqlite:///{work}/corthex.db",
        CORTHEX_DATA_DIR=str(work / "data"),
        CORTHEX_POLL_INITIAL="1.0",
    )
    out = work / "results.jsonl"
    started = time.time()
    child = Child([PYTHON, "-m", "corthex", "submit", str(job), "--wait", "--out", str(out)], env, log=work / "log")
    done = child.wait(900)
    wall = time.time() - started
    ok = failed = 0
    if out.exists():
        for line in out.open("rb"):
            row = orjson.loads(line)
            if row["status"] == "succeeded" and row["content"]:
                ok += 1
            else:
                failed += 1
    error = None if done.returncode == 0 else done.stderr[-500:]
    return _row("corthex (ours)", "0.1.0", wall, done.peak_rss_mb, done.cpu_s, ok, failed, [error] if error else [])


def run_python_peer(name: str, script: str, args: list[str], job: Path, work: Path, emu: Emulator) -> dict[str, Any]:
    base = python_312()
    if base is None:
        return _row(name, "-", None, None, None, 0, 0, ["no Python 3.12+ found to install it"])
    bin_dir, version = ensure_venv(name, base)
    started = time.time()
    child = Child([str(bin_dir / "python"), str(ROOT / script), str(job), *args], _env(emu, work), log=work / "log")
    done = child.wait(900)
    wall = time.time() - started
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        tail = done.stderr.strip().splitlines()[-3:]
        return _row(name, version, wall, done.peak_rss_mb, done.cpu_s, 0, 0, [f"crashed: {' | '.join(tail)}"[:500]])
    return _row(
        name, version, wall, done.peak_rss_mb, done.cpu_s, report["results"], report["failed"], report["errors"]
    )


def _batchwizard_inputs(job: Path, work: Path) -> dict[str, Path]:
    """Its input is each provider's own batch format, one model per OpenAI file."""
    inputs = {"openai": work / "in-openai", "anthropic": work / "in-anthropic"}
    for folder in inputs.values():
        folder.mkdir()
    files: dict[str, Any] = {}
    for raw in job.open("rb"):  # its input is each provider's own batch format; one model per OpenAI file
        line = orjson.loads(raw)
        if line["model"].startswith("claude"):
            params = {
                "model": line["model"],
                "max_tokens": 128,
                "messages": [{"role": "user", "content": line["prompt"]}],
            }
            row = {"custom_id": line["custom_id"], "params": params}
            target = inputs["anthropic"] / "requests.jsonl"
        else:
            body = {
                "model": line["model"],
                "max_tokens": 128,
                "messages": [{"role": "user", "content": line["prompt"]}],
            }
            row = {"custom_id": line["custom_id"], "method": "POST", "url": "/v1/chat/completions", "body": body}
            target = inputs["openai"] / f"{line['model']}.jsonl"
        if target not in files:
            files[target] = target.open("wb")
        files[target].write(orjson.dumps(row) + b"\n")
    for fh in files.values():
        fh.close()
    return inputs


def run_batchwizard(job: Path, work: Path, emu: Emulator) -> dict[str, Any]:
    base = python_312()
    if base is None:
        return _row("batchwizard", "-", None, None, None, 0, 0, ["no Python 3.12+ found to install it"])
    bin_dir, version = ensure_venv("batchwizard", base)
    inputs = _batchwizard_inputs(job, work)
    env = _env(emu, work)
    started = time.time()
    children = {
        provider: Child(
            [
                str(bin_dir / "batchwizard"),
                "process",
                str(folder),
                "--provider",
                provider,
                "--check-interval",
                "1",
                "--output-directory",
                str(work / f"out-{provider}"),
            ],
            env,
            log=work / f"log-{provider}",
        )
        for provider, folder in inputs.items()
    }
    done = {provider: child.wait(900) for provider, child in children.items()}
    wall = time.time() - started
    ok = failed = 0
    for provider in inputs:
        for path in (work / f"out-{provider}").rglob("*.jsonl"):
            for raw in path.open("rb"):
                row = orjson.loads(raw)
                if _answered(row):
                    ok += 1
                else:
                    failed += 1
    errors = [f"{p}: {d.stderr.strip().splitlines()[-1][:300]}" for p, d in done.items() if d.returncode != 0]
    peak = max(d.peak_rss_mb for d in done.values())
    cpu = sum(d.cpu_s for d in done.values())
    return _row("batchwizard", version, wall, peak, cpu, ok, failed, errors)


def _answered(row: dict[str, Any]) -> bool:
    """An OpenAI output line or an Anthropic result row that carries an answer."""
    body = (row.get("response") or {}).get("body") or {}
    if body.get("choices"):
        return bool(body["choices"][0].get("message", {}).get("content"))
    result = row.get("result") or {}
    return result.get("type") == "succeeded"


def _row(
    name: str,
    version: str,
    wall: float | None,
    rss: float | None,
    cpu: float | None,
    ok: int,
    failed: int,
    errors: list[Any],
) -> dict[str, Any]:
    return {
        "tool": name,
        "version": version,
        "wall_s": round(wall, 2) if wall is not None else None,
        "peak_rss_mb": rss,
        "cpu_s": cpu,
        "results": ok,
        "not_returned": failed,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--speed", type=float, default=0.2, help="emulator speed factor")
    parser.add_argument("--only", action="append", choices=["corthex", *PEERS], help="run only these tools")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="corthex-peers-"))
    job = tmp / "job.jsonl"
    write_job(job, args.requests)
    runs = {
        "corthex": lambda w, e: run_ours(job, w, e),
        "batchata": lambda w, e: run_python_peer("batchata", "_peer_batchata.py", [str(w / "out")], job, w, e),
        "bespokelabs-curator": lambda w, e: run_python_peer(
            "bespokelabs-curator", "_peer_curator.py", [str(w / "out"), e.url], job, w, e
        ),
        "batchwizard": lambda w, e: run_batchwizard(job, w, e),
    }
    rows = []
    for name, run in runs.items():
        if args.only and name not in args.only:
            continue
        work = tmp / name
        work.mkdir()
        with Emulator(args.speed) as emu:  # a fresh emulator each: same state, same stats
            row = run(work, emu)
            row["provider_calls"] = calls_made(emu.get("/_emulator/stats"))
        row["every_result_back"] = row["results"] == args.requests
        rows.append(row)
        print(
            f"{name}: {row['wall_s']} s, {row['peak_rss_mb']} MB, {row['results']}/{args.requests} results", flush=True
        )
    ours = next((r for r in rows if r["tool"] == "corthex (ours)"), None)
    for row in rows:
        if ours and row is not ours and row["wall_s"] and row["peak_rss_mb"]:
            row["wall_vs_ours"] = round(row["wall_s"] / ours["wall_s"], 2)
            row["rss_vs_ours"] = round(row["peak_rss_mb"] / ours["peak_rss_mb"], 2)
    header = (
        f"{'tool':<22} {'version':<8} {'wall s':>8} {'peak MB':>8} {'CPU s':>7} "
        f"{'results':>8} {'all back':>9} {'wall x':>7} {'mem x':>6}"
    )
    print(f"\npeers: {args.requests} requests (OpenAI + Anthropic), emulator speed {args.speed}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['tool']:<22} {r['version']:<8} {r['wall_s'] or '-':>8} {r['peak_rss_mb'] or '-':>8} "
            f"{r['cpu_s'] or '-':>7} {r['results']:>8} {str(r['every_result_back']):>9} "
            f"{r.get('wall_vs_ours', '-'):>7} {r.get('rss_vs_ours', '-'):>6}"
        )
    for r in rows:
        for error in r["errors"]:
            print(f"  {r['tool']}: {error}")
    print(f"\nwritten to {save('peers', {'requests': args.requests, 'speed': args.speed, 'tools': rows})}")


if __name__ == "__main__":
    main()
