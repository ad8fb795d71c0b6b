"""Live events for WebSocket clients: every bus event gets a sequence number and stays in a
bounded ring buffer, so a client that reconnects with `since` gets what it missed.

The hub is the only bus subscriber; each connection has its own bounded queue, so one slow
client never holds up the engine (the bus awaits its subscribers) or the other clients.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from corthex.domain.events import ChainReport, Event
from corthex.engine.engine import ChainRow

RING_SIZE = 2000
CLIENT_QUEUE = 1000  # a client this far behind is dropped; it resyncs on reconnect


@dataclass(frozen=True, slots=True)
class Numbered:
    seq: int
    type: str
    data: dict[str, Any]
    at: float

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "type": self.type, "data": self.data, "at": self.at}


class Listener:
    """One connection's view of the hub: a queue of numbered events, and whether it overflowed."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Numbered] = asyncio.Queue(CLIENT_QUEUE)
        self.overflowed = asyncio.Event()

    def offer(self, event: Numbered) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed.set()


class EventHub:
    def __init__(self, redact: Callable[[str], str], size: int = RING_SIZE) -> None:
        self.epoch = uuid.uuid4().hex[:12]  #: a new server process numbers events afresh
        self._redact = redact
        self._ring: deque[Numbered] = deque(maxlen=size)
        self._seq = 0
        self._listeners: set[Listener] = set()

    @property
    def seq(self) -> int:
        """The last sequence number given out (0 before the first event)."""
        return self._seq

    def on_event(self, event: Event) -> None:
        """The bus subscriber: number, scrub, remember and fan out (never blocks)."""
        self._seq += 1
        data = orjson.loads(self._redact(orjson.dumps(event.data(), default=str).decode()))
        numbered = Numbered(self._seq, event.type, data, event.at)
        self._ring.append(numbered)
        for listener in list(self._listeners):
            listener.offer(numbered)

    @property
    def clients(self) -> int:
        return len(self._listeners)

    def listen(self) -> Listener:
        listener = Listener()
        self._listeners.add(listener)
        return listener

    def forget(self, listener: Listener) -> None:
        self._listeners.discard(listener)

    def since(self, seq: int) -> list[Numbered] | None:
        """Events after `seq`, or None when some of them have left the ring (or `seq` is from
        another epoch's numbering): the client then needs a snapshot."""
        if seq > self._seq:
            return None
        if seq == self._seq:
            return []
        oldest = self._ring[0].seq if self._ring else self._seq + 1
        if seq + 1 < oldest:
            return None
        return [e for e in self._ring if e.seq > seq]

    def encode(self, message: dict[str, Any]) -> str:
        return self._redact(orjson.dumps(message, default=str).decode())


class WebSocketDelivery:
    """Delivers a finished chain's report to the dashboard: one `chain.report` event (the
    orchestrator's deliveries table makes it once per chain)."""

    name = "websocket"

    def __init__(self, publish: Callable[[Event], Awaitable[None]], cost: Callable[[str], Any]) -> None:
        self._publish, self._cost = publish, cost

    async def deliver(self, chain: ChainRow, report: str) -> None:
        cost, realtime_cost = await self._cost(chain.id)
        await self._publish(
            ChainReport(
                chain_id=chain.id,
                command=chain.command,
                broadcast=chain.broadcast,
                departments=tuple(chain.departments),
                report=report,
                cost_usd=cost,
                realtime_cost_usd=realtime_cost,
                saving_usd=realtime_cost - cost,
                delivered_at=time.time(),
            )
        )
