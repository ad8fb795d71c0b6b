"""Embedding requests (issue 14): `{"custom_id", "model", "input": "…" | ["…", …], "dimensions"?}`.

Pure: the line's parsing and checks (each problem names its field), and the compact form a vector
is stored in. Evidence for the limits: docs/wire/embeddings.md.
"""

from __future__ import annotations

import struct
import sys
from array import array
from typing import Any

from corthex.domain.capabilities import capabilities, is_embedding_model
from corthex.domain.parsing_content import Bad
from corthex.domain.requests import LLMRequest, ProviderName
from corthex.domain.storable import nul_refusal

#: what an embedding line may carry
EMBEDDING_FIELDS = frozenset({"custom_id", "model", "provider", "input", "dimensions", "metadata"})
#: the fields of a prompt that an embedding line cannot have
_PROMPT_FIELDS = ("prompt", "messages")
MAX_INPUTS = 2048  #: OpenAI: "The input must not exceed … 2048 dimensions" (items per request)
#: the OpenAI Batch endpoint whose lines carry embedding inputs
EMBEDDINGS_URL = "/v1/embeddings"

Vector = list[float]
Embedding = Vector | list[Vector]  #: one vector (a string input), or one per text (a list input)


def wants_embedding(data: dict[str, Any]) -> bool:
    """Whether a line of our form asks for an embedding (it has `input` or `dimensions`)."""
    return "input" in data or "dimensions" in data


def embedding_texts(value: Any) -> tuple[tuple[str, ...], bool]:
    """(the texts, whether given as one string); raises Bad naming `input` or `input[i]`."""
    if isinstance(value, str):
        return (_text(value, "input"),), True
    if not isinstance(value, list) or not value:
        raise Bad("'input' must be a non-empty string or a non-empty list of strings", "input")
    if len(value) > MAX_INPUTS:
        raise Bad(f"'input' holds {len(value)} texts, over the {MAX_INPUTS} one request takes", "input")
    return tuple(_text(item, f"input[{i}]") for i, item in enumerate(value)), False


def inputs_of(request: LLMRequest) -> int:
    """The embedding inputs a request carries, as OpenAI counts them against a batch's 50,000 and
    Gemini's file lines (one per text): each text of a list input; 1 for any other request
    (domain/limits.py)."""
    if request.embed_input is not None:
        return len(request.embed_input)
    native = request.native
    if native is not None and native.url == EMBEDDINGS_URL:
        return native_input_count(native.body.get("input"))
    return 1


def estimated_tokens(value: Any) -> int:
    """An embedding input's tokens, estimated where the answer gave no count (Gemini's file rows,
    docs/wire/embeddings.md): a UTF-8 byte in four is a token, at least one per text (about right
    for English, a little high for Korean's three-byte syllables). 0 for anything not texts."""
    texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return sum(max(1, -(-len(t.encode()) // 4)) for t in texts if isinstance(t, str))


def native_input_count(value: Any) -> int:
    """A native `/v1/embeddings` body's inputs: a string, or one array of token ids, is one input;
    an array of strings or of token arrays is one input per item."""
    if isinstance(value, list) and value and not isinstance(value[0], int):
        return len(value)
    return 1


def native_input_problem(body: dict[str, Any]) -> Bad | None:
    """A native `/v1/embeddings` body with more inputs than one request takes."""
    count = native_input_count(body.get("input"))
    if count > MAX_INPUTS:
        return Bad(f"'body.input' holds {count} inputs, over the {MAX_INPUTS} one request takes", "body.input")
    return None


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Bad(f"'{where}' must be a non-empty string", where)
    if refusal := nul_refusal(f"'{where}'", value):
        raise Bad(refusal, where)
    return value


def dimensions_of(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Bad("'dimensions' must be a positive integer", "dimensions")
    return value


def embedding_problem(request: LLMRequest) -> tuple[str, str] | None:
    """(reason, field) when the request's model cannot embed as asked; None when it can."""
    if not is_embedding_model(request.provider, request.model):
        return (
            f"{request.model} is not an embedding model: 'input' is for embedding models such as "
            "text-embedding-3-small (give a chat model 'prompt' or 'messages')",
            "input",
        )
    return _dimensions_problem(request)


def _dimensions_problem(request: LLMRequest) -> tuple[str, str] | None:
    if request.dimensions is None:
        return None
    caps = capabilities(request.provider, request.model)
    if caps.known and not caps.shortens:
        return f"{request.model} does not take 'dimensions' (only text-embedding-3 and later do)", "dimensions"
    most = caps.embedding_dimensions
    if most is not None and request.dimensions > most:
        return f"'dimensions' must be at most {most} for {request.model}, not {request.dimensions}", "dimensions"
    return None


def prompt_problem(data: dict[str, Any], model: str, provider: ProviderName) -> Bad | None:
    """An embedding line with a prompt, or a prompt line to an embedding model: refused."""
    if wants_embedding(data):
        if "input" not in data:
            return Bad("'dimensions' goes with 'input', in an embedding request", "dimensions")
        both = next((name for name in _PROMPT_FIELDS if name in data), None)
        if both is not None:
            return Bad(f"give either 'input' (an embedding) or '{both}' (a prompt), not both", "input")
        extra = sorted(set(data) - EMBEDDING_FIELDS)
        if extra:
            return Bad(f"'{extra[0]}' does not apply to an embedding request", extra[0])
        return None
    if is_embedding_model(provider, model):
        return Bad(f"{model} is an embedding model: give the texts to embed as 'input'", "input")
    return None


# --- storage: float32, little-endian ---------------------------------------------------------
# OpenAI's own compact form (`encoding_format: "base64"`) is float32 too: nothing is lost that the
# provider did not already round. 1536 dimensions: 6,148 bytes here, about 33,000 as JSON text.

_HEADER = struct.Struct("<I")  #: how many vectors follow; 0 for one vector given for one string


def pack_embedding(embedding: Embedding) -> bytes:
    vectors = [v for v in embedding if isinstance(v, list)]
    if vectors:
        return _HEADER.pack(len(vectors)) + b"".join(_floats(v) for v in vectors)
    return _HEADER.pack(0) + _floats([v for v in embedding if not isinstance(v, list)])


def unpack_embedding(data: bytes) -> Embedding:
    (count,) = _HEADER.unpack_from(data)
    values = array("f")
    values.frombytes(data[_HEADER.size :])
    if sys.byteorder == "big":
        values.byteswap()
    floats = values.tolist()
    if count == 0:
        return floats
    size = len(floats) // count
    return [floats[i * size : (i + 1) * size] for i in range(count)]


def _floats(vector: Vector) -> bytes:
    values = array("f", vector)
    if sys.byteorder == "big":
        values.byteswap()
    return values.tobytes()
