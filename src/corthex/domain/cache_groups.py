"""Which requests share a cacheable prompt prefix (pure).

A prefix is what the `cache` markers mark: the tools, the system prompt and the message parts up
to the last marked one (the order Anthropic's cache reads them; OpenAI and Gemini cache prefixes
too). Requests with the same prefix hash share a cache group: planning keeps them in one batch,
and on Anthropic a priming batch writes the cache before the rest are sent (docs/providers.md,
"Prompt caching in batches")."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from corthex.domain.requests import LLMRequest

#: Tokens a prefix needs before any provider caches it: Anthropic 1,024 (Sonnet, Opus 4.1 and
#: earlier; more on some models), OpenAI 1,024, Gemini 1,024 (2.5 Flash; 2,048+ on Pro). A
#: shorter prefix is never cached, so grouping or priming for it would only delay requests.
CACHE_MIN_TOKENS = 1024
#: bytes per token, for the estimate: ~4 for English; Korean runs ~3 bytes a character and about
#: a token per character, so 4 under-counts it: the estimate errs towards "too short to cache"
BYTES_PER_TOKEN = 4


def marked_prefix(request: LLMRequest) -> list[Any] | None:
    """Tools, system prompt, then message parts, cut after the last one marked `cache`; None when
    nothing is marked."""
    pieces: list[tuple[Any, bool]] = [(t.declaration(), t.cache) for t in request.tools]
    if request.system:
        pieces.append((request.system, request.cache_system))
    for message in request.messages:  # a turn without parts is one unmarked piece
        pieces += [(p.to_json(), p.cache) for p in message.parts] or [(message.to_json(), False)]
    marked = [i for i, (_, cache) in enumerate(pieces) if cache]
    return [piece for piece, _ in pieces[: marked[-1] + 1]] if marked else None


def prefix_digest(prefix: list[Any]) -> str:
    """32 hex digits naming a prefix (the same prefix, the same digest, in any process)."""
    return hashlib.blake2b(orjson.dumps(prefix, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()


def cache_group(request: LLMRequest, min_tokens: int = CACHE_MIN_TOKENS) -> str | None:
    """The request's cache group: its `cache_key` with its model, else the digest of its marked
    prefix with its model (a cache is per model); None when nothing is marked or the prefix is
    estimated shorter than `min_tokens` (the request's own `cache_key` is taken as meant)."""
    if request.cache_key is not None:
        return f"{request.model}:k:{request.cache_key}"
    prefix = marked_prefix(request)
    if prefix is None:
        return None
    encoded = orjson.dumps(prefix, option=orjson.OPT_SORT_KEYS)
    if len(encoded) // BYTES_PER_TOKEN < min_tokens:
        return None
    return f"{request.model}:p:{hashlib.blake2b(encoded, digest_size=16).hexdigest()}"
