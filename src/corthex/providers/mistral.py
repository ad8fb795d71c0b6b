"""Mistral batch inference over the official `mistralai` SDK (v2+: `mistralai.client`).

One JSONL file per batch (`{"custom_id", "body"}` lines, purpose `batch`), one job over it with
the batch's model, `/v1/chat/completions` and our key in `metadata`; results come from the job's
`output_file` and `error_file` once it ended (docs/wire/platforms.md §4). Only this module
imports the SDK.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mistralai.client import Mistral
from mistralai.client.errors import MistralError, NoResponseError, ResponseValidationError
from mistralai.client.models import BatchJob

from corthex.crashpoints import crash_point
from corthex.domain import builtin_providers
from corthex.domain.batches import RemoteRef, RemoteState, RemoteStatus
from corthex.domain.finish import MISTRAL_FINISH
from corthex.domain.registry import ProviderProfile
from corthex.domain.requests import LLMRequest
from corthex.domain.results import ErrorType, ProviderResult, ResultError, ResultStatus, retryable_status_code
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
    transient_error,
    translated,
    transport_error,
    upload_path,
    window_start,
    write_jsonl,
)
from corthex.providers.base import Provider, WireItem
from corthex.providers.openai import from_completion
from corthex.providers.setup import endpoint_variable, has_key, key_variables, missing_key_error
from corthex.providers.vocabulary import openai_error_type
from corthex.providers.wire.mistral import ENDPOINT, mistral_body, native_line, to_wire

E = ErrorType
KEY_FIELD = "corthex_key"  #: job metadata entry that carries our batch key
TIMEOUT_HOURS = 24  #: the SDK's default; "should be lower than 7 days" (docs.mistral.ai batch FAQ)
LIST_PAGE = 100  #: jobs per list page: the SDK's default `page_size` (mistralai client/jobs.py)

_RUNNING = frozenset({"QUEUED", "RUNNING", "CANCELLATION_REQUESTED"})
#: how the requests without a result row ended, by the job's final status
_ENDED_AS = {"SUCCESS": None, "CANCELLED": ResultStatus.CANCELED, "TIMEOUT_EXCEEDED": ResultStatus.EXPIRED}


# --- results --------------------------------------------------------------------------------


def from_wire(row: dict[str, Any]) -> ProviderResult:
    """One line of the output or the error file: `{custom_id, response: {status_code, body}}`,
    or an `error` without a response (shape of failed rows UNVERIFIED, docs/wire/platforms.md §4.3).

    :raises ProviderError: (retryable) when the line has no `custom_id`."""
    wire_id = row.get("custom_id")
    if not isinstance(wire_id, str):
        raise transient_error("mistral", "results", "result line without custom_id")
    response = row.get("response")
    if not isinstance(response, dict):
        return _error_row(wire_id, None, row.get("error") or {})
    status, body = response.get("status_code"), response.get("body") or {}
    if isinstance(status, int) and 200 <= status < 300:
        return from_completion(wire_id, body, MISTRAL_FINISH)
    return _error_row(wire_id, status, body if isinstance(body, dict) else {})


def _error_row(wire_id: str, status: Any, body: dict[str, Any]) -> ProviderResult:
    """A failed request. Mistral's errors are `{object: "error", message, type, code}` or
    `{message}`, either at the top or under `error`/`detail`."""
    nested = body.get("error")
    error: dict[str, Any] = nested if isinstance(nested, dict) else body
    message = str(error.get("message") or error.get("detail") or body.get("detail") or f"status {status}")
    kind = str(error.get("type") or error.get("code") or (f"http_{status}" if status else "unknown_error"))
    retryable = retryable_status_code(status) if isinstance(status, int) else True
    failure = ResultError(openai_error_type(error, status), redact(message), retryable, code=kind)
    return ProviderResult(wire_id, ResultStatus.FAILED, error=failure)


# --- job status -----------------------------------------------------------------------------


def map_status(job: BatchJob) -> RemoteStatus:
    status = str(job.status)
    total, done, failed = job.total_requests, job.completed_requests, job.failed_requests
    if status == "FAILED":
        reasons = "; ".join(e.message for e in job.errors) or "the batch job failed without a reason"
        return RemoteStatus(RemoteState.FAILED, status, total, done, failed, redact(reasons), False)
    if status in _ENDED_AS:
        return RemoteStatus(RemoteState.ENDED, status, total, done, failed, ended_as=_ENDED_AS[status])
    return RemoteStatus(RemoteState.RUNNING, status, total, done, failed)  # an unknown status waits too


# --- errors ---------------------------------------------------------------------------------

_CATCH: tuple[type[Exception], ...] = (MistralError, NoResponseError, *TRANSPORT_ERRORS, *MALFORMED_ERRORS)


def to_provider_error(op: str, exc: Exception) -> ProviderError:
    if isinstance(exc, ResponseValidationError):
        return transient_error("mistral", op, str(exc) or type(exc).__name__)
    if isinstance(exc, MistralError):
        return status_error("mistral", op, exc.status_code, _message(exc))
    if isinstance(exc, TRANSPORT_ERRORS):
        return transport_error("mistral", op, exc)
    return transient_error("mistral", op, str(exc) or type(exc).__name__)


def _message(exc: MistralError) -> str:
    """The answer's own words when it has some (`{"message": …}` or `{"detail": …}`)."""
    text = (exc.body or "").strip()
    return f"{exc.message}: {text}" if text else exc.message


# --- the adapter ----------------------------------------------------------------------------


class MistralProvider(Provider):
    lists_statuses = True

    def __init__(
        self,
        workdir: Path,
        client: Mistral | None = None,
        *,
        profile: ProviderProfile = builtin_providers.MISTRAL,
        max_retries: int = 2,
        timeout: float = 60.0,
    ) -> None:
        """:param client: a ready client (tests); by default one is built from the environment
        (MISTRAL_API_KEY, MISTRAL_BASE_URL → `server_url`) on first use, so a missing key fails
        only that call. Retries are the engine's (the SDK retries nothing unless told)."""
        self.name, self._profile = profile.name, profile
        self._workdir = workdir
        self._client, self._owns_client = client, client is None
        self._http: httpx2.AsyncClient | None = None
        self._timeout = timeout

    @property
    def _sdk(self) -> Mistral:
        if self._client is None:
            if not has_key(self.name, os.environ):
                raise missing_key_error(self.name, "configure")
            key = next(os.environ[v] for v in key_variables(self.name) if os.environ.get(v))
            variable, default = endpoint_variable(self.name)
            self._http = httpx2.AsyncClient(follow_redirects=True, timeout=self._timeout)
            self._client = Mistral(
                api_key=key,
                server_url=os.environ.get(variable) or default,
                async_client=self._http,
                timeout_ms=int(self._timeout * 1000),
            )
        return self._client

    def _errors(self, op: str) -> AbstractContextManager[None]:
        return translated(_CATCH, lambda exc: to_provider_error(op, exc))

    async def submit(self, key: str, model: str | None, items: Sequence[WireItem]) -> RemoteRef:
        if model is None:
            raise ValueError("a Mistral batch job holds one model")
        check_items(items, one_model=model)
        path = upload_path(self._workdir, key)
        with self._errors("upload"):
            try:
                wire_bytes = await write_jsonl(path, (_line(item) for item in items))
                with path.open("rb") as content:  # an open file, not the bytes: the SDK streams it
                    upload = await self._sdk.files.upload_async(
                        file={"file_name": path.name, "content": content}, purpose="batch"
                    )
            finally:
                remove(path)
        crash_point("after_upload")
        with self._errors("create"):
            # No retry here: a create retried after a timeout may be a second, paid job; the
            # engine looks for it (`find`, by the key in its metadata) before creating it again.
            job = await self._sdk.batch.jobs.create_async(
                input_files=[upload.id],
                endpoint=ENDPOINT,
                model=model,
                metadata={KEY_FIELD: key},
                timeout_hours=TIMEOUT_HOURS,
            )
        return RemoteRef(job.id, {"input_file_id": upload.id, "wire_bytes": wire_bytes})

    async def find(
        self,
        key: str,
        created_after: datetime,
        *,
        expected_count: int | None = None,
        exclude: Collection[str] = (),
    ) -> RemoteRef | None:
        """Pages newest first (`-created`) and stops at the first job older than the window. The
        key is matched here, not by the list's `metadata` filter (how the API reads that query is
        not documented)."""
        since = math.floor(window_start(created_after).timestamp())
        page = 0
        with self._errors("find"):
            while True:
                listed = await self._sdk.batch.jobs.list_async(page=page, page_size=100, order_by="-created")
                jobs = listed.data or []
                for job in jobs:
                    if job.created_at < since:
                        return None
                    if (job.metadata or {}).get(KEY_FIELD) == key and job.id not in exclude:
                        return RemoteRef(job.id, {"input_file_id": job.input_files[0] if job.input_files else ""})
                if len(jobs) < 100:
                    return None
                page += 1

    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        with self._errors("poll"):
            return map_status(await self._sdk.batch.jobs.get_async(job_id=ref.remote_id))

    async def poll_many(self, refs: Sequence[RemoteRef], since: datetime) -> dict[str, RemoteStatus]:
        """`GET /v1/batch/jobs?page=…&page_size=100&order_by=-created` (each job as `get` shows it)
        until every ref was seen, a page runs short, or it reaches jobs created before `since`."""
        wanted = {ref.remote_id for ref in refs}
        oldest = math.floor(window_start(since).timestamp())
        found: dict[str, RemoteStatus] = {}
        page = 0
        with self._errors("poll"):
            while True:
                listed = await self._sdk.batch.jobs.list_async(page=page, page_size=LIST_PAGE, order_by="-created")
                jobs = listed.data or []
                found |= {job.id: map_status(job) for job in jobs if job.id in wanted}
                if len(found) == len(wanted) or len(jobs) < LIST_PAGE or jobs[-1].created_at < oldest:
                    return found
                page += 1

    async def results(self, ref: RemoteRef, *, keep_raw: bool = True) -> AsyncIterator[ProviderResult]:
        """Both files are downloaded before the first row is yielded, then read line by line."""
        with self._errors("results"):
            job = await self._sdk.batch.jobs.get_async(job_id=ref.remote_id)
        if str(job.status) in _RUNNING:  # no files yet: reading now would lose every request
            raise transient_error(self.name.value, "results", f"the batch job is still {job.status}")
        file_ids = [f for f in (job.output_file, job.error_file) if isinstance(f, str) and f]
        paths = [new_temp_path(self._workdir, file_id) for file_id in file_ids]
        try:
            for file_id, path in zip(file_ids, paths, strict=True):
                await self._download(file_id, path)
            for path in paths:
                async for row in read_jsonl(path, self.name.value):
                    yield dataclasses.replace(from_wire(row), raw=row) if keep_raw else from_wire(row)
        finally:
            for path in paths:
                remove(path)

    async def _download(self, file_id: str, path: Path) -> None:
        with self._errors("results"):
            response = await self._sdk.files.download_async(file_id=file_id)
            try:
                async with await anyio.open_file(path, "wb") as out:
                    async for chunk in response.aiter_bytes():
                        await out.write(chunk)
                        crash_point("during_download")
            finally:
                await response.aclose()

    async def cancel(self, ref: RemoteRef) -> None:
        with self._errors("cancel"):
            await self._sdk.batch.jobs.cancel_async(job_id=ref.remote_id)

    async def complete(self, request: LLMRequest, *, tier: Tier = Tier.REALTIME) -> ProviderResult:
        del tier  # no flex tier here (capabilities.takes_flex): every call is realtime
        try:
            answer = await self._sdk.chat.complete_async(**mistral_body(request))
        except MistralError as exc:
            if isinstance(exc, ResponseValidationError) or not is_request_error(exc.status_code):
                raise to_provider_error("complete", exc) from exc
            error = ResultError(
                openai_error_type({}, exc.status_code), redact(_message(exc)), code=f"http_{exc.status_code}"
            )
            return ProviderResult(request.custom_id, ResultStatus.FAILED, error=error)
        except _CATCH as exc:
            raise to_provider_error("complete", exc) from exc
        body = answer.model_dump(mode="json", by_alias=True)
        return from_completion(request.custom_id, body, MISTRAL_FINISH)

    async def aclose(self) -> None:
        if self._owns_client and self._http is not None:
            await self._http.aclose()
        self._http = None
        if self._owns_client:
            self._client = None


def _line(item: WireItem) -> dict[str, Any]:
    return native_line(item) if item.request.native is not None else to_wire(item)
