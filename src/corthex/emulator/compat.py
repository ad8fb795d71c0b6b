"""OpenAI-compatible batch servers, each emulated as a profile of the OpenAI emulator (issue 15):
`/compat/{name}/openai/v1/...` is the OpenAI Files + Batches API with the server's own state
(its files and batches are its own, as on a separate host) and its own rules (file size,
completion windows), as `docs/providers.md` records them.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from corthex.emulator.state import EmulatorState

PREFIX = "/compat/"

#: each shipped server's differences from OpenAI's rules (src/corthex/providers/profiles/compatible.toml)
SERVERS: dict[str, dict[str, Any]] = {
    "groq": {"openai_file_max_bytes": 100_000_000, "openai_completion_windows": ("24h",)},
    "deepinfra": {"openai_completion_windows": ("24h",)},
}


def compat_env(url: str) -> dict[str, str]:
    """The variables that point each shipped server's profile at the emulator on `url`."""
    env = {}
    for name in SERVERS:
        env[f"{name.upper()}_BASE_URL"] = f"{url}{PREFIX}{name}/openai/v1"
        env[f"{name.upper()}_API_KEY"] = f"emulator-{name}-key"
    return env


class CompatServers:
    """ASGI middleware: a request under `/compat/{name}/openai/` is served by the OpenAI routes
    with that server's state (made on first use); any other request passes untouched."""

    def __init__(self, app: ASGIApp, main: EmulatorState) -> None:
        self.app, self._main = app, main
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(PREFIX):
            name, _, rest = path[len(PREFIX) :].partition("/")
            if name in SERVERS and rest.startswith("openai/"):
                scope = dict(scope, path="/" + rest, raw_path=("/" + rest).encode())
                scope["state"] = dict(scope.get("state") or {}, emulator_state=self._state(name))
        await self.app(scope, receive, send)

    def _state(self, name: str) -> EmulatorState:
        states = self._main.compat  # kept on the main state: closed and reset with it
        with self._lock:
            if name not in states:
                config = self._main.config
                data_dir = None if config.data_dir is None else config.data_dir / "compat" / name
                states[name] = EmulatorState(dataclasses.replace(config, data_dir=data_dir, **SERVERS[name]))
            return states[name]
