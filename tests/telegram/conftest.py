"""The bot end to end: the real engine on a fresh SQLite file, the provider emulator through the
official SDKs, python-telegram-bot itself, and a fake Bot API server (no mocks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from tg_fakebot import FakeBotApi
from tg_support import CHAT_A, CHAT_B, TOKEN, WINDOW

from corthex.config import Settings
from corthex.engine.engine import Engine
from corthex.telegram import TelegramService


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    server = FakeBotApi(TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def settings_overrides(fake: FakeBotApi) -> dict[str, Any]:
    return {
        "max_attempts": 1,
        "telegram_bot_token": TOKEN,
        "telegram_chat_ids": f"{CHAT_A}, {CHAT_B}",
        "telegram_base_url": fake.base_url,
        "language": "en",  # the tests of the Korean bot choose their own (test_tg_korean.py)
    }


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
