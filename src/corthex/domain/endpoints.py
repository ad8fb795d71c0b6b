"""Which providers point at the project's emulator (pure: the environment is passed in).

The emulator serves each provider under its own mount (`/openai/v1`, `/anthropic`, `/gemini`,
see `corthex.emulator.server.sdk_env`); a base URL on another host than the provider's own with
that mount is the emulator. The dashboard and the CLI show an "EMULATOR" badge from this, so
that emulated answers are never taken for real ones."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from corthex.domain.registry import profiles

#: provider -> (its base-URL variable, its real host, the emulator's mount for it)
ENDPOINTS = {
    "openai": ("OPENAI_BASE_URL", "api.openai.com", "/openai"),
    "anthropic": ("ANTHROPIC_BASE_URL", "api.anthropic.com", "/anthropic"),
    "gemini": ("GOOGLE_GEMINI_BASE_URL", "generativelanguage.googleapis.com", "/gemini"),
}
#: the platforms built in, listed when their endpoint variable is set (as a configured server is)
PLATFORM_ENDPOINTS = {
    "bedrock": ("AWS_ENDPOINT_URL_BEDROCK", "bedrock.us-east-1.amazonaws.com", "/bedrock"),
    "azure": ("AZURE_OPENAI_ENDPOINT", "openai.azure.com", "/azure"),  # any resource's host ends so
    "vertex": ("GOOGLE_VERTEX_BASE_URL", "aiplatform.googleapis.com", "/vertex"),
    "mistral": ("MISTRAL_BASE_URL", "api.mistral.ai", "/mistral"),
}


def emulated_providers(environ: Mapping[str, str]) -> dict[str, bool]:
    """provider -> whether its base URL points at the emulator; a server other than the three is
    listed when its base-URL variable is set (the emulator serves its profile under `/compat/{name}/`)."""
    found = {name: _is_emulator(environ.get(var, ""), host, mount) for name, (var, host, mount) in ENDPOINTS.items()}
    for name, (var, host, mount) in PLATFORM_ENDPOINTS.items():
        if environ.get(var):
            found[name] = _is_emulator(environ[var], host, mount)
    for profile in profiles():
        if not profile.builtin and profile.base_url_variable and environ.get(profile.base_url_variable):
            real_host = urlsplit(profile.base_url or "").hostname or ""
            url = environ.get(profile.base_url_variable, "")
            found[profile.name.value] = _is_emulator(url, real_host, f"/compat/{profile.name.value}")
    return found


def _is_emulator(url: str, real_host: str, mount: str) -> bool:
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    path = parts.path.rstrip("/")
    return parts.hostname != real_host and (path == mount or path.startswith(mount + "/"))
