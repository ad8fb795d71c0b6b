"""Each adapter through its official SDK against the emulator (one per module: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anthropic
import openai
import pytest
from google import genai
from sdk_support import KEY, make_gemini_client

from corthex.emulator import EmulatorServer
from corthex.providers import AnthropicProvider, GeminiProvider, OpenAIProvider


@pytest.fixture(scope="module")
def emulator_speed() -> float:
    return 0.05


@pytest.fixture(autouse=True)
def _clear_faults(emulator: EmulatorServer) -> Iterator[None]:
    yield
    emulator.state.clear_faults()


@pytest.fixture
async def openai_client(emulator: EmulatorServer) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(base_url=f"{emulator.url}/openai/v1", api_key=KEY, max_retries=2)
    yield client
    await client.close()


@pytest.fixture
async def anthropic_client(emulator: EmulatorServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = anthropic.AsyncAnthropic(base_url=f"{emulator.url}/anthropic", api_key=KEY, max_retries=2, timeout=30)
    yield client
    await client.close()


@pytest.fixture(params=["v1", "v1beta"])
async def gemini_client(request: pytest.FixtureRequest, emulator: EmulatorServer) -> AsyncIterator[genai.Client]:
    client = make_gemini_client(emulator, request.param)
    yield client
    await client.aio.aclose()
    client.close()


@pytest.fixture
def openai_provider(tmp_path, openai_client) -> OpenAIProvider:
    return OpenAIProvider(tmp_path, client=openai_client)


@pytest.fixture
def anthropic_provider(tmp_path, anthropic_client) -> AnthropicProvider:
    return AnthropicProvider(tmp_path, client=anthropic_client)


@pytest.fixture
def gemini_provider(tmp_path, gemini_client) -> GeminiProvider:
    return GeminiProvider(tmp_path, client=gemini_client)
