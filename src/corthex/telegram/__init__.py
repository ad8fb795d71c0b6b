"""The Telegram bot: commands, progress to the starting chat, and the `telegram` report delivery."""

import os

# python-telegram-bot's documented opt-in to durations as timedelta (its next major version's
# behaviour). Without it, building a flood-control error (429 "retry after") warns that the int
# form is deprecated, on every flood.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from corthex.telegram.service import TelegramService, parse_chat_ids  # noqa: E402

__all__ = ["TelegramService", "parse_chat_ids"]
