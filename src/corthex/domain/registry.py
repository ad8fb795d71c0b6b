"""The providers this process knows (pure): one profile per provider, and who serves a model.

A provider declares itself with a `ProviderProfile`: its name, the wire family its requests
are written in, the model ids it owns, its batch limits, its discount, the variables its
settings come from, and where its adapter and its pure wire module live (import paths, so
declaring one loads no SDK). The built-ins are registered on first use; a plugin's profiles
(the `corthex.providers` entry point group) and configured OpenAI-compatible servers are
registered by `corthex.providers.registry` at start-up. Planning, pricing, parsing and routing
all read this table, never a list of names of their own.
"""

from __future__ import annotations

import enum
import fnmatch
import threading
from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import ClassVar, cast


class ProviderName(str):
    """A provider's name: a string, interned so that `is` compares like an enum member did.

    Not an enum: a plugin or a configured server adds names at start-up."""

    __slots__ = ()
    _interned: ClassVar[dict[str, ProviderName]] = {}
    OPENAI: ClassVar[ProviderName]
    ANTHROPIC: ClassVar[ProviderName]
    GEMINI: ClassVar[ProviderName]
    AZURE: ClassVar[ProviderName]

    def __new__(cls, value: str) -> ProviderName:
        known = cls._interned.get(value)
        if known is None:  # setdefault: two threads making the same name get one object
            known = cls._interned.setdefault(value, super().__new__(cls, value))
        return known

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"ProviderName({self.value!r})"


ProviderName.OPENAI = ProviderName("openai")
ProviderName.ANTHROPIC = ProviderName("anthropic")
ProviderName.GEMINI = ProviderName("gemini")
ProviderName.AZURE = ProviderName("azure")
#: the three providers built in that own model names by default (Azure, also built in, serves OpenAI's
#: models when a line or a route names it)
BUILTIN_NAMES = (ProviderName.OPENAI, ProviderName.ANTHROPIC, ProviderName.GEMINI)


class WireFamily(enum.StrEnum):
    """The request format a provider's batch lines are written in: which pure wire module
    sizes them and which admission rules apply."""

    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"


@dataclass(frozen=True, slots=True)
class ProviderLimits:
    max_requests: int  #: requests in one provider batch
    max_bytes: int  #: wire bytes of one provider batch's requests (sum of their wire sizes)
    one_model_per_batch: bool  #: OpenAI (model_mismatch) and Gemini (model in the URL)
    max_request_bytes: int  #: one request on its own
    #: embedding inputs in one batch (a request counts 1, an embedding request its texts); None: no limit
    max_inputs: int | None = None
    #: Gemini: an embedding request goes as one file line per text, so `max_requests` counts lines
    #: (the inputs: 1 for any other request), not requests
    inputs_are_lines: bool = False

    def fits(self, count: int, size: int, inputs: int = 0) -> bool:
        within = self.max_inputs is None or inputs <= self.max_inputs
        lines = inputs if self.inputs_are_lines else count
        return lines <= self.max_requests and size <= self.max_bytes and within


@dataclass(frozen=True, slots=True)
class ProviderProfile:
    """What a provider declares about itself."""

    name: ProviderName
    family: WireFamily
    title: str  #: for people: "OpenAI", "Groq (OpenAI-compatible)"
    limits: ProviderLimits
    adapter: str  #: "module:Class"; the class is built with (workdir, profile=…, **options)
    wire_module: str  #: the pure module with `wire_size(item)` for this family
    model_prefixes: tuple[str, ...] = ()  #: model ids it owns ("gpt-", "claude-"); longest match wins
    discount: float = 0.5  #: the batch discount, used where genai-prices has no batch rates
    price_provider: str | None = None  #: genai-prices' provider id, when it prices this provider
    key_variables: tuple[str, ...] = ()  #: where its key is read from, the first is the one to set
    base_url_variable: str | None = None
    base_url: str | None = None  #: a configured server's endpoint (the built-ins use their SDK's)
    #: options the adapter reads (a compatible server's file purpose, completion window, …)
    options: dict[str, str] = field(default_factory=dict)
    #: the provider whose model catalogue this one serves under the same names (Azure: OpenAI's):
    #: that provider's capability table and request rules apply, and its models may be sent here
    models_of: ProviderName | None = None
    builtin: bool = False
    source: str = ""  #: where it was declared: "built-in", the entry point, the config file


class UnknownProvider(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown provider {name!r} (one of {', '.join(provider_names())})")
        self.name = name


_lock = threading.Lock()
_profiles: dict[ProviderName, ProviderProfile] = {}
_routes: list[tuple[str, tuple[ProviderName, ...]]] = []  #: (model pattern, providers), first match wins
_builtins_loaded = False


def _table() -> dict[ProviderName, ProviderProfile]:
    global _builtins_loaded
    if not _builtins_loaded:
        with _lock:
            if not _builtins_loaded:
                from corthex.domain.builtin_providers import BUILTINS  # a cycle at import time otherwise

                for profile in BUILTINS:
                    _profiles.setdefault(profile.name, profile)
                _builtins_loaded = True
    return _profiles


def register(profile: ProviderProfile) -> None:
    """Add or replace a provider (a plugin's, a configured server's, a test's)."""
    _table()[profile.name] = profile
    provider_for_model.cache_clear()
    _catalogues.clear()


def unregister(name: str) -> None:
    """Forget a provider that is not built in (tests; a config that changed)."""
    profile = _table().get(cast(ProviderName, name))  # a str finds its ProviderName key
    if profile is not None and not profile.builtin:
        del _profiles[profile.name]
        provider_for_model.cache_clear()
        _catalogues.clear()


def profile_of(name: str) -> ProviderProfile:
    """:raises UnknownProvider: no provider of that name is registered."""
    found = _table().get(cast(ProviderName, name))  # a str finds its key: unknown names are not interned
    if found is None:
        raise UnknownProvider(name)
    return found


def is_known(name: str) -> bool:
    return cast(ProviderName, name) in _table()


def provider_names() -> list[ProviderName]:
    """The registered providers, built-ins first, then in the order they were added."""
    return list(_table())


def profiles() -> list[ProviderProfile]:
    return list(_table().values())


def family_of(name: str) -> WireFamily:
    return profile_of(name).family


#: catalogue's answers by name: it is asked some 30 times per request at intake (each provider's
#: admission checks ask whether the request is theirs); cleared when a provider is (un)registered
_catalogues: dict[str, ProviderName] = {}


def catalogue(name: ProviderName) -> ProviderName:
    """The provider whose models (and model rules) `name` serves: its `models_of`, else itself.
    An unknown name is its own (the callers refuse it elsewhere)."""
    found = _catalogues.get(name)
    if found is None:
        profile = _table().get(ProviderName(name))
        found = profile.models_of if profile is not None and profile.models_of is not None else name
        _catalogues[name] = found
    return found


def set_routes(routes: Sequence[tuple[str, str | Sequence[str]]]) -> None:
    """The configured route table: (model pattern, provider or providers); `*` and `?` as in
    shell patterns; the first matching pattern wins over the providers' own model prefixes. A
    route of several providers is a fallback chain: the first serves the model, and a request
    whose retryable attempts are used up on one goes to the next (`fallback_after`).

    :raises UnknownProvider: a route names a provider that is not registered."""
    checked = []
    for pattern, chain in routes:
        names = (chain,) if isinstance(chain, str) else tuple(chain)
        checked.append((pattern, tuple(profile_of(name).name for name in names)))
        if problem := chain_problem(checked[-1][1]):
            raise ValueError(f"route {pattern!r}: {problem}")
    _routes[:] = [(pattern, chain) for pattern, chain in checked if chain]
    provider_for_model.cache_clear()
    _route_of.cache_clear()


def chain_problem(chain: Sequence[ProviderName]) -> str | None:
    """Why a fallback chain cannot work, or None: a provider named twice would send a request
    round forever; a provider of another wire family cannot serve the same model name."""
    if len(set(chain)) < len(chain):
        return f"{', '.join(chain)} names a provider twice"
    families = {family_of(name) for name in chain}
    if len(families) > 1:
        formats = ", ".join(sorted(families))
        return f"{', '.join(chain)} mixes request formats ({formats}): one model name cannot be served by all"
    return None


def routes() -> list[tuple[str, tuple[ProviderName, ...]]]:
    return list(_routes)


@lru_cache(maxsize=1024)  # asked for every request at intake and every result at collection
def _route_of(model: str) -> tuple[ProviderName, ...] | None:
    for pattern, chain in _routes:
        if fnmatch.fnmatchcase(model, pattern):
            return chain
    return None


def route_chain(model: str) -> tuple[ProviderName, ...]:
    """The providers of the route that serves `model` (empty: no route matches)."""
    return _route_of(model) or ()


def fallback_after(model: str, provider: ProviderName) -> ProviderName | None:
    """The provider a request for `model` goes to once its retryable attempts are used up on
    `provider`: the next in the model's route; None when there is none (or `provider` is not in it)."""
    chain = _route_of(model)
    if chain is None or provider not in chain:
        return None
    index = chain.index(provider)
    return chain[index + 1] if index + 1 < len(chain) else None


@lru_cache(maxsize=1024)
def provider_for_model(model: str) -> ProviderName | None:
    """The provider that serves `model`: the first configured route that matches, else the
    provider whose model prefix is the longest match; None when none does (never a guess: the
    seed sent every unknown model to Anthropic)."""
    chain = _route_of(model)
    if chain is not None:
        return chain[0]
    matches = [
        (len(prefix), p.name) for p in _table().values() for prefix in p.model_prefixes if model.startswith(prefix)
    ]
    return max(matches)[1] if matches else None


class _LimitsView(MutableMapping[ProviderName, ProviderLimits]):
    """Each provider's limits, read from (and, for tests, written into) its profile."""

    def __getitem__(self, name: ProviderName) -> ProviderLimits:
        try:
            return profile_of(name).limits
        except UnknownProvider:
            raise KeyError(name) from None

    def __setitem__(self, name: ProviderName, limits: ProviderLimits) -> None:
        register(replace(profile_of(name), limits=limits))

    def __delitem__(self, name: ProviderName) -> None:
        raise TypeError("a provider's limits can be replaced, not removed")

    def __iter__(self) -> Iterator[ProviderName]:
        return iter(list(_table()))

    def __len__(self) -> int:
        return len(_table())


LIMITS: MutableMapping[ProviderName, ProviderLimits] = _LimitsView()
