"""Is each provider set up? Its key present, its endpoint variable spelt as its SDK reads it, and
its endpoint answering: checked before anything is stored, and shown whole by `corthex doctor`.

The variable names are the SDKs' own (openai/lib/_client_auth.py, anthropic/_client.py,
google/genai/_api_client.py and _base_url.py). A key's value is never kept, shown or logged here:
only whether it is set, and a digest of it to remember, per process, that it was accepted.
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson

from corthex.domain.registry import ProviderName, ProviderProfile, WireFamily, family_of, is_known, profile_of
from corthex.errors import ProviderError

MISTRAL = ProviderName("mistral")

#: the variables each SDK takes its key from, the first set one winning (as in the SDK)
KEY_VARIABLES: dict[ProviderName, tuple[str, ...]] = {
    ProviderName.OPENAI: ("OPENAI_API_KEY",),
    ProviderName.ANTHROPIC: ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"),
    ProviderName.GEMINI: ("GOOGLE_API_KEY", "GEMINI_API_KEY"),
    ProviderName.AZURE: ("AZURE_OPENAI_API_KEY",),  # openai/lib/azure.py (AZURE_OPENAI_AD_TOKEN: not taken)
    MISTRAL: ("MISTRAL_API_KEY",),
}

#: the variable each SDK takes its endpoint from, and the endpoint it uses without it
ENDPOINT_VARIABLES: dict[ProviderName, tuple[str, str]] = {
    ProviderName.OPENAI: ("OPENAI_BASE_URL", "https://api.openai.com/v1"),
    ProviderName.ANTHROPIC: ("ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
    ProviderName.GEMINI: ("GOOGLE_GEMINI_BASE_URL", "https://generativelanguage.googleapis.com"),
    ProviderName.AZURE: ("AZURE_OPENAI_ENDPOINT", ""),  # the resource's own: no default
    # the SDK's `server_url` (it adds /v1/...); the SDK reads no variable itself: our adapter does
    MISTRAL: ("MISTRAL_BASE_URL", "https://api.mistral.ai"),
}

SDK_NAMES = {
    ProviderName.OPENAI: "openai",
    ProviderName.ANTHROPIC: "anthropic",
    ProviderName.GEMINI: "google-genai",
    ProviderName.AZURE: "openai",
    MISTRAL: "mistralai",
    ProviderName("bedrock"): "boto3",
}
#: providers whose calls are signed by their SDK (AWS SigV4): no plain HTTP probe, their
#: adapter's own (one signed read through the SDK)
_SIGNED = frozenset({ProviderName("bedrock")})

#: Azure OpenAI: model → the Global Batch deployment that serves it, a JSON object
AZURE_DEPLOYMENTS = "CORTHEX_AZURE_DEPLOYMENTS"
#: the api-version form of Azure's API is used when this is set (the SDK's AzureOpenAI requires it)
AZURE_API_VERSION = "OPENAI_API_VERSION"

#: names people write for the ones the SDKs read (older SDKs, other tools, guesses)
MISSPELLINGS: dict[str, str] = {
    "OPENAI_API_BASE": "OPENAI_BASE_URL",  # what openai < 1.0 read
    "OPENAI_API_BASE_URL": "OPENAI_BASE_URL",
    "OPENAI_BASE": "OPENAI_BASE_URL",
    "OPENAI_URL": "OPENAI_BASE_URL",
    "OPENAI_API_URL": "OPENAI_BASE_URL",
    "OPENAI_KEY": "OPENAI_API_KEY",
    "ANTHROPIC_API_URL": "ANTHROPIC_BASE_URL",
    "ANTHROPIC_API_BASE": "ANTHROPIC_BASE_URL",
    "ANTHROPIC_URL": "ANTHROPIC_BASE_URL",
    "ANTHROPIC_KEY": "ANTHROPIC_API_KEY",
    "CLAUDE_API_KEY": "ANTHROPIC_API_KEY",
    "CLAUDE_BASE_URL": "ANTHROPIC_BASE_URL",
    "GEMINI_BASE_URL": "GOOGLE_GEMINI_BASE_URL",
    "GEMINI_API_BASE": "GOOGLE_GEMINI_BASE_URL",
    "GEMINI_API_BASE_URL": "GOOGLE_GEMINI_BASE_URL",
    "GEMINI_URL": "GOOGLE_GEMINI_BASE_URL",
    "GOOGLE_BASE_URL": "GOOGLE_GEMINI_BASE_URL",
    "GOOGLE_GENAI_BASE_URL": "GOOGLE_GEMINI_BASE_URL",
    "GOOGLE_GEMINI_API_KEY": "GEMINI_API_KEY",
    "GEMINI_KEY": "GEMINI_API_KEY",
    "GOOGLE_GENAI_API_KEY": "GEMINI_API_KEY",
    "AZURE_OPENAI_KEY": "AZURE_OPENAI_API_KEY",  # older samples' name
    "AZURE_API_KEY": "AZURE_OPENAI_API_KEY",  # LiteLLM's names
    "AZURE_API_BASE": "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_BASE_URL": "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_BASE": "AZURE_OPENAI_ENDPOINT",
    "AZURE_ENDPOINT": "AZURE_OPENAI_ENDPOINT",
    "MISTRAL_KEY": "MISTRAL_API_KEY",
    "MISTRAL_API_BASE": "MISTRAL_BASE_URL",
    "MISTRAL_SERVER_URL": "MISTRAL_BASE_URL",
    "MISTRAL_URL": "MISTRAL_BASE_URL",
}

#: every variable the SDKs read that a near-miss could be meant for
_RIGHT_NAMES = frozenset(
    [name for names in KEY_VARIABLES.values() for name in names]
    + [variable for variable, _ in ENDPOINT_VARIABLES.values()]
    + ["OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_ADMIN_KEY", "OPENAI_WEBHOOK_SECRET", "GOOGLE_VERTEX_BASE_URL"]
    + ["GOOGLE_GENAI_API_VERSION", "ANTHROPIC_CUSTOM_HEADERS", "OPENAI_CUSTOM_HEADERS"]
)
_PROVIDER_OF = {
    name: provider for provider in KEY_VARIABLES for name in (*KEY_VARIABLES[provider], ENDPOINT_VARIABLES[provider][0])
}

PROBE_TIMEOUT = 3.0  #: seconds for the one call that checks an endpoint


@dataclass(frozen=True)
class Misspelling:
    variable: str  #: the name set in the environment
    meant: str  #: the name the SDK reads

    @property
    def provider(self) -> ProviderName:
        return ProviderName(_PROVIDER_OF[self.meant])

    def explain(self) -> str:
        sdk = sdk_name(self.provider)
        return f"{self.variable} is set but the {sdk} SDK reads {self.meant}: rename it to {self.meant}"


def misspellings(environ: Mapping[str, str]) -> list[Misspelling]:
    """Variables set under a name no SDK reads, close to one it does (for a provider variable)."""
    found = []
    for name, value in environ.items():
        if not value or name in _RIGHT_NAMES:
            continue
        meant = MISSPELLINGS.get(name) or _near_miss(name)
        if meant is not None and meant in _PROVIDER_OF:
            found.append(Misspelling(name, meant))
    return sorted(found, key=lambda m: m.variable)


def _near_miss(name: str) -> str | None:
    if not name.endswith(("_KEY", "_URL", "_BASE")) or "_" not in name:
        return None
    close = difflib.get_close_matches(name, sorted(_PROVIDER_OF), n=1, cutoff=0.85)
    return close[0] if close else None


@dataclass
class ProviderSetup:
    """What `provider` will run with, as read from the environment; `problem` is the fix when
    it cannot work (None: set up, as far as was checked)."""

    provider: ProviderName
    key_variable: str | None  #: the variable the key comes from; None: no key
    endpoint: str  #: the base URL the SDK will call
    endpoint_variable: str
    endpoint_set: bool  #: from the environment (else the SDK's default)
    misspelt: list[Misspelling] = field(default_factory=list)
    reachable: bool | None = None  #: None: not checked (no key, or not asked)
    problem: str | None = None
    notes: list[str] = field(default_factory=list)  #: worth knowing, not in the way
    settings: dict[str, str] = field(default_factory=dict)  #: the provider's other settings (Vertex)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_dict(self) -> dict[str, object]:
        return {
            "provider": self.provider.value,
            "key_present": self.key_variable is not None,
            "key_variable": self.key_variable,
            "key_variables": list(key_variables(self.provider)),
            "endpoint": self.endpoint,
            "endpoint_variable": self.endpoint_variable,
            "endpoint_set": self.endpoint_set,
            "misspelt": [{"variable": m.variable, "meant": m.meant} for m in self.misspelt],
            "reachable": self.reachable,
            "ok": self.ok,
            "problem": self.problem,
            "notes": self.notes,
        }


def read_setup(provider: ProviderName, environ: Mapping[str, str]) -> ProviderSetup:
    """The provider's key and endpoint as its SDK will read them, and the problems seen without a call."""
    key_variable = next((name for name in key_variables(provider) if environ.get(name)), None)
    if key_variable is None and provider.value == "vertex" and gcloud_credentials(environ) is not None:
        key_variable = GCLOUD_ADC  # `gcloud auth application-default login`: google.auth.default() finds it
    variable, default = endpoint_variable(provider)
    endpoint = environ.get(variable) or default
    misspelt = [m for m in misspellings(environ) if m.provider is provider]
    if provider.value == "vertex" and not endpoint:
        endpoint = vertex_endpoint(environ)
    setup = ProviderSetup(provider, key_variable, endpoint.rstrip("/"), variable, bool(environ.get(variable)), misspelt)
    setup.settings = {name: environ[name] for name in _SETTINGS.get(provider.value, ()) if environ.get(name)}
    for slip in misspelt:
        right_is_set = bool(environ.get(slip.meant)) or (slip.meant in key_variables(provider) and key_variable)
        if right_is_set:
            setup.notes.append(f"{slip.variable} is set but not read ({slip.meant} is): unset it")
        elif setup.problem is None:
            setup.problem = slip.explain()
    if key_variable is None and setup.problem is None:
        setup.problem = f"{' or '.join(key_variables(provider))} is not set"
    elif not setup.endpoint and setup.problem is None:  # Azure: the resource's endpoint is the user's own
        setup.problem = f"{variable} is not set: export it ({_ENDPOINT_EXAMPLE.get(provider, 'the base URL')})"
    elif setup.problem is None and (missing := missing_settings(provider, environ)):
        setup.problem = f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"
    elif key_variable not in (None, GCLOUD_ADC) and setup.problem is None and not environ[key_variable].isascii():
        # no HTTP header can carry it (a quote or a word pasted with the key?)
        setup.problem = f"{key_variable} holds characters that are not ASCII: set it to the key alone"
    return setup


_SETTINGS = {"vertex": ("GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION", "CORTHEX_VERTEX_GCS_URI")}
#: settings besides the key a provider cannot run without (Vertex: its project and its bucket)
REQUIRED_SETTINGS: dict[str, tuple[str, ...]] = {
    "vertex": ("GOOGLE_CLOUD_PROJECT", "CORTHEX_VERTEX_GCS_URI"),
    # a job reads its input from and writes its output to S3, and runs under a service role
    "bedrock": ("AWS_REGION|AWS_DEFAULT_REGION", "CORTHEX_BEDROCK_ROLE_ARN", "CORTHEX_BEDROCK_S3_URI"),
}
VERTEX_LOCATION_DEFAULT = "us-central1"


#: where Vertex's credentials come from when no variable names them: gcloud's own file
GCLOUD_ADC = "gcloud application-default credentials"


def gcloud_credentials(environ: Mapping[str, str]) -> Path | None:
    """The file `gcloud auth application-default login` writes (CLOUDSDK_CONFIG, else
    ~/.config/gcloud: google.auth's `_cloud_sdk`), when it exists."""
    config = environ.get("CLOUDSDK_CONFIG") or str(Path(environ.get("HOME") or Path.home()) / ".config" / "gcloud")
    path = Path(config) / "application_default_credentials.json"
    return path if path.is_file() else None


def missing_settings(provider: ProviderName, environ: Mapping[str, str]) -> list[str]:
    """The settings the provider needs that are not set ("A|B": either will do, A is named)."""
    missing = []
    for names in REQUIRED_SETTINGS.get(provider.value, ()):
        if not any(environ.get(name, "").strip() for name in names.split("|")):
            missing.append(names.split("|")[0])
    return missing


def vertex_endpoint(environ: Mapping[str, str]) -> str:
    """The endpoint google-genai calls for Vertex AI (`_api_client.py`): a regional host."""
    location = environ.get("GOOGLE_CLOUD_LOCATION", "").strip() or VERTEX_LOCATION_DEFAULT
    if location == "global":
        return "https://aiplatform.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


# --- reaching the endpoint ---------------------------------------------------------------


def _probe(setup: ProviderSetup, key: str, api_version: str, environ: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The cheapest authenticated call each API has: list one model (a read, never billed);
    Vertex: list one batch job of the project."""
    if setup.provider is ProviderName.AZURE:
        return _azure_probe(setup.endpoint, key, environ)
    if setup.provider.value == "vertex":
        project = setup.settings.get("GOOGLE_CLOUD_PROJECT", "")
        location = setup.settings.get("GOOGLE_CLOUD_LOCATION") or VERTEX_LOCATION_DEFAULT
        path = f"v1/projects/{project}/locations/{location}/batchPredictionJobs?pageSize=1"
        return f"{setup.endpoint}/{path}", {"Authorization": f"Bearer {key}"}
    if setup.provider is MISTRAL:  # its endpoint is the host; the SDK adds /v1 (Bearer auth)
        return f"{setup.endpoint}/v1/models", {"Authorization": f"Bearer {key}"}
    if family_of(setup.provider) is WireFamily.OPENAI:
        return f"{setup.endpoint}/models", {"Authorization": f"Bearer {key}"}
    if setup.provider is ProviderName.ANTHROPIC:
        headers = {"anthropic-version": "2023-06-01"}
        headers.update({"Authorization": f"Bearer {key}"} if setup.key_variable == "ANTHROPIC_AUTH_TOKEN" else {})
        headers.setdefault("x-api-key", key)
        return f"{setup.endpoint}/v1/models?limit=1", headers
    return f"{setup.endpoint}/{api_version}/models?pageSize=1", {"x-goog-api-key": key}


#: endpoints (provider, URL, key digest) that answered this process: checked once, not per request
_reached: set[tuple[str, str, str]] = set()


async def check_reachable(setup: ProviderSetup, environ: Mapping[str, str], api_version: str) -> None:
    """Call the endpoint once (PROBE_TIMEOUT): set `reachable`, and `problem` when the answer says
    the setup is wrong (host unknown or closed, key refused, path not found). An answer that
    may pass (429, 5xx, slow) is no problem here: the engine's patience is for those."""
    if setup.key_variable in (None, "GOOGLE_APPLICATION_CREDENTIALS", GCLOUD_ADC) or setup.problem is not None:
        return  # none to check (a credentials file is no bearer token: the first call checks it)
    if setup.provider in _SIGNED:
        await _probe_signed(setup, environ)
        return
    assert setup.key_variable is not None
    key = environ[setup.key_variable]
    remembered = (setup.provider.value, setup.endpoint, hashlib.sha256(key.encode()).hexdigest())
    if remembered in _reached:
        setup.reachable = True
        return
    url, headers = _probe(setup, key, api_version, environ)
    try:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT) as client:
            response = await client.get(url, headers=headers)
    except httpx.TimeoutException:
        setup.notes.append(f"{setup.endpoint} did not answer within {PROBE_TIMEOUT:.0f}s (slow, or busy)")
        return
    except httpx.TransportError as exc:
        setup.reachable = False
        setup.problem = unreachable_message(setup.provider, setup.endpoint, exc)
        return
    setup.reachable = True
    setup.problem = answer_problem(setup, response.status_code, response.text)
    if setup.problem is None:
        _reached.add(remembered)


async def _probe_signed(setup: ProviderSetup, environ: Mapping[str, str]) -> None:
    """A provider whose calls are signed (Bedrock, SigV4): its adapter's own probe, through its SDK."""
    from corthex.providers import bedrock  # boto3: loaded only when Bedrock is set up and reached

    setup.reachable, setup.problem = await bedrock.probe(dict(environ), PROBE_TIMEOUT)


def unknown_host(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) is a DNS answer that the name does not exist: a setup
    mistake. A temporary failure of the resolver (EAI_AGAIN) is not: it passes."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return current.errno in _NO_SUCH_NAME
        text = str(current)
        if "Name or service not known" in text or "nodename nor servname" in text or "No address associated" in text:
            return True
        current = current.__cause__ or current.__context__
    return False


_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


def _local(host: str | None) -> bool:
    return host in ("127.0.0.1", "localhost", "::1", "0.0.0.0")  # noqa: S104 - a name, not a bind


def unreachable_message(provider: ProviderName, endpoint: str, exc: BaseException) -> str:
    variable = endpoint_variable(provider)[0]
    host = urlsplit(endpoint).hostname
    if unknown_host(exc):
        return f"unknown host {host!r} in {endpoint}: check {variable} (no DNS name {host!r})"
    if _local(host):
        return f"cannot reach {endpoint} — is `corthex emulator` running? (or fix {variable})"
    refused = any(getattr(e, "errno", None) == errno.ECONNREFUSED for e in _chain(exc))
    why = "connection refused" if refused else (str(exc) or type(exc).__name__)
    return f"cannot reach {endpoint} ({why}): check {variable} and the network"


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in out:
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def answer_problem(setup: ProviderSetup, status: int, body: str) -> str | None:
    """The fix for an answer that says the setup is wrong, or None."""
    key_refused = status in (401, 403) or (status == 400 and "API_KEY_INVALID" in body)
    if key_refused:
        return f"{setup.provider.value} refused the key in {setup.key_variable} ({status}): check the key"
    if status == 404:
        return f"{setup.endpoint} answered 404: {path_hint(setup.provider, setup.endpoint)}"
    return None


def path_hint(provider: ProviderName, endpoint: str) -> str:
    """What is likely wrong with a base URL the provider answered 404 to."""
    variable, default = endpoint_variable(provider)
    path = urlsplit(endpoint).path.rstrip("/")
    if provider is ProviderName.AZURE:
        return f"{variable} is the resource's root (e.g. {variable}={_ENDPOINT_EXAMPLE[provider]}), without /openai"
    # the openai SDK takes the URL with its /v1; the others (mistralai too) add the version
    sdk_adds_version = provider is MISTRAL or family_of(provider) is not WireFamily.OPENAI
    if not sdk_adds_version and not path.endswith("/v1"):
        return f"is {variable} missing /v1? (e.g. {variable}={endpoint}/v1)"
    if sdk_adds_version and path.endswith(("/v1", "/v1beta", "/v1alpha")):
        trimmed = endpoint.rstrip("/").rsplit("/", 1)[0]
        return f"{variable} must not end in the API version, the SDK adds it (e.g. {variable}={trimmed})"
    return f"check {variable} (the {sdk_name(provider)} SDK's own is {default})"


def forget_reached() -> None:
    """Check every endpoint again (tests)."""
    _reached.clear()


def setup_hint(provider: str, status: int | None) -> str:
    """The fix named in a setup error raised during a run (key refused, path not found)."""
    if not is_known(provider):
        return ""
    name = ProviderName(provider)
    if status in (401, 403, 400):
        return f"check {' or '.join(key_variables(name))}"
    if status == 404:
        return f"check {endpoint_variable(name)[0]} (or the model name)"
    return f"check {endpoint_variable(name)[0]}"


def missing_key_error(provider: ProviderName, op: str) -> ProviderError:
    """The call cannot be made: no key. Raised before the SDK would (the anthropic SDK raises a
    TypeError only when the call is sent)."""
    names = " or ".join(key_variables(provider))
    return ProviderError(provider.value, op, f"{names} is not set: export it", setup=True)


def key_variables(provider: ProviderName) -> tuple[str, ...]:
    """Where the provider's key is read from: its SDK's variables, or a configured server's."""
    return KEY_VARIABLES.get(provider) or profile_of(provider).key_variables


def endpoint_variable(provider: ProviderName) -> tuple[str, str]:
    """The variable the endpoint is read from, and the endpoint used without it."""
    known = ENDPOINT_VARIABLES.get(provider)
    if known is not None:
        return known
    profile = profile_of(provider)
    return profile.base_url_variable or f"{provider.value.upper()}_BASE_URL", profile.base_url or ""


def sdk_name(provider: ProviderName) -> str:
    return SDK_NAMES.get(provider) or str(profile_of(provider).family.value)


def compatible_client(profile: ProviderProfile, environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The endpoint and key a server other than the SDK's own provider is called with; (None,
    None) for the SDK's own provider, whose variables the SDK reads itself."""
    if profile.builtin:
        return None, None
    variable, default = endpoint_variable(profile.name)
    key = next((environ[name] for name in key_variables(profile.name) if environ.get(name)), None)
    return environ.get(variable) or default, key


def has_key(provider: ProviderName, environ: Mapping[str, str]) -> bool:
    return any(environ.get(name) for name in key_variables(provider))


# --- Azure OpenAI ----------------------------------------------------------------------------

_ENDPOINT_EXAMPLE = {ProviderName.AZURE: "https://RESOURCE.openai.azure.com"}


def azure_client_form(environ: Mapping[str, str]) -> tuple[str, str | None]:
    """(base URL, api-version): the v1 API (`…/openai/v1`, no api-version: GA since August 2025,
    Microsoft's recommended form) unless OPENAI_API_VERSION is set, then (the resource's endpoint,
    that version) for the SDK's AzureOpenAI client. An endpoint written with `/openai/v1` is v1."""
    endpoint = (environ.get("AZURE_OPENAI_ENDPOINT") or "").rstrip("/")
    if endpoint.endswith("/openai/v1"):
        return endpoint, None
    version = (environ.get(AZURE_API_VERSION) or "").strip()
    if version:
        return endpoint.removesuffix("/openai"), version
    return f"{endpoint.removesuffix('/openai')}/openai/v1", None


def _azure_probe(endpoint: str, key: str, environ: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """Azure's cheapest authenticated read: list the models (`GET /openai/v1/models`, or
    `/openai/models?api-version=` in the older form), the key in `api-key`."""
    base, version = azure_client_form({**environ, "AZURE_OPENAI_ENDPOINT": endpoint})
    url = f"{base}/models" if version is None else f"{base}/openai/models?api-version={version}"
    return url, {"api-key": key}


def azure_deployments(environ: Mapping[str, str]) -> dict[str, str]:
    """CORTHEX_AZURE_DEPLOYMENTS as a table (empty when unset).

    :raises ValueError: naming the variable, when it is not a JSON object of strings."""
    raw = (environ.get(AZURE_DEPLOYMENTS) or "").strip()
    if not raw:
        return {}
    try:
        table = orjson.loads(raw)
    except orjson.JSONDecodeError:
        table = None
    if not isinstance(table, dict) or not all(isinstance(v, str) and v for v in table.values()):
        raise ValueError(
            f"{AZURE_DEPLOYMENTS} must be a JSON object of model → deployment names, "
            'e.g. {"gpt-5-mini": "my-gpt5mini-batch"}'
        )
    return table


def azure_deployment(model: str, environ: Mapping[str, str]) -> str | None:
    """The deployment that serves `model` on Azure: the table's, or the model itself when it is a
    deployment's name (a platform's own id works too); None when no deployment is known."""
    table = azure_deployments(environ)
    if model in table:
        return table[model]
    return model if model in table.values() else None


def unserved_models(provider: ProviderName, models: Iterable[str], environ: Mapping[str, str]) -> str | None:
    """Why some of `models` cannot go to `provider` as configured (Azure: no deployment), or None."""
    if provider is not ProviderName.AZURE:
        return None
    try:
        missing = sorted(m for m in set(models) if azure_deployment(m, environ) is None)
    except ValueError as exc:
        return str(exc)
    if not missing:
        return None
    example = ", ".join(f'"{m}": "<deployment>"' for m in missing[:3])
    return (
        f"no Azure deployment for {', '.join(repr(m) for m in missing)}: set {AZURE_DEPLOYMENTS}='{{{example}}}' "
        "(the Global Batch deployment that serves each model)"
    )
