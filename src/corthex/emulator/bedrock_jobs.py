"""Amazon Bedrock batch inference jobs (docs/wire/platforms.md §2): the input read from a real S3
(moto's server in tests), Claude's answers from the Anthropic answer generator, the output written
back to S3 as Bedrock lays it out: `{output}/{jobId}/{input file}.out` and `manifest.json.out`.

A job validates (its S3 input readable, its record count within the quotas), runs over the
emulator's timeline, and writes its output once, on the first read that finds it ended.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson

from corthex.domain.bedrock_models import neutral_name
from corthex.emulator.anthropic_batches import message_json
from corthex.emulator.asks import anthropic_problem
from corthex.emulator.ids import rfc3339
from corthex.emulator.lifecycle import Phase, Snapshot, Timeline

REGION, ACCOUNT = "us-east-1", "123456789012"
#: the ModelInvocationJobStatus each emulator phase shows as
STATUS = {
    Phase.VALIDATING: "Validating",
    Phase.RUNNING: "InProgress",
    Phase.FINALIZING: "InProgress",
    Phase.CANCELLING: "Stopping",
    Phase.COMPLETED: "Completed",
    Phase.FAILED: "Failed",
    Phase.CANCELLED: "Stopped",
    Phase.EXPIRED: "Expired",
}
ACTIVE = frozenset({"Submitted", "Validating", "Scheduled", "InProgress"})
JOB_NAME = re.compile(r"^[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\+\-\.]){0,63}$")
ROLE_ARN = re.compile(r"^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+$")
TOKEN = re.compile(r"^[a-zA-Z0-9]{1,256}(-*[a-zA-Z0-9]){0,256}$")
S3_URI = re.compile(r"^s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-z0-9A-Z]+(?:/[-!_*'().a-z0-9A-Z]+)*)?/?$")


class BedrockError(Exception):
    """An error answer in the rest-json shape: `x-amzn-ErrorType` and `{"message"}`."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


def validation(message: str) -> BedrockError:
    return BedrockError("ValidationException", 400, message)


@dataclass
class Record:
    record_id: str
    body: Any  #: the record's modelInput as written
    raw: bytes  #: its line, for the output's `modelInput`


@dataclass
class InputFile:
    key: str  #: the S3 key it was read from
    records: list[Record] = field(default_factory=list)


@dataclass
class BedrockJob:
    id: str
    request: dict[str, Any]  #: the create call's body
    timeline: Timeline
    files: list[InputFile]
    message: str | None = None  #: why it failed
    written: bool = False  #: its output is in S3

    @property
    def arn(self) -> str:
        return f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-invocation-job/{self.id}"

    @property
    def records(self) -> list[Record]:
        return [r for f in self.files for r in f.records]


class BedrockStore:
    def __init__(self) -> None:
        self.jobs: dict[str, BedrockJob] = {}
        self.by_token: dict[str, str] = {}  #: clientRequestToken → job id (exactly-once creation)

    def new_id(self) -> str:
        return "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12))

    def get(self, identifier: str) -> BedrockJob:
        job = self.jobs.get(identifier.rsplit("/", 1)[-1])
        if job is None:
            raise BedrockError("ResourceNotFoundException", 404, f"The specified job {identifier} was not found.")
        return job


# --- the create call --------------------------------------------------------------------------


def check_create(body: Any) -> dict[str, Any]:
    """The create body's required fields and patterns (service-2.json), else a ValidationException."""
    if not isinstance(body, dict):
        raise validation("The request body must be a JSON object.")
    for name in ("jobName", "roleArn", "modelId", "inputDataConfig", "outputDataConfig"):
        if not body.get(name):
            raise validation(f"1 validation error detected: Value null at '{name}' failed to satisfy constraint")
    if not JOB_NAME.match(str(body["jobName"])):
        raise validation(f"Value '{body['jobName']}' at 'jobName' failed to satisfy constraint: pattern")
    if not ROLE_ARN.match(str(body["roleArn"])):
        raise validation(f"Value '{body['roleArn']}' at 'roleArn' failed to satisfy constraint: pattern")
    token = body.get("clientRequestToken")
    if token is not None and not TOKEN.match(str(token)):
        raise validation(f"Value '{token}' at 'clientRequestToken' failed to satisfy constraint: pattern")
    hours = body.get("timeoutDurationInHours", 24)
    if not isinstance(hours, int) or not 24 <= hours <= 168:
        raise validation("timeoutDurationInHours must be between 24 and 168")
    for uri in (input_uri(body), output_uri(body)):
        if not S3_URI.match(uri):
            raise validation(f"Value '{uri}' at 's3Uri' failed to satisfy constraint: pattern")
    return body


def input_uri(body: dict[str, Any]) -> str:
    return str(((body.get("inputDataConfig") or {}).get("s3InputDataConfig") or {}).get("s3Uri") or "")


def output_uri(body: dict[str, Any]) -> str:
    return str(((body.get("outputDataConfig") or {}).get("s3OutputDataConfig") or {}).get("s3Uri") or "")


def split_uri(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    return parts.netloc, parts.path.lstrip("/")


# --- S3 ---------------------------------------------------------------------------------------


def s3_client(endpoint: str | None) -> Any:
    """A boto3 S3 client on the local S3 (path-style); None when no S3 is configured."""
    endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL_S3")
    if not endpoint:
        return None
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="emulator",
        aws_secret_access_key="emulator",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )


def read_input(s3: Any, uri: str) -> tuple[list[InputFile], str | None]:
    """The input's `.jsonl` files (the URI names one file or a folder), or why validation fails."""
    if s3 is None:
        return [], "The emulator has no S3 to read from: start it with an S3 endpoint (AWS_ENDPOINT_URL_S3)."
    bucket, key = split_uri(uri)
    try:
        if key.endswith(".jsonl"):
            keys = [key]
        else:
            listed = s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents") or []
            keys = [o["Key"] for o in listed if o["Key"].endswith(".jsonl")]
        files = [_parse(k, s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in keys]
    except Exception as exc:  # noqa: BLE001 - any S3 failure is the job's validation failure
        return [], f"Unable to read the input at {uri}: {exc}"
    if not files:
        return [], f"No .jsonl files were found at {uri}."
    bad = next((f for f in files if isinstance(f, str)), None)
    return ([f for f in files if isinstance(f, InputFile)], bad if isinstance(bad, str) else None)


def _parse(key: str, data: bytes) -> InputFile | str:
    """A file's records; a line that is not a JSON object fails the whole job (as validation does)."""
    out = InputFile(key)
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            return f"{key} line {n} is not valid JSON."
        if not isinstance(row, dict) or "modelInput" not in row:
            return f"{key} line {n} must be a JSON object with a modelInput."
        record_id = str(row.get("recordId") or f"{len(out.records):011d}")
        out.records.append(Record(record_id, row["modelInput"], line))
    return out


def count_problem(n: int, minimum: int, maximum: int) -> str | None:
    if n < minimum:
        return f"The number of records ({n}) is less than the minimum required ({minimum}) for a batch inference job."
    if n > maximum:
        return f"The number of records ({n}) exceeds the maximum allowed ({maximum}) for a batch inference job."
    return None


# --- the output -------------------------------------------------------------------------------


def answer_line(job: BedrockJob, record: Record) -> dict[str, Any]:
    """One output line: the record's input with its modelOutput, or its error (as InvokeModel
    for Claude answers: the body must carry `anthropic_version` and must not name a `model`)."""
    line: dict[str, Any] = {"recordId": record.record_id, "modelInput": record.body}
    problem = record_problem(record.body)
    if problem is not None:
        line["error"] = {"errorCode": 400, "errorMessage": problem}
        return line
    params = dict(record.body) | {"model": neutral_name(str(job.request["modelId"]))}
    line["modelOutput"] = message_json(params, f"{job.id}:{record.record_id}", (0, 0), tier="batch")
    return line


def record_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "Malformed input request: expected type: JSONObject"
    if "model" in body:
        return (
            "Malformed input request: #: extraneous key [model] is not permitted, "
            "please reformat your input and try again."
        )
    if body.get("anthropic_version") != "bedrock-2023-05-31":
        return "Malformed input request: #: required key [anthropic_version] not found"
    found = anthropic_problem(body | {"model": "claude"})
    return found.message if found is not None else None


def write_output(s3: Any, job: BedrockJob, snap: Snapshot) -> None:
    """The output files of an ended job: every record of a completed one, the first `done` of a
    stopped or expired one; then the manifest."""
    bucket, prefix = split_uri(output_uri(job.request))
    folder = f"{prefix.rstrip('/')}/{job.id}/" if prefix else f"{job.id}/"
    left = snap.done if snap.phase is not Phase.COMPLETED else len(job.records)
    ok = errors = tokens_in = tokens_out = 0
    for file in job.files:
        lines = [answer_line(job, r) for r in file.records[: max(left, 0)]]
        left -= len(lines)
        for line in lines:
            usage = (line.get("modelOutput") or {}).get("usage") or {}
            tokens_in += usage.get("input_tokens") or 0
            tokens_out += usage.get("output_tokens") or 0
            ok, errors = (ok + 1, errors) if "modelOutput" in line else (ok, errors + 1)
        body = b"".join(orjson.dumps(line) + b"\n" for line in lines)
        s3.put_object(Bucket=bucket, Key=folder + file.key.rsplit("/", 1)[-1] + ".out", Body=body)
    manifest = {
        "totalRecordCount": len(job.records),
        "processedRecordCount": ok + errors,
        "successRecordCount": ok,
        "errorRecordCount": errors,
        "inputTokenCount": tokens_in,
        "outputTokenCount": tokens_out,
    }
    s3.put_object(Bucket=bucket, Key=folder + "manifest.json.out", Body=orjson.dumps(manifest))
    job.written = True


def job_json(job: BedrockJob, snap: Snapshot) -> dict[str, Any]:
    """GetModelInvocationJob's response (timestamps in ISO 8601: the `Timestamp` shape's format)."""
    status = STATUS[snap.phase]
    total = len(job.records)
    out: dict[str, Any] = {
        "jobArn": job.arn,
        "jobName": job.request["jobName"],
        "modelId": job.request["modelId"],
        "roleArn": job.request["roleArn"],
        "status": status,
        "submitTime": rfc3339(job.timeline.created),
        "lastModifiedTime": rfc3339(max(snap.times.values())),
        "inputDataConfig": job.request["inputDataConfig"],
        "outputDataConfig": job.request["outputDataConfig"],
        "timeoutDurationInHours": job.request.get("timeoutDurationInHours", 24),
        "totalRecordCount": total,
        "processedRecordCount": total if snap.phase is Phase.COMPLETED else snap.done,
    }
    if job.request.get("clientRequestToken"):
        out["clientRequestToken"] = job.request["clientRequestToken"]
    if snap.ended_at is not None:
        out["endTime"] = rfc3339(snap.ended_at)
    if snap.phase is Phase.FAILED:
        out["message"] = job.message or "The job failed."
    return out
