"""Events across processes on PostgreSQL: every `corthex serve` and `corthex worker` on one
database sees every event, so WebSocket clients of any server hear about work done anywhere.

Each process's bus NOTIFYs its own events on one channel and LISTENs to it; events from other
processes are re-published locally with `Event.relayed_from` set (and never sent on again). NOTIFY
payloads must stay under 8000 bytes: long text fields (a chain's report) are left out and named
in `omitted`, so a client fetches them by id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from sqlalchemy.engine import URL

from corthex.domain.events import Event, from_wire
from corthex.engine.events import EventBus

log = logging.getLogger(__name__)

CHANNEL = "corthex_events"
MAX_PAYLOAD = 7900  #: PostgreSQL's limit is 8000 bytes
LONG_TEXT = 500  #: string fields longer than this are left out of an oversized payload


def encode(event: Event, origin: str) -> str:
    """The event as a NOTIFY payload, under MAX_PAYLOAD bytes."""
    data = event.data()
    message: dict[str, Any] = {"o": origin, "t": event.type, "a": event.at, "d": data}
    raw = orjson.dumps(message, default=str)
    if len(raw) > MAX_PAYLOAD:
        long = sorted(k for k, v in data.items() if isinstance(v, str) and len(v) > LONG_TEXT)
        slim = {k: v for k, v in data.items() if k not in long}
        message["d"] = {**slim, "omitted": long}
        raw = orjson.dumps(message, default=str)
    if len(raw) > MAX_PAYLOAD:  # still too big: ids and scalars only
        scalars = {k: v for k, v in data.items() if isinstance(v, int | float | bool) or k.endswith("id")}
        message["d"] = {**scalars, "omitted": sorted(set(data) - set(scalars))}
        raw = orjson.dumps(message, default=str)[:MAX_PAYLOAD]
    return raw.decode()


def decode(payload: str) -> Event | None:
    try:
        message = orjson.loads(payload)
        return from_wire(str(message["t"]), dict(message["d"]), float(message["a"]), relayed_from=str(message["o"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        log.warning("ignoring a malformed event notification")
        return None


def asyncpg_dsn(url: URL) -> str:
    """A libpq URL for asyncpg from the store's SQLAlchemy URL (`postgresql+asyncpg://…`)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class PgEventRelay:
    """Relays `bus` events to and from the other processes on the same PostgreSQL database."""

    def __init__(self, bus: EventBus, dsn: str, process_id: str) -> None:
        self.bus, self._dsn, self.process_id = bus, dsn, process_id
        self._conn: Any = None
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue(maxsize=10_000)
        self._sender: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe: Any = None

    async def start(self) -> PgEventRelay:
        await self._connect()
        self._sender = asyncio.create_task(self._send_all(), name="corthex-event-relay")
        self._unsubscribe = self.bus.subscribe(self._on_local)
        return self

    async def _connect(self) -> None:
        import asyncpg

        self._conn = await asyncpg.connect(self._dsn)
        await self._conn.add_listener(CHANNEL, self._on_notify)

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._sender is not None:  # send what is queued, then stop
            await self._outbox.put(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._sender, timeout=5)
            self._sender = None
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await task
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close(timeout=5)
            self._conn = None

    def _on_local(self, event: Event) -> None:
        """Queue this process's events for the sender: the engine never waits on a NOTIFY."""
        if event.relayed_from is not None:  # relayed here from elsewhere: not ours to send on
            return
        try:
            self._outbox.put_nowait(encode(event, self.process_id))
        except asyncio.QueueFull:
            log.warning("event %s not relayed to other processes: the relay is behind", event.type)

    async def _send_all(self) -> None:
        """One NOTIFY at a time, in order (one asyncpg connection runs one statement at a time)."""
        while (payload := await self._outbox.get()) is not None:
            try:
                if self._conn is None or self._conn.is_closed():
                    await self._connect()  # the listener comes back with the connection
                await self._conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
            except Exception as exc:  # events are best effort; the store is the truth
                log.warning("an event was not relayed to other processes: %s", exc)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        event = decode(payload)
        if event is None or event.relayed_from == self.process_id:
            return
        task = asyncio.get_running_loop().create_task(self.bus.publish(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
