"""What the engine's parts share: store, providers, bus, settings and limits."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from corthex.config import Settings
from corthex.domain.polling import PollPolicy, RetryPolicy
from corthex.domain.requests import ProviderName
from corthex.engine.events import EventBus
from corthex.engine.storage import StorageBackoff
from corthex.errors import UsageError
from corthex.providers.base import Provider
from corthex.store.base import Store


@dataclass
class EngineContext:
    settings: Settings
    store: Store
    providers: dict[ProviderName, Provider]
    bus: EventBus = field(default_factory=EventBus)
    worker_id: str = field(default_factory=lambda: "w_" + uuid.uuid4().hex[:12])
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # see engine/budget.py: held from a budget check until its job is recorded
    budget_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _limits: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    _collecting: asyncio.Semaphore | None = None

    def __post_init__(self) -> None:
        self.poll_policy: PollPolicy = self.settings.poll_policy()
        self.retry_policy: RetryPolicy = self.settings.retry_policy()
        self.storage = StorageBackoff(self.poll_policy)  #: the pause after local storage errors (a full disk)

    def provider(self, name: str | ProviderName) -> Provider:
        try:
            return self.providers[ProviderName(name)]
        except (KeyError, ValueError):
            raise UsageError(f"provider {name!r} is not configured") from None

    def limit(self, name: str) -> AbstractAsyncContextManager[None]:
        """Bound the calls in flight to one provider."""
        if name not in self._limits:
            self._limits[name] = asyncio.Semaphore(self.settings.provider_concurrency)
        return self._limits[name]

    def collecting(self) -> AbstractAsyncContextManager[None]:
        """Bound the batches collected at once (`collect_concurrency`): memory stays flat however
        many batches end together."""
        if self._collecting is None:
            self._collecting = asyncio.Semaphore(self.settings.collect_concurrency)
        return self._collecting
