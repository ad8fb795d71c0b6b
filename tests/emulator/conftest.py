"""One emulator per test module (tests/conftest.py), reset before every test; official SDK clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest
from emu_helpers import gemini_client
from google import genai

from corthex.emulator import EmulatorServer

SPEED = 0.05  # validate 10 ms, a small batch runs ~25 ms


@pytest.fixture(scope="module")
def emulator_speed() -> float:
    return SPEED


@pytest.fixture(autouse=True)
def clean(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_API_KEY", "GOOGLE_GENAI_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    emulator.state.reset()
    emulator.state.config.speed = SPEED
    yield
    emulator.state.reset()


@pytest.fixture
def oai(emulator: EmulatorServer) -> Iterator[openai.OpenAI]:
    env = emulator.env()
    with openai.OpenAI(base_url=env["OPENAI_BASE_URL"], api_key=env["OPENAI_API_KEY"]) as client:
        yield client


@pytest.fixture
def ant(emulator: EmulatorServer) -> Iterator[anthropic.Anthropic]:
    env = emulator.env()
    client = anthropic.Anthropic(base_url=env["ANTHROPIC_BASE_URL"], api_key=env["ANTHROPIC_API_KEY"])
    with client:
        yield client


@pytest.fixture(params=["v1", "v1beta"])
def gem(request: pytest.FixtureRequest, emulator: EmulatorServer) -> Iterator[genai.Client]:
    client = gemini_client(emulator, request.param)
    yield client
    client.close()
