"""`corthex serve` as a real process for the API and browser tests: its own port, a fresh
SQLite file, the emulator's variables, fast polling, and its log captured to a file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from pg_cluster import free_port

START_LIMIT_S = 60.0
WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LWZvci10ZXN0cy1vbmx5LTEyMzQ1Njc4OTA="  # base64 of a test-only secret
FAST = {
    "CORTHEX_POLL_INITIAL": "0.05",
    "CORTHEX_POLL_MAX": "0.3",
    "CORTHEX_IDLE_RECHECK": "0.2",
    "CORTHEX_SUBMIT_BACKOFF": "0.05",
    "CORTHEX_PROVIDER_MAX_RETRIES": "0",
}


class ServeProcess:
    """`with ServeProcess(tmp, emulator_env, token=…) as server: httpx.get(server.url + …)`."""

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
            **FAST,
            "CORTHEX_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'serve.db'}",
            "CORTHEX_DATA_DIR": str(workdir / "data"),
            "CORTHEX_ARCHIVE_DIR": str(self.archive_dir),
            "CORTHEX_LOG_LEVEL": "INFO",
            **extra_env,
        }
        for key in ("CORTHEX_API_TOKEN", "TELEGRAM_BOT_TOKEN", "OPENAI_WEBHOOK_SECRET"):
            if key not in extra_env:
                self.env.pop(key, None)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def start(self) -> ServeProcess:
        self._log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "corthex", "serve", "--port", str(self.port)],
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
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"corthex serve did not answer in {START_LIMIT_S}s:\n{self.log()}")

    def stop(self) -> int | None:
        code = None
        if self._proc is not None:
            self._proc.terminate()
            try:
                code = self._proc.wait(20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                code = self._proc.wait(10)
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
