"""Gemini bodies: GenerateContentResponse, per-row errors, File (PROVIDERS.md §3.4–3.6)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corthex.emulator.answers import Answer, Ask, answer
from corthex.emulator.asks import RowProblem
from corthex.emulator.ids import rfc3339, stable_id
from corthex.emulator.prompt_cache import PromptCache

GEMINI_CACHE_MIN_TOKENS = 1024
FILE_TTL = 48 * 3600
NOT_RUN = {
    "cancelled": {
        "code": 499,
        "status": "CANCELLED",
        "message": "The batch was cancelled before this request was processed.",
    },
    "expired": {
        "code": 504,
        "status": "DEADLINE_EXCEEDED",
        "message": "The batch expired before this request was processed.",
    },
}


def generate_response(ask: Ask, seed: str, cache: PromptCache) -> dict[str, Any]:
    ans = answer(ask)
    _, hit = cache.lookup("gemini", ask, GEMINI_CACHE_MIN_TOKENS)
    return response_json(ask, ans, seed, hit)


def response_json(ask: Ask, ans: Answer, seed: str, cached: int) -> dict[str, Any]:
    part: dict[str, Any] = {"text": ans.text}
    if ans.tool_name is not None:
        part = {"functionCall": {"name": ans.tool_name, "args": ans.tool_args}}
    usage: dict[str, Any] = {
        "promptTokenCount": ans.input_tokens,
        "candidatesTokenCount": ans.output_tokens,
        "totalTokenCount": ans.input_tokens + ans.output_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": ans.input_tokens}],
    }
    if cached:
        usage["cachedContentTokenCount"] = cached
    return {
        "candidates": [{"content": {"parts": [part], "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": usage,
        "modelVersion": ask.model.removeprefix("models/"),
        "responseId": stable_id(seed, "resp", length=20),
    }


def row_error(problem: RowProblem) -> dict[str, Any]:
    if problem.server:
        return {"code": 500, "message": problem.message, "status": "INTERNAL"}
    return {"code": 400, "message": problem.message, "status": "INVALID_ARGUMENT"}


@dataclass
class GeminiFile:
    id: str  # without the "files/" prefix
    display_name: str | None
    mime_type: str
    size: int
    created: float
    path: Path
    sha256: str
    source: str = "UPLOADED"  # or GENERATED (batch output)

    def to_json(self, root: str, version: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": f"files/{self.id}",
            "mimeType": self.mime_type,
            "sizeBytes": str(self.size),
            "createTime": rfc3339(self.created),
            "updateTime": rfc3339(self.created),
            "expirationTime": rfc3339(self.created + FILE_TTL),
            "sha256Hash": self.sha256,
            "uri": f"{root}/gemini/{version}/files/{self.id}",
            "state": "ACTIVE",
            "source": self.source,
        }
        if self.display_name:
            data["displayName"] = self.display_name
        if self.source == "GENERATED":
            data["downloadUri"] = f"{root}/gemini/{version}/files/{self.id}:download?alt=media"
        return data
