"""The provider port: four async verbs over one provider's Batch API.

Each adapter keeps its wire mapping in pure functions apart from the thin class that calls the
official SDK (the request side, `to_wire` and `wire_size`, in `providers/wire/`, which imports no
SDK), and translates every SDK error into `ProviderError`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from corthex.domain.batches import RemoteRef, RemoteStatus
from corthex.domain.limits import LIMITS, ProviderLimits
from corthex.domain.requests import LLMRequest, ProviderName
from corthex.domain.results import ProviderResult
from corthex.domain.tiers import Tier


@dataclass(frozen=True, slots=True)
class WireItem:
    """A request as it goes out: `wire_id` is provider-safe (^[A-Za-z0-9_-]{1,64}$) and unique in
    its batch; results come back keyed by it."""

    wire_id: str
    request: LLMRequest


class Provider(ABC):
    name: ProviderName  #: the provider it speaks for (one adapter class may serve several)
    _limits: ProviderLimits | None = None

    @property
    def limits(self) -> ProviderLimits:
        """The limits batches are planned on: the provider's own, unless set (tests set small ones)."""
        return self._limits or LIMITS[self.name]

    @limits.setter
    def limits(self, value: ProviderLimits) -> None:
        self._limits = value

    @abstractmethod
    async def submit(self, key: str, model: str | None, items: Sequence[WireItem]) -> RemoteRef:
        """Create one provider batch holding `items`.

        :param key: our batch id; stored with the provider batch (metadata / display name) so
            that `find` can adopt a batch whose creation was not recorded.
        :param model: the batch's single model, or None where the provider mixes models.
        :raises ProviderError: the provider refused or could not be reached.
        """

    @abstractmethod
    async def find(
        self,
        key: str,
        created_after: datetime,
        *,
        expected_count: int | None = None,
        exclude: Collection[str] = (),
    ) -> RemoteRef | None:
        """The provider batch created with `key`, if one exists (orphan adoption).

        :param expected_count: the batch's request count, for providers that cannot list a key
            (Anthropic matches on creation window and count).
        :param exclude: remote ids already recorded for other batches (never adopted)."""

    @abstractmethod
    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        """The batch's state now. :raises ProviderError:"""

    #: True where `poll_many` reads many batches' statuses with one list call per page (the poller
    #: then polls a provider's due batches together); False: every batch is retrieved on its own.
    lists_statuses: bool = False

    async def poll_many(self, refs: Sequence[RemoteRef], since: datetime) -> dict[str, RemoteStatus]:
        """The statuses of `refs`, by remote id, read from as few list pages as the provider allows.

        :param since: the earliest creation time among `refs` (our clock): a list that pages newest
            first stops at the first batch created before it (less clock skew).
        A batch the list did not show is left out (the caller retrieves it on its own); by default
        (a provider without a list) each is polled in turn. :raises ProviderError: a call failed."""
        return {ref.remote_id: await self.poll(ref) for ref in refs}

    @abstractmethod
    def results(self, ref: RemoteRef, *, keep_raw: bool = True) -> AsyncIterator[ProviderResult]:
        """Stream the ended batch's results, one per request, in any order. :raises ProviderError:

        :param keep_raw: give each row the provider's own result object as `raw` (stored for
            native lines only: collection asks for it for their batches alone)."""

    @abstractmethod
    async def cancel(self, ref: RemoteRef) -> None:
        """Ask the provider to stop the batch. :raises ProviderError:"""

    @abstractmethod
    async def complete(self, request: LLMRequest, *, tier: Tier = Tier.REALTIME) -> ProviderResult:
        """Run one request as a single call on `tier` (realtime, or flex where the model takes it:
        `capabilities.tier_for`; a model without flex is answered realtime). The row's `tier` says
        which tier answered (None: realtime). The SDK does not retry: the caller does
        (engine/tiers.py, which honours retry-after). Never raises for a per-request failure: that
        is a failed result. :raises ProviderError: on transport failure, a 429 or a 5xx (the
        SDK's exception as its `__cause__`, for `told_wait`)."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release the SDK client."""
