"""The bot's commands. Only chats in TELEGRAM_CHAT_IDS get past the gate.

Command names are ASCII: Telegram rejects others (LESSONS bug 1, `CommandHandler("배치")` kept the
original bot from starting), so "배치 …" and "실시간 …" are read as plain text.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler, ContextTypes, MessageHandler, TypeHandler
from telegram.ext import filters as f

from corthex.config import Settings
from corthex.domain.chain import ChainStatus
from corthex.engine.engine import Engine
from corthex.errors import BudgetExceeded, JobFinished, NotFound, UsageError
from corthex.i18n import text
from corthex.telegram import messages
from corthex.telegram.language import ChatLanguages

log = logging.getLogger(__name__)

Reply = Callable[[int, Sequence[str]], Awaitable[None]]
Spawn = Callable[[Coroutine[Any, Any, None]], None]
STATUS_ROWS = 20


@dataclass(frozen=True, slots=True)
class Mode:
    usage: str  #: e.g. "/batch {command}": `{command}` is said in the chat's language
    realtime: bool = False
    broadcast: bool = False

    def usage_in(self, lang: str) -> str:
        return self.usage.format(command=f"<{text(lang, 'usage.command')}>")


BATCH = Mode("/batch {command}")
REALTIME = Mode("/rt {command}", realtime=True)
BROADCAST = Mode("/broadcast {command}", broadcast=True)

_COMMAND_TEXT = re.compile(r"^/\S+\s*(.*)$", re.DOTALL)  # keeps the command's own line breaks
_KOREAN = re.compile(r"^/?(배치|실시간)(?:\s+(.*))?$", re.DOTALL)
_KOREAN_MODES = {"배치": Mode("배치 {command}"), "실시간": Mode("실시간 {command}", realtime=True)}
_MENU = ("batch", "rt", "broadcast", "status", "budget", "cancel", "report", "help")


def commands_in(lang: str) -> list[BotCommand]:
    """The bot's command menu, described in `lang`."""
    return [BotCommand(name, text(lang, f"cmd.{name}")) for name in _MENU]


COMMANDS = commands_in("en")


class Commands:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        allowed: frozenset[int],
        reply: Reply,
        spawn: Spawn,
        languages: ChatLanguages | None = None,
    ) -> None:
        self.engine, self.settings, self.allowed = engine, settings, allowed
        self._reply, self._spawn = reply, spawn
        self.languages = languages or ChatLanguages(settings)

    def register(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        new = f.UpdateType.MESSAGE  # an edited "/batch x" must not start a second chain
        app.add_handler(TypeHandler(Update, self.gate), group=-1)
        for name, callback in [
            ("batch", self.batch),
            ("rt", self.realtime),
            ("broadcast", self.broadcast),
            ("status", self.status),
            ("budget", self.budget),
            ("cancel", self.cancel),
            ("report", self.report),
            ("help", self.help),
            ("start", self.help),
        ]:
            app.add_handler(CommandHandler(name, callback, filters=new))
        app.add_handler(MessageHandler(new & f.COMMAND, self.unknown))
        app.add_handler(MessageHandler(new & f.TEXT, self.text))

    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is not None and chat.id in self.allowed:
            return
        log.warning("ignored update %s from chat %s: not in TELEGRAM_CHAT_IDS", update.update_id, chat and chat.id)
        raise ApplicationHandlerStop

    # -- starting chains ------------------------------------------------------------------------

    async def batch(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._launch(update, _command_text(update), BATCH)

    async def realtime(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._launch(update, _command_text(update), REALTIME)

    async def broadcast(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._launch(update, _command_text(update), BROADCAST)

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Plain text is a command for a batch chain ("안녕, 오늘 일정 알려줘"); "배치 …" and
        "실시간 …" choose the mode in Korean."""
        said = (update.effective_message and update.effective_message.text or "").strip()
        match = _KOREAN.match(said)
        if match is None:
            await self._launch(update, said, BATCH)
            return
        await self._launch(update, match.group(2) or "", _KOREAN_MODES[match.group(1)])

    async def _launch(self, update: Update, command: str, mode: Mode) -> None:
        lang = self.languages.of_update(update)
        problem = messages.command_problem(command, mode.usage_in(lang), lang)
        if problem:
            await self._answer(update, problem)
            return
        # A realtime chain runs inside `start`; in a task it does not hold up the bot's other updates.
        self._spawn(self._start(_chat_id(update), command, mode))

    async def _start(self, chat_id: int, command: str, mode: Mode) -> None:
        """Start the chain; the acknowledgement is its "started" progress line, errors are replied here."""
        lang = self.languages(chat_id)
        try:
            await self.engine.start_chain(
                command,
                broadcast=mode.broadcast,
                realtime=mode.realtime,
                origin="telegram",
                origin_ref=str(chat_id),
            )
        except (UsageError, BudgetExceeded) as exc:
            await self._reply(chat_id, [messages.start_failed(str(exc), lang)])
        except Exception:
            log.exception("starting a chain for chat %s failed", chat_id)
            await self._reply(chat_id, [messages.start_failed(text(lang, "internal_error"), lang)])

    # -- control ------------------------------------------------------------------------------

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/cancel <chain id>: stop the chain; its report (what it had) follows as usual."""
        chain_id, lang = _command_text(update).strip(), self.languages.of_update(update)
        if not chain_id:
            await self._answer(update, messages.command_problem("", "/cancel <chain id>", lang) or "")
            return
        try:
            stopped = await self.engine.cancel_chain(chain_id)
        except (NotFound, JobFinished) as exc:
            await self._answer(update, messages.esc(str(exc)))
            return
        await self._answer(update, messages.canceled_text(stopped, lang))

    async def report(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/report <chain id>: the chain's report again, or where it stands while it runs."""
        chain_id, lang = _command_text(update).strip(), self.languages.of_update(update)
        if not chain_id:
            await self._answer(update, messages.command_problem("", "/report <chain id>", lang) or "")
            return
        try:
            chain = await self.engine.chain(chain_id)
        except NotFound as exc:
            await self._answer(update, messages.esc(str(exc)))
            return
        if chain.report is None:
            await self._answer(update, messages.no_report_yet(chain, lang))
            return
        cost, realtime_cost = await self.engine.chain_cost(chain.id)
        await self._reply(_chat_id(update), messages.report_parts(chain, chain.report, cost, realtime_cost))

    # -- reading ------------------------------------------------------------------------------

    async def status(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        lang = self.languages.of_update(update)
        chains = await self.engine.list_chains(status=ChainStatus.RUNNING, limit=STATUS_ROWS + 1)
        parts = messages.status_parts(chains[:STATUS_ROWS], time.time(), more=len(chains) > STATUS_ROWS, lang=lang)
        await self._reply(_chat_id(update), parts)

    async def budget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        lang = self.languages.of_update(update)
        await self._answer(update, messages.budget_text(await self.engine.budget_status(), lang))

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._answer(update, messages.help_text(self.languages.of_update(update)))

    async def unknown(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._answer(update, messages.esc(text(self.languages.of_update(update), "unknown_command")))

    async def _answer(self, update: Update, html_text: str) -> None:
        await self._reply(_chat_id(update), [html_text])


def _chat_id(update: Update) -> int:
    assert update.effective_chat is not None  # the gate let only chats through
    return update.effective_chat.id


def _command_text(update: Update) -> str:
    text = update.effective_message.text if update.effective_message else None
    match = _COMMAND_TEXT.match(text or "")
    return match.group(1) if match else ""
