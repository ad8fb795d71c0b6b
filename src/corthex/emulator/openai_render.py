"""OpenAI response bodies: chat completions, responses, per-row errors (PROVIDERS.md §1.6)."""

from __future__ import annotations

from typing import Any

from corthex.emulator.answers import REFUSAL_TEXT, Answer, Ask
from corthex.emulator.asks import RowProblem
from corthex.emulator.errors import openai_error
from corthex.emulator.ids import stable_id

OPENAI_CACHE_MIN_TOKENS = 1024
#: the emulator's neutral finish (answers.Answer.finish) as chat completions give it; a refusal
#: ends with `stop` and says so in `message.refusal` (openai-python ChatCompletionMessage)
CHAT_FINISH = {
    "stop": "stop",
    "length": "length",
    "refusal": "stop",
    "safety": "content_filter",
    "blocked": "content_filter",
}


def cached_tokens(cache_hit_tokens: int) -> int:
    """OpenAI caches prompt prefixes in 128-token steps from 1,024 tokens on."""
    return (cache_hit_tokens // 128) * 128


def response_body(url: str, ask: Ask, ans: Answer, seed: str, created: int, cached: int) -> Any:
    if url == "/v1/responses":
        return responses_body(ask, ans, seed, created, cached)
    return chat_completion(ask, ans, seed, created, cached)


def chat_completion(ask: Ask, ans: Answer, seed: str, created: int, cached: int) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": ans.text,
        "refusal": None,
        "annotations": [],
    }
    finish = CHAT_FINISH[ans.finish]
    if ans.finish == "refusal":
        message.update(content=None, refusal=REFUSAL_TEXT)
    elif ans.finish in ("safety", "blocked"):
        message["content"] = None
    if ans.tool_name is not None:
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": "call_" + stable_id(seed, "call"),
                "type": "function",
                "function": {"name": ans.tool_name, "arguments": ans.text},
            }
        ]
        finish = "tool_calls"
    return {
        "id": "chatcmpl-" + stable_id(seed, "chat"),
        "object": "chat.completion",
        "created": created,
        "model": ask.model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": ans.input_tokens,
            "completion_tokens": ans.output_tokens,
            "total_tokens": ans.input_tokens + ans.output_tokens,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": ans.reasoning_tokens,  # part of completion_tokens
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_emulator",
    }


def responses_body(ask: Ask, ans: Answer, seed: str, created: int, cached: int) -> dict[str, Any]:
    return {
        "id": "resp_" + stable_id(seed, "resp"),
        "object": "response",
        "created_at": created,
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "model": ask.model,
        "output": [_responses_output_item(ans, seed)],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": ans.input_tokens,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": ans.output_tokens,
            "output_tokens_details": {"reasoning_tokens": ans.reasoning_tokens},
            "total_tokens": ans.input_tokens + ans.output_tokens,
        },
    }


def _responses_output_item(ans: Answer, seed: str) -> dict[str, Any]:
    """A tool call is a `function_call` item (its `call_id` pairs the result sent back), else a message."""
    if ans.tool_name is not None:
        return {
            "type": "function_call",
            "id": "fc_" + stable_id(seed, "item"),
            "call_id": "call_" + stable_id(seed, "call"),
            "name": ans.tool_name,
            "arguments": ans.text,
            "status": "completed",
        }
    return {
        "type": "message",
        "id": "msg_" + stable_id(seed, "item"),
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": ans.text, "annotations": []}],
    }


def success_line(custom_id: str, seed: str, body: Any) -> dict[str, Any]:
    return {
        "id": "batch_req_" + stable_id(seed, "row"),
        "custom_id": custom_id,
        "response": {"status_code": 200, "request_id": "req_" + stable_id(seed, "req"), "body": body},
        "error": None,
    }


def problem_line(custom_id: str, seed: str, problem: RowProblem) -> dict[str, Any]:
    body = openai_error(problem.status, problem.message, problem.param, problem.code)
    return {
        "id": "batch_req_" + stable_id(seed, "row"),
        "custom_id": custom_id,
        "response": {
            "status_code": problem.status,
            "request_id": "req_" + stable_id(seed, "req"),
            "body": body,
        },
        "error": None,
    }


def not_run_line(custom_id: str, seed: str, code: str) -> dict[str, Any]:
    """A request that never ran: `batch_cancelled` or `batch_expired` (§1.6)."""
    what = "cancelled" if code == "batch_cancelled" else "expired"
    return {
        "id": "batch_req_" + stable_id(seed, "row"),
        "custom_id": custom_id,
        "response": None,
        "error": {"code": code, "message": f"This request could not be executed before the batch was {what}."},
    }


def usage_totals() -> dict[str, Any]:
    return {
        "input_tokens": 0,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 0,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 0,
    }


def add_usage(usage: dict[str, Any], ans: Answer, cached: int) -> None:
    usage["input_tokens"] += ans.input_tokens
    usage["input_tokens_details"]["cached_tokens"] += cached
    usage["output_tokens"] += ans.output_tokens
    usage["output_tokens_details"]["reasoning_tokens"] += ans.reasoning_tokens
    usage["total_tokens"] += ans.input_tokens + ans.output_tokens
