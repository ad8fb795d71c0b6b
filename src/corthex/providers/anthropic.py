"""Anthropic Message Batches over `anthropic.AsyncAnthropic` (PROVIDERS.md §2).

Requests go inline; models may be mixed. Results are one JSONL row per request, out of order,
in four kinds: succeeded, errored, canceled, expired.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import anthropic
import anyio
from anthropic.types.messages import MessageBatch, MessageBatchRequestCounts

from corthex.crashpoints import crash_point
from corthex.domain.batches import RemoteRef, RemoteState, RemoteStatus
from corthex.domain.registry import ProviderProfile
from corthex.domain.requests import LLMRequest, ProviderName
from corthex.domain.results import ErrorType, ProviderResult, ResultError, ResultStatus
from corthex.domain.tiers import Tier
from corthex.errors import ProviderError
from corthex.providers._common import (
    MALFORMED_ERRORS,
    TRANSPORT_ERRORS,
    check_items,
    is_request_error,
    new_temp_path,
    read_jsonl,
    redact,
    remove,
    status_error,
    statuses_until_seen,
    transient_error,
    translated,
    transport_error,
    window_start,
)
from corthex.providers.base import Provider, WireItem
from corthex.providers.setup import has_key, missing_key_error
from corthex.providers.vocabulary import anthropic_error as result_error
from corthex.providers.wire.anthropic import (  # re-exported: the adapter's request side
    KEY_SEP,
    params,
    request_body,
)
from corthex.providers.wire.anthropic_results import (  # re-exported: the pure result side
    from_message,
    tool_calls_from,
    usage_from,
)

__all__ = ["AnthropicProvider", "from_message", "from_wire", "params", "request_body", "tool_calls_from", "usage_from"]

E = ErrorType

NAME = ProviderName.ANTHROPIC.value
_JSON = {"Content-Type": "application/json"}
LIST_PAGE = 1000  #: `limit` ranges from 1 to 1000 (anthropic/types/messages/batch_list_params.py)
_RETRYABLE_ERROR_TYPES = frozenset({"rate_limit_error", "overloaded_error", "api_error", "timeout_error"})


# --- results --------------------------------------------------------------------------------


def from_wire(row: dict[str, Any]) -> ProviderResult:
    """One `MessageBatchIndividualResponse` in its JSON form.

    :raises ProviderError: (retryable) when the row has no `custom_id`.
    """
    wire_id = row.get("custom_id")
    if not isinstance(wire_id, str):
        raise transient_error(NAME, "results", "result row without custom_id")
    wire_id = wire_id.split(KEY_SEP, 1)[0]
    result = row.get("result") or {}
    kind = result.get("type")
    if kind == "succeeded":
        return from_message(wire_id, result.get("message") or {})
    if kind == "errored":
        return _errored(wire_id, result.get("error") or {})
    if kind == "canceled":
        error = ResultError(E.CANCELED, "the batch was canceled before it ran", True, code="canceled")
        return ProviderResult(wire_id, ResultStatus.CANCELED, error=error)
    if kind == "expired":
        error = ResultError(E.EXPIRED, "the batch expired before it ran", True, code="expired")
        return ProviderResult(wire_id, ResultStatus.EXPIRED, error=error)
    error = ResultError(E.UNKNOWN, f"unknown result type {kind!r}", True, code=str(kind))
    return ProviderResult(wire_id, ResultStatus.FAILED, error=error)


def _errored(wire_id: str, response: dict[str, Any]) -> ProviderResult:
    """`response` is an ErrorResponse: `{"type": "error", "error": {"type", "message"}}`."""
    inner = response.get("error") or {}
    kind = inner.get("type") or "api_error"
    message = inner.get("message") or kind
    error = result_error(kind, message, kind in _RETRYABLE_ERROR_TYPES)
    return ProviderResult(wire_id, ResultStatus.FAILED, error=error)


# --- batch status ---------------------------------------------------------------------------


def request_total(counts: MessageBatchRequestCounts) -> int:
    return counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired


def map_status(batch: MessageBatch) -> RemoteStatus:
    """Only `processing` is live; the other counts stay 0 until the batch ends (§2.3)."""
    counts = batch.request_counts
    total = request_total(counts)
    done, failed = total - counts.processing, counts.errored + counts.canceled + counts.expired
    if batch.processing_status != "ended":  # in_progress, canceling
        return RemoteStatus(RemoteState.RUNNING, batch.processing_status, total, done, failed)
    return RemoteStatus(RemoteState.ENDED, batch.processing_status, total, done, failed, ended_as=_ended_as(batch))


def _ended_as(batch: MessageBatch) -> ResultStatus | None:
    # Every request gets a row, so this only covers rows the provider failed to send.
    if batch.cancel_initiated_at is not None:
        return ResultStatus.CANCELED
    return ResultStatus.EXPIRED if batch.request_counts.expired else None


# --- errors ---------------------------------------------------------------------------------

_CATCH: tuple[type[Exception], ...] = (anthropic.AnthropicError, *TRANSPORT_ERRORS, *MALFORMED_ERRORS)


def to_provider_error(op: str, exc: Exception) -> ProviderError:
    if isinstance(exc, anthropic.APIStatusError):
        return status_error(NAME, op, exc.status_code, exc.message)
    if isinstance(exc, (anthropic.APIConnectionError, *TRANSPORT_ERRORS)):
        return transport_error(NAME, op, exc)
    if isinstance(exc, (anthropic.APIResponseValidationError, *MALFORMED_ERRORS)):
        return transient_error(NAME, op, str(exc) or type(exc).__name__)
    return ProviderError(NAME, op, redact(str(exc)))


# --- the adapter ----------------------------------------------------------------------------


class AnthropicProvider(Provider):
    name = ProviderName.ANTHROPIC
    lists_statuses = True

    def __init__(
        self,
        workdir: Path,
        client: anthropic.AsyncAnthropic | None = None,
        *,
        profile: ProviderProfile | None = None,  # noqa: ARG002 - the registry passes each adapter its profile
        max_retries: int = 2,
        timeout: float = 60.0,
    ) -> None:
        """:param client: a ready client (tests); by default one is built from the environment
        (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL) on first use."""
        self._workdir = workdir
        self._client, self._owns_client = client, client is None
        self._max_retries, self._timeout = max_retries, timeout

    @property
    def _sdk(self) -> anthropic.AsyncAnthropic:
        if self._client is None:
            if not has_key(ProviderName.ANTHROPIC, os.environ):  # refused here, in one line, not deep in the SDK
                raise missing_key_error(ProviderName.ANTHROPIC, "configure")
            self._client = anthropic.AsyncAnthropic(max_retries=self._max_retries, timeout=self._timeout)
        return self._client

    def _errors(self, op: str) -> AbstractContextManager[None]:
        return translated(_CATCH, lambda exc: to_provider_error(op, exc))

    async def submit(self, key: str, model: str | None, items: Sequence[WireItem]) -> RemoteRef:
        """`key` cannot travel with an Anthropic batch; `find` matches on time and count."""
        check_items(items)
        body = await anyio.to_thread.run_sync(request_body, key, items)
        with self._errors("create"):
            # No SDK retry: a retried create after a timeout may be a second, paid batch. The
            # engine looks for the batch (`find`) before it creates it again. The body is the
            # one `messages.batches.create(requests=rows)` sends, serialized here (see request_body).
            batch = await self._sdk.with_options(max_retries=0).post(
                "/v1/messages/batches", cast_to=MessageBatch, content=body, options={"headers": _JSON}
            )
        return RemoteRef(batch.id, {"count": len(items), "wire_bytes": len(body)})

    async def find(
        self,
        key: str,
        created_after: datetime,
        *,
        expected_count: int | None = None,
        exclude: Collection[str] = (),
    ) -> RemoteRef | None:
        """The one batch created in the window (at or after `created_after`, less clock skew)
        holding `expected_count` requests (any count when None), leaving out `exclude` (the
        batches already recorded).

        A heuristic, since the list call shows no custom_id: when two batches fit, neither is
        adopted, because adopting the wrong one would send its requests again as missing,
        while not adopting at worst sends them again too.
        """
        since = window_start(created_after)
        fits: list[MessageBatch] = []
        with self._errors("find"):
            async for batch in self._sdk.messages.batches.list(limit=100):  # newest first
                if batch.created_at < since:
                    break
                if batch.id in exclude:
                    continue
                if expected_count is None or request_total(batch.request_counts) == expected_count:
                    fits.append(batch)
        if len(fits) != 1:
            return None
        return RemoteRef(fits[0].id, {"count": request_total(fits[0].request_counts)})

    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        with self._errors("poll"):
            return map_status(await self._sdk.messages.batches.retrieve(ref.remote_id))

    async def poll_many(self, refs: Sequence[RemoteRef], since: datetime) -> dict[str, RemoteStatus]:
        """`GET /v1/messages/batches?limit=1000&after_id=…` pages (newest first, each batch as
        `retrieve` shows it) until every ref was seen or the page reaches batches created before
        `since`."""
        wanted = {ref.remote_id for ref in refs}
        oldest = window_start(since)
        with self._errors("poll"):
            return await statuses_until_seen(
                self._sdk.messages.batches.list(limit=LIST_PAGE), wanted, oldest, map_status
            )

    async def results(self, ref: RemoteRef, *, keep_raw: bool = True) -> AsyncIterator[ProviderResult]:
        """The stream lands on disk whole before the first row is yielded."""
        path = new_temp_path(self._workdir, ref.remote_id)
        try:
            await self._download(ref.remote_id, path)
            async for row in read_jsonl(path, NAME):
                yield replace(from_wire(row), raw=row) if keep_raw else from_wire(row)
        finally:
            remove(path)

    async def _download(self, batch_id: str, path: Path) -> None:
        """The results stream as it comes, bytes to disk: no SDK object per row (`results()`
        would build and dump one for each). `read_jsonl` then reads the API's own JSON."""
        with self._errors("results"):
            # Checked here so that "not ended yet" is retryable, as with the other providers.
            batch = await self._sdk.messages.batches.retrieve(batch_id)
            if batch.processing_status != "ended":
                raise transient_error(NAME, "results", f"the batch is still {batch.processing_status}")
            async with self._sdk.messages.batches.with_streaming_response.results(batch_id) as response:
                async with await anyio.open_file(path, "wb") as out:
                    async for chunk in response.iter_bytes():
                        await out.write(chunk)
                        crash_point("during_download")

    async def cancel(self, ref: RemoteRef) -> None:
        with self._errors("cancel"):
            await self._sdk.messages.batches.cancel(ref.remote_id)

    async def complete(self, request: LLMRequest, *, tier: Tier = Tier.REALTIME) -> ProviderResult:
        del tier  # no flex tier here (capabilities.takes_flex): every call is realtime
        try:
            # no SDK retry: the caller retries, waiting as retry-after says (engine/tiers.py)
            message = await self._sdk.with_options(max_retries=0).messages.create(**params(request, realtime=True))
        except anthropic.APIStatusError as exc:
            if not is_request_error(exc.status_code):
                raise to_provider_error("complete", exc) from exc
            message_text = redact(exc.api_message or exc.message)
            error = result_error(exc.type or f"http_{exc.status_code}", message_text, status=exc.status_code)
            return ProviderResult(request.custom_id, ResultStatus.FAILED, error=error)
        except _CATCH as exc:
            raise to_provider_error("complete", exc) from exc
        return from_message(request.custom_id, message.to_dict(mode="json"))

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.close()
