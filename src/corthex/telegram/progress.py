"""Chain progress for the chat that started the chain, and for no other (LESSONS T5: the original
sent every chain's progress to the CEO chat, web-started chains included).

Each chain's progress is ONE message, edited in place as the chain goes (issue 16 item 10: a
broadcast sent 35+ messages): the first line is posted at once as the acknowledgement, later
lines are coalesced and the message is edited at most once per `window` seconds. The bus calls
`on_event` inside the engine's worker loop, so it only buffers a line and schedules the edit.
Agents are shown by their display names in the org, in the chat's language.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from corthex.domain.events import ChainDone, ChainItem, ChainStarted, ChainStepDone, ChainStepSubmitted, Event
from corthex.domain.org import Org
from corthex.engine.engine import ChainRow
from corthex.errors import NotFound
from corthex.telegram import messages

log = logging.getLogger(__name__)

Post = Callable[[int, str], Awaitable[int]]  #: (chat, HTML) -> the id of the message sent
Edit = Callable[[int, int, str], Awaitable[None]]  #: (chat, message id, HTML): replace its text
ChainOf = Callable[[str], Awaitable[ChainRow]]  #: chain id -> the chain (NotFound if none)
LanguageOf = Callable[[int], str]  #: chat -> the language to speak there
OrgOf = Callable[[], Org | None]  #: the org, for display names (None if it cannot be loaded)

#: the chain events a chat hears about
EVENTS = (ChainStarted, ChainStepSubmitted, ChainStepDone, ChainItem, ChainDone)


def origin_chat(origin: str | None, origin_ref: str | None, allowed: frozenset[int]) -> int | None:
    """The allowed chat a chain was started from, or None (web, CLI, or a chat no longer allowed)."""
    if origin != "telegram" or origin_ref is None:
        return None
    try:
        chat = int(origin_ref)
    except ValueError:
        return None
    return chat if chat in allowed else None


@dataclass
class Board:
    """One chain's progress message: every line so far, and what the chat shows now."""

    lines: list[str] = field(default_factory=list)
    message_id: int | None = None
    shown: str = ""


class ProgressNotifier:
    def __init__(
        self,
        chain_of: ChainOf,
        allowed: frozenset[int],
        post: Post,
        edit: Edit,
        window: float,
        *,
        language: LanguageOf = lambda chat: "en",
        org: OrgOf = lambda: None,
    ) -> None:
        self._chain_of, self._allowed, self._post, self._edit = chain_of, allowed, post, edit
        self._window, self._language, self._org = window, language, org
        self._chat: dict[str, int | None] = {}  #: chain id → its chat (None: not from Telegram)
        self._events: dict[str, list[Event]] = {}  #: events not yet rendered (the chat may be unknown)
        self._boards: dict[str, Board] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def on_event(self, event: Event) -> None:
        """Bus subscriber (for `EVENTS`): buffer the event for its chain's chat; never waits."""
        if not isinstance(event, EVENTS):
            return
        chain_id = event.chain_id
        if isinstance(event, ChainStarted):
            self._chat[chain_id] = origin_chat(event.origin, event.origin_ref, self._allowed)
        if chain_id in self._chat and self._chat[chain_id] is None:
            if isinstance(event, ChainDone):
                self._forget(chain_id)
            return
        if not isinstance(event, ChainDone):
            self._events.setdefault(chain_id, []).append(event)
        if isinstance(event, ChainDone):
            self._spawn(self._final(chain_id))
        elif chain_id not in self._timers:
            # the start is the user's acknowledgement: send it at once; later lines are coalesced
            delay = 0.0 if isinstance(event, ChainStarted) else self._window
            self._timers[chain_id] = self._spawn(self._later(chain_id, delay))

    async def flush(self, chain_id: str) -> None:
        """Show the chain's buffered lines now (the delivery calls this before the report)."""
        async with self._locks.setdefault(chain_id, asyncio.Lock()):
            events = self._events.pop(chain_id, None)
            if not events:
                return
            chat = await self._chat_of(chain_id)
            if chat is None:
                return
            board = self._boards.setdefault(chain_id, Board())
            lang, org = self._language(chat), self._org()
            board.lines += [line for e in events if (line := messages.progress_line(e, org, lang))]
            try:
                await self._show(chat, chain_id, board, lang)
            except Exception as exc:  # progress is best effort; the report is what must arrive
                log.warning("progress of chain %s to chat %s not sent: %s", chain_id, chat, exc)

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _show(self, chat: int, chain_id: str, board: Board, lang: str) -> None:
        """Post the board the first time, then edit it in place (post again if the edit fails:
        the message was deleted, or is too old to edit)."""
        html = messages.progress_board(chain_id, board.lines, lang)
        if html == board.shown:
            return  # Telegram refuses an edit that changes nothing
        if board.message_id is not None:
            try:
                await self._edit(chat, board.message_id, html)
                board.shown = html
                return
            except Exception as exc:
                log.info("progress message of chain %s not edited (%s): posting a new one", chain_id, exc)
        board.message_id = await self._post(chat, html)
        board.shown = html

    async def _later(self, chain_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        self._timers.pop(chain_id, None)  # lines that arrive during the send get a new timer
        await self.flush(chain_id)

    async def _final(self, chain_id: str) -> None:
        await self.flush(chain_id)
        self._forget(chain_id)

    def _forget(self, chain_id: str) -> None:
        timer = self._timers.pop(chain_id, None)
        if timer is not None:
            timer.cancel()
        self._chat.pop(chain_id, None)
        self._events.pop(chain_id, None)
        self._boards.pop(chain_id, None)
        self._locks.pop(chain_id, None)

    async def _chat_of(self, chain_id: str) -> int | None:
        if chain_id not in self._chat:  # a chain from before a restart: ask the store once
            try:
                chain = await self._chain_of(chain_id)
                self._chat[chain_id] = origin_chat(chain.origin, chain.origin_ref, self._allowed)
            except NotFound:
                self._chat[chain_id] = None
        return self._chat[chain_id]

    def _spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
