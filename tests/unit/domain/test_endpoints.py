"""Which providers point at the emulator: read from the base-URL variables, never guessed."""

from __future__ import annotations

from corthex.domain.endpoints import emulated_providers
from corthex.providers.registry import load_providers


def test_the_emulator_mounts_on_another_host_are_emulated_and_real_hosts_are_not() -> None:
    environ = {
        "OPENAI_BASE_URL": "http://127.0.0.1:8765/openai/v1",
        "ANTHROPIC_BASE_URL": "https://api.anthropic.com",
        "GOOGLE_GEMINI_BASE_URL": "http://emulator.internal:9000/gemini/",
    }
    assert emulated_providers(environ) == {"openai": True, "anthropic": False, "gemini": True}


def test_unset_malformed_and_proxy_urls_are_not_taken_for_the_emulator() -> None:
    assert emulated_providers({}) == {"openai": False, "anthropic": False, "gemini": False}
    proxy = {"OPENAI_BASE_URL": "https://gateway.example.com/v1", "ANTHROPIC_BASE_URL": "http://[::1"}
    assert emulated_providers(proxy) == {"openai": False, "anthropic": False, "gemini": False}
    assert emulated_providers({"OPENAI_BASE_URL": "http://127.0.0.1:8765/openai-compat/v1"})["openai"] is False


def test_a_compatible_server_on_the_emulator_profile_is_emulated() -> None:
    load_providers(None)
    environ = {"GROQ_BASE_URL": "http://127.0.0.1:8765/compat/groq/openai/v1"}
    assert emulated_providers(environ)["groq"] is True and "deepinfra" not in emulated_providers(environ)
    assert emulated_providers({"GROQ_BASE_URL": "https://api.groq.com/openai/v1"})["groq"] is False


def test_the_built_in_platforms_on_the_emulator_are_emulated() -> None:
    local = "http://127.0.0.1:8765"
    environ = {
        "AZURE_OPENAI_ENDPOINT": f"{local}/azure",
        "GOOGLE_VERTEX_BASE_URL": f"{local}/vertex",
        "MISTRAL_BASE_URL": f"{local}/mistral",
        "AWS_ENDPOINT_URL_BEDROCK": f"{local}/bedrock",
    }
    found = emulated_providers(environ)
    assert all(found[name] for name in ("azure", "vertex", "mistral", "bedrock"))
    real = {"AZURE_OPENAI_ENDPOINT": "https://acme.openai.azure.com", "MISTRAL_BASE_URL": "https://api.mistral.ai"}
    assert not emulated_providers(real)["azure"] and not emulated_providers(real)["mistral"]
