"""Providers in memory, in the manner of httpx's `MockTransport`: the engine's own logic
(dispatch, polling, collection, retries, the budget) tested in milliseconds, no HTTP at all.

    provider = FakeProvider(ProviderName.OPENAI, handler=lambda item: row_error(item) if … else answer(item))
    provider.fail("create", status_code=429, times=2)     # the next two creations are refused
    async with Engine(settings, providers=fake_providers(openai=provider)) as engine: …

`handler` answers each request when its batch is created; `on_create` shapes each batch (its
end: `polls`, `ended_as`, `answered`); `fail` makes the next calls of an operation raise;
`hold` keeps an operation waiting until the test lets it go. Every call is counted in `calls`.
What a provider's SDK and wire do is tested against the emulator, never here.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from corthex import clock
from corthex.domain.batches import RemoteRef, RemoteState, RemoteStatus
from corthex.domain.registry import provider_names
from corthex.domain.requests import LLMRequest, ProviderName
from corthex.domain.results import FinishReason, ProviderResult, ResultError, ResultStatus, Usage
from corthex.domain.tiers import Tier
from corthex.errors import ProviderError
from corthex.providers.base import Provider, WireItem

Handler = Callable[[WireItem], ProviderResult]

_ids = itertools.count(1)


def answer(item: WireItem, content: str | None = None, *, finish: FinishReason = FinishReason.STOP) -> ProviderResult:
    """A succeeded row: `content` (default: an echo of the last message), a few tokens used."""
    request = item.request
    text = content if content is not None else f"answer to: {request.messages[-1].content}"
    usage = Usage(input_tokens=sum(len(m.text) for m in request.messages) // 4 + 1, output_tokens=len(text) // 4 + 1)
    return ProviderResult(item.wire_id, ResultStatus.SUCCEEDED, text, request.model, usage, finish_reason=finish)


def row_error(item: WireItem, *, retryable: bool = True, message: str = "fake server error") -> ProviderResult:
    """A failed row, as a provider reports a per-request error."""
    kind = "server_error" if retryable else "invalid_request"
    return ProviderResult(item.wire_id, ResultStatus.FAILED, error=ResultError(kind, message, retryable))


@dataclass
class FakeBatch:
    """One batch the fake holds; `on_create` may change how it ends."""

    key: str
    model: str | None
    items: list[WireItem]
    rows: list[ProviderResult]
    remote_id: str = field(default_factory=lambda: f"fake_batch_{next(_ids)}")
    created_at: datetime = field(default_factory=lambda: datetime.fromtimestamp(clock.now(), UTC))
    polls: int | None = 0  #: RUNNING answers before it ends; None: never (until canceled)
    ended_as: ResultStatus | None = None  #: EXPIRED or CANCELED: requests without a row end so
    answered: int | None = None  #: how many rows it returns (None: all; canceled: none unless set)
    canceled: bool = False

    @property
    def ref(self) -> RemoteRef:
        return RemoteRef(self.remote_id)

    def status(self) -> RemoteStatus:
        if self.canceled:
            return RemoteStatus(RemoteState.ENDED, "canceled", len(self.items), ended_as=ResultStatus.CANCELED)
        if self.polls is None or self.polls > 0:
            self.polls = None if self.polls is None else self.polls - 1
            return RemoteStatus(RemoteState.RUNNING, "running", len(self.items))
        done = len(self.returned())
        return RemoteStatus(RemoteState.ENDED, "ended", len(self.items), done=done, ended_as=self.ended_as)

    def returned(self) -> list[ProviderResult]:
        if self.canceled:  # what it had answered before the cancel
            return self.rows[: self.answered] if self.answered is not None else []
        return self.rows if self.answered is None else self.rows[: self.answered]


@dataclass
class _Fault:
    error: ProviderError
    left: int | None  #: calls still to fail; None: every one


class FakeProvider(Provider):
    """A provider held in memory (see the module's docstring)."""

    def __init__(
        self,
        name: ProviderName,
        handler: Handler = answer,
        *,
        on_create: Callable[[FakeBatch], None] | None = None,
    ) -> None:
        self.name = name  # one class stands in for each provider
        self.handler, self.on_create = handler, on_create
        self.batches: dict[str, FakeBatch] = {}
        self.calls: Counter[str] = Counter()
        self._faults: dict[str, _Fault] = {}
        self._holds: dict[str, asyncio.Event] = {}

    def fail(self, op: str, *, status_code: int | None = 500, retryable: bool = True, times: int | None = 1) -> None:
        """The next `times` calls of `op` ("create", "find", "poll", "results", "cancel",
        "complete") raise a ProviderError; `times=None`: every call until `clear_faults`."""
        error = ProviderError(self.name.value, op, "fake failure", status_code=status_code, retryable=retryable)
        self._faults[op] = _Fault(error, times)

    def clear_faults(self) -> None:
        self._faults.clear()

    def hold(self, op: str) -> asyncio.Event:
        """Calls of `op` wait until the returned event is set."""
        return self._holds.setdefault(op, asyncio.Event())

    async def _enter(self, op: str) -> None:
        self.calls[op] += 1
        if op in self._holds:
            await self._holds[op].wait()
        fault = self._faults.get(op)
        if fault is not None and fault.left != 0:
            if fault.left is not None:
                fault.left -= 1
            raise fault.error

    @property
    def created(self) -> int:
        """Batches created so far (the emulator's `batches_created`)."""
        return len(self.batches)

    async def submit(self, key: str, model: str | None, items: Sequence[WireItem]) -> RemoteRef:
        await self._enter("create")
        batch = FakeBatch(key, model, list(items), [self.handler(item) for item in items])
        if self.on_create is not None:
            self.on_create(batch)
        self.batches[batch.remote_id] = batch
        return batch.ref

    async def find(
        self,
        key: str,
        created_after: datetime,
        *,
        expected_count: int | None = None,
        exclude: Collection[str] = (),
    ) -> RemoteRef | None:
        await self._enter("find")
        for batch in self.batches.values():
            if batch.key == key and batch.remote_id not in exclude and batch.created_at >= created_after:
                return batch.ref
        return None

    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        await self._enter("poll")
        return self._batch(ref).status()

    async def results(self, ref: RemoteRef, *, keep_raw: bool = True) -> AsyncIterator[ProviderResult]:
        del keep_raw  # the fake's rows carry no raw object
        await self._enter("results")
        for row in self._batch(ref).returned():
            yield row

    async def cancel(self, ref: RemoteRef) -> None:
        await self._enter("cancel")
        self._batch(ref).canceled = True

    async def complete(self, request: LLMRequest, *, tier: Tier = Tier.REALTIME) -> ProviderResult:
        del tier  # the fake has one tier: realtime
        await self._enter("complete")
        return self.handler(WireItem(request.custom_id, request))

    def _batch(self, ref: RemoteRef) -> FakeBatch:
        try:
            return self.batches[ref.remote_id]
        except KeyError:
            raise ProviderError(self.name.value, "poll", f"no batch {ref.remote_id}", status_code=404) from None


def fake_providers(**given: FakeProvider) -> dict[ProviderName, Provider]:
    """A fake for each registered provider (`given` ones by name, the rest answering every request)."""
    return {name: given.get(name.value) or FakeProvider(name) for name in provider_names()}
