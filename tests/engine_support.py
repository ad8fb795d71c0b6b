"""Test data for the engine's tests: a job mixing every provider (settings: `corthex.testing.fast_settings`)."""

from __future__ import annotations

MODELS = ["gpt-5-mini", "gpt-5-nano", "claude-sonnet-4-6", "claude-haiku-4-5", "gemini-2.5-flash", "gemini-2.5-pro"]


def mixed(n: int, prefix: str = "q") -> list[dict[str, object]]:
    return [
        {
            "custom_id": f"{prefix}{i}",
            "model": MODELS[i % len(MODELS)],
            "prompt": f"question {i}",
            "system": "be brief",
            "max_output_tokens": 64,
        }
        for i in range(n)
    ]
