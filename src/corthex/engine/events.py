"""The event bus: facts about changes (domain/events.py), fanned out to subscribers (CLI,
WebSocket, Telegram, metrics, the PostgreSQL relay)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from corthex.domain.events import Event

__all__ = ["Event", "EventBus", "Subscriber"]

log = logging.getLogger(__name__)

Subscriber = Callable[[Event], Awaitable[None] | None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[tuple[Subscriber, tuple[type[Event], ...]]] = []

    def subscribe(self, callback: Subscriber, types: Iterable[type[Event]] = ()) -> Callable[[], None]:
        """Register `callback` for events of `types` (every event when empty); returns a function
        that unsubscribes it."""
        entry = (callback, tuple(types))
        self._subscribers.append(entry)
        return lambda: self._subscribers.remove(entry)

    async def publish(self, event: Event) -> None:
        """Hand an event to every subscriber that wants it (also used to re-publish relayed events)."""
        for callback, types in list(self._subscribers):
            if types and not isinstance(event, types):
                continue
            try:
                outcome = callback(event)
                if outcome is not None:
                    await outcome
            except Exception:  # a broken subscriber must not stop the engine
                log.exception("event subscriber failed on %s", event.type)
