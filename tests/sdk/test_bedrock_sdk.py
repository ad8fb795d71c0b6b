"""Amazon Bedrock batch inference through boto3: the emulator's control plane (`/bedrock`) and a real
local S3 (moto's server), then the `bedrock` adapter over both (docs/wire/platforms.md §2)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3
import orjson
import pytest
from botocore.exceptions import ClientError

from corthex.domain.batches import RemoteState
from corthex.domain.registry import ProviderName
from corthex.domain.requests import LLMRequest, Message
from corthex.emulator import EmulatorServer
from corthex.emulator.server import BEDROCK_BUCKET
from corthex.errors import ProviderError
from corthex.providers.base import WireItem
from corthex.providers.bedrock import BedrockProvider
from corthex.testing import wait_until
from corthex.testing.s3 import LocalS3

ROLE = "arn:aws:iam::123456789012:role/corthex-emulator"
MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"


@pytest.fixture
def s3(bedrock_env: LocalS3) -> Any:
    return bedrock_env.client()


@pytest.fixture
def bedrock(bedrock_env: LocalS3) -> Any:
    return boto3.session.Session().client("bedrock")  # endpoint, keys and region from the environment


def record(n: int) -> dict[str, Any]:
    return {
        "recordId": f"REC{n:08d}",
        "modelInput": {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": [{"type": "text", "text": f"{n}번째 리뷰를 요약해 주세요"}]}],
        },
    }


def put_input(s3: Any, key: str, rows: list[dict[str, Any]]) -> str:
    s3.put_object(Bucket=BEDROCK_BUCKET, Key=key, Body=b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return f"s3://{BEDROCK_BUCKET}/{key}"


def create(bedrock: Any, uri: str, token: str, name: str = "korean-reviews") -> str:
    answer = bedrock.create_model_invocation_job(
        jobName=name,
        roleArn=ROLE,
        modelId=MODEL,
        clientRequestToken=token,
        inputDataConfig={"s3InputDataConfig": {"s3Uri": uri, "s3InputFormat": "JSONL"}},
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": f"s3://{BEDROCK_BUCKET}/out/"}},
    )
    return str(answer["jobArn"])


def wait_for(bedrock: Any, arn: str, *ends: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        job = bedrock.get_model_invocation_job(jobIdentifier=arn)
        if job["status"] in ends:
            return dict(job)
        time.sleep(0.05)
    raise AssertionError(f"{arn} never reached {ends}")


def test_a_create_repeated_with_its_token_returns_the_one_job_and_its_output_lands_in_s3(
    bedrock: Any, s3: Any, emulator: EmulatorServer
) -> None:
    uri = put_input(s3, "in/reviews.jsonl", [record(n) for n in range(100)])
    first = create(bedrock, uri, "batch-0001")
    again = create(bedrock, uri, "batch-0001")
    assert again == first and first.startswith("arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/")
    assert len(bedrock.list_model_invocation_jobs(nameContains="korean")["invocationJobSummaries"]) == 1
    assert emulator.state.stats()["bedrock"]["batches_created"] == 1
    assert emulator.state.stats()["bedrock"]["calls"]["create"] == 2
    seen = bedrock.get_model_invocation_job(jobIdentifier=first)["status"]
    assert seen in ("Validating", "InProgress", "Completed")
    job = wait_for(bedrock, first, "Completed")
    assert job["totalRecordCount"] == 100 and job["processedRecordCount"] == 100
    job_id = first.rsplit("/", 1)[-1]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BEDROCK_BUCKET, Prefix="out/")["Contents"])
    assert keys == [f"out/{job_id}/manifest.json.out", f"out/{job_id}/reviews.jsonl.out"]
    lines = s3.get_object(Bucket=BEDROCK_BUCKET, Key=f"out/{job_id}/reviews.jsonl.out")["Body"].read().splitlines()
    rows = [orjson.loads(line) for line in lines]
    assert {r["recordId"] for r in rows} == {f"REC{n:08d}" for n in range(100)}
    first_row = next(r for r in rows if r["recordId"] == "REC00000000")
    assert "0번째 리뷰" in first_row["modelInput"]["messages"][0]["content"][0]["text"]
    assert first_row["modelOutput"]["type"] == "message" and first_row["modelOutput"]["usage"]["output_tokens"] > 0
    manifest = orjson.loads(s3.get_object(Bucket=BEDROCK_BUCKET, Key=f"out/{job_id}/manifest.json.out")["Body"].read())
    assert manifest["successRecordCount"] == 100 and manifest["errorRecordCount"] == 0


def test_a_job_below_the_minimum_record_count_fails_validation(bedrock: Any, s3: Any) -> None:
    uri = put_input(s3, "in/few.jsonl", [record(n) for n in range(3)])
    job = wait_for(bedrock, create(bedrock, uri, "few-1"), "Failed")
    assert "minimum" in job["message"]


def test_a_record_that_names_the_model_fails_alone(bedrock: Any, s3: Any) -> None:
    rows = [record(n) for n in range(100)]
    rows[7]["modelInput"]["model"] = "claude-haiku-4-5"
    job_id = create(bedrock, put_input(s3, "in/one-bad.jsonl", rows), "bad-1").rsplit("/", 1)[-1]
    wait_for(bedrock, job_id, "Completed")
    body = s3.get_object(Bucket=BEDROCK_BUCKET, Key=f"out/{job_id}/one-bad.jsonl.out")["Body"].read()
    bad = [orjson.loads(line) for line in body.splitlines() if b"REC00000007" in line][0]
    assert bad["error"]["errorCode"] == 400 and "extraneous key [model]" in bad["error"]["errorMessage"]


def test_a_stopped_job_says_stopping_then_stopped(bedrock: Any, s3: Any, emulator: EmulatorServer) -> None:
    emulator.config.speed, speed = 5.0, emulator.config.speed  # slow enough to stop it running
    try:
        arn = create(bedrock, put_input(s3, "in/stop.jsonl", [record(n) for n in range(100)]), "stop-1")
    finally:
        emulator.config.speed = speed
    bedrock.stop_model_invocation_job(jobIdentifier=arn)
    assert bedrock.get_model_invocation_job(jobIdentifier=arn)["status"] in ("Stopping", "Stopped")
    with pytest.raises(ClientError) as again:
        wait_for(bedrock, arn, "Stopped")
        bedrock.stop_model_invocation_job(jobIdentifier=arn)
    assert again.value.response["Error"]["Code"] == "ConflictException"


def test_an_unknown_key_is_refused_as_aws_refuses_it(bedrock_env: LocalS3, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "bad-key")
    with pytest.raises(ClientError) as refused:
        boto3.session.Session().client("bedrock").list_model_invocation_jobs()
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


# --- the adapter ------------------------------------------------------------------------------


def items(n: int, model: str = "claude-haiku-4-5") -> list[WireItem]:
    return [
        WireItem(
            f"w{i}",
            LLMRequest(
                f"c{i}",
                model,
                ProviderName("bedrock"),
                (Message("user", f"{i}번 질문: 오늘 날씨는?"),),
                max_output_tokens=50,
            ),
        )
        for i in range(n)
    ]


async def test_the_adapter_pads_a_small_job_and_reads_back_exactly_its_results(
    bedrock_env: LocalS3, tmp_path: Path
) -> None:
    adapter = BedrockProvider(tmp_path)
    ref = await adapter.submit("batch-7f3a", "claude-haiku-4-5", items(5))
    again = await adapter.submit("batch-7f3a", "claude-haiku-4-5", items(5))  # a retried create: the same job
    assert again.remote_id == ref.remote_id and ref.extra["padded"] == 95

    async def ended() -> bool:
        return (await adapter.poll(ref)).state is RemoteState.ENDED

    await wait_until(ended, within=20, what="the job ended")
    status = await adapter.poll(ref)
    assert (status.raw_status, status.total, status.done) == ("Completed", 5, 5)
    results = [r async for r in adapter.results(ref)]
    assert sorted(r.wire_id for r in results) == [f"w{i}" for i in range(5)]
    assert all(r.status.value == "succeeded" and r.usage is not None and r.usage.output_tokens > 0 for r in results)
    from datetime import UTC, datetime, timedelta

    found = await adapter.find("batch-7f3a", datetime.now(UTC) - timedelta(minutes=5), expected_count=5)
    assert found is not None and found.remote_id == ref.remote_id


async def test_the_adapter_fails_fast_on_a_refused_key_naming_the_variable(
    bedrock_env: LocalS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "bad-key")
    adapter = BedrockProvider(tmp_path)
    with pytest.raises(ProviderError) as refused:
        await adapter.submit("batch-k", "claude-haiku-4-5", items(2))
    assert refused.value.setup and "AWS_ACCESS_KEY_ID" in str(refused.value)


async def test_the_adapter_names_a_missing_setting(
    bedrock_env: LocalS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CORTHEX_BEDROCK_S3_URI")
    with pytest.raises(ProviderError) as missing:
        await BedrockProvider(tmp_path).submit("batch-s", "claude-haiku-4-5", items(1))
    assert missing.value.setup and "CORTHEX_BEDROCK_S3_URI" in str(missing.value)


async def test_a_realtime_call_goes_through_invoke_model(bedrock_env: LocalS3, tmp_path: Path) -> None:
    """Urgent chain steps: bedrock-runtime's InvokeModel, answered as a Claude message."""
    adapter = BedrockProvider(tmp_path)
    result = await adapter.complete(items(1)[0].request)
    assert result.status.value == "succeeded" and result.content and result.usage is not None
