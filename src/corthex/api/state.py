"""What the running server holds: the engine, the event hub, and the tasks it started."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, WebSocket

from corthex.api.events import EventHub
from corthex.api.metrics import Metrics
from corthex.config import Settings
from corthex.domain.org import Org
from corthex.engine.engine import Engine
from corthex.redaction import Redactor

log = logging.getLogger(__name__)


#: longer than the signature's timestamp tolerance (5 minutes, Standard Webhooks): an older replay
#: is refused by its signature check already
WEBHOOK_MEMORY = 600.0


@dataclass
class ServerState:
    settings: Settings
    engine: Engine
    hub: EventHub
    redact: Redactor
    metrics: Metrics
    webhook_secret: str | None = None
    webhooks: Any = None  #: openai.AsyncOpenAI, only to verify webhook signatures
    worker: asyncio.Task[None] | None = None
    telegram: Any = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    #: webhook ids handled lately (id -> when): a signed webhook replayed within its timestamp
    #: window is answered, not acted on again
    seen_webhooks: dict[str, float] = field(default_factory=dict)

    def first_sight_of_webhook(self, webhook_id: str, now: float) -> bool:
        """Whether `webhook_id` is new (it is remembered for WEBHOOK_MEMORY seconds)."""
        for old in [k for k, at in self.seen_webhooks.items() if now - at > WEBHOOK_MEMORY]:
            del self.seen_webhooks[old]
        if webhook_id in self.seen_webhooks:
            return False
        self.seen_webhooks[webhook_id] = now
        return True

    @property
    def org(self) -> Org:
        return self.engine.org

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run `coro` in the background, kept until done (and canceled at shutdown)."""
        task = asyncio.create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.corthex  # Starlette's app state is untyped
    return state


def ws_state(websocket: WebSocket) -> ServerState:
    state: ServerState = websocket.app.state.corthex
    return state
