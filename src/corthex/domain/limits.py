"""Each provider's batch limits (docs/wire/sizes.md), in one place.

Sizes are bytes as they go on the wire, envelope included: each request's size is its
provider's wire form (`providers.wire_size_of`), so planning compares like with like.
"""

from __future__ import annotations

from corthex.domain.registry import LIMITS, ProviderLimits, ProviderName

__all__ = ["LIMITS", "ProviderLimits", "ProviderName", "largest_request_bytes"]

MB = 1000 * 1000  #: the documents' "MB": read as 10^6 bytes, the smaller reading, safe either way
MiB = 1024 * 1024

#: OpenAI: a batch input file holds at most 50,000 requests and 200 MB.
OPENAI_FILE_MAX_BYTES = 200 * MB
OPENAI_FILE_MAX_LINES = 50_000
#: OpenAI: "`/v1/embeddings` batches are also restricted to a maximum of 50,000 embedding inputs
#: across all requests in the batch" (openai-openapi.yaml, CreateBatchRequest.endpoint): a list
#: input counts each of its texts.
OPENAI_EMBEDDING_INPUTS_MAX = 50_000
#: Azure OpenAI Global Batch: at most 100,000 requests (`too_many_tasks` beyond) and 200 MB per
#: input file (docs/wire/platforms.md §1.5, azure-ai-docs includes/global-batch-limits.md).
AZURE_FILE_MAX_BYTES = 200 * MB
AZURE_FILE_MAX_LINES = 100_000
#: Anthropic: a Message Batch create body is at most 256 MB (413 `request_too_large` beyond).
ANTHROPIC_BODY_MAX_BYTES = 256 * MB
#: Room for what a batch adds around its requests: `{"requests":[…]}`, the batch key on the first
#: custom_id, Gemini's `{"batch":{"displayName",…}}`.
ENVELOPE_MARGIN = 64 * 1024

#: Mistral batch: "Maximum batch file size: 512 MB", "Maximum requests per batch: 100,000"
#: (https://docs.mistral.ai/resources/known-limitations, "Batch processing")
MISTRAL_FILE_MAX_BYTES = 512 * MB
MISTRAL_FILE_MAX_LINES = 100_000
#: one request: not published; OpenAI's file bound, below the file's (a line is read whole)
MISTRAL_REQUEST_MAX_BYTES = 200 * MB
#: Gemini: inline requests at most 20 MB in all, as the SDK serializes them; files at most 2 GB.
GEMINI_INLINE_BODY_MAX_BYTES = 20 * MB
GEMINI_FILE_MAX_BYTES = 2000 * MB
#: Gemini: one generateContent request carries at most 100 MB of inline data (raised from 20 MB in
#: January 2026; docs/wire/request-limits.md). A batch file's line is one such request.
GEMINI_REQUEST_MAX_BYTES = 100 * MB


def largest_request_bytes() -> int:
    """The longest input line any provider could take: a longer one is refused while it is read,
    before it is held in memory (read at call time: tests lower the limits)."""
    return max(limits.max_request_bytes for limits in LIMITS.values())


#: A Gemini batch goes inline only when its requests' inline bytes stay under this.
GEMINI_INLINE_MAX_BYTES = GEMINI_INLINE_BODY_MAX_BYTES - ENVELOPE_MARGIN
