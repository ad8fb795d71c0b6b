"""Events: facts about changes, fanned out to subscribers (CLI, WebSocket, Telegram, metrics)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    type: str  #: job.submitted, batch.submitted, batch.progress, batch.ended, job.completed, …
    data: dict[str, Any]
    at: float = field(default_factory=time.time)
    #: None for an event of this process; the publishing process's id for one relayed from another
    #: process (PostgreSQL LISTEN/NOTIFY, engine/pg_events.py)
    origin: str | None = None


Subscriber = Callable[[Event], Awaitable[None] | None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Register `callback`; returns a function that unsubscribes it."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    async def publish(self, type_: str, **data: Any) -> None:
        await self.deliver(Event(type_, data))

    async def deliver(self, event: Event) -> None:
        """Hand a ready event to every subscriber (also used to re-publish relayed events)."""
        for callback in list(self._subscribers):
            try:
                outcome = callback(event)
                if outcome is not None:
                    await outcome
            except Exception:  # a broken subscriber must not stop the engine
                log.exception("event subscriber failed on %s", event.type)
