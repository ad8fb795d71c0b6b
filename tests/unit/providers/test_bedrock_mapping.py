"""Bedrock's pure mapping: model ids, the record line and its bytes, the ten statuses, output lines."""

from __future__ import annotations

import orjson
import pytest

from corthex.domain.batches import BatchState, RemoteState
from corthex.domain.bedrock_models import model_id, neutral_name
from corthex.domain.capabilities import capabilities
from corthex.domain.pricing import batch_cost
from corthex.domain.registry import ProviderName, provider_for_model
from corthex.domain.requests import LLMRequest, Message
from corthex.domain.results import ErrorType, ResultStatus, Usage
from corthex.providers.base import WireItem
from corthex.providers.bedrock import PAD_PREFIX, from_record, job_name, map_status, padding, token_of
from corthex.providers.vocabulary import BEDROCK_STATES, batch_state
from corthex.providers.wire.bedrock import input_file, to_wire, wire_size

BEDROCK = ProviderName("bedrock")


def item(text: str = "리뷰를 요약해 주세요") -> WireItem:
    request = LLMRequest("c1", "claude-haiku-4-5", BEDROCK, (Message("user", text),), max_output_tokens=100)
    return WireItem("w1", request)


@pytest.mark.parametrize(
    ("model", "region", "expected"),
    [
        ("claude-haiku-4-5", None, "anthropic.claude-haiku-4-5-20251001-v1:0"),
        ("claude-haiku-4-5", "us-east-1", "us.anthropic.claude-haiku-4-5-20251001-v1:0"),
        ("claude-sonnet-4-6", "eu-central-1", "eu.anthropic.claude-sonnet-4-6"),
        ("claude-haiku-4-5-20251001", "ap-northeast-2", "apac.anthropic.claude-haiku-4-5-20251001-v1:0"),
        ("global.anthropic.claude-opus-4-6-v1", "us-east-1", "global.anthropic.claude-opus-4-6-v1"),
    ],
)
def test_neutral_names_map_to_bedrock_ids_and_its_own_ids_pass(model: str, region: str | None, expected: str) -> None:
    assert model_id(model, region) == expected


def test_an_unknown_neutral_name_is_refused_naming_the_ids_to_write() -> None:
    with pytest.raises(ValueError, match="Bedrock's own id"):
        model_id("claude-2")


def test_bedrocks_ids_route_to_bedrock_and_read_as_claude() -> None:
    assert provider_for_model("us.anthropic.claude-haiku-4-5-20251001-v1:0") is BEDROCK
    assert provider_for_model("claude-haiku-4-5") is ProviderName.ANTHROPIC
    assert neutral_name("us.anthropic.claude-haiku-4-5-20251001-v1:0") == "claude-haiku-4-5-20251001"
    assert capabilities(BEDROCK, "us.anthropic.claude-haiku-4-5-20251001-v1:0").known


def test_a_record_is_the_messages_body_without_model_with_bedrocks_version() -> None:
    line = to_wire(item())
    assert line["recordId"] == "w1" and "model" not in line["modelInput"]
    assert line["modelInput"]["anthropic_version"] == "bedrock-2023-05-31"
    assert line["modelInput"]["max_tokens"] == 100
    assert wire_size(item()) == len(input_file([item()])) == len(orjson.dumps(line)) + 1


def test_every_status_has_a_state_and_ended_jobs_end() -> None:
    assert len(BEDROCK_STATES) == 10
    assert batch_state(BEDROCK, "PartiallyCompleted") is BatchState.COMPLETED
    assert batch_state(BEDROCK, "Stopped") is BatchState.CANCELED
    job = {"status": "Completed", "totalRecordCount": 100, "processedRecordCount": 100}
    assert (map_status(job, padded=95).state, map_status(job, padded=95).total) == (RemoteState.ENDED, 5)
    assert map_status({"status": "Expired"}).ended_as is ResultStatus.EXPIRED
    failed = map_status({"status": "Failed", "message": "records below the minimum"})
    assert failed.state is RemoteState.FAILED and failed.error == "records below the minimum"
    assert map_status({"status": "Scheduled"}).state is RemoteState.RUNNING


def test_output_lines_map_as_claude_messages_errors_by_code_and_filler_is_dropped() -> None:
    message = {
        "type": "message",
        "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": "좋은 리뷰입니다"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 12, "output_tokens": 7},
    }
    ok = from_record({"recordId": "w1", "modelInput": {}, "modelOutput": message})
    assert ok is not None and ok.content == "좋은 리뷰입니다" and ok.usage is not None and ok.usage.output_tokens == 7
    bad = from_record({"recordId": "w2", "error": {"errorCode": 400, "errorMessage": "bad request"}})
    assert bad is not None and bad.error is not None and bad.error.type is ErrorType.INVALID_REQUEST
    assert not bad.error.retryable
    throttled = from_record({"recordId": "w3", "error": {"errorCode": 429, "errorMessage": "slow down"}})
    assert throttled is not None and throttled.error is not None and throttled.error.retryable
    assert from_record({"recordId": f"{PAD_PREFIX}000001", "modelOutput": message}) is None


def test_padding_brings_a_job_to_the_minimum_and_no_further() -> None:
    assert len(padding(5, 100)) == 95 and padding(100, 100) == [] and padding(150, 100) == []


def test_the_batch_key_becomes_a_valid_token_and_job_name() -> None:
    assert token_of("cb_b79fcc58:fea1") == "cb-b79fcc58-fea1"
    assert job_name("cb_b79fcc58") == "corthex-cb-b79fcc58" and len(job_name("x" * 200)) <= 63


def test_bedrock_is_priced_from_the_aws_table_at_half_price() -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    cost = batch_cost(BEDROCK, "claude-haiku-4-5", usage)
    assert cost == pytest.approx(3.3)  # $1.10 + $5.50 regional, less 50%
