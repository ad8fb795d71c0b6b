"""Benchmark: the same 10,000-request OpenAI + Anthropic job run by CORTHEX and by the tools a
user would pick instead, all pointed at one emulator through their SDK base-URL settings.

    .venv/bin/python bench/peers.py [--requests 10000] [--speed 0.2] [--repeat N] [--only NAME] [--timeout S]
                                    [--name NAME] [--profile]

Each peer is installed from PyPI by this script into a virtualenv of its own under
bench/.peers-venv/NAME (gitignored; the peers pin different SDK versions, and batchata needs
Python 3.12+, found on PATH or under pyenv); a venv is rebuilt when its requirement list changes.
The tools run one after another, never side by side, each against a fresh emulator (same speed,
same empty state). Each is measured as a process tree: wall time; peak RSS of the whole tree
(the process and all its descendants, sampled every 0.1 s with psutil, and never below wait4's
own peak); CPU time (wait4's, which folds in reaped children, or the sampled tree's if higher).
Then: how many requests came back with an answer, per provider, and why the others did not.
A tool that crashes, hangs past --timeout or cannot be installed is a row with its reason.

The job: 10,000 requests, 2,500 on each of two OpenAI models and two Anthropic models (models
every peer knows: batchata validates names against its own list, curator prices them through
litellm's bundled map, which no longer has claude-3-5-haiku), one user message, 128 output
tokens. Polling is set to about 1 s where a tool lets it be set (CORTHEX: 1 s growing x1.5, its
default factor; curator: batch_check_interval=1, its default is 60 s; batchwizard:
--check-interval 1, growing x1.5); batchata's is fixed in code (OpenAI 5 s, Anthropic 1 s).

Tools (rows):
- corthex (ours): `corthex submit JOB --wait --out results.jsonl`.
- batchata: the job as one `Batch` (bench/_peer_batchata.py `one`).
- batchata/per-model: one `Batch` per model in threads, the workaround for batchata putting
  both OpenAI models into one OpenAI batch file (which the OpenAI API fails: model_mismatch).
- bespokelabs-curator: one batch `LLM` per model in threads (bench/_peer_curator.py).
- batchwizard: its CLI, `batchwizard process` once per provider (it takes one provider at a
  time), the two run side by side; memory and CPU are those of both trees together.

CORTHEX's row also has its timeline (bench/_timeline.py): the wall time split into phases, from
the process start through validation, recording, planning, creation, the provider's processing,
the poll that notices each batch's end, download, collection and the output file to its exit,
from the phase marks it writes (`CORTHEX_PHASE_LOG`, src/corthex/phases.py) and the emulator's
batch end times (`GET /_emulator/batches`). With --profile, py-spy samples it (stacks in
bench/out/NAME.pyspy.txt, the hottest places printed; that run's timings are not the benchmark's).

Writes bench/out/NAME.json (peers.json). Not a test: run it on demand.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import OUT, PYTHON, ROOT, Emulator, calls_made, save, sdk_env  # noqa: E402
from _profile import analyse, show  # noqa: E402
from _timeline import print_timeline, read_marks, timeline  # noqa: E402

VENVS = ROOT / ".peers-venv"
#: py-spy (`pip install -e .[bench]`), or the one PY_SPY names
PY_SPY = os.environ.get("PY_SPY") or str(Path(PYTHON).with_name("py-spy"))
MODELS = ("gpt-4.1-nano-2025-04-14", "claude-sonnet-4-20250514", "gpt-4o-mini-2024-07-18", "claude-3-haiku-20240307")
PEERS = {  # venv name -> pip requirements (the first is the tool itself)
    "batchata": ["batchata"],
    # bespokelabs-curator allows instructor<2, but instructor 1.15 dropped the top-level
    # `instructor.handle_response_model` that its Anthropic batch path calls (AttributeError):
    # an environment pin, the peer's code untouched.
    "bespokelabs-curator": ["bespokelabs-curator", "instructor<1.15"],
    "batchwizard": ["batchwizard"],
}
TOOLS = ("corthex", "batchata", "batchata/per-model", "bespokelabs-curator", "batchwizard")
SAMPLE_S = 0.1


# --- measuring a process tree ----------------------------------------------------------------


@dataclass
class Measured:
    returncodes: list[int | None]
    wall_s: float
    peak_rss_mb: float
    cpu_s: float
    timed_out: bool
    logs: list[Path]
    started_at: float = 0.0  #: wall clock: the processes were started
    exited_at: float = 0.0  #: wall clock: the last one was seen gone (to within SAMPLE_S)

    def tail(self, lines: int = 4) -> str:
        out = []
        for log in self.logs:
            text = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
            out.extend(line.strip()[:300] for line in text[-lines:])
        return " | ".join(out)


class _Tree:
    """Processes started side by side, each in its own session, measured with their descendants."""

    def __init__(self, cmds: list[list[str]], env: dict[str, str], logs: list[Path]) -> None:
        self.procs = []
        for cmd, log in zip(cmds, logs, strict=True):
            with log.open("wb") as fh:
                self.procs.append(
                    subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
                )
        self.codes: dict[int, int] = {}
        self.wait_cpu = self.wait_rss = self.peak = 0.0
        self.cpu_seen: dict[tuple[int, float], float] = {}  # (pid, create_time) -> last user+system

    def running(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.procs if p.pid not in self.codes]

    def sample(self) -> None:
        total = 0
        for proc in self.running():
            try:
                root = psutil.Process(proc.pid)
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for p in tree:
                try:
                    with p.oneshot():
                        total += p.memory_info().rss
                        times = p.cpu_times()
                        self.cpu_seen[(p.pid, p.create_time())] = times.user + times.system
                except psutil.Error:
                    continue
        self.peak = max(self.peak, total / 2**20)

    def reap(self, block: bool = False) -> None:
        for proc in self.running():
            pid, status, usage = os.wait4(proc.pid, 0 if block else os.WNOHANG)
            if pid == proc.pid:
                self.codes[proc.pid] = proc.returncode = os.waitstatus_to_exitcode(status)
                self.wait_cpu += usage.ru_utime + usage.ru_stime
                self.wait_rss = max(self.wait_rss, usage.ru_maxrss / 1024)

    def kill(self) -> None:
        for proc in self.running():
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: the tool and its children
            except ProcessLookupError:
                pass
        self.reap(block=True)


def measure(cmds: list[list[str]], env: dict[str, str], logs: list[Path], timeout: float) -> Measured:
    """Run `cmds` side by side and measure them and every descendant together until all have
    exited or `timeout` has passed (then they are killed, and the row says so)."""
    started, started_at = time.monotonic(), time.time()
    tree = _Tree(cmds, env, logs)
    timed_out = False
    while tree.running():
        tree.sample()
        tree.reap()
        if tree.running() and time.monotonic() - started > timeout:
            timed_out = True
            tree.kill()
            break
        time.sleep(SAMPLE_S)
    return Measured(
        returncodes=[tree.codes.get(p.pid) for p in tree.procs],
        wall_s=round(time.monotonic() - started, 2),
        peak_rss_mb=round(max(tree.peak, tree.wait_rss), 1),
        cpu_s=round(max(tree.wait_cpu, sum(tree.cpu_seen.values())), 2),
        timed_out=timed_out,
        logs=logs,
        started_at=started_at,
        exited_at=time.time(),
    )


# --- installing the peers --------------------------------------------------------------------


def python_312() -> str | None:
    """A Python 3.12+ interpreter (batchata requires it), 3.12 first (curator's pinned deps have
    wheels for it; under 3.13 pip had to build pandas and failed): PATH, then pyenv's versions."""
    candidates = [shutil.which(n) for n in ("python3.12", "python3.13")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if pyenv.is_dir():
        candidates += [str(p / "bin" / "python") for p in sorted(pyenv.iterdir())]
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


class InstallError(Exception):
    pass


def ensure_venv(name: str) -> tuple[Path, dict[str, str]]:
    """bench/.peers-venv/NAME with the peer installed from PyPI: (its bin dir, versions of the
    tool, its Python and the provider SDKs it got). Rebuilt when the requirement list changes."""
    base = python_312()
    if base is None:
        raise InstallError("no Python 3.12+ found (PATH or pyenv) to install it")
    venv = VENVS / name
    bin_dir = venv / "bin"
    marker = venv / ".installed"
    wanted = json.dumps({"python": base, "requirements": PEERS[name]})
    if not marker.exists() or marker.read_text() != wanted:
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
        pip = subprocess.run(
            [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PEERS[name]],
            capture_output=True,
            text=True,
        )
        if pip.returncode != 0:
            raise InstallError(f"pip install {' '.join(PEERS[name])} failed: {pip.stderr.strip()[-400:]}")
        marker.write_text(wanted)
    dists = [PEERS[name][0], "openai", "anthropic", "instructor"]
    probe = (
        "import importlib.metadata as m, json, platform, sys\n"
        "out = {'python': platform.python_version()}\n"
        "for d in sys.argv[1:]:\n"
        "    try: out[d] = m.version(d)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))"
    )
    shown = subprocess.run([str(bin_dir / "python"), "-c", probe, *dists], capture_output=True, text=True)
    versions = json.loads(shown.stdout) if shown.returncode == 0 else {}
    return bin_dir, versions


# --- the job ---------------------------------------------------------------------------------


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
        CURATOR_CACHE_DIR=str(home / "curator-cache"),  # a fresh cache: no answer comes from disk
        CURATOR_DISABLE_RICH_DISPLAY="1",
        CURATOR_VIEWER="0",
        LITELLM_LOCAL_MODEL_COST_MAP="True",  # litellm would fetch its price map from the internet
        BESPOKE_CURATOR_TRACKER_DISABLED="1",
        PYTHONUNBUFFERED="1",
    )
    env.pop("VIRTUAL_ENV", None)
    return env


def _provider(model: str) -> str:
    return "anthropic" if model.startswith("claude") else "openai"


# --- one runner per tool: each returns a row -------------------------------------------------


def run_ours(job: Path, work: Path, emu: Emulator, timeout: float, profile: str | None = None) -> dict[str, Any]:
    env = _env(emu, work)
    env.update(
        CORTHEX_DATABASE_URL=f"sqlite+aiosqlite:///{work}/corthex.db",
        CORTHEX_DATA_DIR=str(work / "data"),
        CORTHEX_POLL_INITIAL="1.0",
        CORTHEX_PHASE_LOG=str(work / "phases.jsonl"),  # the timeline's marks (src/corthex/phases.py)
    )
    out = work / "results.jsonl"
    cmd = [PYTHON, "-m", "corthex", "submit", str(job), "--wait", "--out", str(out)]
    raw = OUT / f"{profile}.pyspy.txt"
    if profile:  # sampled: slower, and its figures are not the benchmark's
        OUT.mkdir(exist_ok=True)
        cmd = [PY_SPY, "record", "-r", "100", "-f", "raw", "-o", str(raw), "--", *cmd]
    done = measure([cmd], env, [work / "log"], timeout)
    phases = timeline(read_marks(work / "phases.jsonl"), emu.get("/_emulator/batches"), done.started_at, done.exited_at)
    answered: dict[str, str] = {}
    if out.exists():
        for line in out.open("rb"):
            row = orjson.loads(line)
            if row["status"] == "succeeded" and row["content"]:
                answered[row["custom_id"]] = row["provider"]
    errors = _process_errors("corthex", done)
    versions = {"corthex": importlib.metadata.version("corthex-batch"), "python": platform.python_version()}
    row = _row("corthex (ours)", versions, done, answered, errors)
    row["timeline"] = phases
    print_timeline(phases)
    if profile and raw.exists():
        row["profile"] = analyse(raw, top=15)
        show(f"py-spy corthex ({raw})", row["profile"])
    return row


def run_python_peer(
    tool: str, venv: str, script: str, args: list[str], job: Path, work: Path, emu: Emulator, timeout: float
) -> dict[str, Any]:
    try:
        bin_dir, versions = ensure_venv(venv)
    except (InstallError, subprocess.CalledProcessError) as exc:
        return _row(tool, {}, None, {}, [f"not installed: {exc}"])
    report = work / "report.json"
    cmd = [str(bin_dir / "python"), str(ROOT / script), str(job), *args, str(report)]
    done = measure([cmd], _env(emu, work), [work / "log"], timeout)
    errors = _process_errors(tool, done)
    if not report.exists():
        return _row(tool, versions, done, {}, errors or [f"wrote no report: {done.tail()}"])
    data = json.loads(report.read_text())
    return _row(tool, versions, done, data["by_provider"], errors + data["errors"])


def _batchwizard_inputs(job: Path, work: Path) -> dict[str, Path]:
    """Its input is each provider's own batch format, one model per OpenAI file."""
    inputs = {"openai": work / "in-openai", "anthropic": work / "in-anthropic"}
    for folder in inputs.values():
        folder.mkdir()
    files: dict[Path, Any] = {}
    for raw in job.open("rb"):
        line = orjson.loads(raw)
        messages = [{"role": "user", "content": line["prompt"]}]
        if _provider(line["model"]) == "anthropic":
            params = {"model": line["model"], "max_tokens": 128, "messages": messages}
            row = {"custom_id": line["custom_id"], "params": params}
            target = inputs["anthropic"] / "requests.jsonl"
        else:
            body = {"model": line["model"], "max_tokens": 128, "messages": messages}
            row = {"custom_id": line["custom_id"], "method": "POST", "url": "/v1/chat/completions", "body": body}
            target = inputs["openai"] / f"{line['model']}.jsonl"
        if target not in files:
            files[target] = target.open("wb")
        files[target].write(orjson.dumps(row) + b"\n")
    for fh in files.values():
        fh.close()
    return inputs


def run_batchwizard(job: Path, work: Path, emu: Emulator, timeout: float) -> dict[str, Any]:
    try:
        bin_dir, versions = ensure_venv("batchwizard")
    except (InstallError, subprocess.CalledProcessError) as exc:
        return _row("batchwizard", {}, None, {}, [f"not installed: {exc}"])
    inputs = _batchwizard_inputs(job, work)
    cmds = [
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
        ]
        for provider, folder in inputs.items()
    ]
    done = measure(cmds, _env(emu, work), [work / f"log-{p}" for p in inputs], timeout)
    answered: dict[str, str] = {}
    for provider in inputs:
        for path in sorted((work / f"out-{provider}").rglob("*.jsonl")):
            for raw in path.open("rb"):
                row = orjson.loads(raw)
                if _answered(row):
                    answered[row["custom_id"]] = provider
    return _row("batchwizard", versions, done, answered, _process_errors("batchwizard", done))


def _answered(row: dict[str, Any]) -> bool:
    """An OpenAI output line or an Anthropic result row that carries an answer."""
    body = (row.get("response") or {}).get("body") or {}
    if body.get("choices"):
        return bool(body["choices"][0].get("message", {}).get("content"))
    result = row.get("result") or {}
    return result.get("type") == "succeeded" and bool((result.get("message") or {}).get("content"))


def _process_errors(tool: str, done: Measured) -> list[str]:
    if done.timed_out:
        return [f"timed out: killed after {done.wall_s:.0f} s; last output: {done.tail()}"]
    if any(code != 0 for code in done.returncodes):
        return [f"exited {done.returncodes}: {done.tail()}"]
    return []


def _row(
    tool: str,
    versions: dict[str, str],
    done: Measured | None,
    answered: dict[str, str] | dict[str, int],
    errors: list[str],
) -> dict[str, Any]:
    """`answered`: custom_id -> provider, or provider -> count."""
    by_provider = {"openai": 0, "anthropic": 0}
    for key, value in answered.items():
        if isinstance(value, int):
            by_provider[key] += value
        else:
            by_provider[value] += 1
    return {
        "tool": tool,
        "version": versions.get(tool.split("/")[0].replace(" (ours)", ""), "-"),
        "versions": versions,
        "wall_s": done.wall_s if done else None,
        "peak_rss_mb": done.peak_rss_mb if done else None,
        "cpu_s": done.cpu_s if done else None,
        "exit_codes": done.returncodes if done else None,
        "results": sum(by_provider.values()),
        "results_by_provider": by_provider,
        "errors": errors,
    }


# --- main ------------------------------------------------------------------------------------


def failed_batches(emu: Emulator) -> list[str]:
    """The emulator's word on each OpenAI batch that failed (a tool may only say 'failed')."""
    out = []
    for batch in emu.get("/openai/v1/batches?limit=100")["data"]:
        if batch["status"] == "failed":
            first = ((batch.get("errors") or {}).get("data") or [{}])[0]
            out.append(f"{batch['id']} ({batch['model']}): {first.get('code')}: {first.get('message')}")
    return out


def _ratio(value: float | None, ours: float | None) -> float | None:
    return round(value / ours, 2) if value and ours else None


def _fmt(value: Any) -> str:
    return "-" if value is None else str(value)


def run_tool(name: str, run: Any, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One run of one tool against a fresh emulator (same state, same stats); always a row."""
    work.mkdir()
    load_before = os.getloadavg()
    with Emulator(args.speed) as emu:
        try:
            row = run(work, emu)
        except Exception as exc:  # the bench itself failed on this tool: still a row, with why
            row = _row(name, {}, None, {}, [f"bench error: {type(exc).__name__}: {exc}"])
        try:
            row["provider_calls"] = calls_made(emu.get("/_emulator/stats"))
            row["failed_batches"] = failed_batches(emu)
        except OSError as exc:
            row["provider_calls"] = f"stats unavailable: {exc}"
    row["load_avg_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    row["every_result_back"] = row["results"] == args.requests
    print(
        f"{row['tool']}: {_fmt(row['wall_s'])} s, {_fmt(row['peak_rss_mb'])} MB, {_fmt(row['cpu_s'])} CPU s, "
        f"{row['results']}/{args.requests} results {row['results_by_provider']}",
        flush=True,
    )
    for error in row["errors"] + row.get("failed_batches", []):
        print(f"    {error}", flush=True)
    return row


def combine(tries: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs of one tool: the medians of wall, memory and CPU; the fewest results; every
    distinct error; each run kept under `runs`."""
    if len(tries) == 1:
        return tries[0]
    row = dict(tries[0])
    for key in ("wall_s", "peak_rss_mb", "cpu_s"):
        values = [t[key] for t in tries if t[key] is not None]
        row[key] = round(statistics.median(values), 2) if values else None
    worst = min(tries, key=lambda t: t["results"])
    row["results"], row["results_by_provider"] = worst["results"], worst["results_by_provider"]
    row["every_result_back"] = all(t["every_result_back"] for t in tries)
    row["errors"] = list(dict.fromkeys(e for t in tries for e in t["errors"]))
    row["runs"] = [
        {k: t.get(k) for k in ("wall_s", "peak_rss_mb", "cpu_s", "results", "load_avg_before_after", "timeline")}
        for t in tries
    ]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--speed", type=float, default=0.2, help="emulator speed factor (the same for every tool)")
    parser.add_argument("--only", action="append", choices=TOOLS, help="run only these tools")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds a tool may take before it is killed")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool (the table shows medians)")
    parser.add_argument("--name", default="peers", help="output name: bench/out/NAME.json")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, outputs)")
    parser.add_argument(
        "--profile", action="store_true", help="sample corthex with py-spy (raw stacks in bench/out/NAME.pyspy.txt)"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="corthex-peers-"))
    job = tmp / "job.jsonl"
    write_job(job, args.requests)
    runs = {
        "corthex": lambda w, e: run_ours(job, w, e, args.timeout, args.name if args.profile else None),
        "batchata": lambda w, e: run_python_peer(
            "batchata", "batchata", "_peer_batchata.py", [str(w / "out"), "one"], job, w, e, args.timeout
        ),
        "batchata/per-model": lambda w, e: run_python_peer(
            "batchata/per-model",
            "batchata",
            "_peer_batchata.py",
            [str(w / "out"), "per-model"],
            job,
            w,
            e,
            args.timeout,
        ),
        "bespokelabs-curator": lambda w, e: run_python_peer(
            "bespokelabs-curator", "bespokelabs-curator", "_peer_curator.py", [str(w), e.url], job, w, e, args.timeout
        ),
        "batchwizard": lambda w, e: run_batchwizard(job, w, e, args.timeout),
    }
    rows = []
    for name, run in runs.items():
        if args.only and name not in args.only:
            continue
        tries = [run_tool(name, run, tmp / f"{name.replace('/', '-')}-{i}", args) for i in range(args.repeat)]
        rows.append(combine(tries))
    print_table(rows, args.requests, args.speed, args.repeat)
    conditions = {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "sequential": True,
        "note": "a shared 2-core machine; see each row's load_avg_before_after",
    }
    data = {
        "requests": args.requests,
        "speed": args.speed,
        "repeat": args.repeat,
        "models": MODELS,
        "conditions": conditions,
        "tools": rows,
    }
    print(f"\nwritten to {save(args.name, data)}")
    if args.keep:
        print(f"work directory kept: {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def print_table(rows: list[dict[str, Any]], requests: int, speed: float, repeat: int) -> None:
    """Adds the ratios to ours to each row, then prints the table and every row's errors."""
    ours = next((r for r in rows if r["tool"] == "corthex (ours)"), None)
    for row in rows:
        if ours is not None:
            row["wall_vs_ours"] = _ratio(row["wall_s"], ours["wall_s"])
            row["rss_vs_ours"] = _ratio(row["peak_rss_mb"], ours["peak_rss_mb"])
            row["cpu_vs_ours"] = _ratio(row["cpu_s"], ours["cpu_s"])
    header = (
        f"{'tool':<20} {'version':<8} {'wall s':>8} {'peak MB':>8} {'CPU s':>8} "
        f"{'results':>8} {'all back':>8} {'wall x':>7} {'mem x':>6}"
    )
    print(
        f"\npeers: {requests} requests (OpenAI + Anthropic), emulator speed {speed}, one tool at a time"
        + (f", medians of {repeat} runs" if repeat > 1 else "")
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['tool']:<20} {r['version']:<8} {_fmt(r['wall_s']):>8} {_fmt(r['peak_rss_mb']):>8} "
            f"{_fmt(r['cpu_s']):>8} {r['results']:>8} {'yes' if r['every_result_back'] else 'NO':>8} "
            f"{_fmt(r.get('wall_vs_ours')):>7} {_fmt(r.get('rss_vs_ours')):>6}"
        )
    for r in rows:
        for error in r["errors"] + r.get("failed_batches", []):
            print(f"  {r['tool']}: {error}")


if __name__ == "__main__":
    main()
