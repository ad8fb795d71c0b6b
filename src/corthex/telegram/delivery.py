"""The `telegram` Delivery: a finished chain's report, in numbered parts, to the chat that started it
(or to every allowed chat for chains started on the web or the CLI)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from corthex.engine.engine import ChainRow
from corthex.errors import CorthexError
from corthex.telegram import messages
from corthex.telegram.progress import ProgressNotifier, origin_chat

log = logging.getLogger(__name__)

Send = Callable[[int, Sequence[str]], Awaitable[None]]
CostOf = Callable[[str], Awaitable[tuple[float, float]]]  #: chain id -> (cost, realtime-equivalent cost)


class TelegramDeliveryError(CorthexError):
    """The report could not be sent to Telegram."""


class TelegramDelivery:
    name = "telegram"

    def __init__(
        self,
        cost_of: CostOf,
        allowed: frozenset[int],
        send: Send,
        progress: ProgressNotifier,
        describe: Callable[[BaseException], str],
        language: Callable[[int], str] = lambda chat: "en",
    ) -> None:
        self._cost_of, self._allowed, self._send = cost_of, allowed, send
        self._progress, self._describe, self._language = progress, describe, language

    def chats_for(self, chain: ChainRow) -> list[int]:
        chat = origin_chat(chain.origin, chain.origin_ref, self._allowed)
        return [chat] if chat is not None else sorted(self._allowed)

    async def deliver(self, chain: ChainRow, report: str) -> None:
        """Send the report; raises if any chat did not get it (the orchestrator records the error)."""
        await self._progress.flush(chain.id)  # the last progress lines come before the report
        chats = self.chats_for(chain)
        if not chats:
            log.warning("chain %s: no Telegram chat to deliver to (TELEGRAM_CHAT_IDS is empty)", chain.id)
            return
        cost, realtime_cost = await self._cost_of(chain.id)
        failures = []
        for chat in chats:  # one chat failing must not keep the report from the others
            parts = messages.report_parts(chain, report, cost, realtime_cost, self._language(chat))
            try:
                await self._send(chat, parts)
            except Exception as exc:
                failures.append(f"chat {chat}: {self._describe(exc)}")
        if failures:
            raise TelegramDeliveryError("report not sent to " + "; ".join(failures))
