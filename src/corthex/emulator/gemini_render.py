"""Gemini bodies: GenerateContentResponse, per-row errors, File (PROVIDERS.md §3.4–3.6)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corthex.domain.admission_gemini import needs_thought_signatures
from corthex.emulator.answers import REFUSAL_TEXT, Answer, Ask, answer
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


#: the emulator's neutral finish (answers.Answer.finish) as Gemini's `finishReason`. Gemini has no
#: refusal reason: a model that declines says so in text, with STOP (answers.REFUSAL_TEXT).
FINISH_REASON = {"stop": "STOP", "length": "MAX_TOKENS", "refusal": "STOP", "safety": "SAFETY"}
_DANGER = [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]


def response_json(ask: Ask, ans: Answer, seed: str, cached: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "usageMetadata": _usage(ans, cached),
        "modelVersion": ask.model.removeprefix("models/"),
        "responseId": stable_id(seed, "resp", length=20),
    }
    if ans.finish == "blocked":  # the prompt was blocked: no candidate at all
        body["promptFeedback"] = {"blockReason": "SAFETY", "safetyRatings": _DANGER}
        return body
    candidate: dict[str, Any] = {"content": {"parts": _parts(ans, _signature(ask, seed)), "role": "model"}}
    if not candidate["content"]["parts"]:  # a budget spent thinking, or a safety stop: no parts
        candidate["content"] = {"role": "model"}
    candidate.update(finishReason=FINISH_REASON[ans.finish], index=0)
    if ans.finish == "safety":
        candidate["safetyRatings"] = _DANGER
    return {"candidates": [candidate], **body}


def _signature(ask: Ask, seed: str) -> str | None:
    """Gemini 3 signs its function calls (an opaque base64 `thoughtSignature` on the part); 2.5 does not here."""
    if not needs_thought_signatures(ask.model):
        return None
    return base64.b64encode(hashlib.blake2b(f"{seed}:{ask.tool_name}".encode(), digest_size=24).digest()).decode()


def _parts(ans: Answer, signature: str | None = None) -> list[dict[str, Any]]:
    if ans.tool_name is not None:
        call: dict[str, Any] = {"functionCall": {"name": ans.tool_name, "args": ans.tool_args}}
        return [call | {"thoughtSignature": signature} if signature else call]
    if ans.finish == "refusal":
        return [{"text": REFUSAL_TEXT}]
    if ans.finish in ("safety", "blocked") or (ans.finish == "length" and not ans.text):
        return []
    return [{"text": ans.text}]


def _usage(ans: Answer, cached: int) -> dict[str, Any]:
    """`candidatesTokenCount` leaves out the thinking, reported apart in `thoughtsTokenCount`
    (and both are billed as output); a count that is zero is left out, as the API does."""
    usage: dict[str, Any] = {"promptTokenCount": ans.input_tokens}
    if ans.visible_tokens:
        usage["candidatesTokenCount"] = ans.visible_tokens
    usage["totalTokenCount"] = ans.input_tokens + ans.output_tokens
    usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": ans.input_tokens}]
    if ans.reasoning_tokens:
        usage["thoughtsTokenCount"] = ans.reasoning_tokens
    if cached:
        usage["cachedContentTokenCount"] = cached
    return usage


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
