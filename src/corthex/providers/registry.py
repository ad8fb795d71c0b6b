"""Filling the provider registry (`corthex.domain.registry`) at start-up: the plugins installed
under the `corthex.providers` entry point group (the three built-ins are declared there too),
the OpenAI-compatible servers shipped as configuration, and the user's own providers file
(`CORTHEX_PROVIDERS_FILE`): servers and the route table (model pattern → provider).

A providers file, TOML:

    [providers.mylab]                  # an OpenAI-compatible batch server
    base_url = "http://gpu-box:8000/v1"
    key_variable = "MYLAB_API_KEY"
    discount = 0.5                     # optional: the batch discount (default 0.5)
    file_purpose = "batch"             # optional
    completion_window = "24h"          # optional
    max_requests = 50000               # optional: per batch
    max_bytes = 200000000              # optional: per batch file
    models = ["llama-"]                # optional: model-id prefixes it owns

    [routes]                           # optional: first match wins over the owners' prefixes
    "gpt-5*" = "mylab"
    "gpt-4o*" = ["openai", "mylab"]    # a fallback chain: retryable failures left go to the next
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from corthex.domain.registry import (
    ProviderLimits,
    ProviderName,
    ProviderProfile,
    UnknownProvider,
    WireFamily,
    is_known,
    profile_of,
    profiles,
    register,
    set_routes,
    unregister,
)
from corthex.errors import UsageError

ENTRY_POINT_GROUP = "corthex.providers"
_SHIPPED = "profiles/compatible.toml"
_SERVER_FIELDS = frozenset(
    {"title", "base_url", "key_variable", "base_url_variable", "discount", "file_purpose", "completion_window"}
    | {"max_requests", "max_bytes", "models", "price_provider"}
)
_OPENAI_MAX_REQUESTS, _OPENAI_MAX_BYTES = 50_000, 200_000_000


@dataclass(frozen=True)
class Loaded:
    """What start-up registered, for `corthex providers` and `corthex doctor`."""

    plugins: list[str]  #: entry point names
    problems: list[str]  #: plugins that failed to load, each in one line (the rest still load)
    servers: list[str]  #: configured OpenAI-compatible servers
    routes: list[tuple[str, str | list[str]]]


_loaded: dict[None, Loaded] = {}  #: the plugins, loaded once a process


def load_providers(providers_file: Path | None = None, *, force: bool = False) -> Loaded:
    """Register every provider this process can use: the plugins (once a process; `force` loads
    them again), the shipped servers, and `providers_file`'s servers and routes — read at each
    call, replacing an earlier file's (two engines of one process may name different files).

    :raises UsageError: the providers file is missing or wrong, naming the file and the field."""
    if force or not _loaded:
        _loaded[None] = Loaded(*_load_entry_points(), servers=[], routes=[])
    plugins, problems = _loaded[None].plugins, _loaded[None].problems
    data = _read_file(providers_file) if providers_file is not None else {}
    _forget_configured()
    servers = _register_servers(_shipped(), "shipped")
    routes: list[tuple[str, str | list[str]]] = []
    if providers_file is not None:
        servers += _register_servers(data.get("providers", {}), str(providers_file))
        routes = _routes(data.get("routes", {}), providers_file)
    try:
        set_routes(routes)  # a file without routes clears an earlier file's
    except ValueError as exc:
        raise UsageError(f"{providers_file}: [routes] {exc}") from None
    return Loaded(plugins, problems, servers=servers, routes=routes)


def _forget_configured() -> None:
    """Unregister the servers a providers file (or the shipped one) declared: read again now."""
    for profile in profiles():
        if not profile.builtin and not profile.source.startswith("plugin"):
            unregister(profile.name)


def _load_entry_points() -> tuple[list[str], list[str]]:
    names, problems = [], []
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            for profile in _profiles_of(entry.load()):
                register(profile if profile.source else _with_source(profile, f"plugin {entry.value}"))
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not stop the others
            problems.append(f"provider plugin {entry.name!r} ({entry.value}) failed to load: {exc}")
            continue
        names.append(entry.name)
    return names, problems


def _profiles_of(value: Any) -> Iterable[ProviderProfile]:
    """An entry point names a profile, a list of them, or a function returning either."""
    if callable(value) and not isinstance(value, ProviderProfile):
        value = value()
    items = [value] if isinstance(value, ProviderProfile) else list(value)
    for item in items:
        if not isinstance(item, ProviderProfile):
            raise TypeError(f"expected a ProviderProfile, got {type(item).__name__}")
    return items


def _with_source(profile: ProviderProfile, source: str) -> ProviderProfile:
    return replace(profile, source=source)


def _shipped() -> dict[str, Any]:
    text = importlib.resources.files("corthex.providers").joinpath(_SHIPPED).read_text(encoding="utf-8")
    servers: dict[str, Any] = tomllib.loads(text)["providers"]
    return servers


def _read_file(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"CORTHEX_PROVIDERS_FILE={path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML ({exc})") from None


def _register_servers(servers: Any, source: str) -> list[str]:
    if not isinstance(servers, dict):
        raise UsageError(f"{source}: [providers] must be a table of servers")
    names = []
    for name, fields in servers.items():
        register(compatible_profile(name, fields, source))
        names.append(name)
    return names


def compatible_profile(name: str, fields: Any, source: str) -> ProviderProfile:
    """An OpenAI-compatible server's profile from its table in a providers file.

    :raises UsageError: naming the file, the server and the field."""
    where = f"{source}: [providers.{name}]"
    if not isinstance(fields, dict):
        raise UsageError(f"{where} must be a table")
    unknown = sorted(set(fields) - _SERVER_FIELDS)
    if unknown:
        raise UsageError(f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(sorted(_SERVER_FIELDS))})")
    if is_known(name) and _is_builtin(name):
        raise UsageError(f"{where}: {name!r} is a built-in provider's name; choose another")
    for required in ("base_url", "key_variable"):
        if not isinstance(fields.get(required), str) or not fields[required]:
            raise UsageError(f"{where}: '{required}' is required (a string)")
    discount = fields.get("discount", 0.5)
    if isinstance(discount, bool) or not isinstance(discount, int | float) or not 0 <= discount < 1:
        raise UsageError(f"{where}: 'discount' must be a number from 0 to below 1 (0.5 is half price)")
    return ProviderProfile(
        name=ProviderName(name),
        family=WireFamily.OPENAI,
        title=str(fields.get("title") or name),
        limits=ProviderLimits(
            _positive(fields, "max_requests", _OPENAI_MAX_REQUESTS, where),
            _positive(fields, "max_bytes", _OPENAI_MAX_BYTES, where),
            True,  # the OpenAI Batch API's rule: one model per file
            _positive(fields, "max_bytes", _OPENAI_MAX_BYTES, where),
        ),
        adapter="corthex.providers.openai:OpenAIProvider",
        wire_module="corthex.providers.wire.openai",
        model_prefixes=tuple(_strings(fields, "models", where)),
        discount=float(discount),
        price_provider=fields.get("price_provider"),
        key_variables=(fields["key_variable"],),
        base_url_variable=fields.get("base_url_variable"),
        base_url=fields["base_url"].rstrip("/"),
        options={
            "file_purpose": str(fields.get("file_purpose", "batch")),
            "completion_window": str(fields.get("completion_window", "24h")),
            # poll open batches with one list call per page: only a server whose list shows each
            # batch as retrieve does (off unless said: docs/providers.md #26)
            "list_polling": str(fields.get("list_polling", "no")),
        },
        source=source,
    )


def _is_builtin(name: str) -> bool:
    return profile_of(name).builtin


def _positive(fields: dict[str, Any], name: str, default: int, where: str) -> int:
    value = fields.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{where}: '{name}' must be a positive integer")
    return value


def _strings(fields: dict[str, Any], name: str, where: str) -> list[str]:
    value = fields.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise UsageError(f"{where}: '{name}' must be a list of strings")
    return value


def _routes(table: Any, path: Path) -> list[tuple[str, str | list[str]]]:
    """`pattern = "provider"`, or `pattern = ["provider", "fallback", …]`: a fallback chain."""
    if not isinstance(table, dict) or not all(_is_chain(v) for v in table.values()):
        raise UsageError(f"{path}: [routes] must map model patterns to a provider name or a list of them")
    routes = list(table.items())
    for pattern, chain in routes:
        for provider in [chain] if isinstance(chain, str) else chain:
            if not is_known(provider):
                raise UsageError(f"{path}: [routes] {pattern!r}: {UnknownProvider(provider)}")
    return routes


def _is_chain(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value)
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v for v in value)
