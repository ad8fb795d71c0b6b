"""Vertex AI Gemini batch prediction over `google.genai.Client(vertexai=True).aio`, with the
input and output in Cloud Storage (docs/wire/platforms.md §3, docs/providers.md "Vertex AI").

A batch goes as one JSONL object `{CORTHEX_VERTEX_GCS_URI}/{key}/input.jsonl` of
`{"request": …}` lines (the Gemini wire's REST request, our wire id in its `labels`,
providers/wire/vertex.py); the job writes `{…}/{key}/output/prediction-model-*/predictions*.jsonl`
lines `{status, processed_time, request, response}`, mapped back by the labels the `request`
echo carries. One model per batch (it is the job's). The SDK does not touch Cloud Storage: our
small JSON-API client does (providers/gcs.py).

Settings: GOOGLE_CLOUD_PROJECT, GOOGLE_CLOUD_LOCATION (default us-central1),
CORTHEX_VERTEX_GCS_URI (gs://bucket/prefix), credentials the Google way (Application Default
Credentials, e.g. GOOGLE_APPLICATION_CREDENTIALS) or a bearer token in
CORTHEX_VERTEX_ACCESS_TOKEN (tests, short-lived tokens), the endpoint in GOOGLE_VERTEX_BASE_URL
(read by the SDK, `_base_url.py`), Cloud Storage's in STORAGE_EMULATOR_HOST.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from google import genai
from google.auth import exceptions as auth_errors
from google.genai import errors as genai_errors
from google.genai import types
from google.genai.client import AsyncClient

from corthex.domain.batches import RemoteRef, RemoteState, RemoteStatus
from corthex.domain.registry import ProviderProfile, WireFamily
from corthex.domain.requests import LLMRequest, ProviderName
from corthex.domain.results import UNKEYED, ErrorType, ProviderResult, ResultError, ResultStatus
from corthex.domain.tiers import Tier
from corthex.errors import ProviderError
from corthex.providers._common import (
    MALFORMED_ERRORS,
    TRANSPORT_ERRORS,
    as_utc,
    check_items,
    is_request_error,
    redact,
    status_error,
    transient_error,
    translated,
    transport_error,
    window_start,
)
from corthex.providers.base import Provider, WireItem
from corthex.providers.gcs import GcsClient, GcsError, GsUri, endpoint_from_env
from corthex.providers.gemini import STATES, contents, from_response, generation_config, is_retryable_error
from corthex.providers.vocabulary import gemini_error_type as error_type
from corthex.providers.wire.native import native_line
from corthex.providers.wire.vertex import id_labels, row_wire_id, to_line, vertex_model

E = ErrorType
NAME = "vertex"
PROJECT_ENV, LOCATION_ENV, GCS_ENV = "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION", "CORTHEX_VERTEX_GCS_URI"
TOKEN_ENV, CREDENTIALS_ENV, BASE_URL_ENV = (
    "CORTHEX_VERTEX_ACCESS_TOKEN",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_VERTEX_BASE_URL",
)
DEFAULT_LOCATION = "us-central1"
#: the GA version of batchPredictionJobs (the docs' curl); the SDK's own default is v1beta1
API_VERSION = "v1"
LIST_PAGE = 100  #: jobs per list page (the `find` page)
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
S = types.JobState
_RPC_STATUS = re.compile(r"\b([A-Z]+(?:_[A-Z]+)+)\b")


# --- settings and clients ------------------------------------------------------------------


def _setting(name: str, required: bool = True, default: str = "") -> str:
    value = os.environ.get(name, "").strip() or default
    if required and not value:
        raise ProviderError(NAME, "configure", f"{name} is not set: export it", setup=True)
    return value


def credentials_from_env() -> Any:
    """A static token from CORTHEX_VERTEX_ACCESS_TOKEN, else Application Default Credentials.

    :raises ProviderError: (setup) no credentials can be found."""
    from google.oauth2.credentials import Credentials  # lazily: only Vertex needs it

    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return Credentials(token=token)  # type: ignore[no-untyped-call]
    import google.auth

    try:
        credentials, _ = google.auth.default(scopes=SCOPES)
    except auth_errors.DefaultCredentialsError as exc:
        login = "or run `gcloud auth application-default login`"
        message = f"no Google credentials ({exc}): set {CREDENTIALS_ENV} ({login}) or {TOKEN_ENV}"
        raise ProviderError(NAME, "configure", redact(message), setup=True) from None
    return credentials


def client_from_env(credentials: Any, *, max_retries: int = 2, timeout: float = 60.0) -> genai.Client:
    options = types.HttpOptions(
        base_url=os.environ.get(BASE_URL_ENV) or None,
        api_version=API_VERSION,
        timeout=int(timeout * 1000),
        retry_options=types.HttpRetryOptions(attempts=max_retries + 1),
    )
    return genai.Client(
        vertexai=True,
        project=_setting(PROJECT_ENV),
        location=_setting(LOCATION_ENV, required=False, default=DEFAULT_LOCATION),
        credentials=credentials,
        http_options=options,
    )


def gcs_root() -> GsUri:
    value = _setting(GCS_ENV)
    try:
        return GsUri.parse(value)
    except ValueError as exc:
        raise ProviderError(NAME, "configure", f"{GCS_ENV}: {exc}", setup=True) from None


# --- results -------------------------------------------------------------------------------


def from_row(row: dict[str, Any], *, keep_raw: bool = True) -> ProviderResult:
    """A predictions line: `status` "" with a `response` (succeeded), else the error text in
    `status` (its exact shape is UNVERIFIED: a google.rpc status name in it decides the type)."""
    wire_id = row_wire_id(row) or UNKEYED
    status = row.get("status")
    if status or not isinstance(row.get("response"), dict):
        result = _failed_row(wire_id, str(status or "the row has neither a response nor a status"))
    else:
        result = from_response(wire_id, row["response"])
    return replace(result, raw=row) if keep_raw else result


def _failed_row(wire_id: str, text: str) -> ProviderResult:
    found = _RPC_STATUS.search(text)
    name = found.group(1) if found else None
    code = _http_code(text)
    if name == "CANCELLED":
        return ProviderResult(wire_id, ResultStatus.CANCELED, error=ResultError(E.CANCELED, text, True, code=name))
    error = ResultError(error_type(code, name), redact(text), is_retryable_error(code, name), code=name or "error")
    return ProviderResult(wire_id, ResultStatus.FAILED, error=error)


def _http_code(text: str) -> int | None:
    found = re.search(r"\b(\d{3})\b", text)
    return int(found.group(1)) if found else None


def map_status(job: types.BatchJob, total: int) -> RemoteStatus:
    state = job.state or S.JOB_STATE_UNSPECIFIED
    remote, ended_as = STATES.get(state, (RemoteState.RUNNING, None))
    raw = state.value if isinstance(state, types.JobState) else str(state)
    stats = job.completion_stats
    done = 0 if stats is None else (stats.successful_count or 0) + (stats.failed_count or 0)
    if remote is RemoteState.FAILED:
        error = job.error
        code, message = (error.code, error.message) if error is not None else (None, None)
        text = redact(f"code {code}: {message}" if message else "the batch failed without a reason")
        return RemoteStatus(remote, raw, total, error=text, retryable=is_retryable_error(code, None))
    return RemoteStatus(remote, raw, total, total if remote is RemoteState.ENDED else done, ended_as=ended_as)


# --- errors --------------------------------------------------------------------------------

_CATCH: tuple[type[Exception], ...] = (
    genai_errors.APIError,
    GcsError,
    auth_errors.GoogleAuthError,
    *TRANSPORT_ERRORS,
    *MALFORMED_ERRORS,
)


def to_provider_error(op: str, exc: Exception) -> ProviderError:
    """401/403 are setup errors (the engine fails the batch at once, naming the variables)."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, genai_errors.APIError) and isinstance(exc.code, int):
        return status_error(NAME, op, exc.code, exc.message or exc.status or str(exc))
    if isinstance(exc, GcsError):
        return status_error(NAME, op, exc.status, str(exc))
    if isinstance(exc, auth_errors.GoogleAuthError):
        return ProviderError(
            NAME, op, redact(f"Google credentials refused: {exc} — check {CREDENTIALS_ENV}"), setup=True
        )
    if isinstance(exc, TRANSPORT_ERRORS):
        return transport_error(NAME, op, exc)
    return transient_error(NAME, op, str(exc) or type(exc).__name__)


# --- the adapter ---------------------------------------------------------------------------


class VertexProvider(Provider):
    name = ProviderName(NAME)
    lists_statuses = True

    def __init__(
        self,
        workdir: Path,
        client: genai.Client | None = None,
        *,
        profile: ProviderProfile | None = None,
        max_retries: int = 2,
        timeout: float = 60.0,
    ) -> None:
        self._workdir = workdir
        if profile is not None:
            self.name = profile.name
        self._client, self._owns_client = client, client is None
        self._credentials: Any = None
        self._gcs: GcsClient | None = None
        self._max_retries, self._timeout = max_retries, timeout

    def _creds(self) -> Any:
        if self._credentials is None:
            self._credentials = credentials_from_env()
        return self._credentials

    @property
    def _aio(self) -> AsyncClient:
        if self._client is None:
            self._client = client_from_env(self._creds(), max_retries=self._max_retries, timeout=self._timeout)
        return self._client.aio

    @property
    def _storage(self) -> GcsClient:
        if self._gcs is None:
            endpoint, emulated = endpoint_from_env()
            self._gcs = GcsClient(endpoint, None if emulated else self._token, timeout=self._timeout)
        return self._gcs

    async def _token(self) -> str | None:
        """The bearer token for Cloud Storage: the same credentials, refreshed when due."""
        credentials = self._creds()
        if not credentials.valid:
            from google.auth.transport.requests import Request

            await asyncio.to_thread(credentials.refresh, Request())
        token: str | None = credentials.token
        return token

    def _errors(self, op: str) -> AbstractContextManager[None]:
        return translated((*_CATCH, ProviderError), lambda exc: to_provider_error(op, exc))

    async def submit(self, key: str, model: str | None, items: Sequence[WireItem]) -> RemoteRef:
        if model is None:
            raise ValueError("a Vertex batch holds one model (the job's)")
        check_items(items, one_model=model)
        if any(item.request.is_embedding for item in items):
            raise ProviderError(NAME, "create", "embeddings are not built for Vertex AI batch prediction")
        with self._errors("upload"):
            root = gcs_root().child(key)
            data = b"".join(orjson.dumps(_line(item)) + b"\n" for item in items)
            await self._storage.upload(root.child("input.jsonl"), data)
        source, dest = str(root.child("input.jsonl")), str(root.child("output"))
        # No SDK retry on create: a retried create after a timeout may be a second, paid job.
        once: types.HttpOptionsDict = {"retry_options": {"attempts": 1}}
        config: types.CreateBatchJobConfigDict = {"dest": dest, "display_name": key, "http_options": once}
        with self._errors("create"):
            job = await self._aio.batches.create(model=vertex_model(model), src=source, config=config)
        if not job.name:
            raise transient_error(NAME, "create", "the created job has no name")
        extra = {"count": len(items), "input_file": source, "dest": dest, "wire_bytes": len(data)}
        return RemoteRef(job.name, extra)

    async def find(
        self,
        key: str,
        created_after: datetime,
        *,
        expected_count: int | None = None,
        exclude: Collection[str] = (),
    ) -> RemoteRef | None:
        """The job whose display name is `key`, created in the window."""
        since = window_start(created_after)
        with self._errors("find"):
            async for job in await self._aio.batches.list(config={"page_size": 100}):
                recent = job.create_time is None or as_utc(job.create_time) >= since
                if job.display_name == key and recent and job.name and job.name not in exclude:
                    dest = job.dest.gcs_uri if job.dest is not None else None
                    return RemoteRef(job.name, {"dest": dest} if dest else {})
        return None

    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        with self._errors("poll"):
            job = await self._aio.batches.get(name=ref.remote_id)
        return map_status(job, int(ref.extra.get("count") or 0))

    async def poll_many(self, refs: Sequence[RemoteRef], since: datetime) -> dict[str, RemoteStatus]:  # noqa: ARG002
        """`GET …/batchPredictionJobs?pageSize=100&pageToken=…` (each job as `get` shows it). Its
        order is not documented, so no page is taken for the last: it pages until every ref was
        seen, the pages run out, or after twice the pages the refs fill, plus one (the rest are
        retrieved one by one)."""
        by_name = {ref.remote_id: ref for ref in refs}
        found: dict[str, RemoteStatus] = {}
        budget = (2 * -(-len(by_name) // LIST_PAGE) + 1) * LIST_PAGE  # jobs read at most
        with self._errors("poll"):
            async for job in await self._aio.batches.list(config={"page_size": LIST_PAGE}):
                ref = by_name.get(job.name or "")
                if ref is not None:
                    found[ref.remote_id] = map_status(job, int(ref.extra.get("count") or 0))
                budget -= 1
                if len(found) == len(by_name) or budget <= 0:
                    break  # the pager fetches no further page
        return found

    async def results(self, ref: RemoteRef, *, keep_raw: bool = True) -> AsyncIterator[ProviderResult]:
        with self._errors("results"):
            job = await self._aio.batches.get(name=ref.remote_id)
        if (status := map_status(job, 0)).state is RemoteState.RUNNING:
            raise transient_error(NAME, "results", f"the job is still {status.raw_status}")
        directory = (job.output_info.gcs_output_directory if job.output_info else None) or ref.extra.get("dest")
        if not directory:
            return
        with self._errors("results"):
            where = GsUri.parse(str(directory))
            names = sorted(n for n in await self._storage.list(where) if n.endswith(".jsonl"))
        for name in names:  # every shard, as the notebook reads them (`*/predictions*.jsonl`)
            with self._errors("results"):
                data = await self._storage.read(GsUri(where.bucket, name))
            for line_no, line in enumerate(data.splitlines(), 1):
                if line.strip():
                    yield from_row(_row(line, name, line_no), keep_raw=keep_raw)

    async def cancel(self, ref: RemoteRef) -> None:
        with self._errors("cancel"):
            await self._aio.batches.cancel(name=ref.remote_id)

    async def complete(self, request: LLMRequest, *, tier: Tier = Tier.REALTIME) -> ProviderResult:
        del tier  # no flex tier here (capabilities.takes_flex): every call is realtime
        try:
            response = await self._aio.models.generate_content(
                model=vertex_model(request.model), contents=contents(request), config=generation_config(request)
            )
        except genai_errors.APIError as exc:
            if not is_request_error(exc.code):
                raise to_provider_error("complete", exc) from exc
            error = ResultError(error_type(exc.code, exc.status), redact(exc.message or str(exc)), code=exc.status)
            return ProviderResult(request.custom_id, ResultStatus.FAILED, error=error)
        except _CATCH as exc:
            raise to_provider_error("complete", exc) from exc
        return from_response(request.custom_id, response.model_dump(mode="json", by_alias=True, exclude_none=True))

    async def aclose(self) -> None:
        if self._gcs is not None:
            await self._gcs.aclose()
        if self._owns_client and self._client is not None:
            await self._client.aio.aclose()
            self._client.close()


def _line(item: WireItem) -> dict[str, Any]:
    if item.request.native is None:
        return to_line(item)
    body = dict(native_line(WireFamily.GEMINI, item)["request"])  # a native line's REST request
    body["labels"] = {**(body.get("labels") or {}), **id_labels(item.wire_id)}
    return {"request": body}


def _row(line: bytes, name: str, line_no: int) -> dict[str, Any]:
    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise transient_error(NAME, "results", f"{name} line {line_no} is not JSON") from None
    if not isinstance(row, dict):
        raise transient_error(NAME, "results", f"{name} line {line_no} is not a JSON object")
    return row
