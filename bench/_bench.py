"""Helpers the bench scripts share: ports, the emulator as its own process, request files,
emulator stats, child processes measured with wait4 (exact peak RSS and CPU time), output."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

# re-exported for the bench scripts: the one environment that points the SDKs at an emulator
from corthex.emulator.server import sdk_env as sdk_env

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
PYTHON = sys.executable

#: OpenAI and Gemini split over two models each (one batch per model); Anthropic mixes models.
SCALE_MODELS = (
    "gpt-5-mini",
    "claude-sonnet-4-6",
    "gemini-2.5-flash",
    "gpt-5-nano",
    "claude-haiku-4-5",
    "gemini-2.5-flash-lite",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_requests(path: Path, n: int, models: tuple[str, ...] = SCALE_MODELS, prefix: str = "bench") -> None:
    with path.open("wb") as fh:
        for i in range(n):
            line = {
                "custom_id": f"{prefix}-{i}",
                "model": models[i % len(models)],
                "max_output_tokens": 128,
                "system": "You are terse.",
                "prompt": f"Summarise item {i} of the benchmark in one line.",
            }
            fh.write(orjson.dumps(line) + b"\n")


class Emulator:
    """`python -m corthex emulator` in its own process."""

    def __init__(self, speed: float, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [PYTHON, "-m", "corthex", "emulator", "--port", str(self.port), "--speed", str(speed)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError("emulator did not start")

    def get(self, path: str) -> Any:
        req = urllib.request.Request(self.url + path, headers={"authorization": "Bearer bench"})  # noqa: S310
        with urllib.request.urlopen(req, timeout=60) as response:  # noqa: S310 - loopback only
            return json.loads(response.read())

    def post(self, path: str, body: Any) -> Any:
        req = urllib.request.Request(  # noqa: S310 - loopback only
            self.url + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=60) as response:  # noqa: S310
            return json.loads(response.read())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def calls_made(stats: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {p: stats[p]["calls"] for p in ("openai", "anthropic", "gemini")}


def processing_seconds(config: dict[str, Any], provider: str, n: int) -> float:
    """The emulator's configured time for one batch of `n` requests, creation to end
    (src/corthex/emulator/config.py: OpenAI validates and finalizes, Gemini validates)."""
    validate = config["validate_seconds"] if provider in ("openai", "gemini") else 0.0
    finalize = config["finalize_seconds"] if provider == "openai" else 0.0
    return (validate + config["base_seconds"] + config["per_request_seconds"] * n + finalize) * config["speed"]


@dataclass
class Finished:
    returncode: int
    peak_rss_mb: float
    cpu_s: float
    stdout: str
    stderr: str


class RssTrace:
    """Samples a process's RSS every `period` seconds in a thread: when the peak happens. Also
    its CPU time (user + system), to tell its own cost from waiting on a busy machine."""

    def __init__(self, pid: int, period: float = 0.05) -> None:
        self.pid, self.period = pid, period
        self.samples: list[tuple[float, float]] = []
        self.cpu: list[tuple[float, float]] = []  # (time, CPU seconds used so far)
        self.max_threads = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        status, stat = Path(f"/proc/{self.pid}/status"), Path(f"/proc/{self.pid}/stat")
        tick = os.sysconf("SC_CLK_TCK")
        while not self._stop.is_set():
            try:
                text = status.read_text()
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                return
            self.cpu.append((time.time(), (int(fields[11]) + int(fields[12])) / tick))  # utime + stime
            for line in text.splitlines():
                if line.startswith("VmRSS:"):
                    self.samples.append((time.time(), int(line.split()[1]) / 1024))
                elif line.startswith("Threads:"):
                    self.max_threads = max(self.max_threads, int(line.split()[1]))
            self._stop.wait(self.period)

    def stop(self) -> list[tuple[float, float]]:
        self._stop.set()
        self._thread.join()
        return self.samples

    def cpu_at(self, moment: float) -> float:
        """CPU seconds used by `moment` (the last sample at or before it)."""
        used = 0.0
        for at, cpu in self.cpu:
            if at > moment:
                break
            used = cpu
        return used


class Child:
    """A child process whose exact peak RSS and CPU time come from wait4 (its own rusage)."""

    def __init__(self, cmd: list[str], env: dict[str, str], *, log: Path | None = None) -> None:
        self._log = log
        self._err = log.open("wb") if log else subprocess.PIPE
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=self._err)
        self.pid = self.proc.pid

    def interrupt(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGINT)

    def wait(self, timeout: float = 600) -> Finished:
        deadline = time.time() + timeout
        while True:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                break
            if time.time() > deadline:
                self.proc.kill()
                pid, status, usage = os.wait4(self.pid, 0)
                break
            time.sleep(0.02)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        out = self.proc.stdout.read().decode() if self.proc.stdout else ""
        if self._log is not None:
            assert not isinstance(self._err, int)
            self._err.close()
            err = self._log.read_text(errors="replace")
        else:
            err = self.proc.stderr.read().decode() if self.proc.stderr else ""
        return Finished(
            self.proc.returncode,
            round(usage.ru_maxrss / 1024, 1),
            round(usage.ru_utime + usage.ru_stime, 2),
            out,
            err,
        )


def print_table(title: str, rows: list[tuple[str, Any]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n{title}")
    print("-" * (width + 30))
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def save(name: str, data: dict[str, Any]) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path
