"""Servers that speak the OpenAI Files + Batches API, each emulated as a profile of the OpenAI
emulator (issue 15) with its own state (its files and batches are its own, as on a separate host)
and its own rules, as `docs/providers.md` records them:

- OpenAI-compatible servers: `/compat/{name}/openai/v1/...` (GROQ_BASE_URL=…/compat/groq/openai/v1);
- Azure OpenAI: `/azure/openai/v1/...` (the v1 API) and `/azure/openai/{files,batches,models}…?api-version=…`
  (the form the SDK's AzureOpenAI builds), AZURE_OPENAI_ENDPOINT=…/azure.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from corthex.emulator.state import EmulatorState

PREFIX = "/compat/"
AZURE_PREFIX = "/azure/"
#: the api-version the emulator prints (OPENAI_API_VERSION): Azure's batch how-to's Python samples use it
AZURE_API_VERSION = "2025-04-01-preview"

#: each shipped server's differences from OpenAI's rules (src/corthex/providers/profiles/compatible.toml)
SERVERS: dict[str, dict[str, Any]] = {
    "groq": {"openai_file_max_bytes": 100_000_000, "openai_completion_windows": ("24h",)},
    "deepinfra": {"openai_completion_windows": ("24h",)},
}
#: Azure OpenAI's (docs/wire/platforms.md §1): 100,000 requests and 200 MB a file, "24h" only
AZURE: dict[str, Any] = {
    "openai_file_max_bytes": 200_000_000,
    "openai_max_tasks": 100_000,
    "openai_completion_windows": ("24h",),
    "openai_flavor": "azure",
}
#: every profile's rules, by the name its state is kept under
PROFILES: dict[str, dict[str, Any]] = {**SERVERS, "azure": AZURE}


def compat_env(url: str) -> dict[str, str]:
    """The variables that point each shipped server's profile, and Azure's, at the emulator on `url`."""
    env = {}
    for name in SERVERS:
        env[f"{name.upper()}_BASE_URL"] = f"{url}{PREFIX}{name}/openai/v1"
        env[f"{name.upper()}_API_KEY"] = f"emulator-{name}-key"
    env["AZURE_OPENAI_ENDPOINT"] = f"{url}{AZURE_PREFIX.rstrip('/')}"
    env["AZURE_OPENAI_API_KEY"] = "emulator-azure-key"
    env["OPENAI_API_VERSION"] = AZURE_API_VERSION
    return env


def _route(path: str) -> tuple[str, str] | None:
    """(profile, the OpenAI emulator's path) for a path one of the profiles serves, else None."""
    if path.startswith(PREFIX):
        name, _, rest = path[len(PREFIX) :].partition("/")
        return (name, "/" + rest) if name in SERVERS and rest.startswith("openai/") else None
    if path.startswith(AZURE_PREFIX + "openai/"):
        rest = path[len(AZURE_PREFIX + "openai/") :].removeprefix("v1/")  # both forms: the same routes
        if rest.startswith("deployments/"):  # the api-version form's realtime calls name the deployment
            rest = rest.split("/", 2)[2] if rest.count("/") >= 2 else rest
        return "azure", "/openai/v1/" + rest
    return None


class CompatServers:
    """ASGI middleware: a request under a profile's prefix is served by the OpenAI routes with
    that profile's state (made on first use); any other request passes untouched."""

    def __init__(self, app: ASGIApp, main: EmulatorState) -> None:
        self.app, self._main = app, main
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        found = _route(path) if path else None
        if found is not None:
            name, rest = found
            # the routes match on `path`; raw_path follows it (our ids need no percent-encoding)
            scope = dict(scope, path=rest, raw_path=rest.encode())
            state = dict(scope.get("state") or {}, emulator_state=self._state(name), sent_path=path)
            scope["state"] = state
        await self.app(scope, receive, send)

    def _state(self, name: str) -> EmulatorState:
        states = self._main.compat  # kept on the main state: closed and reset with it
        with self._lock:
            if name not in states:
                config = self._main.config
                data_dir = None if config.data_dir is None else config.data_dir / "compat" / name
                states[name] = EmulatorState(dataclasses.replace(config, data_dir=data_dir, **PROFILES[name]))
            return states[name]
