"""The Telegram bot as one service of `corthex serve`:

service = TelegramService(engine, settings)
await service.start()                 # polls getUpdates in the background; returns at once
engine.add_delivery(service.delivery)
...
await service.stop()
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from telegram import Bot, Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes
from telegram.request import HTTPXRequest

from corthex.config import Settings
from corthex.domain.org import Org
from corthex.engine.engine import Engine
from corthex.errors import UsageError
from corthex.redaction import Redactor
from corthex.telegram.delivery import TelegramDelivery
from corthex.telegram.handlers import Commands, commands_in
from corthex.telegram.language import ChatLanguages
from corthex.telegram.progress import EVENTS as PROGRESS_EVENTS
from corthex.telegram.progress import ProgressNotifier
from corthex.telegram.redact import LogGuard
from corthex.telegram.sender import edit_html, send_html, send_parts

log = logging.getLogger(__name__)

POLL_TIMEOUT = dt.timedelta(seconds=10)  #: getUpdates long-poll time


def parse_chat_ids(value: str) -> frozenset[int]:
    """TELEGRAM_CHAT_IDS: integers separated by commas (or spaces); group ids are negative."""
    ids = set()
    for item in value.replace(",", " ").split():
        try:
            ids.add(int(item))
        except ValueError:
            raise UsageError(f"TELEGRAM_CHAT_IDS: {item!r} is not a chat id (an integer)") from None
    return frozenset(ids)


class TelegramService:
    def __init__(self, engine: Engine, settings: Settings, *, progress_window: float = 2.0) -> None:
        token = (settings.telegram_bot_token or "").strip()
        if not token:
            raise UsageError("TELEGRAM_BOT_TOKEN is not set")
        self.engine, self.settings = engine, settings
        self.allowed = parse_chat_ids(settings.telegram_chat_ids)
        self._token, self._redact = token, Redactor([token])
        self._guard = LogGuard(self._redact)
        self._app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe: Any = None
        self.languages = ChatLanguages(settings)
        self.progress = ProgressNotifier(
            engine.chain, self.allowed, self._post, self._edit, progress_window, language=self.languages, org=self._org
        )
        self.delivery = TelegramDelivery(
            engine.chain_cost, self.allowed, self._send, self.progress, self.describe, self.languages
        )
        self.commands = Commands(engine, settings, self.allowed, self._send, self._spawn, self.languages)

    @property
    def bot(self) -> Bot:
        if self._app is None:
            raise RuntimeError("the Telegram service is not running")
        bot: Bot = self._app.bot
        return bot

    async def start(self) -> None:
        """Connect (getMe), register the commands, and start polling; raises UsageError if
        Telegram rejects the token, TelegramError (token-free) if it cannot be reached."""
        self._guard.install()  # before the Bot exists: it logs its URL, token included, at DEBUG
        if not self.allowed:
            log.warning("TELEGRAM_CHAT_IDS is empty: the bot will answer no chat")
        # Our own request objects: if getMe fails the Application is not initialized and would not
        # close them, so we do.
        requests = HTTPXRequest(connection_pool_size=8), HTTPXRequest(connection_pool_size=1)
        builder = ApplicationBuilder().token(self._token).request(requests[0]).get_updates_request(requests[1])
        if self.settings.telegram_base_url:
            builder = builder.base_url(self.settings.telegram_base_url)
        app = builder.build()
        self.commands.register(app)
        app.add_error_handler(self._on_error)
        try:
            await app.initialize()
        except TelegramError as exc:
            for request in requests:
                await request.shutdown()
            if isinstance(exc, InvalidToken):
                raise UsageError("Telegram rejected TELEGRAM_BOT_TOKEN") from None
            raise TelegramError(f"Telegram is unreachable: {self.describe(exc)}") from None
        self._app = app
        await self._set_commands()
        assert app.updater is not None
        await app.updater.start_polling(timeout=POLL_TIMEOUT, allowed_updates=[Update.MESSAGE])
        await app.start()
        self._unsubscribe = self.engine.bus.subscribe(self.progress.on_event, types=PROGRESS_EVENTS)
        log.info("Telegram bot @%s is polling; allowed chats: %s", app.bot.username, sorted(self.allowed))

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        app, self._app = self._app, None
        if app is not None:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
        await self._cancel_tasks()  # a realtime chain cut here resumes on the engine's next tick
        await self.progress.aclose()
        if app is not None:
            await app.shutdown()
        self._guard.remove()

    def describe(self, exc: BaseException) -> str:
        """An exception as text, token removed: for replies, errors and logs."""
        return self._redact(f"{type(exc).__name__}: {exc}")

    # -- plumbing -----------------------------------------------------------------------------

    async def _send(self, chat_id: int, parts: Sequence[str]) -> None:
        await send_parts(self.bot, chat_id, parts)

    async def _post(self, chat_id: int, html_text: str) -> int:
        return await send_html(self.bot, chat_id, html_text)

    async def _edit(self, chat_id: int, message_id: int, html_text: str) -> None:
        await edit_html(self.bot, chat_id, message_id, html_text)

    def _org(self) -> Org | None:
        """The org, for agents' display names in progress (None if it cannot be loaded: ids then)."""
        try:
            return self.engine.org
        except Exception as exc:
            log.warning("progress shows agent ids: the org did not load: %s", exc)
            return None

    async def _set_commands(self) -> None:
        try:
            await self.bot.set_my_commands(commands_in(self.languages()))
        except TelegramError as exc:  # only the client's command menu depends on it
            log.warning("could not register the bot's commands: %s", self.describe(exc))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("a Telegram task failed: %s", self.describe(exc))

    async def _cancel_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A handler failed: log it (token-free) and keep polling."""
        error = context.error
        if error is None:
            return
        log.error("handling update failed: %s", self.describe(error), exc_info=error)
