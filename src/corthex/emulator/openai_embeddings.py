"""OpenAI's `/v1/embeddings` in the emulator (issue 14), in batch lines and realtime calls.

Checks what the API checks (an embedding model, `input` a non-empty string or a list of at most
2,048 non-empty strings, `dimensions` a positive integer no larger than the model's, and only
for text-embedding-3 and later), and answers deterministically: each text's vector is a unit
vector of the requested length drawn from a generator seeded by the text, so the same text always
embeds the same way. Body shape: openai/types/create_embedding_response.py (docs/wire/embeddings.md).
"""

from __future__ import annotations

import hashlib
import math
import random
from typing import Any

from corthex.domain.capabilities import capabilities, is_embedding_model
from corthex.domain.requests import ProviderName
from corthex.emulator.answers import tokens, words_in
from corthex.emulator.asks import RowProblem

EMBEDDINGS = "/v1/embeddings"
MAX_INPUTS = 2048
DEFAULT_DIMENSIONS = 1536  #: a model the table does not know


def embeddings_problem(body: dict[str, Any]) -> RowProblem | None:
    model = str(body.get("model") or "")
    if not is_embedding_model(ProviderName.OPENAI, model):
        return RowProblem(f"The model '{model}' does not support embeddings.", "model", "model_not_found", status=404)
    return _input_problem(body.get("input")) or _dimensions_problem(model, body)


def _input_problem(value: Any) -> RowProblem | None:
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list) or not texts or len(texts) > MAX_INPUTS:
        return RowProblem(
            f"'$.input' is invalid: give a non-empty string or a list of 1 to {MAX_INPUTS} strings.",
            "input",
            "invalid_value",
        )
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text:
            return RowProblem(f"'$.input[{i}]' must be a non-empty string.", "input", "invalid_value")
    return None


def _dimensions_problem(model: str, body: dict[str, Any]) -> RowProblem | None:
    if "dimensions" not in body:
        return None
    value = body["dimensions"]
    caps = capabilities(ProviderName.OPENAI, model)
    if caps.known and not caps.shortens:
        return RowProblem("This model does not support specifying dimensions.", "dimensions", "invalid_value")
    most = caps.embedding_dimensions or DEFAULT_DIMENSIONS
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        return RowProblem(
            f"Invalid value for 'dimensions': expected an integer from 1 to {most}.", "dimensions", "invalid_value"
        )
    return None


def embeddings_body(body: dict[str, Any]) -> dict[str, Any]:
    """The answer to a checked body: one `data` item per text, in order, and its usage."""
    model = str(body["model"])
    texts = [body["input"]] if isinstance(body["input"], str) else list(body["input"])
    size = body.get("dimensions") or capabilities(ProviderName.OPENAI, model).embedding_dimensions or DEFAULT_DIMENSIONS
    used = sum(tokens(max(1, words_in(t))) for t in texts)
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": unit_vector(t, size)} for i, t in enumerate(texts)],
        "model": model,
        "usage": {"prompt_tokens": used, "total_tokens": used},
    }


def unit_vector(text: str, size: int) -> list[float]:
    """A unit vector of `size` numbers, the same for the same text (seeded by its SHA-256)."""
    rng = random.Random(hashlib.sha256(text.encode()).digest())
    values = [rng.gauss(0.0, 1.0) for _ in range(size)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def embedding_tokens(body: dict[str, Any]) -> int:
    usage = body.get("usage") or {}
    return int(usage.get("prompt_tokens") or 0)
