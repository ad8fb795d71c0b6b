"""Chain progress for the chat that started the chain, and for no other (LESSONS T5: the original
sent every chain's progress to the CEO chat, web-started chains included).

The bus calls `on_event` inside the engine's worker loop, so it only buffers a line and schedules a
send: lines are coalesced per chain and sent at most once per `window` seconds, so a broadcast
chain's twenty specialist reports arrive as one message, not twenty.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from corthex.domain.events import ChainDone, ChainItem, ChainStarted, ChainStepDone, ChainStepSubmitted, Event
from corthex.engine.engine import ChainRow
from corthex.errors import NotFound
from corthex.telegram import messages

log = logging.getLogger(__name__)

Send = Callable[[int, Sequence[str]], Awaitable[None]]
ChainOf = Callable[[str], Awaitable[ChainRow]]  #: chain id -> the chain (NotFound if none)

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


class ProgressNotifier:
    def __init__(self, chain_of: ChainOf, allowed: frozenset[int], send: Send, window: float) -> None:
        self._chain_of, self._allowed, self._send, self._window = chain_of, allowed, send, window
        self._chat: dict[str, int | None] = {}  #: chain id → its chat (None: not from Telegram)
        self._lines: dict[str, list[str]] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def on_event(self, event: Event) -> None:
        """Bus subscriber (for `EVENTS`): buffer the event's line for its chain's chat; never waits."""
        if not isinstance(event, EVENTS):
            return
        chain_id = event.chain_id
        if isinstance(event, ChainStarted):
            self._chat[chain_id] = origin_chat(event.origin, event.origin_ref, self._allowed)
        if chain_id in self._chat and self._chat[chain_id] is None:
            if isinstance(event, ChainDone):
                self._forget(chain_id)
            return
        line = messages.progress_line(event)
        if line:
            self._lines.setdefault(chain_id, []).append(line)
        if isinstance(event, ChainDone):
            self._spawn(self._final(chain_id))
        elif line and chain_id not in self._timers:
            # the start is the user's acknowledgement: send it at once; later lines are coalesced
            delay = 0.0 if isinstance(event, ChainStarted) else self._window
            self._timers[chain_id] = self._spawn(self._later(chain_id, delay))

    async def flush(self, chain_id: str) -> None:
        """Send the chain's buffered lines now (the delivery calls this before the report)."""
        async with self._locks.setdefault(chain_id, asyncio.Lock()):
            lines = self._lines.pop(chain_id, None)
            if not lines:
                return
            chat = await self._chat_of(chain_id)
            if chat is None:
                return
            try:
                await self._send(chat, messages.progress_parts(chain_id, lines))
            except Exception as exc:  # progress is best effort; the report is what must arrive
                log.warning("progress of chain %s to chat %s not sent: %s", chain_id, chat, exc)

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

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
        self._lines.pop(chain_id, None)
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
