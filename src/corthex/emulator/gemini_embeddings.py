"""Gemini batch embeddings in the emulator (issue 14): `models/{model}:asyncBatchEmbedContent` with
an uploaded file of `{"key", "request": {"content": {"parts": [{"text"}]}, "output_dimensionality"?}}`
lines (docs/wire/embeddings.md).

Each line embeds its content's text as a unit vector of the asked length (3,072 by default), the
same for the same text (`openai_embeddings.unit_vector`). A bad line fails alone, as a bad
generateContent line does; the messages are ours (no report shows the API's for these lines).
The answer rows carry no token count: the one production line seen has none (unverified).
"""

from __future__ import annotations

from typing import Any

from corthex.domain.capabilities import capabilities, is_embedding_model
from corthex.domain.requests import ProviderName
from corthex.emulator.asks import RowProblem, pick
from corthex.emulator.openai_embeddings import unit_vector

DEFAULT_DIMENSIONS = 3072  #: gemini-embedding-001's default and largest length


def is_embedder(model: str) -> bool:
    return is_embedding_model(ProviderName.GEMINI, model.removeprefix("models/"))


def not_embedder_message(model: str, version: str) -> str:
    """Modelled on the API's answer to embedContent with a model that does not embed (404 NOT_FOUND)."""
    return (
        f"models/{model} is not found for API version {version}, or is not supported for "
        "asyncBatchEmbedContent. Call ListModels to see the list of available models and their supported methods."
    )


def most_dimensions(model: str) -> int:
    found = capabilities(ProviderName.GEMINI, model.removeprefix("models/")).embedding_dimensions
    return found or DEFAULT_DIMENSIONS


def embed_problem(request: Any, model: str) -> RowProblem | None:
    if not isinstance(request, dict):
        return RowProblem("Invalid JSON payload: 'request' must be an object.")
    parts = pick(pick(request, "content") or {}, "parts")
    if not isinstance(parts, list) or not parts:
        return RowProblem("* EmbedContentRequest.content: content is not specified")
    if not all(isinstance(p, dict) and isinstance(p.get("text"), str) and p["text"] for p in parts):
        return RowProblem("* EmbedContentRequest.content.parts: each part must carry a non-empty text")
    size = pick(request, "outputDimensionality")
    most = most_dimensions(model)
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= most):
        return RowProblem(f"* EmbedContentRequest.output_dimensionality: must be between 1 and {most}, not {size}")
    return None


def embed_response(request: dict[str, Any], model: str) -> dict[str, Any]:
    """A checked line's EmbedContentResponse: the text's vector at the asked length."""
    parts = pick(request["content"], "parts")
    text = "".join(p["text"] for p in parts)
    size = pick(request, "outputDimensionality") or most_dimensions(model)
    return {"embedding": {"values": unit_vector(text, size)}}
