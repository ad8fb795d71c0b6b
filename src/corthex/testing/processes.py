"""`corthex serve` and `corthex emulator` as real processes, each on a free port, its log kept in
a file (shown when it fails to start)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx

from corthex.emulator.server import sdk_env
from corthex.testing.settings import fast_env

START_LIMIT_S = 60.0
CORTHEX = [sys.executable, "-m", "corthex"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeProcess:
    """`with ServeProcess(tmp, emulator.env(), CORTHEX_API_TOKEN=…) as server: httpx.get(server.url + …)`:
    a fresh SQLite file under `workdir`, fast polling, the emulator's variables."""

    def __init__(self, workdir: Path, emulator_env: dict[str, str], **extra_env: str) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.log_path = workdir / "serve.log"
        self.archive_dir = workdir / "archive"
        self.env = {
            **os.environ,
            **emulator_env,
            **fast_env(),
            "CORTHEX_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'serve.db'}",
            "CORTHEX_DATA_DIR": str(workdir / "data"),
            "CORTHEX_ARCHIVE_DIR": str(self.archive_dir),
            "CORTHEX_LOG_LEVEL": "INFO",
            **extra_env,
        }
        for key in ("CORTHEX_API_TOKEN", "TELEGRAM_BOT_TOKEN", "OPENAI_WEBHOOK_SECRET"):
            if key not in extra_env:  # the caller's own environment never leaks a secret in
                self.env.pop(key, None)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> ServeProcess:
        self._log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            [*CORTHEX, "serve", "--port", str(self.port)],
            env=self.env,
            cwd=self.workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_LIMIT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self.stop()
                raise RuntimeError(f"corthex serve exited with {code}:\n{self.log()}")
            if _answers(self.url + "/healthz"):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"corthex serve did not answer in {START_LIMIT_S}s:\n{self.log()}")

    def stop(self) -> int | None:
        code = None
        if self._proc is not None:
            code = _end(self._proc, 20)
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class EmulatorProcess:
    """`corthex emulator --port P --speed S` in its own process (its record of what was created
    outlives a killed worker), driven by its control API."""

    def __init__(self, log: Path, speed: float = 0.05) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("w")
        self.proc = subprocess.Popen(
            [*CORTHEX, "emulator", "--port", str(self.port), "--speed", str(speed), "--no-s3"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.http = httpx.Client(base_url=self.url, timeout=10)
        deadline = time.monotonic() + 30
        while not _answers(self.url + "/_emulator/stats"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start: {log.read_text()}")
            time.sleep(0.05)

    def env(self) -> dict[str, str]:
        return sdk_env(self.url)

    def stats(self) -> dict[str, Any]:
        return self.http.get("/_emulator/stats").raise_for_status().json()  # type: ignore[no-any-return]

    def reset(self) -> None:
        self.http.post("/_emulator/reset").raise_for_status()

    def add_fault(self, **fault: Any) -> None:
        self.http.post("/_emulator/faults", json=fault).raise_for_status()

    def clear_faults(self) -> None:
        self.http.delete("/_emulator/faults").raise_for_status()

    def stop(self) -> None:
        self.http.close()
        _end(self.proc, 10)
        self._log.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _end(proc: subprocess.Popen[Any], grace: float) -> int:
    """SIGTERM, then SIGKILL after `grace` seconds; the exit code."""
    proc.terminate()
    try:
        return proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(10)
