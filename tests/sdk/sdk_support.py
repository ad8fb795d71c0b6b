"""Helpers for the SDK tests."""

from __future__ import annotations

from google import genai
from google.genai import types

from corthex.domain.batches import RemoteRef, RemoteState, RemoteStatus
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.results import ProviderResult
from corthex.emulator import EmulatorServer
from corthex.providers import WireItem
from corthex.providers.base import Provider
from corthex.testing import wait_until

KEY = "emulator-test-key"
ERROR_HOOK = "[[emulator:error]]"  #: a prompt with this gets a per-request 400 from the emulator


def make_gemini_client(emulator: EmulatorServer, api_version: str) -> genai.Client:
    # Fast, jitter-free retries, so a retried fault costs milliseconds.
    retry = types.HttpRetryOptions(attempts=3, initial_delay=0.01, max_delay=0.05, jitter=0)
    options = types.HttpOptions(base_url=f"{emulator.url}/gemini", api_version=api_version, retry_options=retry)
    return genai.Client(api_key=KEY, vertexai=False, http_options=options)


MODELS = {
    ProviderName.OPENAI: "gpt-5-mini",
    ProviderName.ANTHROPIC: "claude-sonnet-4-6",
    ProviderName.GEMINI: "gemini-2.5-flash",
}


def items(provider: ProviderName, n: int, prefix: str = "w") -> list[WireItem]:
    """`n` requests; the first has a system prompt, a temperature and a token cap."""
    model = MODELS[provider]
    out = []
    for i in range(n):
        extra = {"system": "Answer briefly.", "temperature": 0.2, "max_output_tokens": 200}
        request = LLMRequest(
            f"q{i}",
            model,
            provider,
            (Message("user", f"question number {i}"),),
            **(extra if i == 0 else {}),
        )
        out.append(WireItem(f"{prefix}-{i}", request))
    return out


async def wait_ended(provider: Provider, ref: RemoteRef) -> RemoteStatus:
    """Polls every 50 ms until the batch is no longer running (at most 15 s)."""

    async def ended() -> RemoteStatus | None:
        status = await provider.poll(ref)
        return status if status.state is not RemoteState.RUNNING else None

    return await wait_until(ended, within=15, what=f"batch {ref.remote_id} to end")  # type: ignore[no-any-return]


async def collect(provider: Provider, ref: RemoteRef) -> dict[str, ProviderResult]:
    return {row.wire_id: row async for row in provider.results(ref)}
