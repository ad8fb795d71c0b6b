"""Telegram's flood control (429 "retry after"), against the fake Bot API: waited out a bounded
number of times, and a wait longer than the engine should stall for fails the send."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import RetryAfter
from tg_fakebot import FakeBotApi
from tg_support import CHAT_A, TOKEN

from corthex.telegram import sender


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake.base_url) as b:
        yield b


async def test_flood_control_is_waited_out_and_the_message_sent(fake: FakeBotApi, bot: Bot) -> None:
    fake.flood = [1, 1]  # Telegram's retry_after is whole seconds
    await sender.send_html(bot, CHAT_A, "<b>hello</b>")
    assert fake.texts(CHAT_A) == ["hello"] and fake.flood == []


async def test_a_ban_longer_than_the_cap_fails_the_send(fake: FakeBotApi, bot: Bot) -> None:
    fake.flood = [int(sender.MAX_FLOOD_WAIT) + 1]
    with pytest.raises(RetryAfter):
        await sender.send_html(bot, CHAT_A, "hello")
    assert fake.texts(CHAT_A) == []


async def test_retries_are_bounded(fake: FakeBotApi, bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sender, "FLOOD_RETRIES", 1)
    fake.flood = [1, 1]
    with pytest.raises(RetryAfter):
        await sender.send_html(bot, CHAT_A, "hello")
    assert fake.texts(CHAT_A) == []
