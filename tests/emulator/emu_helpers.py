"""Helpers for the emulator tests (a distinct module name: tests/ has no packages)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from google import genai

from corthex.emulator import EmulatorServer


def gemini_client(emulator: EmulatorServer, version: str) -> genai.Client:
    env = emulator.env()
    return genai.Client(
        api_key=env["GEMINI_API_KEY"],
        http_options={"base_url": env["GOOGLE_GEMINI_BASE_URL"], "api_version": version},
    )


def wait_for(fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 10) -> Any:
    """Poll `fetch` until `done(result)`."""
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still not done: {result!r}")
        time.sleep(0.01)


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
