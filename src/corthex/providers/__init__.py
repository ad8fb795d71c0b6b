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

from corthex.domain.registry import ProviderName, is_known, profile_of, provider_names
from corthex.errors import UsageError
from corthex.providers.base import Provider, WireItem
from corthex.providers.vocabulary import batch_state
from corthex.providers.wire.native import native_size

__all__ = [
    "AnthropicProvider",
    "GeminiProvider",
    "MistralProvider",
    "OpenAIProvider",
    "Provider",
    "WireItem",
    "batch_state",
    "build_providers",
    "wire_size_of",
]

#: the built-in adapters' class names, importable from here (`from corthex.providers import OpenAIProvider`)
_BUILTIN_CLASSES = {
    "OpenAIProvider": "openai",
    "AnthropicProvider": "anthropic",
    "GeminiProvider": "gemini",
    "MistralProvider": "mistral",
}


def _adapter_class(name: ProviderName) -> Callable[..., Provider]:
    """The provider's adapter class (its profile names it), as its constructor: each takes
    (workdir, client=None, *, profile, **options)."""
    module, _, cls = profile_of(name).adapter.partition(":")
    adapter: Callable[..., Provider] = getattr(importlib.import_module(module), cls)
    return adapter


def wire_size_of(provider: ProviderName, item: WireItem) -> int:
    """The bytes `item` takes in `provider`'s batch wire form, envelope of its line or entry included
    (each family's pure `wire_size`): what batches are planned on."""
    profile = profile_of(provider)
    if item.request.native is not None:
        return native_size(profile.family, item)
    module = importlib.import_module(profile.wire_module)  # no SDK: planning stays light
    size: int = module.wire_size(item)
    return size


def preload(environ: Mapping[str, str]) -> None:
    """Import the adapters (and their SDKs) of the providers `environ` gives a key now: for
    long-lived workers, off the first job's path. The others' SDKs (some 50-80 MB each) load only
    if a job names them, and fail then for want of a key."""
    from corthex.providers.setup import read_setup

    for name in provider_names():
        if read_setup(name, environ).key_variable is not None:
            _adapter_class(name)


def __getattr__(attr: str) -> Any:
    if attr in _BUILTIN_CLASSES:
        return _adapter_class(ProviderName(_BUILTIN_CLASSES[attr]))
    raise AttributeError(attr)


class _Providers(dict[ProviderName, Provider]):
    """Every registered provider's adapter, each built on first lookup."""

    def __init__(self, workdir: Path, options: dict[str, Any]) -> None:
        super().__init__()
        self._workdir, self._options = workdir, options

    def __missing__(self, name: ProviderName) -> Provider:
        if not is_known(name):
            raise KeyError(name)
        profile = profile_of(name)
        adapter = _adapter_class(profile.name)(self._workdir / profile.name.value, profile=profile, **self._options)
        self[profile.name] = adapter
        return adapter


#: the variables the SDKs read their endpoint from, with what a right value looks like
BASE_URL_VARIABLES = {
    "OPENAI_BASE_URL": "https://api.openai.com/v1",
    "ANTHROPIC_BASE_URL": "https://api.anthropic.com",
    "GOOGLE_GEMINI_BASE_URL": "https://generativelanguage.googleapis.com",
    "MISTRAL_BASE_URL": "https://api.mistral.ai",
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
    """Every registered provider's adapter, configured from the environment (keys, base URLs, API version).

    Clients are built on first use, so a provider without a key fails only when called, with a
    non-retryable ProviderError. Each adapter keeps its temporary files under `workdir/<name>`.

    :raises UsageError: a base URL in the environment is malformed.
    """
    check_base_urls(os.environ)
    return _Providers(workdir, {"max_retries": max_retries, "timeout": timeout})
