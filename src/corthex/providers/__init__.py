"""Provider adapters over the official SDKs: OpenAI, Anthropic and Gemini Batch APIs."""

from __future__ import annotations

from pathlib import Path

from corthex.domain.requests import ProviderName
from corthex.providers.anthropic import AnthropicProvider
from corthex.providers.base import Provider, WireItem
from corthex.providers.gemini import GeminiProvider
from corthex.providers.openai import OpenAIProvider

__all__ = [
    "AnthropicProvider",
    "GeminiProvider",
    "OpenAIProvider",
    "Provider",
    "WireItem",
    "build_providers",
]


def build_providers(workdir: Path, *, max_retries: int = 2, timeout: float = 60.0) -> dict[ProviderName, Provider]:
    """The three adapters, configured from the environment (keys, base URLs, API version).

    Clients are built on first use, so a provider without a key fails only when called, with a
    non-retryable ProviderError. Each adapter keeps its temporary files under `workdir/<name>`.
    """
    options = {"max_retries": max_retries, "timeout": timeout}
    return {
        ProviderName.OPENAI: OpenAIProvider(workdir / "openai", **options),
        ProviderName.ANTHROPIC: AnthropicProvider(workdir / "anthropic", **options),
        ProviderName.GEMINI: GeminiProvider(workdir / "gemini", **options),
    }
