"""OpenAI Batch API over `openai.AsyncOpenAI` (PROVIDERS.md §1).

One JSONL file per batch, uploaded from disk so its name ends in `.jsonl`; one model and one
endpoint per file. Results come from two files, output and error, matched on `custom_id`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import openai
import orjson
from openai.types import Batch

from corthex.crashpoints import crash_point
from corthex.domain import builtin_providers
from corthex.domain.batches import RemoteRef, RemoteState, RemoteStatus
from corthex.domain.capabilities import OpenAIEndpoint, openai_endpoint, tier_for
from corthex.domain.content import ToolCall
from corthex.domain.finish import OPENAI_FINISH, finish_from, model_answer
from corthex.domain.registry import ProviderProfile, WireFamily
from corthex.domain.requests import LLMRequest, ProviderName
from corthex.domain.results import (
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
    upload_path,
    window_start,
    write_jsonl,
)
from corthex.providers.base import Provider, WireItem
from corthex.providers.setup import compatible_client, has_key, missing_key_error
from corthex.providers.vocabulary import openai_error as result_error
from corthex.providers.vocabulary import openai_error_type
from corthex.providers.wire.native import native_line
from corthex.providers.wire.openai import (  # re-exported: the adapter's request side
    chat_body,
    embeddings_body,
    responses_body,
    to_wire,
)

E = ErrorType

NAME = ProviderName.OPENAI.value
KEY_FIELD = "corthex_key"  #: batch metadata entry that carries our batch key

_RUNNING = frozenset({"validating", "in_progress", "finalizing", "cancelling"})
_ENDED_AS = {
    "completed": None,
    "expired": ResultStatus.EXPIRED,
    "cancelled": ResultStatus.CANCELED,
}
#: error-file codes of requests that never ran (the rest, e.g. request_timeout, are failures)
_NOT_RUN = {"batch_expired": ResultStatus.EXPIRED, "batch_cancelled": ResultStatus.CANCELED}
_RETRYABLE_BATCH_ERRORS = frozenset({"token_limit_exceeded"})
LIST_PAGE = 100  #: `GET /batches` takes a limit of 1 to 100 (openai/types/batch_list_params.py)
_LISTS_STATUSES = frozenset({ProviderName.OPENAI.value, ProviderName.AZURE.value})


# --- results --------------------------------------------------------------------------------


def _line(item: WireItem, endpoint: OpenAIEndpoint, wire_model: str) -> dict[str, Any]:
    line = native_line(WireFamily.OPENAI, item) if item.request.native is not None else to_wire(item, endpoint)
    if line["body"].get("model") != wire_model:  # Azure: the deployment that serves the model
        line["body"] = {**line["body"], "model": wire_model}
    return line


def from_wire(row: dict[str, Any]) -> ProviderResult:
    """One line of the output or the error file (both have this shape).

    :raises ProviderError: (retryable) when the line has no `custom_id`.
    """
    wire_id = row.get("custom_id")
    if not isinstance(wire_id, str):
        raise transient_error(NAME, "results", "result line without custom_id")
    response = row.get("response")
    if not isinstance(response, dict):
        return _batch_error_row(wire_id, row.get("error") or {})
    status, body = response.get("status_code"), response.get("body") or {}
    if isinstance(status, int) and 200 <= status < 300:
        return _FROM_BODY.get(str(body.get("object")), from_completion)(wire_id, body)
    return _http_error_row(wire_id, status, body)


def from_embeddings(wire_id: str, body: dict[str, Any]) -> ProviderResult:
    """A `/v1/embeddings` body (`object: "list"`): its vectors in `index` order, one for each text.
    Which one the request wants (one vector, or the list) the engine decides from the request."""
    items = sorted((d for d in body.get("data") or [] if isinstance(d, dict)), key=lambda d: d.get("index") or 0)
    vectors: list[list[float]] = [d["embedding"] for d in items if isinstance(d.get("embedding"), list)]
    usage = Usage(input_tokens=(body.get("usage") or {}).get("prompt_tokens") or 0, output_tokens=0)
    model = body.get("model")
    if not vectors or len(vectors) != len(items):
        error = ResultError(E.NO_ANSWER, "embeddings answer without float vectors", True, code="malformed_response")
        return ProviderResult(wire_id, ResultStatus.FAILED, model=model, usage=usage, error=error)
    return ProviderResult(wire_id, ResultStatus.SUCCEEDED, model=model, usage=usage, embedding=vectors)


def from_completion(
    wire_id: str, body: dict[str, Any], finish_table: dict[str, FinishReason] = OPENAI_FINISH
) -> ProviderResult:
    """A chat completion (batch body or realtime response) as a result, decided by its
    `finish_reason` (read with `finish_table`: Mistral's chat answers have this shape too, with
    reasons of their own) and `message.refusal` (domain/finish.py)."""
    choices = body.get("choices") or []
    model, usage = body.get("model"), usage_from(body.get("usage") or {})
    if not choices:
        error = ResultError(E.NO_ANSWER, "completion without choices", True, code="malformed_response")
        return ProviderResult(wire_id, ResultStatus.FAILED, model=model, usage=usage, error=error)
    choice = choices[0]
    message = choice.get("message") or {}
    raw = choice.get("finish_reason")
    result = model_answer(
        wire_id,
        text=message.get("content"),
        finish=finish_from(finish_table, raw),
        usage=usage,
        model=model,
        raw_reason=raw,
        refusal=message.get("refusal") or None,
    )
    calls = [
        _call(c.get("id"), c.get("function") or {}) for c in message.get("tool_calls") or [] if isinstance(c, dict)
    ]
    return _with_calls(result, calls)


def _call(call_id: Any, function: dict[str, Any]) -> ToolCall:
    return ToolCall(str(call_id or ""), str(function.get("name") or ""), parse_arguments(function.get("arguments")))


def parse_arguments(raw: Any) -> dict[str, Any]:
    """A call's arguments, a JSON string on OpenAI's wire: parsed, or kept as `{"_raw": text}`
    when the model wrote something that is not a JSON object (nothing is lost)."""
    if isinstance(raw, dict):
        return raw
    text = raw if isinstance(raw, str) else ""
    if not text.strip():
        return {}
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {"_raw": text}
    return parsed if isinstance(parsed, dict) else {"_raw": text}


def _with_calls(result: ProviderResult, calls: list[ToolCall]) -> ProviderResult:
    """A result with the model's tool calls: an answer that is only calls (no text) succeeds with
    finish `tool_calls`; a refusal or a safety stop stays what it was."""
    if not calls:
        return result
    finish = result.finish_reason
    if finish in (FinishReason.REFUSAL, FinishReason.CONTENT_FILTER):
        return dataclasses.replace(result, tool_calls=tuple(calls))
    if finish is not FinishReason.LENGTH:  # cut calls keep `length`: their arguments may be cut too
        finish = FinishReason.TOOL_CALLS
    return dataclasses.replace(
        result,
        status=ResultStatus.SUCCEEDED,
        content=result.content or "",
        error=None,
        finish_reason=finish,
        tool_calls=tuple(calls),
    )


# --- the Responses shape ---------------------------------------------------------------------

#: `incomplete_details.reason` values: the budget ran out, or a safety system stopped the answer.
_INCOMPLETE = {"max_output_tokens": FinishReason.LENGTH, "content_filter": FinishReason.CONTENT_FILTER}


def from_response(wire_id: str, body: dict[str, Any]) -> ProviderResult:
    """A `/v1/responses` body (batch line or realtime) as a result: the text of its message
    items' `output_text` parts; `status: incomplete` says why it stopped early."""
    model, usage = body.get("model"), responses_usage_from(body.get("usage") or {})
    text, refusal = _output_text(body.get("output") or [])
    calls = _function_calls(body.get("output") or [])
    if body.get("status") == "failed":
        error = body.get("error") or {}
        failure = result_error(
            error.get("code") or "response_failed", error.get("message") or "the response failed", True
        )
        return ProviderResult(wire_id, ResultStatus.FAILED, model=model, usage=usage, error=failure)
    if refusal is not None and not text:
        error = ResultError(E.REFUSAL, refusal)
        return ProviderResult(
            wire_id, ResultStatus.FAILED, model=model, usage=usage, error=error, finish_reason=FinishReason.REFUSAL
        )
    finish = _finish(body)
    if calls and finish is FinishReason.STOP:  # no finish reason here: a function_call item is the signal
        finish = FinishReason.TOOL_CALLS
    if not text and not calls and finish is not FinishReason.STOP:
        return ProviderResult(
            wire_id, ResultStatus.FAILED, model=model, usage=usage, error=_empty_error(finish), finish_reason=finish
        )
    return ProviderResult(
        wire_id, ResultStatus.SUCCEEDED, text, model, usage, finish_reason=finish, tool_calls=tuple(calls)
    )


def _function_calls(output: list[Any]) -> list[ToolCall]:
    """The `function_call` output items, in order (their `call_id` pairs a later result)."""
    return [
        ToolCall(
            str(item.get("call_id") or item.get("id") or ""),
            str(item.get("name") or ""),
            parse_arguments(item.get("arguments")),
        )
        for item in output
        if isinstance(item, dict) and item.get("type") == "function_call"
    ]


def _output_text(output: list[Any]) -> tuple[str, str | None]:
    """(the joined `output_text` parts, the refusal if any) of the `message` items; reasoning
    items carry no answer text."""
    texts: list[str] = []
    refusal: str | None = None
    for item in output:
        if not isinstance(item, dict) or item.get("type") != "message":
            continue
        for part in item.get("content") or []:
            if part.get("type") == "output_text":
                texts.append(part.get("text") or "")
            elif part.get("type") == "refusal":
                refusal = part.get("refusal") or "the model refused"
    return "".join(texts), refusal


def _finish(body: dict[str, Any]) -> FinishReason:
    if body.get("status") != "incomplete":
        return FinishReason.STOP
    reason = (body.get("incomplete_details") or {}).get("reason")
    return _INCOMPLETE.get(str(reason), FinishReason.OTHER)


def _empty_error(finish: FinishReason) -> ResultError:
    if finish is FinishReason.LENGTH:
        return ResultError(
            E.MAX_OUTPUT_TOKENS,
            "the output budget ran out before any answer (reasoning took it all): raise max_output_tokens",
        )
    if finish is FinishReason.CONTENT_FILTER:
        return ResultError(E.CONTENT_FILTER, "a safety system stopped the answer")
    return ResultError(E.NO_ANSWER, "the response ended incomplete with no answer", True, code="incomplete")


def responses_usage_from(usage: dict[str, Any]) -> Usage:
    """`input_tokens` includes the cached ones; `output_tokens` the reasoning ones."""
    return Usage(
        input_tokens=usage.get("input_tokens") or 0,
        output_tokens=usage.get("output_tokens") or 0,
        cached_tokens=(usage.get("input_tokens_details") or {}).get("cached_tokens") or 0,
        reasoning_tokens=(usage.get("output_tokens_details") or {}).get("reasoning_tokens") or 0,
    )


def usage_from(usage: dict[str, Any]) -> Usage:
    """`prompt_tokens` already includes the cached ones; `completion_tokens` the reasoning ones."""
    details = usage.get("prompt_tokens_details") or {}
    output_details = usage.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=usage.get("prompt_tokens") or 0,
        output_tokens=usage.get("completion_tokens") or 0,
        cached_tokens=details.get("cached_tokens") or 0,
        reasoning_tokens=output_details.get("reasoning_tokens") or 0,
    )


def _http_error_row(wire_id: str, status: Any, body: dict[str, Any]) -> ProviderResult:
    error = body.get("error") or {}
    kind = error.get("type") or error.get("code") or f"http_{status}"
    retryable = retryable_status_code(status) if isinstance(status, int) else True
    message = error.get("message") or f"status {status}"
    failure = ResultError(openai_error_type(error, status), message, retryable, code=kind)
    return ProviderResult(wire_id, ResultStatus.FAILED, error=failure)


def _batch_error_row(wire_id: str, error: dict[str, Any]) -> ProviderResult:
    """`response: null` rows: the request never ran (PROVIDERS.md §1.6)."""
    code = error.get("code") or "unknown_error"
    message = error.get("message") or code
    status = _NOT_RUN.get(code, ResultStatus.FAILED)
    retryable = status is not ResultStatus.FAILED or code == "request_timeout"
    return ProviderResult(wire_id, status, error=result_error(code, message, retryable))


#: the `object` of a 2xx body, and who reads it (the rest are chat completions)
_FROM_BODY = {"response": from_response, "list": from_embeddings}


# --- batch status ---------------------------------------------------------------------------


def map_status(batch: Batch) -> RemoteStatus:
    counts = batch.request_counts
    total, done, failed = (counts.total, counts.completed + counts.failed, counts.failed) if counts else (0, 0, 0)
    if batch.status == "failed":
        error, retryable = _batch_failure(batch)
        return RemoteStatus(RemoteState.FAILED, batch.status, total, done, failed, error, retryable)
    if batch.status in _ENDED_AS:
        ended_as = _ENDED_AS[batch.status]
        return RemoteStatus(RemoteState.ENDED, batch.status, total, done, failed, ended_as=ended_as)
    # The rest are _RUNNING; an unknown new status waits too (the poller gives up on age).
    return RemoteStatus(RemoteState.RUNNING, batch.status, total, done, failed)


def _batch_failure(batch: Batch) -> tuple[str, bool]:
    errors = batch.errors.data if batch.errors and batch.errors.data else []
    if not errors:
        return "the batch failed without a reason", False
    parts = [f"{e.code or 'error'}: {e.message or ''}" + (f" (line {e.line})" if e.line else "") for e in errors]
    return redact("; ".join(parts)), any(e.code in _RETRYABLE_BATCH_ERRORS for e in errors)


# --- errors ---------------------------------------------------------------------------------

_CATCH: tuple[type[Exception], ...] = (openai.OpenAIError, *TRANSPORT_ERRORS, *MALFORMED_ERRORS)


def to_provider_error(op: str, exc: Exception, provider: str = NAME) -> ProviderError:
    if isinstance(exc, openai.APIStatusError):
        return status_error(provider, op, exc.status_code, exc.message)
    if isinstance(exc, (openai.APIConnectionError, *TRANSPORT_ERRORS)):
        return transport_error(provider, op, exc)
    if isinstance(exc, (openai.APIResponseValidationError, *MALFORMED_ERRORS)):
        return transient_error(provider, op, str(exc) or type(exc).__name__)
    return ProviderError(provider, op, redact(str(exc)))


def _api_message(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    return redact(str(body.get("message") or exc.message))


# --- the adapter ----------------------------------------------------------------------------


class OpenAIProvider(Provider):
    def __init__(
        self,
        workdir: Path,
        client: openai.AsyncOpenAI | None = None,
        *,
        profile: ProviderProfile = builtin_providers.OPENAI,
        max_retries: int = 2,
        timeout: float = 60.0,
    ) -> None:
        """:param client: a ready client (tests); by default one is built from the environment
        (OPENAI_API_KEY, OPENAI_BASE_URL) on first use, so a missing key fails only that call.
        :param profile: OpenAI's, or an OpenAI-compatible server's (its name, endpoint, key
        variable, file purpose and completion window)."""
        self.name, self._profile = profile.name, profile
        self._workdir = workdir
        self._client, self._owns_client = client, client is None
        self._max_retries, self._timeout = max_retries, timeout
        self._purpose = profile.options.get("file_purpose", "batch")
        # OpenAI's and Azure's list shows each batch as `retrieve` does (docs/providers.md #26); a
        # compatible server's list is not documented as such: it opts in with `list_polling = "yes"`
        default = "yes" if profile.name in _LISTS_STATUSES else "no"
        self.lists_statuses = str(profile.options.get("list_polling", default)).lower() in ("yes", "true", "1")
        self._window = profile.options.get("completion_window", "24h")

    @property
    def _sdk(self) -> openai.AsyncOpenAI:
        if self._client is None:
            if not has_key(self.name, os.environ):  # refused here, in one line, not deep in the SDK
                raise missing_key_error(self.name, "configure")
            base_url, api_key = compatible_client(self._profile, os.environ)
            self._client = openai.AsyncOpenAI(
                base_url=base_url, api_key=api_key, max_retries=self._max_retries, timeout=self._timeout
            )
        return self._client

    def _errors(self, op: str) -> AbstractContextManager[None]:
        return translated(_CATCH, lambda exc: self._provider_error(op, exc))

    def _provider_error(self, op: str, exc: Exception) -> ProviderError:
        return to_provider_error(op, exc, self.name.value)

    def _wire_model(self, model: str) -> str:
        """The `model` the server is sent for `model` (Azure: the deployment's name)."""
        return model

    async def submit(self, key: str, model: str | None, items: Sequence[WireItem]) -> RemoteRef:
        if model is None:
            raise ValueError("an OpenAI batch holds one model (model_mismatch otherwise)")
        check_items(items, one_model=model)
        endpoint = openai_endpoint(model)  # one model, so one endpoint, per file (url_mismatch)
        native = items[0].request.native  # planning keeps native lines of one endpoint together
        url = native.url if native is not None and native.url else endpoint.value
        path = upload_path(self._workdir, key)
        wire_model = self._wire_model(model)
        with self._errors("upload"):
            try:
                wire_bytes = await write_jsonl(path, (_line(item, endpoint, wire_model) for item in items))
                # An open file, not the path: the SDK reads a path whole into memory (tens of MB for a
                # 50,000-line batch); httpx streams a file in chunks and rewinds it for a retry.
                with path.open("rb") as fh:
                    upload = await self._sdk.files.create(file=(path.name, fh), purpose=self._purpose)  # type: ignore[arg-type]
            finally:
                remove(path)
        crash_point("after_upload")
        with self._errors("create"):
            # No SDK retry: a retried create after a timeout may be a second, paid batch. The
            # engine looks for the batch (`find`) before it creates it again.
            batch = await self._sdk.with_options(max_retries=0).batches.create(
                input_file_id=upload.id,
                endpoint=url,  # type: ignore[arg-type]  # a native line's url is one the Batch API takes
                completion_window=self._window,  # type: ignore[arg-type]  # a server may take longer ones
                metadata={KEY_FIELD: key},
            )
        return RemoteRef(batch.id, {"input_file_id": upload.id, "wire_bytes": wire_bytes})

    async def find(
        self,
        key: str,
        created_after: datetime,
        *,
        expected_count: int | None = None,
        exclude: Collection[str] = (),
    ) -> RemoteRef | None:
        """Pages newest first and stops at the first batch older than the window."""
        since = math.floor(window_start(created_after).timestamp())  # created_at is whole seconds
        with self._errors("find"):
            async for batch in self._sdk.batches.list(limit=100):
                if batch.created_at < since:
                    return None
                if (batch.metadata or {}).get(KEY_FIELD) == key:
                    return RemoteRef(batch.id, _file_ids(batch))
        return None

    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        with self._errors("poll"):
            return map_status(await self._sdk.batches.retrieve(ref.remote_id))

    async def poll_many(self, refs: Sequence[RemoteRef], since: datetime) -> dict[str, RemoteStatus]:
        """`GET /batches?limit=100&after=…` pages (newest first, each batch as `retrieve` shows it)
        until every ref was seen or the page reaches batches created before `since`."""
        wanted = {ref.remote_id for ref in refs}
        oldest = math.floor(window_start(since).timestamp())  # created_at is whole seconds
        with self._errors("poll"):
            return await statuses_until_seen(self._sdk.batches.list(limit=LIST_PAGE), wanted, oldest, map_status)

    async def results(self, ref: RemoteRef, *, keep_raw: bool = True) -> AsyncIterator[ProviderResult]:
        """Both files are downloaded before the first row is yielded, then read line by line."""
        with self._errors("results"):
            batch = await self._sdk.batches.retrieve(ref.remote_id)
        if batch.status in _RUNNING:  # no files yet: reading now would lose every request
            raise transient_error(self.name.value, "results", f"the batch is still {batch.status}")
        file_ids = [f for f in (batch.output_file_id, batch.error_file_id) if f]
        paths = [new_temp_path(self._workdir, file_id) for file_id in file_ids]
        try:
            for file_id, path in zip(file_ids, paths, strict=True):
                await self._download(file_id, path)
            for path in paths:
                async for row in read_jsonl(path, self.name.value):
                    yield replace(from_wire(row), raw=row) if keep_raw else from_wire(row)
        finally:
            for path in paths:
                remove(path)

    async def _download(self, file_id: str, path: Path) -> None:
        with self._errors("results"):
            async with self._sdk.files.with_streaming_response.content(file_id) as response:
                async with await anyio.open_file(path, "wb") as out:
                    async for chunk in response.iter_bytes():
                        await out.write(chunk)
                        crash_point("during_download")

    async def cancel(self, ref: RemoteRef) -> None:
        with self._errors("cancel"):
            await self._sdk.batches.cancel(ref.remote_id)

    async def complete(self, request: LLMRequest, *, tier: Tier = Tier.REALTIME) -> ProviderResult:
        """Flex (where the model takes it) sends `service_tier: "flex"` with a long timeout (OpenAI
        advises 15 minutes); the answer's own `service_tier` says which tier served it."""
        answered = tier_for(self.name, request.model, tier)
        try:
            row = await self._single_call(request, answered)
        except openai.APIStatusError as exc:
            if not is_request_error(exc.status_code):
                raise to_provider_error("complete", exc, self.name.value) from exc
            kind = openai_error_type({"code": exc.code, "type": exc.type}, exc.status_code)
            error = ResultError(kind, _api_message(exc), code=exc.type or f"http_{exc.status_code}")
            return ProviderResult(request.custom_id, ResultStatus.FAILED, error=error, tier=answered)
        except _CATCH as exc:
            raise self._provider_error("complete", exc) from exc
        return row

    async def _single_call(self, request: LLMRequest, tier: Tier) -> ProviderResult:
        # no SDK retry: the caller retries, waiting as retry-after says (engine/tiers.py)
        flex = tier is Tier.FLEX
        sdk = self._sdk.with_options(max_retries=0, timeout=max(self._timeout, FLEX_TIMEOUT) if flex else self._timeout)
        model: dict[str, Any] = {"model": self._wire_model(request.model)}
        if request.is_embedding:
            answer = await sdk.embeddings.create(**embeddings_body(request) | model)
            return replace(from_embeddings(request.custom_id, answer.to_dict()), tier=Tier.REALTIME)
        if flex:
            model["service_tier"] = "flex"
        if openai_endpoint(request.model) is OpenAIEndpoint.RESPONSES:
            response = (await sdk.responses.create(**responses_body(request) | model)).to_dict()
            return replace(from_response(request.custom_id, response), tier=served_tier(response, tier))
        completion = (await sdk.chat.completions.create(**chat_body(request) | model)).to_dict()
        return replace(from_completion(request.custom_id, completion), tier=served_tier(completion, tier))

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.close()


#: the timeout of a flex call: "increase default timeout to 15 minutes" (OpenAI's flex guide)
FLEX_TIMEOUT = 900.0


def served_tier(body: dict[str, Any], asked: Tier) -> Tier:
    """The tier that served a call, from the answer's `service_tier` ("the processing mode actually
    used", which may differ from the one asked): `flex` is flex, any other value realtime."""
    served = body.get("service_tier")
    if served is None:
        return asked
    return Tier.FLEX if served == "flex" else Tier.REALTIME


def _file_ids(batch: Batch) -> dict[str, str]:
    ids = {
        "input_file_id": batch.input_file_id,
        "output_file_id": batch.output_file_id,
        "error_file_id": batch.error_file_id,
    }
    return {k: v for k, v in ids.items() if v}
