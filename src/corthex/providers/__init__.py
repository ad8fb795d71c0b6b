"""Provider adapters over the official SDKs: OpenAI, Anthropic and Gemini Batch APIs.

The SDKs take over a second to import, so adapters are imported (and built) only when a
command first needs one: `corthex status` on an idle database never loads them.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from corthex.domain.requests import ProviderName
from corthex.errors import UsageError
from corthex.providers.base import Provider, WireItem

__all__ = [
    "AnthropicProvider",
    "GeminiProvider",
    "OpenAIProvider",
    "Provider",
    "WireItem",
    "build_providers",
    "wire_size_of",
]

_ADAPTERS = {
    ProviderName.OPENAI: ("corthex.providers.openai", "OpenAIProvider"),
    ProviderName.ANTHROPIC: ("corthex.providers.anthropic", "AnthropicProvider"),
    ProviderName.GEMINI: ("corthex.providers.gemini", "GeminiProvider"),
}


def _adapter_class(name: ProviderName) -> Callable[..., Provider]:
    """The adapter class, as its constructor: each takes (workdir, client=None, **options)."""
    module, cls = _ADAPTERS[name]
    adapter: Callable[..., Provider] = getattr(importlib.import_module(module), cls)
    return adapter


def wire_size_of(provider: ProviderName, item: WireItem) -> int:
    """The bytes `item` takes in `provider`'s batch wire form, envelope of its line or entry included
    (each adapter module's pure `wire_size`): what batches are planned on."""
    module = importlib.import_module(f"corthex.providers.wire.{provider.value}")  # no SDK: planning stays light
    size: int = module.wire_size(item)
    return size


def preload() -> None:
    """Import every adapter (and its SDK) now: for long-lived workers, off the first job's path."""
    for name in _ADAPTERS:
        _adapter_class(name)


def __getattr__(attr: str) -> Any:
    for name, (_, cls) in _ADAPTERS.items():
        if cls == attr:
            return _adapter_class(name)
    raise AttributeError(attr)


class _Providers(dict[ProviderName, Provider]):
    """The three adapters, each built on first lookup."""

    def __init__(self, workdir: Path, options: dict[str, Any]) -> None:
        super().__init__()
        self._workdir, self._options = workdir, options

    def __missing__(self, name: ProviderName) -> Provider:
        if name not in _ADAPTERS:
            raise KeyError(name)
        provider = self[name] = _adapter_class(name)(self._workdir / name.value, **self._options)
        return provider


#: the variables the SDKs read their endpoint from, with what a right value looks like
BASE_URL_VARIABLES = {
    "OPENAI_BASE_URL": "https://api.openai.com/v1",
    "ANTHROPIC_BASE_URL": "https://api.anthropic.com",
    "GOOGLE_GEMINI_BASE_URL": "https://generativelanguage.googleapis.com",
}


def check_base_urls(environ: Mapping[str, str]) -> None:
    """Refuse a malformed endpoint before anything is stored (a job recorded first would be
    left with its batches stuck as intents).

    :raises UsageError: naming the variable and a right value."""
    for variable, example in BASE_URL_VARIABLES.items():
        value = environ.get(variable)
        if value and not _is_http_url(value):
            raise UsageError(f"{variable}={value!r} is not an http(s) URL: e.g. {variable}={example}")


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def build_providers(workdir: Path, *, max_retries: int = 2, timeout: float = 60.0) -> dict[ProviderName, Provider]:
    """The three adapters, configured from the environment (keys, base URLs, API version).

    Clients are built on first use, so a provider without a key fails only when called, with a
    non-retryable ProviderError. Each adapter keeps its temporary files under `workdir/<name>`.

    :raises UsageError: a base URL in the environment is malformed.
    """
    check_base_urls(os.environ)
    return _Providers(workdir, {"max_retries": max_retries, "timeout": timeout})
