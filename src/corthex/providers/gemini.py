"""Gemini Batch Mode (Developer API) over `google.genai.Client(...).aio` (PROVIDERS.md §3).

One model per batch (it sits in the URL). Batches go as an uploaded JSONL file, whose output
lines carry each request's `key`; inline requests (`metadata.key`) are an opt-in
(`CORTHEX_GEMINI_INLINE=1`), because inline answers can come back without their metadata and out
of input order (docs/wire/gemini.md). Results are mapped back by the echoed key only, never by
position or by memory (LESSONS W9), so a restarted process reads them just as well; a row without
a key is passed on as unkeyed, for the collector to settle on its own.

Batch status and results are read from the operation's REST JSON, not from the SDK's `BatchJob`:
that model drops `batchStats` and the operation's `error`, and its validation refuses error rows
whose `details` hold objects (as google.rpc.Status details do).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import warnings
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from google.genai._common import ExperimentalWarning
from google.genai.client import AsyncClient

from corthex.crashpoints import crash_point
from corthex.domain.batches import RemoteRef, RemoteState, RemoteStatus
from corthex.domain.capabilities import tier_for
from corthex.domain.content import ToolCall
from corthex.domain.finish import GEMINI_FINISH, finish_from, model_answer
from corthex.domain.limits import GEMINI_INLINE_MAX_BYTES
from corthex.domain.registry import ProviderProfile, WireFamily
from corthex.domain.requests import LLMRequest, ProviderName
from corthex.domain.results import (
    UNKEYED,
    ErrorType,
    FinishReason,
    ProviderResult,
    ResultError,
    ResultStatus,
    Usage,
    retryable_status_code,
)
from corthex.domain.tiers import Tier
from corthex.errors import ProviderError
from corthex.providers._common import (
    MALFORMED_ERRORS,
    TRANSPORT_ERRORS,
    as_utc,
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
from corthex.providers.gemini_embeddings import Regrouper, from_embedding, is_embedding
from corthex.providers.setup import missing_key_error
from corthex.providers.vocabulary import gemini_error_type as error_type
from corthex.providers.wire.gemini import (  # re-exported: the adapter's request side
    embed_file_lines,
    inline_bytes,
    request_json,
    to_file_line,
)
from corthex.providers.wire.native import native_line

E = ErrorType

log = logging.getLogger(__name__)

NAME = ProviderName.GEMINI.value
#: one attempt, no SDK retry (a retried batch create may be a second, paid batch; single calls are
#: retried by the caller, waiting as the 429 says)
_ONCE_DICT: types.HttpOptionsDict = {"retry_options": {"attempts": 1}}
_ONCE = types.HttpOptions(retry_options=types.HttpRetryOptions(attempts=1))
#: The batch input's MIME type: a bare "jsonl" is refused ("Unsupported MIME type: jsonl"),
#: "application/jsonl" is the full type (docs/wire/gemini.md).
JSONL_MIME = "application/jsonl"
#: The API version we pin: the Batch and Files API reference pages are v1beta, while the SDK
#: (3.6.1) defaults to v1. GOOGLE_GENAI_API_VERSION overrides it ("beta" means v1beta).
API_VERSION = "v1beta"
#: Set to 1 to send batches that fit inline (opt-in: inline answers may lose their keys).
INLINE_ENV = "CORTHEX_GEMINI_INLINE"
#: Larger batches go as a file even under the inline byte limit: the SDK holds inline requests
#: and responses as pydantic objects (all of them, and in every `get` once the job has ended),
#: while a file is written, uploaded, downloaded and read line by line.
INLINE_MAX_REQUESTS = 1000
LIST_PAGE = 100  #: batches per list page (the `find` page; the API documents no maximum)

S = types.JobState
# Every JobState member: (our state, what requests without a row become).
STATES: dict[types.JobState, tuple[RemoteState, ResultStatus | None]] = {
    S.JOB_STATE_UNSPECIFIED: (RemoteState.RUNNING, None),
    S.JOB_STATE_QUEUED: (RemoteState.RUNNING, None),
    S.JOB_STATE_PENDING: (RemoteState.RUNNING, None),
    S.JOB_STATE_RUNNING: (RemoteState.RUNNING, None),
    S.JOB_STATE_PAUSED: (RemoteState.RUNNING, None),
    S.JOB_STATE_UPDATING: (RemoteState.RUNNING, None),
    S.JOB_STATE_CANCELLING: (RemoteState.RUNNING, None),
    S.JOB_STATE_SUCCEEDED: (RemoteState.ENDED, None),
    S.JOB_STATE_PARTIALLY_SUCCEEDED: (RemoteState.ENDED, None),
    S.JOB_STATE_CANCELLED: (RemoteState.ENDED, ResultStatus.CANCELED),
    S.JOB_STATE_EXPIRED: (RemoteState.ENDED, ResultStatus.EXPIRED),
    S.JOB_STATE_FAILED: (RemoteState.FAILED, None),
}


# Errors worth another attempt, by google.rpc status name and code (DEADLINE_EXCEEDED=4,
# RESOURCE_EXHAUSTED=8, ABORTED=10, INTERNAL=13, UNAVAILABLE=14), besides HTTP 408/409/429/5xx.
_RETRYABLE_STATUSES = frozenset({"DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED", "INTERNAL", "UNAVAILABLE"})
_RETRYABLE_RPC_CODES = frozenset({4, 8, 10, 13, 14})
# CANCELLED as a google.rpc code and as its HTTP mapping; inline rows lose `status` in the SDK.
_CANCELLED_CODES = frozenset({1, 499})


# --- requests -------------------------------------------------------------------------------


#: the REST request's top-level fields that the SDK takes inside `GenerateContentConfig`
#: (`batches._GenerateContentConfig_to_mldev` moves them back up to the request)
_CONFIG_FIELDS = (
    "systemInstruction",
    "tools",
    "toolConfig",
    "safetySettings",
    "cachedContent",
    "labels",
    "serviceTier",
)


def _blob_bytes(value: Any) -> Any:
    """The REST JSON with each `inlineData.data` as bytes: the SDK's `Blob.data` is raw bytes (a
    str would be taken as UTF-8 text), which it base64-encodes again when it sends them."""
    if isinstance(value, list):
        return [_blob_bytes(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _blob_bytes(v) for k, v in value.items()}
    blob = out.get("inlineData")
    if isinstance(blob, dict) and isinstance(blob.get("data"), str):
        out["inlineData"] = {**blob, "data": base64.b64decode(_padded(blob["data"]), altchars=b"-_")}
    if isinstance(out.get("thoughtSignature"), str):  # `Part.thought_signature` is bytes too
        out["thoughtSignature"] = base64.b64decode(_padded(out["thoughtSignature"]), altchars=b"-_")
    return out


def contents(request: LLMRequest) -> list[types.Content]:
    return [types.Content.model_validate(_blob_bytes(turn)) for turn in request_json(request)["contents"]]


def generation_config(request: LLMRequest) -> types.GenerateContentConfig:
    """Generation settings, the system prompt, tools and the tool choice live in the request's
    `config` (LESSONS W2): the same REST request as a file line, as the SDK's own type (which
    refuses a field it does not know, e.g. a misspelled `provider_options` key)."""
    body = request_json(request)
    fields = {**(body.get("generationConfig") or {}), **{k: body[k] for k in _CONFIG_FIELDS if k in body}}
    return types.GenerateContentConfig.model_validate(_blob_bytes(fields))


def to_wire(item: WireItem) -> types.InlinedRequest:
    """An inline request; the SDK's own pydantic type validates the shape here."""
    return types.InlinedRequest(
        contents=contents(item.request),
        metadata={"key": item.wire_id},
        config=generation_config(item.request),
    )


# --- results --------------------------------------------------------------------------------


def _file_lines(item: WireItem) -> list[dict[str, Any]]:
    """The item's input file line; an embedding request's one line per text."""
    if item.request.native is not None:
        return [native_line(WireFamily.GEMINI, item)]
    if item.request.is_embedding:
        return embed_file_lines(item)
    return [to_file_line(item)]


def from_wire(row: dict[str, Any]) -> ProviderResult:
    """An inline response (`{"response"|"error", "metadata": {"key"}}`) or a file line
    (`{"key", "response"|"error"}`), both in REST JSON. A row without a key comes back with the
    wire id UNKEYED (python-genai#2008): it cannot be mapped by itself."""
    wire_id = row_key(row) or UNKEYED
    if row.get("error"):
        return _errored(wire_id, row["error"])
    response = row.get("response") or {}
    return from_embedding(wire_id, response) if is_embedding(response) else from_response(wire_id, response)


def row_key(row: dict[str, Any]) -> str | None:
    metadata = row.get("metadata")
    key = row.get("key") or (metadata.get("key") if isinstance(metadata, dict) else None)
    return key if isinstance(key, str) and key else None


def from_response(wire_id: str, response: dict[str, Any]) -> ProviderResult:
    """A GenerateContentResponse (REST JSON): the first candidate's text, thoughts left out,
    decided by its `finishReason` (domain/finish.py); a prompt blocked before any candidate
    is a safety block."""
    usage, model = usage_from(response.get("usageMetadata") or {}), response.get("modelVersion")
    candidates = response.get("candidates") or []
    if not candidates:
        error = _no_candidates(response)
        finish = FinishReason.CONTENT_FILTER if error.type == "content_filter" else None
        return ProviderResult(wire_id, ResultStatus.FAILED, model=model, usage=usage, error=error, finish_reason=finish)
    candidate = candidates[0]
    parts = (candidate.get("content") or {}).get("parts") or []
    text = "".join(p.get("text") or "" for p in parts if not p.get("thought"))
    raw = candidate.get("finishReason")
    finish = finish_from(GEMINI_FINISH, raw)
    calls = tool_calls(parts)
    if calls and finish in (FinishReason.STOP, None):  # Gemini says STOP; an answer of calls alone succeeds
        return ProviderResult(
            wire_id, ResultStatus.SUCCEEDED, text, model, usage, finish_reason=FinishReason.TOOL_CALLS, tool_calls=calls
        )
    result = model_answer(wire_id, text=text, finish=finish, usage=usage, model=model, raw_reason=raw)
    return replace(result, tool_calls=calls) if calls else result


def tool_calls(parts: list[dict[str, Any]]) -> tuple[ToolCall, ...]:
    """The candidate's `functionCall` parts, in order. Gemini's `id` is optional and often absent:
    one is made up as `call_<index>` (the call's place among the answer's calls). `args` is kept as
    the object Gemini sent. The part's `thoughtSignature` is kept as the call's `signature`, to go
    back with it when the call is replayed (Gemini 3 requires it; docs/wire/requests-gemini.md)."""
    found = [p for p in parts if isinstance(p, dict) and isinstance(p.get("functionCall"), dict)]
    return tuple(
        ToolCall(
            str(part["functionCall"].get("id") or f"call_{index}"),
            str(part["functionCall"].get("name") or ""),
            _args(part["functionCall"].get("args")),
            _signature(part.get("thoughtSignature", part.get("thought_signature"))),
        )
        for index, part in enumerate(found)
    )


def _signature(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _args(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _no_candidates(response: dict[str, Any]) -> ResultError:
    reason = (response.get("promptFeedback") or {}).get("blockReason")
    if reason:
        return ResultError(E.CONTENT_FILTER, f"the prompt was blocked ({reason})", code=str(reason))
    return ResultError(E.NO_ANSWER, "the response has no candidates", True, code="empty_response")


def usage_from(meta: dict[str, Any]) -> Usage:
    """`promptTokenCount` includes cached tokens; thinking tokens (`thoughtsTokenCount`) are
    billed as output but are not part of `candidatesTokenCount`."""
    thoughts = meta.get("thoughtsTokenCount") or 0
    return Usage(
        input_tokens=meta.get("promptTokenCount") or 0,
        output_tokens=(meta.get("candidatesTokenCount") or 0) + thoughts,
        cached_tokens=meta.get("cachedContentTokenCount") or 0,
        reasoning_tokens=thoughts,
    )


def is_retryable_error(code: Any, status: Any) -> bool:
    """For `{code, status}` errors, where `code` is an HTTP or a google.rpc code."""
    if status in _RETRYABLE_STATUSES:
        return True
    if not isinstance(code, int):
        return False
    return code in _RETRYABLE_RPC_CODES or (code >= 100 and retryable_status_code(code))


def _errored(wire_id: str, error: dict[str, Any]) -> ProviderResult:
    code, status = error.get("code"), error.get("status")
    kind = status or (f"code_{code}" if code is not None else "error")
    message = error.get("message") or kind
    if status == "CANCELLED" or code in _CANCELLED_CODES:  # the request was not run
        return ProviderResult(wire_id, ResultStatus.CANCELED, error=ResultError(E.CANCELED, message, True, code=kind))
    result_error = ResultError(error_type(code, status), message, is_retryable_error(code, status), code=kind)
    return ProviderResult(wire_id, ResultStatus.FAILED, error=result_error)


# --- batch status ---------------------------------------------------------------------------


def job_state(operation: dict[str, Any]) -> types.JobState:
    """The operation's `metadata.state` (BATCH_STATE_*) as the SDK's JobState (JOB_STATE_*)."""
    raw = (operation.get("metadata") or {}).get("state")
    name = str(raw).replace("BATCH_STATE_", "JOB_STATE_", 1) if raw else ""
    return S.__members__.get(name, S.JOB_STATE_UNSPECIFIED)  # S(name) would warn on a new state


def operation_output(operation: dict[str, Any]) -> dict[str, Any]:
    """Where an ended operation points at its results: `response` (succeeded) or
    `metadata.output` (any end)."""
    output = operation.get("response") or (operation.get("metadata") or {}).get("output")
    return output if isinstance(output, dict) else {}


def map_status(job: types.BatchJob, total: int = 0, failure: dict[str, Any] | None = None) -> RemoteStatus:
    """`job` as the SDK gives it (no counts: it drops `batchStats`, §3.4). `total` is what we
    sent; `failure` is the operation's `error`, read apart for a failed job."""
    state = job.state or S.JOB_STATE_UNSPECIFIED
    remote, ended_as = STATES.get(state, (RemoteState.RUNNING, None))
    raw = state.value if isinstance(state, types.JobState) else str(state)
    if remote is RemoteState.FAILED:
        error, retryable = _failure(failure)
        return RemoteStatus(remote, raw, total, error=error, retryable=retryable)
    done = total if remote is RemoteState.ENDED else 0
    return RemoteStatus(remote, raw, total, done, ended_as=ended_as)


def _operation_status(operation: dict[str, Any], ref: RemoteRef) -> RemoteStatus:
    """The batch's status from its operation JSON (a `batches.get` answer or a list entry)."""
    job = types.BatchJob(state=job_state(operation))
    error = operation.get("error")
    failure = error if job.state == S.JOB_STATE_FAILED and isinstance(error, dict) else None
    return map_status(job, int(ref.extra.get("count") or 0), failure)


def _failure(error: dict[str, Any] | None) -> tuple[str, bool]:
    if not error:
        return "the batch failed without a reason", False
    code, status = error.get("code"), error.get("status")
    label = status or (f"code {code}" if code is not None else "error")
    message = f"{label}: {error.get('message') or ''}".rstrip(": ")
    return redact(message), is_retryable_error(code, status)


# --- client and errors ----------------------------------------------------------------------


def http_options(
    *,
    base_url: str | None = None,
    api_version: str | None = None,
    max_retries: int = 2,
    timeout: float = 60.0,
) -> types.HttpOptions:
    """Client options; the SDK never retries unless `retry_options` is set (§3.1)."""
    retry = types.HttpRetryOptions(attempts=max_retries + 1)
    return types.HttpOptions(
        base_url=base_url,
        api_version=api_version,
        timeout=int(timeout * 1000),  # milliseconds
        retry_options=retry,
    )


def api_version_from_env() -> str:
    """GOOGLE_GENAI_API_VERSION ("beta" means v1beta), else the pinned API_VERSION."""
    version = os.environ.get("GOOGLE_GENAI_API_VERSION", "").strip() or API_VERSION
    return "v1beta" if version == "beta" else version


def client_from_env(*, max_retries: int = 2, timeout: float = 60.0) -> genai.Client:
    """A Developer-API client from GOOGLE_API_KEY (which wins, as in the SDK) or GEMINI_API_KEY,
    GOOGLE_GEMINI_BASE_URL and GOOGLE_GENAI_API_VERSION (default: the pinned API_VERSION).

    :raises ProviderError: when no key is set.
    """
    api_key = os.environ.get("GOOGLE_API_KEY") or os.environ.get("GEMINI_API_KEY")
    if not api_key:
        raise missing_key_error(ProviderName.GEMINI, "configure")
    options = http_options(
        base_url=os.environ.get("GOOGLE_GEMINI_BASE_URL") or None,
        api_version=api_version_from_env(),
        max_retries=max_retries,
        timeout=timeout,
    )
    return genai.Client(api_key=api_key, vertexai=False, http_options=options)


_CATCH: tuple[type[Exception], ...] = (genai_errors.APIError, *TRANSPORT_ERRORS, *MALFORMED_ERRORS)


#: What the SDK raises when the upload's last answer (HTTP 200) holds an error, not a `file`.
_UPLOAD_REFUSED = (
    "the upload was answered with an error body instead of a file (HTTP 200; e.g. 'Unsupported MIME type')"
)


def upload_error(exc: KeyError) -> ProviderError:
    """The SDK's KeyErrors from an upload: `'file'` when the last answer (HTTP 200) held an error
    body instead of the file (python-genai#1547, #1590): refused, not worth the same call again;
    any other when the first answer had no upload URL: worth another attempt."""
    if exc.args == ("file",):
        return ProviderError(NAME, "upload", f"{_UPLOAD_REFUSED}; MIME type sent: {JSONL_MIME}")
    return transient_error(NAME, "upload", f"malformed answer: {exc}")


def to_provider_error(op: str, exc: Exception) -> ProviderError:
    if isinstance(exc, genai_errors.APIError) and isinstance(exc.code, int):
        # a key that is not valid is answered 400 INVALID_ARGUMENT, reason API_KEY_INVALID
        key_refused = "API_KEY_INVALID" in str(exc.details) or "API key not valid" in str(exc.message)
        return status_error(NAME, op, exc.code, exc.message or exc.status or str(exc), key_refused=key_refused)
    if isinstance(exc, TRANSPORT_ERRORS):
        return transport_error(NAME, op, exc)
    if isinstance(exc, MALFORMED_ERRORS):
        return transient_error(NAME, op, str(exc) or type(exc).__name__)
    return ProviderError(NAME, op, redact(str(exc)))


def _unkeyed_warned(result: ProviderResult, ref: RemoteRef, index: int) -> ProviderResult:
    if result.wire_id == UNKEYED:
        log.warning("gemini batch %s: result row %d came back without its key", ref.remote_id, index)
    return result


# --- the adapter ----------------------------------------------------------------------------


class GeminiProvider(Provider):
    name = ProviderName.GEMINI
    lists_statuses = True

    def __init__(
        self,
        workdir: Path,
        client: genai.Client | None = None,
        *,
        profile: ProviderProfile | None = None,  # noqa: ARG002 - the registry passes each adapter its profile
        max_retries: int = 2,
        timeout: float = 60.0,
        inline_max_bytes: int = GEMINI_INLINE_MAX_BYTES,
        inline_max_requests: int = INLINE_MAX_REQUESTS,
        inline: bool | None = None,
    ) -> None:
        """:param client: a ready client (tests); by default `client_from_env` on first use.
        :param inline: send batches that fit inline (default: CORTHEX_GEMINI_INLINE, else off:
            every batch goes as an uploaded file, whose answers always carry their key).
        :param inline_max_bytes: with `inline`, batches whose inline entries take this many bytes
            or more (as the SDK serializes them) go as an uploaded file.
        :param inline_max_requests: so do batches of more requests than this."""
        self._workdir = workdir
        self._inline = inline if inline is not None else os.environ.get(INLINE_ENV, "") in ("1", "true", "yes")
        self._client, self._owns_client = client, client is None
        self._max_retries, self._timeout = max_retries, timeout
        self._inline_max_bytes = inline_max_bytes
        self._inline_max_requests = inline_max_requests

    @property
    def _aio(self) -> AsyncClient:
        if self._client is None:
            self._client = client_from_env(max_retries=self._max_retries, timeout=self._timeout)
        return self._client.aio

    def _errors(self, op: str) -> AbstractContextManager[None]:
        return translated(_CATCH, lambda exc: to_provider_error(op, exc))

    async def submit(self, key: str, model: str | None, items: Sequence[WireItem]) -> RemoteRef:
        if model is None:
            raise ValueError("a Gemini batch holds one model (it goes in the URL)")
        check_items(items, one_model=model)
        if any(item.request.is_embedding for item in items):
            return await self._submit_embeddings(key, model, items)
        # a native line is REST JSON, which the inline form (SDK types) would re-shape: a file
        few = self._inline and len(items) <= self._inline_max_requests and items[0].request.native is None
        inline = inline_bytes(items, self._inline_max_bytes) if few else None
        if inline is not None:
            src: Any = [to_wire(item) for item in items]
            extra: dict[str, Any] = {"count": len(items), "mode": "inline", "wire_bytes": inline}
        else:
            src, size = await self._upload(key, items)
            extra = {"count": len(items), "mode": "file", "input_file": src, "wire_bytes": size}
        # No SDK retry on create: a retried create after a timeout may be a second, paid batch.
        # The engine looks for the batch (`find`) before it creates it again.
        config: types.CreateBatchJobConfigDict = {"display_name": key, "http_options": _ONCE_DICT}
        with self._errors("create"):
            job = await self._aio.batches.create(model=model, src=src, config=config)
        if not job.name:
            raise transient_error(NAME, "create", "the created batch has no name")
        return RemoteRef(job.name, extra)

    async def _submit_embeddings(self, key: str, model: str, items: Sequence[WireItem]) -> RemoteRef:
        """Always an uploaded file: only its lines carry a key (the inline form answers by position,
        docs/wire/embeddings.md). `create_embeddings` is experimental in google-genai: its warning
        is silenced here, at the one call."""
        if not all(item.request.is_embedding for item in items):
            raise ValueError("a Gemini embeddings batch holds embedding requests only")
        src, size = await self._upload(key, items)
        lines = sum(len(item.request.embed_input or ()) for item in items)
        extra = {"count": len(items), "mode": "file", "input_file": src, "wire_bytes": size, "lines": lines}
        once: types.HttpOptionsDict = {"retry_options": {"attempts": 1}}  # no second, paid batch (see submit)
        config: types.CreateEmbeddingsBatchJobConfigDict = {"display_name": key, "http_options": once}
        with self._errors("create"), warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            job = await self._aio.batches.create_embeddings(model=model, src={"file_name": src}, config=config)
        if not job.name:
            raise transient_error(NAME, "create", "the created batch has no name")
        return RemoteRef(job.name, extra)

    async def _upload(self, key: str, items: Sequence[WireItem]) -> tuple[str, int]:
        """(file name, bytes uploaded)"""
        path = upload_path(self._workdir, key)
        try:
            size = await write_jsonl(path, (line for item in items for line in _file_lines(item)))
            with self._errors("upload"):
                config: types.UploadFileConfigDict = {"mime_type": JSONL_MIME, "display_name": key}
                try:
                    uploaded = await self._aio.files.upload(file=path, config=config)
                except KeyError as exc:  # the SDK's word for an answer it could not read
                    raise upload_error(exc) from None
        finally:
            remove(path)
        if not uploaded.name:
            raise transient_error(NAME, "upload", "the uploaded file has no name")
        crash_point("after_upload")
        return uploaded.name, size

    async def find(
        self,
        key: str,
        created_after: datetime,
        *,
        expected_count: int | None = None,
        exclude: Collection[str] = (),
    ) -> RemoteRef | None:
        """The batch whose display name is `key`, created in the window (list order is not
        documented, so every page is read)."""
        since = window_start(created_after)
        with self._errors("find"):
            async for job in await self._aio.batches.list(config={"page_size": 100}):
                recent = job.create_time is None or as_utc(job.create_time) >= since
                if job.display_name == key and recent and job.name:
                    return RemoteRef(job.name, {})
        return None

    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        with self._errors("poll"):
            operation = await self._operation(ref.remote_id)
        return _operation_status(operation, ref)

    async def poll_many(self, refs: Sequence[RemoteRef], since: datetime) -> dict[str, RemoteStatus]:  # noqa: ARG002
        """`GET batches?pageSize=100&pageToken=…` (operations, each as `batches.get` shows it: the
        state and, failed, the `error`), read as REST JSON like `poll`. The list's order is not
        documented, so no page is taken for the last: it pages until every ref was seen, the
        pages run out, or after twice the pages the refs fill (the rest are retrieved one by one)."""
        by_name = {ref.remote_id: ref for ref in refs}
        found: dict[str, RemoteStatus] = {}
        token: str | None = None
        for _ in range(2 * -(-len(by_name) // LIST_PAGE) + 1):
            query = urlencode({"pageSize": LIST_PAGE} | ({"pageToken": token} if token else {}))
            with self._errors("poll"):
                page = await self._json(f"batches?{query}")
            for operation in page.get("operations") or []:
                ref = by_name.get(str(operation.get("name") if isinstance(operation, dict) else ""))
                if ref is not None:
                    found[ref.remote_id] = _operation_status(operation, ref)
            token = page.get("nextPageToken") or None
            if len(found) == len(by_name) or not token:
                break
        return found

    async def _operation(self, name: str) -> dict[str, Any]:
        """The batch's operation as the API sends it (see the module docstring for why not
        `batches.get`)."""
        return await self._json(name)

    async def _json(self, path: str) -> dict[str, Any]:
        """A GET's JSON object through the SDK's own transport (auth, retries, base URL, API version)."""
        response = await self._aio._api_client.async_request("get", path, {})
        answer = json.loads(response.body or "{}")
        if not isinstance(answer, dict):
            raise transient_error(NAME, "poll", "the batch answer is not a JSON object")
        return answer

    async def results(self, ref: RemoteRef, *, keep_raw: bool = True) -> AsyncIterator[ProviderResult]:
        with self._errors("results"):
            operation = await self._operation(ref.remote_id)
        job = types.BatchJob(state=job_state(operation))
        if (status := map_status(job)).state is RemoteState.RUNNING:  # no output yet
            raise transient_error(NAME, "results", f"the batch is still {status.raw_status}")
        output = operation_output(operation)
        inline = output.get("inlinedResponses")
        if isinstance(inline, dict) and isinstance(inline.get("inlinedResponses"), list):
            for index, row in enumerate(inline["inlinedResponses"]):
                yield _unkeyed_warned(from_wire(row if isinstance(row, dict) else {}), ref, index)
        elif isinstance(file_name := output.get("responsesFile"), str) and file_name:
            index = 0
            async for result in self._file_results(file_name, keep_raw):
                yield _unkeyed_warned(result, ref, index)
                index += 1

    async def _file_results(self, file_name: str, keep_raw: bool) -> AsyncIterator[ProviderResult]:
        path = new_temp_path(self._workdir, file_name)
        try:
            with self._errors("results"):
                await self._aio.files.download(file=file_name, destination=path)
            regroup = Regrouper()  # a list input's rows, one per text, become one result
            async for row in read_jsonl(path, NAME):
                whole = regroup.add(replace(from_wire(row), raw=row) if keep_raw else from_wire(row))
                if whole is not None:
                    yield whole
            for missing in regroup.missing():
                yield missing
        finally:
            remove(path)

    async def cancel(self, ref: RemoteRef) -> None:
        with self._errors("cancel"):
            await self._aio.batches.cancel(name=ref.remote_id)

    async def complete(self, request: LLMRequest, *, tier: Tier = Tier.REALTIME) -> ProviderResult:
        """Flex (where the model takes it) sends `serviceTier: "flex"` with a 15-minute timeout
        (flex answers in minutes); the answer's `usageMetadata.serviceTier` says which tier served it."""
        if request.is_embedding:
            message = "Gemini embeddings go through the Batch API only (realtime calls are not built)"
            error = ResultError(E.INVALID_REQUEST, message, code="not_built")
            return ProviderResult(request.custom_id, ResultStatus.FAILED, error=error)
        answered = tier_for(self.name, request.model, tier)
        try:
            response = await self._aio.models.generate_content(
                model=request.model, contents=contents(request), config=_single_call_config(request, answered)
            )
        except genai_errors.APIError as exc:
            if not is_request_error(exc.code):
                raise to_provider_error("complete", exc) from exc
            raw = exc.status or f"http_{exc.code}"
            error = ResultError(error_type(exc.code, exc.status), redact(exc.message or str(exc)), code=raw)
            return ProviderResult(request.custom_id, ResultStatus.FAILED, error=error, tier=answered)
        except _CATCH as exc:
            raise to_provider_error("complete", exc) from exc
        dumped = response.model_dump(mode="json", by_alias=True, exclude_none=True)
        return replace(from_response(request.custom_id, dumped), tier=served_tier(dumped, answered))

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.aio.aclose()
            self._client.close()  # the SDK's sync transport is separate


#: a flex call's timeout: flex targets answers within 1–15 minutes (docs/wire/tiers.md)
FLEX_TIMEOUT_MS = 900_000
_FLEX_ONCE = types.HttpOptions(retry_options=types.HttpRetryOptions(attempts=1), timeout=FLEX_TIMEOUT_MS)


def _single_call_config(request: LLMRequest, tier: Tier) -> types.GenerateContentConfig:
    # no SDK retry: the caller retries, waiting as RetryInfo says (engine/tiers.py)
    config = generation_config(request)
    if tier is Tier.FLEX:
        return config.model_copy(update={"http_options": _FLEX_ONCE, "service_tier": types.ServiceTier.FLEX})
    return config.model_copy(update={"http_options": _ONCE})


def served_tier(response: dict[str, Any], asked: Tier) -> Tier:
    """The tier that served a call, from `usageMetadata.serviceTier` (the SDK's `ServiceTier`:
    flex, standard, priority; compared without case, the REST form's case is UNVERIFIED); absent,
    the tier asked."""
    served = (response.get("usageMetadata") or {}).get("serviceTier")
    if not isinstance(served, str) or not served:
        return asked
    return Tier.FLEX if "flex" in served.lower() else Tier.REALTIME


def _padded(data: str) -> str:
    """Base64 with its padding (a line may leave it out; the decoder wants it)."""
    return data + "=" * (-len(data) % 4)
