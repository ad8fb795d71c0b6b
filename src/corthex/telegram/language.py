"""Which language the bot speaks in each chat (corthex.i18n.choose_language): CORTHEX_LANGUAGE when
set; else Korean in the Asia/Seoul time zone; else the language of the chat's user's Telegram app
(`language_code` of their last message); else English."""

from __future__ import annotations

from telegram import Update

from corthex.config import Settings
from corthex.i18n import choose_language


class ChatLanguages:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._codes: dict[int, str] = {}  #: chat -> its user's last `language_code`

    def __call__(self, chat_id: int | None = None) -> str:
        """The language for `chat_id` (for no chat in particular: the default)."""
        code = self._codes.get(chat_id) if chat_id is not None else None
        return choose_language(self._settings.language, self._settings.timezone, code)

    def of_update(self, update: Update) -> str:
        """The language to answer `update` in; remembers its user's language for the chat's
        progress and reports."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None:
            return self()
        if user is not None and user.language_code:
            self._codes[chat.id] = user.language_code
        return self(chat.id)
