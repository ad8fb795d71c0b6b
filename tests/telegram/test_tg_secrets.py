"""The bot token never shows: not in logs (even at DEBUG), errors, recorded delivery errors or replies;
and the Telegram settings keep their own environment names."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from tg_fakebot import FakeBotApi
from tg_support import CHAT_A, CHAT_B, STOCK, STRANGER, TOKEN, WINDOW, delivery_rows, wait_chain_end, wait_report

from corthex.config import Settings
from corthex.engine.engine import Engine
from corthex.errors import UsageError
from corthex.redaction import MASK
from corthex.telegram import TelegramService, parse_chat_ids


def assert_token_free(caplog: pytest.LogCaptureFixture, token: str) -> None:
    assert token not in caplog.text
    for record in caplog.records:
        assert token not in record.getMessage() and token not in (record.exc_text or "")


async def test_the_token_never_appears_in_logs_even_at_debug(
    fake: FakeBotApi, engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    service = TelegramService(engine, settings, progress_window=WINDOW)
    await service.start()  # python-telegram-bot logs its API URL, token included, at DEBUG
    engine.add_delivery(service.delivery)
    stop = asyncio.Event()
    worker = asyncio.create_task(engine.run(stop))
    try:
        fake.message(STRANGER, "/status")
        fake.message(CHAT_A, f"/batch {STOCK}")
        await wait_report(fake, CHAT_A)
        fake.fail_chats = {CHAT_A}  # a failing send: the error is logged and recorded
        chain = await engine.chains.start(STOCK, origin="web")
        await wait_report(fake, CHAT_B)
        await wait_chain_end(engine, chain.id)
    finally:
        stop.set()
        await worker
        await service.stop()
    assert_token_free(caplog, TOKEN)
    assert any(MASK in r.getMessage() for r in caplog.records if r.name.startswith("telegram"))  # it was there
    # httpx (python-telegram-bot's client) is quiet; httpx2 is the provider SDKs' client, not ours
    assert not [r for r in caplog.records if r.name.split(".")[0] == "httpx" and r.levelno < logging.WARNING]
    assert any(f"chat {STRANGER}" in r.getMessage() for r in caplog.records)
    _, error = (await delivery_rows(engine, chain.id))["telegram"]
    assert error and TOKEN not in error
    assert all(TOKEN not in s.text for s in fake.sent)
    assert logging.getLogger("httpx").level == logging.NOTSET  # the service put it back


async def test_a_rejected_token_stops_start_with_a_clear_token_free_error(
    fake: FakeBotApi, engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "123:WRONG-token-value-abcdefghijklmnop"
    service = TelegramService(engine, settings.model_copy(update={"telegram_bot_token": wrong}))
    with pytest.raises(UsageError, match="Telegram rejected TELEGRAM_BOT_TOKEN") as caught:
        await service.start()
    assert wrong not in str(caught.value)
    await service.stop()
    assert_token_free(caplog, wrong)


def test_a_missing_token_or_a_bad_chat_id_is_a_usage_error(settings: Settings) -> None:
    with pytest.raises(UsageError, match="TELEGRAM_BOT_TOKEN is not set"):
        TelegramService(None, settings.model_copy(update={"telegram_bot_token": "  "}))  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="'@ceo' is not a chat id"):
        parse_chat_ids("123, @ceo")
    assert parse_chat_ids(" 1,-100200 ,, 3 ") == {1, -100200, 3} and parse_chat_ids("") == frozenset()


def test_settings_read_the_telegram_variables_by_their_own_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_IDS", "TELEGRAM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CORTHEX_TELEGRAM_BOT_TOKEN", "prefixed-is-not-read")
    assert Settings().telegram_bot_token is None and Settings().telegram_chat_ids == ""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:env")
    monkeypatch.setenv("TELEGRAM_CHAT_IDS", "5,6")
    monkeypatch.setenv("TELEGRAM_BASE_URL", "http://127.0.0.1:1/bot")
    s = Settings()
    assert (s.telegram_bot_token, s.telegram_chat_ids, s.telegram_base_url) == (
        "1:env",
        "5,6",
        "http://127.0.0.1:1/bot",
    )
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=1:dotenv\nCORTHEX_TIMEZONE=UTC\n")
    s = Settings()
    assert s.telegram_bot_token == "1:dotenv" and s.timezone == "UTC"
    assert Settings(telegram_bot_token="1:by-name").telegram_bot_token == "1:by-name"  # code can pass it too
