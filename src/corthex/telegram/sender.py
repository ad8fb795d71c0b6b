"""Sending HTML messages, waiting out Telegram's flood control a bounded number of times."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter

FLOOD_RETRIES = 3
MAX_FLOOD_WAIT = 60.0  #: seconds; a longer ban fails the send instead of stalling the engine
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def send_html(bot: Bot, chat_id: int, text: str) -> int:
    """Send one message (already escaped HTML, within the limit); returns its message id."""
    for attempt in range(FLOOD_RETRIES + 1):
        try:
            message = await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW)
            return message.message_id
        except RetryAfter as exc:
            await _wait_out(exc, attempt)
    raise AssertionError("unreachable: the last attempt raises")


async def edit_html(bot: Bot, chat_id: int, message_id: int, text: str) -> None:
    """Replace the text of a message the bot sent (already escaped HTML, within the limit)."""
    for attempt in range(FLOOD_RETRIES + 1):
        try:
            await bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                link_preview_options=_NO_PREVIEW,
            )
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():  # the same text again: nothing to do
                return
            raise
        except RetryAfter as exc:
            await _wait_out(exc, attempt)


async def _wait_out(exc: RetryAfter, attempt: int) -> None:
    """Wait out flood control, a bounded number of times and never too long (else raise it)."""
    wait = _seconds(exc)
    if attempt == FLOOD_RETRIES or wait > MAX_FLOOD_WAIT:
        raise exc
    await asyncio.sleep(wait)


async def send_parts(bot: Bot, chat_id: int, parts: Sequence[str]) -> None:
    """Send the parts of one message in order; the first failure stops and raises."""
    for part in parts:
        await send_html(bot, chat_id, part)


def _seconds(exc: RetryAfter) -> float:
    value = exc.retry_after  # a timedelta (PTB_TIMEDELTA, set in corthex.telegram), else seconds
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
