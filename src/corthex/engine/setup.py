"""Setup checks: before anything is stored, each provider the requests need must have its key,
its endpoint variable spelt right and its endpoint answering (providers/setup.py); `corthex
doctor` shows the same for every provider, with the database and the versions."""

from __future__ import annotations

import importlib.metadata
import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from corthex.domain.org import Org
from corthex.domain.registry import ProviderProfile, profiles, provider_for_model, routes
from corthex.domain.requests import ProviderName
from corthex.errors import SetupError
from corthex.providers.registry import Loaded
from corthex.providers.setup import ProviderSetup, check_reachable, key_variables, read_setup, unserved_models

_VERSIONED = ("corthex-batch", "openai", "anthropic", "google-genai", "sqlalchemy")


@dataclass
class Need:
    """What a submission needs of one provider: how many requests, for which models."""

    requests: int = 0
    models: set[str] = field(default_factory=set)  #: every distinct model (Azure checks each has a deployment)
    first: str | None = None  #: the first request's custom_id: where the user finds the line

    def add(self, model: str, custom_id: str | None = None) -> None:
        self.requests += 1
        self.models.add(model)
        if self.first is None:
            self.first = custom_id

    def describe(self, provider: ProviderName) -> str:
        shown = sorted(self.models)[:3]
        more = ", …" if len(self.models) > 3 else ""
        plural = "" if self.requests == 1 else "s"
        first = f", the first {self.first!r}" if self.first else ""
        return f"the {self.requests:,} {provider.value} request{plural} ({', '.join(shown)}{more}{first})"


def gemini_api_version(environ: Mapping[str, str]) -> str:
    """GOOGLE_GENAI_API_VERSION ("beta" is v1beta), else the version the adapter pins."""
    version = environ.get("GOOGLE_GENAI_API_VERSION", "").strip() or "v1beta"
    return "v1beta" if version == "beta" else version


async def provider_setup(provider: ProviderName, environ: Mapping[str, str], *, reach: bool = True) -> ProviderSetup:
    setup = read_setup(provider, environ)
    if reach:
        await check_reachable(setup, environ, gemini_api_version(environ))
    return setup


async def check_setup(needs: Mapping[ProviderName, Need], environ: Mapping[str, str] | None = None) -> None:
    """Refuse a submission whose providers are not set up, one line per provider with its fix.

    :raises SetupError: nothing may be stored."""
    environ = os.environ if environ is None else environ
    problems = []
    for provider in sorted(needs, key=lambda p: p.value):
        setup = await provider_setup(provider, environ)
        if setup.problem is not None:
            problems.append(_fix(setup, needs[provider]))
        elif (unserved := unserved_models(provider, needs[provider].models, environ)) is not None:
            problems.append(unserved)
    if problems:
        raise SetupError("\n".join(f"{p}; nothing submitted" for p in problems))


def _fix(setup: ProviderSetup, need: Need) -> str:
    if setup.key_variable is None and not setup.misspelt:
        names = key_variables(setup.provider)
        verb = "export it" if len(names) == 1 else "export one"
        return f"{setup.problem}: {verb}, or drop {need.describe(setup.provider)}"
    return str(setup.problem)


def org_needs(org: Org) -> dict[ProviderName, Need]:
    """What a chain may need: every agent's provider (and the classifier's)."""
    needs: dict[ProviderName, Need] = {}
    runs = [(org.classifier_model, None), *((agent.model, agent.provider) for agent in org.agents)]
    for model, named in runs:
        provider = ProviderName(named) if named else provider_for_model(model)
        if provider is not None:
            needs.setdefault(provider, Need()).add(model)
    return needs


@dataclass
class DoctorReport:
    """The whole picture `corthex doctor` prints; never a key's value."""

    providers: list[ProviderSetup]
    database_url: str  #: password redacted
    database_ok: bool
    database_detail: str  #: "migrations current (rev …)", or what is wrong
    versions: dict[str, str]

    @property
    def ok(self) -> bool:
        configured = self.configured
        return self.database_ok and bool(configured) and all(p.ok for p in configured)

    @property
    def configured(self) -> list[ProviderSetup]:
        """The providers with a key (or a sign the user meant to set one up): those must work."""
        return [p for p in self.providers if p.key_variable is not None or p.endpoint_set or p.misspelt]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "providers": [p.to_dict() | {"configured": p in self.configured} for p in self.providers],
            "database": {"url": self.database_url, "ok": self.database_ok, "detail": self.database_detail},
            "versions": self.versions,
        }


@dataclass
class ProvidersReport:
    """What `corthex providers` prints: each registered provider's profile and setup, the route
    table, and the plugins that failed to load."""

    providers: list[tuple[ProviderProfile, ProviderSetup]]
    routes: list[tuple[str, list[str]]]  #: (pattern, providers): the first serves, the rest fall back
    problems: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "providers": [_provider_row(profile, setup) for profile, setup in self.providers],
            "routes": [{"pattern": p, "provider": chain[0], "fallback": chain[1:]} for p, chain in self.routes],
            "problems": self.problems,
        }


def _provider_row(profile: ProviderProfile, setup: ProviderSetup) -> dict[str, Any]:
    return {
        "name": profile.name.value,
        "title": profile.title,
        "wire": profile.family.value,
        "source": profile.source,
        "models": list(profile.model_prefixes),
        "discount": profile.discount,
        "max_requests": profile.limits.max_requests,
        "max_bytes": profile.limits.max_bytes,
        "configured": setup.key_variable is not None,
    } | {k: v for k, v in setup.to_dict().items() if k != "provider"}


async def providers_report(loaded: Loaded, environ: Mapping[str, str], *, reach: bool) -> ProvidersReport:
    rows = [(profile, await provider_setup(profile.name, environ, reach=reach)) for profile in profiles()]
    return ProvidersReport(rows, [(p, [str(n) for n in chain]) for p, chain in routes()], loaded.problems)


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


async def database_state(url: str) -> tuple[bool, str]:
    """Whether the database opens, and its schema against this code's migrations (read only)."""
    from corthex.store.migrate import schema_state

    return await schema_state(url)
