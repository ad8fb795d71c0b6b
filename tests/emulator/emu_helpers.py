"""Helpers for the emulator tests (a distinct module name: tests/ has no packages)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from google import genai

from corthex.emulator import EmulatorServer
from corthex.testing import wait_until_sync


def gemini_client(emulator: EmulatorServer, version: str) -> genai.Client:
    env = emulator.env()
    return genai.Client(
        api_key=env["GEMINI_API_KEY"],
        http_options={"base_url": env["GOOGLE_GEMINI_BASE_URL"], "api_version": version},
    )


def wait_for(fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 10) -> Any:
    """Poll `fetch` until `done(result)`; returns the result."""

    def check() -> Any:
        result = fetch()
        return result if done(result) else None

    return wait_until_sync(check, within=timeout, what="the batch to be done", every=0.01)


def chat_line(custom_id: str, text: str, model: str = "gpt-4o-mini", **body: Any) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": model, "messages": [{"role": "user", "content": text}], **body},
    }


def jsonl(lines: Iterable[Any]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def parse_jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]
