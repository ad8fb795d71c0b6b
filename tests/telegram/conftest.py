"""The bot end to end: the real engine on a fresh SQLite file, the provider emulator through the
official SDKs, python-telegram-bot itself, and a fake Bot API server (no mocks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tg_fakebot import FakeBotApi
from tg_support import CHAT_A, CHAT_B, TOKEN, WINDOW

from corthex.config import Settings
from corthex.emulator import EmulatorConfig, EmulatorServer
from corthex.engine.engine import Engine
from corthex.telegram import TelegramService


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(speed=0.02)) as server:
        yield server


@pytest.fixture(autouse=True)
def emulator_env(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    emulator.state.reset()
    yield
    emulator.state.clear_faults()


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    server = FakeBotApi(TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, fake: FakeBotApi) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 't.db'}",
        data_dir=tmp_path / "data",
        archive_dir=tmp_path / "archive",
        poll_initial=0.05,
        poll_max=0.3,
        idle_recheck=0.2,
        submit_backoff=0.05,
        provider_max_retries=0,
        max_attempts=1,
        telegram_bot_token=TOKEN,
        telegram_chat_ids=f"{CHAT_A}, {CHAT_B}",
        telegram_base_url=fake.base_url,
    )


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[Engine]:
    async with Engine(settings) as e:
        yield e


@pytest.fixture
async def service(engine: Engine, settings: Settings) -> AsyncIterator[TelegramService]:
    svc = TelegramService(engine, settings, progress_window=WINDOW)
    await svc.start()
    engine.add_delivery(svc.delivery)
    yield svc
    await svc.stop()


@pytest.fixture
async def worker(engine: Engine, service: TelegramService) -> AsyncIterator[None]:
    """The engine's worker loop, as `corthex serve` runs it (after the bot, stopped before it)."""
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    yield
    stop.set()
    await task
