"""The Telegram bot: commands, progress to the starting chat, and the `telegram` report delivery."""

from corthex.telegram.service import TelegramService, parse_chat_ids

__all__ = ["TelegramService", "parse_chat_ids"]
