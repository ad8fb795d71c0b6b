"""Amazon Bedrock batch inference over boto3 (docs/wire/platforms.md §2): Claude's Messages bodies
as `{recordId, modelInput}` lines in one `.jsonl` file written to S3, a model invocation job created
with our batch key as its `clientRequestToken` (a repeated create returns the same job: exactly
once), polled, its `{output}/{jobId}/{file}.jsonl.out` read back and mapped as Anthropic's messages.

boto3 is synchronous: every call runs in a worker thread. Only this module imports it (the CLI,
planning and sizing never load it).

Settings (the environment): the credentials boto3 finds (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
AWS_PROFILE, or Bedrock's AWS_BEARER_TOKEN_BEDROCK), AWS_REGION, CORTHEX_BEDROCK_ROLE_ARN (the role
Bedrock reads and writes S3 with), CORTHEX_BEDROCK_S3_URI (`s3://bucket/prefix`: inputs and outputs
go under it); endpoints from botocore's AWS_ENDPOINT_URL_BEDROCK / AWS_ENDPOINT_URL_S3.

Below Bedrock's minimum of records per job (100 by default, CORTHEX_BEDROCK_MIN_RECORDS) the job
is padded with filler records (a one-word prompt, `max_tokens` 1: a few tokens each), whose output
is dropped: a small job runs instead of failing validation.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import boto3
import orjson
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from corthex.domain.batches import RemoteRef, RemoteState, RemoteStatus
from corthex.domain.bedrock_models import model_id
from corthex.domain.registry import ProviderProfile, profile_of
from corthex.domain.requests import LLMRequest
from corthex.domain.results import ProviderResult, ResultStatus
from corthex.domain.tiers import Tier
from corthex.errors import ProviderError
from corthex.providers._common import check_items, new_temp_path, read_jsonl, redact, remove, window_start
from corthex.providers.base import Provider, WireItem
from corthex.providers.vocabulary import bedrock_error
from corthex.providers.wire.anthropic_results import from_message
from corthex.providers.wire.bedrock import ANTHROPIC_VERSION, input_file, model_input

NAME = "bedrock"
T = TypeVar("T")

#: filler records' ids: never an engine wire id (those are short, without this prefix)
PAD_PREFIX = "corthexpad"
LIST_PAGE = 1000  #: ListModelInvocationJobs `maxResults`: 1 to 1000 (botocore service-2.json MaxResults)
PAD_INPUT = {"anthropic_version": ANTHROPIC_VERSION, "max_tokens": 1, "messages": [{"role": "user", "content": "."}]}
#: the errors that say the credentials are wrong: asking again cannot help
_KEY_REFUSED = frozenset(
    {"UnrecognizedClientException", "InvalidSignatureException", "AccessDeniedException", "ExpiredTokenException"}
    | {"InvalidClientTokenId", "SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied"}
)
_RETRYABLE = frozenset({"ThrottlingException", "InternalServerException", "ServiceUnavailableException"})
_ENDED = {
    "Completed": None,
    "PartiallyCompleted": None,
    "Stopped": ResultStatus.CANCELED,
    "Expired": ResultStatus.EXPIRED,
}
_TOKEN_SAFE = re.compile(r"[^a-zA-Z0-9]+")


@dataclass(frozen=True)
class Settings:
    region: str
    role_arn: str
    bucket: str
    prefix: str  #: "" or "some/prefix/"
    min_records: int


def read_settings(environ: dict[str, str] | os._Environ[str], profile: ProviderProfile) -> Settings:
    """The adapter's settings from the environment.

    :raises ProviderError: (setup) a setting is missing or malformed, naming its variable."""
    options = profile.options
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or ""
    if not region:
        raise _setup("configure", "AWS_REGION is not set: export it (e.g. AWS_REGION=us-east-1)")
    role = environ.get(options.get("role_variable", "CORTHEX_BEDROCK_ROLE_ARN"), "")
    if not role.startswith("arn:"):
        raise _setup(
            "configure",
            "CORTHEX_BEDROCK_ROLE_ARN is not set: export the ARN of the role Bedrock reads and writes S3 with "
            "(arn:aws:iam::<account>:role/<name>)",
        )
    uri = environ.get(options.get("s3_variable", "CORTHEX_BEDROCK_S3_URI"), "")
    if not uri.startswith("s3://") or len(uri) <= len("s3://"):
        raise _setup("configure", "CORTHEX_BEDROCK_S3_URI is not set: export s3://<bucket>/<prefix> for the job files")
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    prefix = prefix.strip("/")
    minimum = environ.get("CORTHEX_BEDROCK_MIN_RECORDS") or options.get("min_records", "100")
    return Settings(region, role, bucket, f"{prefix}/" if prefix else "", int(minimum))


def _setup(op: str, message: str) -> ProviderError:
    return ProviderError(NAME, op, message, setup=True)


def token_of(key: str) -> str:
    """Our batch key as a clientRequestToken / job name (letters, digits, single hyphens)."""
    return _TOKEN_SAFE.sub("-", key).strip("-")[:63] or "corthex"


def job_name(key: str) -> str:
    return f"corthex-{token_of(key)}"[:63].rstrip("-")


def padding(count: int, minimum: int) -> list[bytes]:
    """The filler lines that bring `count` records up to `minimum`."""
    return [
        orjson.dumps({"recordId": f"{PAD_PREFIX}{n:06d}", "modelInput": PAD_INPUT}) + b"\n"
        for n in range(max(minimum - count, 0))
    ]


# --- results and statuses (pure) --------------------------------------------------------------


def from_record(row: dict[str, Any]) -> ProviderResult | None:
    """One output line: `modelOutput` (the InvokeModel body: an Anthropic Message) or `error`
    (`{errorCode, errorMessage}`); None for a filler record."""
    record_id = str(row.get("recordId") or "")
    if record_id.startswith(PAD_PREFIX):
        return None
    output = row.get("modelOutput")
    if isinstance(output, dict):
        return from_message(record_id, output)
    error = row.get("error") or {}
    message = redact(str(error.get("errorMessage") or "the record failed without a message"))
    return ProviderResult(record_id, ResultStatus.FAILED, error=bedrock_error(error.get("errorCode"), message))


def map_status(job: dict[str, Any], padded: int = 0) -> RemoteStatus:
    """GetModelInvocationJob's answer; the counts leave the filler records out."""
    raw = str(job.get("status") or "Submitted")
    total = max(int(job.get("totalRecordCount") or 0) - padded, 0)
    done = min(max(int(job.get("processedRecordCount") or 0) - padded, 0), total)
    failed = int(job.get("errorRecordCount") or 0)
    if raw == "Failed":
        message = redact(str(job.get("message") or "the job failed"))
        return RemoteStatus(RemoteState.FAILED, raw, total, done, failed, error=message)
    if raw in _ENDED:
        return RemoteStatus(RemoteState.ENDED, raw, total, done, failed, ended_as=_ENDED[raw])
    return RemoteStatus(RemoteState.RUNNING, raw, total, done, failed)


def to_provider_error(op: str, exc: Exception) -> ProviderError:
    """botocore's errors: refused credentials are a setup error naming the variables (at once,
    not after the retry budget); throttling and 5xx are worth another attempt."""
    if isinstance(exc, NoCredentialsError):
        return _setup(op, "no AWS credentials: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)")
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code") or "")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        message = redact(str(exc.response.get("Error", {}).get("Message") or code))
        if code in _KEY_REFUSED:
            hint = "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_BEARER_TOKEN_BEDROCK)"
            return ProviderError(NAME, op, f"{code}: {message} — {hint}", status_code=status, setup=True)
        if code in ("NoSuchBucket", "NoSuchBucketPolicy"):
            return _setup(op, f"{code}: {message} — check CORTHEX_BEDROCK_S3_URI")
        retryable = code in _RETRYABLE or status == 429 or status >= 500
        return ProviderError(NAME, op, f"{code}: {message}", status_code=status or None, retryable=retryable)
    if isinstance(exc, EndpointConnectionError):
        return ProviderError(NAME, op, redact(str(exc)), retryable=True)
    return ProviderError(NAME, op, redact(str(exc) or type(exc).__name__), retryable=True)


async def probe(environ: dict[str, str], seconds: float) -> tuple[bool, str | None]:
    """(reachable, problem) of the cheapest signed call Bedrock has: list one job (a read, never
    billed). A refused key or an unknown host is a problem; a slow or busy answer is not."""
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    config = Config(region_name=region, retries={"max_attempts": 1}, connect_timeout=seconds, read_timeout=seconds)

    def list_one() -> None:
        boto3.session.Session(region_name=region).client("bedrock", config=config).list_model_invocation_jobs(
            maxResults=1
        )

    try:
        await asyncio.to_thread(list_one)
    except EndpointConnectionError as exc:
        return False, f"cannot reach Bedrock ({redact(str(exc))}): check AWS_ENDPOINT_URL_BEDROCK and AWS_REGION"
    except (BotoCoreError, ClientError) as exc:
        error = to_provider_error("probe", exc)
        return True, str(error) if error.setup else None
    return True, None


# --- the adapter ------------------------------------------------------------------------------


class BedrockProvider(Provider):
    lists_statuses = True

    def __init__(
        self,
        workdir: Path,
        client: Any = None,
        *,
        profile: ProviderProfile | None = None,
        max_retries: int = 2,
        timeout: float = 60.0,
    ) -> None:
        """:param client: unused (boto3's clients are built from the environment on first use)."""
        self._profile = profile or profile_of(NAME)
        self.name = self._profile.name
        self._workdir = workdir
        self._max_retries, self._timeout = max_retries, timeout
        self._clients: tuple[Any, Any] | None = None
        self._settings: Settings | None = None
        self._runtime: Any = None  #: bedrock-runtime's client, for realtime calls

    def _ready(self) -> tuple[Settings, Any, Any]:
        """The settings and the (bedrock, s3) clients, made on first use."""
        if self._settings is None or self._clients is None:
            settings = read_settings(os.environ, self._profile)
            config = Config(
                region_name=settings.region,
                retries={"max_attempts": self._max_retries + 1, "mode": "standard"},
                connect_timeout=self._timeout,
                read_timeout=self._timeout,
            )
            session = boto3.session.Session(region_name=settings.region)
            s3_config = config.merge(Config(s3={"addressing_style": "path"}))
            self._clients = (session.client("bedrock", config=config), session.client("s3", config=s3_config))
            self._settings = settings
        return self._settings, self._clients[0], self._clients[1]

    async def _call(self, op: str, fn: Callable[..., T], /, **kwargs: Any) -> T:
        try:
            return await asyncio.to_thread(fn, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise to_provider_error(op, exc) from exc

    async def submit(self, key: str, model: str | None, items: Sequence[WireItem]) -> RemoteRef:
        """Write the input file, then create the job with `key` as its token: a create repeated
        (after a timeout, a crash) returns the job the first one made."""
        if model is None:
            raise ValueError("a Bedrock job runs one model: the batch needs its model")
        check_items(items, one_model=model)
        settings, bedrock, s3 = self._ready()
        try:
            model_ref = model_id(model, settings.region)
        except ValueError as exc:
            raise ProviderError(NAME, "create", str(exc)) from None
        body = await asyncio.to_thread(input_file, items)
        pad = padding(len(items), settings.min_records)
        name = job_name(key)
        folder = f"{settings.prefix}{name}/"
        await self._call(
            "upload", s3.put_object, Bucket=settings.bucket, Key=f"{folder}input.jsonl", Body=body + b"".join(pad)
        )
        created = await self._call(
            "create",
            bedrock.create_model_invocation_job,
            jobName=name,
            roleArn=settings.role_arn,
            modelId=model_ref,
            clientRequestToken=token_of(key),
            inputDataConfig={
                "s3InputDataConfig": {"s3Uri": f"s3://{settings.bucket}/{folder}input.jsonl", "s3InputFormat": "JSONL"}
            },
            outputDataConfig={"s3OutputDataConfig": {"s3Uri": f"s3://{settings.bucket}/{folder}output/"}},
        )
        arn = str(created["jobArn"])
        return RemoteRef(
            arn, {"count": len(items), "padded": len(pad), "wire_bytes": len(body), "output": f"{folder}output/"}
        )

    async def find(
        self,
        key: str,
        created_after: datetime,
        *,
        expected_count: int | None = None,
        exclude: Collection[str] = (),
    ) -> RemoteRef | None:
        """The job named after `key` (its name and token carry it), submitted in the window."""
        settings, bedrock, _ = self._ready()
        name = job_name(key)
        answer = await self._call(
            "find", bedrock.list_model_invocation_jobs, nameContains=name, submitTimeAfter=window_start(created_after)
        )
        jobs = [j for j in answer.get("invocationJobSummaries") or [] if j.get("jobName") == name]
        jobs = [j for j in jobs if j.get("jobArn") not in exclude]
        if len(jobs) != 1:
            return None
        count = expected_count if expected_count is not None else 0
        padded = max(settings.min_records - count, 0) if expected_count is not None else 0
        folder = f"{settings.prefix}{name}/"
        return RemoteRef(str(jobs[0]["jobArn"]), {"count": count, "padded": padded, "output": f"{folder}output/"})

    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        _, bedrock, _ = self._ready()
        job = await self._call("poll", bedrock.get_model_invocation_job, jobIdentifier=ref.remote_id)
        return map_status(job, int(ref.extra.get("padded") or 0))

    async def poll_many(self, refs: Sequence[RemoteRef], since: datetime) -> dict[str, RemoteStatus]:
        """ListModelInvocationJobs (its summaries carry what GetModelInvocationJob answers: status,
        message, the record counts), filtered to jobs submitted since `since` (less clock skew),
        newest first, `maxResults` 1000 a page, until every ref was seen or no `nextToken` is left."""
        _, bedrock, _ = self._ready()
        by_arn = {ref.remote_id: ref for ref in refs}
        found: dict[str, RemoteStatus] = {}
        query: dict[str, Any] = {
            "maxResults": LIST_PAGE,
            "submitTimeAfter": window_start(since),
            "sortBy": "CreationTime",
            "sortOrder": "Descending",
        }
        while True:
            page = await self._call("poll", bedrock.list_model_invocation_jobs, **query)
            for job in page.get("invocationJobSummaries") or []:
                ref = by_arn.get(str(job.get("jobArn")))
                if ref is not None:
                    found[ref.remote_id] = map_status(job, int(ref.extra.get("padded") or 0))
            query["nextToken"] = page.get("nextToken")
            if len(found) == len(by_arn) or not query["nextToken"]:
                return found

    async def results(self, ref: RemoteRef, *, keep_raw: bool = True) -> AsyncIterator[ProviderResult]:
        """Every `.jsonl.out` file under `{output}/{jobId}/` (the manifest left out), each downloaded
        whole to disk first, then read a chunk of lines at a time."""
        settings, _, s3 = self._ready()
        job_id = ref.remote_id.rsplit("/", 1)[-1]
        folder = f"{ref.extra.get('output') or settings.prefix}{job_id}/"
        listed = await self._call("results", s3.list_objects_v2, Bucket=settings.bucket, Prefix=folder)
        keys = [o["Key"] for o in listed.get("Contents") or [] if o["Key"].endswith(".jsonl.out")]
        for key in keys:
            path = new_temp_path(self._workdir, job_id)
            try:
                await self._call("results", s3.download_file, Bucket=settings.bucket, Key=key, Filename=str(path))
                async for row in read_jsonl(path, NAME):  # a malformed line: retryable
                    result = from_record(row)
                    if result is not None:
                        yield replace(result, raw=row) if keep_raw else result
            finally:
                remove(path)

    async def cancel(self, ref: RemoteRef) -> None:
        _, bedrock, _ = self._ready()
        await self._call("cancel", bedrock.stop_model_invocation_job, jobIdentifier=ref.remote_id)

    async def complete(self, request: LLMRequest, *, tier: Tier = Tier.REALTIME) -> ProviderResult:
        del tier  # no flex tier here (capabilities.takes_flex): every call is realtime
        """One request through bedrock-runtime's InvokeModel (urgent chains); a body the model
        refuses (400 ValidationException) is a failed result, not a provider failure."""
        settings, _, _ = self._ready()
        if self._runtime is None:
            self._runtime = boto3.session.Session(region_name=settings.region).client("bedrock-runtime")
        try:
            model_ref = model_id(request.model, settings.region)
        except ValueError as exc:
            raise ProviderError(NAME, "complete", str(exc)) from None
        body = orjson.dumps(model_input(WireItem(request.custom_id, request)))
        try:
            answer = await asyncio.to_thread(self._runtime.invoke_model, modelId=model_ref, body=body)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ValidationException":
                raise to_provider_error("complete", exc) from exc
            message = redact(str(exc.response["Error"].get("Message") or "ValidationException"))
            return ProviderResult(request.custom_id, ResultStatus.FAILED, error=bedrock_error(400, message))
        except BotoCoreError as exc:
            raise to_provider_error("complete", exc) from exc
        message_body = orjson.loads(await asyncio.to_thread(answer["body"].read))
        return from_message(request.custom_id, message_body)
