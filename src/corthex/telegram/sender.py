"""Sending HTML messages, waiting out Telegram's flood control a bounded number of times."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import RetryAfter

FLOOD_RETRIES = 3
MAX_FLOOD_WAIT = 60.0  #: seconds; a longer ban fails the send instead of stalling the engine
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def send_html(bot: Bot, chat_id: int, text: str) -> None:
    """Send one message (already escaped HTML, within the limit)."""
    for attempt in range(FLOOD_RETRIES + 1):
        try:
            await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW)
            return
        except RetryAfter as exc:
            wait = _seconds(exc)
            if attempt == FLOOD_RETRIES or wait > MAX_FLOOD_WAIT:
                raise
            await asyncio.sleep(wait)


async def send_parts(bot: Bot, chat_id: int, parts: Sequence[str]) -> None:
    """Send the parts of one message in order; the first failure stops and raises."""
    for part in parts:
        await send_html(bot, chat_id, part)


def _seconds(exc: RetryAfter) -> float:
    value = exc.retry_after  # a timedelta (PTB_TIMEDELTA, set in corthex.telegram), else seconds
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
